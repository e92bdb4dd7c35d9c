"""Headers every answer carries: no content sniffing, and caching that fits who may see it.

- ``X-Content-Type-Options: nosniff`` on every answer, so a browser never runs a JSON
  body (or an error message holding user text) as anything else.
- ``Cache-Control``, unless the route set its own (the JWKS, the token endpoint):
  ``no-store`` for any request that carried credentials or passed the authorizer, so
  no shared or browser cache keeps a private answer; ``no-cache`` for public answers,
  which caches may keep but must revalidate on every use: a public profile embeds the
  user's live location, which changes without the profile's version (its ``ETag``).
"""

from __future__ import annotations

from collections.abc import Callable

from chalice import Chalice, Response
from chalice.app import Request

PRIVATE = "no-store"
PUBLIC = "no-cache"


def secure_headers(app: Chalice) -> None:
    """Add the headers above to every answer of ``app``, errors included."""

    @app.middleware("http")
    def add_headers(request: Request, get_response: Callable[[Request], Response]) -> Response:
        response = get_response(request)
        present = {name.lower() for name in response.headers}
        if "x-content-type-options" not in present:
            response.headers["X-Content-Type-Options"] = "nosniff"
        if "cache-control" not in present:
            response.headers["Cache-Control"] = PRIVATE if is_private(request) else PUBLIC
        return response


def is_private(request: Request) -> bool:
    """Whether the request carried credentials or was let through by the authorizer."""
    authorizer = (request.context or {}).get("authorizer") or {}
    return "authorization" in request.headers or bool(authorizer.get("principalId"))
