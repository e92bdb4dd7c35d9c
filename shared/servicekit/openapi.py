"""OpenAPI 3.1 documents built from a Chalice app's routes and the models it validates with.

Routes come from ``app.routes`` and schemas from the msgspec models themselves, so the
document cannot drift from what the code accepts. A view declares its bodies with
``@documented(...)`` under its ``@app.route``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec
from chalice import Chalice

F = TypeVar("F", bound=Callable[..., Any])

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Invalid request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    412: "Precondition failed",
    413: "Body too large",
    429: "Too many requests",
    503: "Service unavailable",
}


class Error(msgspec.Struct):
    """Every error body the services produce (Chalice's native shape)."""

    Code: str
    Message: str


class Operation(msgspec.Struct, frozen=True):
    """What a route takes and answers: models, or media types for non-JSON answers."""

    summary: str
    request: type | None = None
    responses: Mapping[int, type | str | None] = msgspec.field(default_factory=dict)


def documented(
    summary: str, *, request: type | None = None, responses: Mapping[int, type | str | None]
) -> Callable[[F], F]:
    """Attach the route's request and response bodies (a model, a media type, or None)."""

    def attach(view: F) -> F:
        view.__openapi__ = Operation(summary, request, responses)  # type: ignore[attr-defined]
        return view

    return attach


def document(app: Chalice, *, title: str, version: str, description: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of ``app``."""
    routes = [
        (path, method, entry, getattr(entry.view_function, "__openapi__", Operation(entry.view_name)))
        for path, methods in sorted(app.routes.items())
        for method, entry in sorted(methods.items())
    ]
    bodies: list[Any] = [Error]
    for *_, operation in routes:
        for body in [operation.request, *operation.responses.values()]:
            if body is not None and not isinstance(body, str) and body not in bodies:
                bodies.append(body)
    schemas, components = msgspec.json.schema_components(bodies, ref_template="#/components/schemas/{name}")
    schema_of = dict(zip(map(id, bodies), schemas, strict=True))

    paths: dict[str, dict[str, Any]] = {}
    for path, method, entry, operation in routes:
        spec: dict[str, Any] = {"operationId": entry.view_name, "summary": operation.summary}
        if entry.view_args:
            spec["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in entry.view_args
            ]
        if entry.authorizer is not None:
            spec["security"] = [{"bearer": []}]
        if operation.request is not None:
            spec["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema_of[id(operation.request)]}},
            }
        responses: dict[str, Any] = {}
        for status, body in sorted(operation.responses.items()):
            response: dict[str, Any] = {"description": _STATUS_TEXT.get(status, str(status))}
            if isinstance(body, str):
                response["content"] = {body: {"schema": {"type": "string"}}}
            elif body is not None:
                response["content"] = {"application/json": {"schema": schema_of[id(body)]}}
            responses[str(status)] = response
        spec["responses"] = responses or {"200": {"description": "OK"}}
        paths.setdefault(path, {})[method.lower()] = spec
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
