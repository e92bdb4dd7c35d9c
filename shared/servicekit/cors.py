"""CORS: which browser apps, on which origins, may call which routes (the contract's revision 3).

- **Public reads** (a ``GET`` without the authorizer: profiles, pages, discovery, the JWKS,
  ``/health``, ``/openapi.json``) allow any origin, ``Access-Control-Allow-Origin: *``.
  Where every route of a path is a public read, that is Chalice's own CORS support:
  ``cors=PUBLIC_READ`` on the route, answered by API Gateway (and ``chalice local``)
  without running the function, preflights included.
- **Everything else** (the token endpoints, registration, every route behind the
  authorizer) allows the origins configured for the stage, ``ALLOWED_ORIGINS`` in each
  service's ``.chalice/config.json``: the allowed origin is echoed, with ``Vary: Origin``.
  Chalice's ``CORSConfig`` cannot say that: it has one fixed ``allow_origin``, and API
  Gateway answers its preflights from a fixed mock. So those paths get an ``OPTIONS``
  route of their own, answered by the function (``preflight_route``, added by
  ``servicekit.service`` as routes are), and the answers of their other routes get their
  headers here, in one middleware (``add_cors_headers``).

- **Pages a browser navigates to** (a login page and its form, marked ``@navigated``) are
  no API: a browser never fetches them across origins, so they get no CORS headers and no
  preflight route, and no other origin can read them (their forms' CSRF defence relies on it).

``ALLOWED_ORIGINS`` is a comma-separated list of origins (``https://app.example.com``); an
origin may end in ``:*`` for any port of that scheme and host (``http://localhost:*``).
No credentials mode (``Access-Control-Allow-Credentials``): the APIs take bearer tokens,
never cookies, so a browser app sends the ``Authorization`` header itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from chalice import Chalice, CORSConfig, Response
from chalice.app import Request, RouteEntry

from . import env
from .lazy import Lazy

ORIGINS_VARIABLE = "ALLOWED_ORIGINS"
# The request headers a browser app may send, and the answer's headers it may read.
ALLOW_HEADERS = ("Authorization", "Content-Type", "If-Match", "X-Correlation-Id")
EXPOSE_HEADERS = ("ETag", "Retry-After", "WWW-Authenticate", "X-Correlation-Id")
MAX_AGE_S = 600
PUBLIC_READ = CORSConfig(
    allow_origin="*", allow_headers=list(ALLOW_HEADERS), expose_headers=list(EXPOSE_HEADERS), max_age=MAX_AGE_S
)
"""Chalice's CORS configuration of a route that any origin may read."""
_READS = frozenset({"GET", "HEAD"})


def navigated[F: Callable[..., Any]](view: F) -> F:
    """Mark a view as a page a browser navigates to (under ``@app.route``): no CORS for it."""
    view.__navigated__ = True  # type: ignore[attr-defined]
    return view


def is_navigated(entry: RouteEntry) -> bool:
    """Whether the route is a page a browser navigates to (``@navigated``)."""
    return bool(getattr(entry.view_function, "__navigated__", False))


class Origins:
    """The origins a stage allows: exact ones, and scheme + host with any port (``http://localhost:*``)."""

    def __init__(self, entries: Iterable[str]) -> None:
        cleaned = [entry.strip().rstrip("/") for entry in entries if entry.strip()]
        self._exact = frozenset(entry for entry in cleaned if not entry.endswith(":*"))
        self._any_port = frozenset(entry.removesuffix("*") for entry in cleaned if entry.endswith(":*"))

    @classmethod
    def parse(cls, value: str | None) -> Origins:
        """``ALLOWED_ORIGINS``'s value (None or empty: no origin)."""
        return cls((value or "").split(","))

    def allows(self, origin: str | None) -> bool:
        """Whether a browser app on ``origin`` (an ``Origin`` header's value) may call the credentialed routes."""
        if not origin or origin in ("null", "*"):
            return False
        if origin in self._exact:
            return True
        prefix, colon, port = origin.rpartition(":")
        return bool(colon) and port.isdigit() and len(port) <= 5 and f"{prefix}:" in self._any_port


