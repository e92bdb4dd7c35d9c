"""One way to make a service's Chalice app: what every service has, so that ``app.py`` keeps only its own.

    app, jwt_auth = service("location", version="1.0.0")

gives the app ``location-service`` with the middlewares every service applies (the access
log and correlation id, the security headers, the request's time budget, CORS), its
authorizer (``jwt_auth``: Chalice deploys it as the function ``app.jwt_auth``, so ``app.py``
must hold it under that name), and the routes every service answers, ``GET /health`` and
``GET /openapi.json``. A path's CORS preflight route (``servicekit.cors``) is added as its
routes are, so nothing needs calling after the last route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from chalice import Chalice
from chalice.app import ChaliceAuthorizer, RouteEntry

from . import cors
from .authorizer import jwt_authorizer, shared_verifier
from .deadline import limit_request_time
from .headers import secure_headers
from .observability import log_requests
from .openapi import document, documented
from .tokens import TokenVerifier


class Health(msgspec.Struct):
    """``GET /health``."""

    status: str
    service: str


class ServiceApp(Chalice):
    """A Chalice app that keeps a CORS preflight route on every path that needs one, as routes are added."""

    def __init__(self, app_name: str) -> None:
        super().__init__(app_name=app_name)
        self._preflights: dict[str, RouteEntry] = {}

    # Chalice registers every ``@app.route`` here (its own ``Chalice`` extends the sibling
    # ``_register_on_ws_*`` hooks the same way). Whether a path needs a preflight depends on
    # all of its routes, so it is decided again after each one; the preflights are taken out
    # first, so that a path's own ``OPTIONS`` route can still be added.
    def _register_route(self, name: str, user_handler: Callable[..., Any], kwargs: Any, **unused: Any) -> None:
        for path, preflight in self._preflights.items():
            if self.routes[path].get("OPTIONS") is preflight:
                del self.routes[path]["OPTIONS"]
        super()._register_route(name, user_handler, kwargs, **unused)
        for path, methods in self.routes.items():
            if cors.needs_preflight(methods):
                if path not in self._preflights:
                    self._preflights[path] = cors.preflight_route(self, path)
                methods["OPTIONS"] = self._preflights[path]


def service(
    name: str,
    version: str,
    *,
    description: str = "",
    verifier: Callable[[str | None], TokenVerifier] = shared_verifier,
) -> tuple[Chalice, ChaliceAuthorizer]:
    """The app of the service ``name`` (its folder ``<name>-service``) and its JWT authorizer.

    ``version`` and ``description`` are its OpenAPI document's; ``verifier`` gives the
    authorizer its token verifier for the API a token came to (the issuer's own differs).
    """
    app = ServiceApp(f"{name}-service")
    log_requests(app)
    secure_headers(app)
    limit_request_time(app)
    # Innermost, next to the views: it copies the answer's headers before anyone adds to them.
    cors.add_cors_headers(app)
    jwt_auth = jwt_authorizer(app, verifier)

    @app.route("/health", methods=["GET"], cors=cors.PUBLIC_READ)
    @documented("Liveness", responses={200: Health})
    def health() -> dict:
        return {"status": "ok", "service": name}

    @app.route("/openapi.json", methods=["GET"], cors=cors.PUBLIC_READ)
    @documented("This document", responses={200: dict})
    def openapi() -> dict:
        return document(app, title=app.app_name, version=version, description=description)

    return app, jwt_auth
