"""OpenAPI 3.1 documents built from a Chalice app's routes and the models it validates with.

Routes come from ``app.routes`` and schemas from the msgspec models themselves, so the
document cannot drift from what the code accepts. A view declares its bodies with
``@documented(...)`` under its ``@app.route``; what every route can answer besides
(Chalice's 415, the authorizer's 401 and 403) is added here, so that the document
tells the truth about every answer a client can get.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec
from chalice import Chalice
from chalice.app import Request

from . import env

F = TypeVar("F", bound=Callable[..., Any])

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    302: "Found: the browser is sent on, to the address in `Location`",
    204: "No Content",
    400: "Invalid request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    412: "Precondition failed",
    413: "Body too large",
    415: "Unsupported media type (Chalice's own answer, for any route)",
    500: "The authorizer could not get the signing keys; retry",
    429: "Too many requests",
    503: "Service unavailable",
}


class Error(msgspec.Struct):
    """Every error body the services produce (Chalice's native shape)."""

    Code: str
    Message: str


class GatewayUnauthorized(msgspec.Struct, forbid_unknown_fields=True):
    """401 made by API Gateway (and ``chalice local``) before the route runs: no ``Authorization`` header."""

    message: str


class GatewayDenied(msgspec.Struct, forbid_unknown_fields=True):
    """403 made by API Gateway (and ``chalice local``) when the authorizer denies the token.

    ``chalice local`` says "User is not authorized to access this resource"; API Gateway
    adds "with an explicit deny".
    """

    Message: str


class GatewayAuthorizerFailure(msgspec.Struct, forbid_unknown_fields=True):
    """500 made by API Gateway (and ``chalice local``) when the authorizer gives no policy: the keys are unavailable.

    The body is ``{"message": null}``. Documented as a nullable string, not as ``{"type":
    "null"}``: generators cannot make a field whose only value is null (openapi-generator's
    issue #21084), and a string-or-null field reads this body as it is.
    """

    message: str | None


class Header(msgspec.Struct, frozen=True):
    """A header a route takes (``@documented(..., headers=...)``) or answers (``Answer(..., headers=...)``).

    Declared by the service whose routes use it, with its text: ``Header("ETag", "The
    profile's version...", {"type": "string"}, required=True)``.
    """

    name: str
    description: str
    schema: Mapping[str, Any]
    required: bool = False

    def spec(self) -> dict[str, Any]:
        """Its OpenAPI header (or, with ``name`` and ``in``, parameter) object."""
        required = {"required": True} if self.required else {}
        return {"description": self.description, **required, "schema": dict(self.schema)}


class SecurityScheme(msgspec.Struct, frozen=True):
    """A way to authenticate a public route may offer (``@documented(..., security=...)``), beside the bearer token.

    The bearer scheme of every route behind the authorizer is this module's own.
    """

    name: str
    scheme: Mapping[str, Any]


BEARER = SecurityScheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
LICENSE = {"name": "Apache-2.0", "identifier": "Apache-2.0"}  # the project's (setup.cfg)


class Answer(msgspec.Struct, frozen=True):
    """A response with headers: its body (a model, a media type, or None) and its headers."""

    body: type | str | None
    headers: tuple[Header, ...] = ()


class Operation(msgspec.Struct, frozen=True):
    """What a route takes and answers: models, or media types for non-JSON answers."""

    summary: str
    request: type | None = None
    responses: Mapping[int, type | str | Answer | None] = msgspec.field(default_factory=dict)
    request_media_types: tuple[str, ...] = ("application/json",)
    headers: tuple[Header, ...] = ()
    description: str = ""
    security: tuple[SecurityScheme, ...] = ()
    query: type | None = None


def documented(
    summary: str,
    *,
    request: type | None = None,
    responses: Mapping[int, type | str | Answer | None],
    request_media_types: tuple[str, ...] = ("application/json",),
    headers: tuple[Header, ...] = (),
    description: str = "",
    security: tuple[SecurityScheme, ...] = (),
    query: type | None = None,
) -> Callable[[F], F]:
    """Attach the route's request and response bodies (a model, a media type, an ``Answer``, or None).

    ``headers`` are the request headers the route reads; ``security`` the schemes a caller
    may use on a public route (optional: the operation is callable without them too). ``query`` is a model of flat
    fields whose each field is a query parameter.
    """

    def attach(view: F) -> F:
        operation = Operation(summary, request, responses, request_media_types, headers, description, security, query)
        view.__openapi__ = operation  # type: ignore[attr-defined]
        return view

    return attach


def server_url(request: Request | None) -> str:
    """The service's base URL from its configuration, never from the request's headers (contract r3).

    ``<SERVICE>_URL`` where the stage names it: the local stack gives each service its own,
    and a service run by hand has the default one of its local stage. A deployed service is not
    told its own URL (its function would name its own API: a circular reference), so there
    the URL is relative, the stage path API Gateway put in front of the route's (``/api``,
    from the request context it made), which a client resolves against the document's URL.
    """
    service = env.optional(env.SERVICE_NAME)
    configured = env.optional(f"{service.upper()}_URL") if service else None
    if configured:
        return configured.rstrip("/")
    if request is None:
        return "/"
    # API Gateway's path has the stage in front of the route's path; chalice local's has not.
    path, resource = request.context.get("path", ""), request.context.get("resourcePath", "")
    resource = _with_arguments(resource, request.uri_params or {})
    prefix = path[: -len(resource)] if resource and path.endswith(resource) else ""
    return prefix.rstrip("/") or "/"


def _with_arguments(route: str, arguments: Mapping[str, str]) -> str:
    for name, value in arguments.items():
        route = route.replace("{" + name + "}", value)
    return route


def _answers(entry: Any, operation: Operation) -> dict[int, Any]:
    """The view's declared answers plus those made before it runs (415, the authorizer's 401, 403 and 500)."""
    answers: dict[int, Any] = {415: Error, **operation.responses}
    if entry.authorizer is not None:
        answers[401] = GatewayUnauthorized  # the route itself never answers 401
        answers[500] = GatewayAuthorizerFailure
        declared = operation.responses.get(403)
        answers[403] = (declared, GatewayDenied) if declared is not None else GatewayDenied
    return answers


def _schemes(entry: Any, operation: Operation) -> tuple[SecurityScheme, ...]:
    """The ways to authenticate the operation: the bearer token behind the authorizer, else those it offers."""
    return (BEARER,) if entry.authorizer is not None else operation.security


def _security(entry: Any, operation: Operation) -> list[dict[str, list[str]]]:
    """The operation's security requirements: ``[]`` says "public" (linters and generators want it said)."""
    if entry.authorizer is not None:
        return [{BEARER.name: []}]
    if operation.security:
        optional: list[dict[str, list[str]]] = [{}]
        return optional + [{scheme.name: []} for scheme in operation.security]
    return []


def _query_parameters(model: type | None) -> list[dict[str, Any]]:
    """One query parameter per field of ``model`` (flat: strings and enums), each with its field's schema."""
    if model is None:
        return []
    schema = msgspec.json.schema(model)
    (name,) = schema["$defs"]
    fields = schema["$defs"][name]
    required = set(fields.get("required", []))
    parameters = []
    for field, field_schema in fields["properties"].items():
        parameter: dict[str, Any] = {"name": field, "in": "query", "required": field in required}
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameter["schema"] = {key: value for key, value in field_schema.items() if key != "description"}
        parameters.append(parameter)
    return parameters


def _without_null_defaults(schema: Any) -> Any:
    """``schema`` without ``"default": null``: an optional field left out is null to the service anyway.

    Generators read a default as "always present" (openapi-typescript makes such a field
    required, so a client had to send ``null``); without it the field is plainly optional.
    """
    if isinstance(schema, dict):
        return {
            key: _without_null_defaults(value) for key, value in schema.items() if (key, value) != ("default", None)
        }
    if isinstance(schema, list | tuple):
        return type(schema)(_without_null_defaults(value) for value in schema)
    return schema


def _add_cross_field_rules(bodies: list[Any], components: dict[str, Any]) -> None:
    """Merge each model's ``json_schema_extra`` (rules between fields, which msgspec cannot derive) into its schema."""
    models = [member for body in bodies for member in (typing.get_args(body) or (body,))]
    for model in models:
        extra = getattr(model, "json_schema_extra", None)
        if isinstance(extra, dict) and model.__name__ in components:
            components[model.__name__].update(extra)


def document(app: Chalice, *, title: str, version: str, description: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of ``app``, its ``servers`` the service's configured URL.

    Preflight routes (``OPTIONS``, servicekit.cors) are CORS's, not the API's: left out.
    """
    routes = [
        (path, method, entry, getattr(entry.view_function, "__openapi__", Operation(entry.view_name)))
        for path, methods in sorted(app.routes.items())
        for method, entry in sorted(methods.items())
        if method != "OPTIONS"
    ]
    bodies: list[Any] = [Error]
    for _, _, entry, operation in routes:
        for answer in [operation.request, *_answers(entry, operation).values()]:
            answer = answer.body if isinstance(answer, Answer) else answer
            for body in answer if isinstance(answer, tuple) else (answer,):
                if body is not None and not isinstance(body, str) and body not in bodies:
                    bodies.append(body)
    schemas, components = _without_null_defaults(
        msgspec.json.schema_components(bodies, ref_template="#/components/schemas/{name}")
    )
    _add_cross_field_rules(bodies, components)
    schema_of = dict(zip(map(id, bodies), schemas, strict=True))

    paths: dict[str, dict[str, Any]] = {}
    for path, method, entry, operation in routes:
        spec: dict[str, Any] = {"operationId": entry.view_name, "summary": operation.summary}
        if operation.description:
            spec["description"] = operation.description
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in entry.view_args
        ] + [{"name": header.name, "in": "header", **header.spec()} for header in operation.headers]
        parameters += _query_parameters(operation.query)
        if parameters:
            spec["parameters"] = parameters
        spec["security"] = _security(entry, operation)
        if operation.request is not None:
            schema = schema_of[id(operation.request)]
            spec["requestBody"] = {
                "required": True,
                "content": {media_type: {"schema": schema} for media_type in operation.request_media_types},
            }
        responses: dict[str, Any] = {}
        for status, answer in sorted(_answers(entry, operation).items()):
            response: dict[str, Any] = {"description": _STATUS_TEXT.get(status, str(status))}
            body = answer.body if isinstance(answer, Answer) else answer
            if isinstance(body, str):
                response["content"] = {body: {"schema": {"type": "string"}}}
            elif isinstance(body, tuple):
                response["content"] = {"application/json": {"schema": {"anyOf": [schema_of[id(b)] for b in body]}}}
            elif body is not None:
                response["content"] = {"application/json": {"schema": schema_of[id(body)]}}
            if isinstance(answer, Answer) and answer.headers:
                response["headers"] = {header.name: header.spec() for header in answer.headers}
            responses[str(status)] = response
        spec["responses"] = responses
        paths.setdefault(path, {})[method.lower()] = spec
    used = {scheme.name: scheme.scheme for _, _, entry, operation in routes for scheme in _schemes(entry, operation)}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description, "license": LICENSE},
        "servers": [{"url": server_url(app.current_request)}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": dict(sorted(used.items())),
        },
    }