def _configured() -> Origins:
    return Origins.parse(env.optional(ORIGINS_VARIABLE))


allowed_origins = Lazy(_configured)
"""The stage's allowed origins, read once from ``ALLOWED_ORIGINS``."""


def is_public_read(entry: RouteEntry) -> bool:
    """A route any origin may call: a read without the authorizer."""
    return entry.method in _READS and entry.authorizer is None


def needs_preflight(methods: Mapping[str, RouteEntry]) -> bool:
    """Whether a path with these routes needs an ``OPTIONS`` route answered by its function.

    Not when it has one already, nor when Chalice's own CORS or a page (``@navigated``) is on it.
    """
    return "OPTIONS" not in methods and not any(entry.cors or is_navigated(entry) for entry in methods.values())


def preflight_route(app: Chalice, path: str) -> RouteEntry:
    """The ``OPTIONS`` route of ``path``: its preflights, answered by ``preflight_headers``."""
    view = _preflight_view(app, path)
    return RouteEntry(view, view.__name__, path, "OPTIONS", content_types=["application/json"])


def add_cors_headers(app: Chalice) -> None:
    """Give the answers of every route of ``app`` without Chalice's CORS their CORS headers.

    Their preflights are answered by the routes ``servicekit.service`` adds (``preflight_route``).
    """

    @app.middleware("http")
    def with_cors_headers(request: Request, get_response: Callable[[Request], Response]) -> Response:
        response = get_response(request)
        # A copy: a view may answer with a module's constant dict (``headers=NO_STORE``), which
        # this and every outer middleware would otherwise change for all later requests.
        response.headers = dict(response.headers)
        entry = app.routes.get(request.path, {}).get(request.method)
        if entry is None or entry.cors or request.method == "OPTIONS" or is_navigated(entry):
            return response  # Chalice's own CORS, a preflight (answered whole by its view), or a page
        response.headers.update(_actual_headers(entry, request.headers.get("origin")))
        return response


def _actual_headers(entry: RouteEntry, origin: str | None) -> dict[str, str]:
    """The CORS headers of an answer of ``entry`` to a request from ``origin``."""
    exposed = {"Access-Control-Expose-Headers": ",".join(EXPOSE_HEADERS)}
    if is_public_read(entry):
        return {"Access-Control-Allow-Origin": "*", **exposed}
    if allowed_origins().allows(origin):
        return {"Access-Control-Allow-Origin": origin or "", "Vary": "Origin", **exposed}
    return {"Vary": "Origin"}


def _preflight_view(app: Chalice, path: str) -> Callable[..., Response]:
    def preflight(**_: str) -> Response:
        request = app.current_request
        assert request is not None
        headers: dict[str, str | list[str]] = {**preflight_headers(app, path, request.headers.get("origin"))}
        return Response(body="", status_code=204, headers=headers)

    preflight.__name__ = f"preflight_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}"
    return preflight


def preflight_headers(app: Chalice, path: str, origin: str | None) -> dict[str, str]:
    """The answer to a preflight for ``path`` from ``origin``: the methods that origin may use there."""
    trusted = allowed_origins().allows(origin)
    entries = [entry for method, entry in app.routes[path].items() if method != "OPTIONS"]
    methods = sorted(entry.method for entry in entries if trusted or is_public_read(entry))
    headers = {"Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
    if origin and methods:
        headers.update(
            {
                "Access-Control-Allow-Origin": origin if trusted else "*",
                "Access-Control-Allow-Methods": ",".join([*methods, "OPTIONS"]),
                "Access-Control-Allow-Headers": ",".join(ALLOW_HEADERS),
                "Access-Control-Max-Age": str(MAX_AGE_S),
            }
        )
    return headers
