"""The login page of ``GET /authorize`` and its problem pages: HTML the project writes (servicekit.pages).

Everything shown is escaped by the template engine: a client id, a scope or an error
message can never become markup. Each page is served under a Content-Security-Policy
that allows no script at all, only the page's own stylesheet (by its hash), no framing
(``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for older browsers), and a form
that posts to this service only, whose answer may redirect to the client's redirect URI
only (``form-action`` covers the redirect that follows a post). No page is cached
(``no-store``: it holds a login request's id) or sends a referrer.
"""

from __future__ import annotations

import os

from chalice import Response

from servicekit.pages import Pages

pages = Pages(os.path.join(os.path.dirname(os.path.realpath(__file__)), "templates"))
"""The service's templates."""

# What a user is asked to let the app do, by scope; an unknown one is shown by its name.
SCOPE_WORDS = {
    "profile:write": "change your public profile",
    "location:write": "set your location",
}


def headers(form_target: str | None = None) -> dict[str, str | list[str]]:
    """The headers of every page; ``form_target``: the origin the login form's answer may redirect to."""
    form_action = f"'self' {form_target}" if form_target else "'none'"
    return {**pages.headers(form_action), "Cache-Control": "no-store"}


def login(
    *,
    client_id: str,
    scope: str,
    request_id: str,
    form_target: str,
    error: str | None = None,
    username: str = "",
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """The login page of one authorization request (again with ``error`` after a failed login)."""
    scopes = [SCOPE_WORDS.get(name, name) for name in scope.split()]
    body = pages.render(
        "login.html", client_id=client_id, scopes=scopes, request_id=request_id, error=error, username=username
    )
    return Response(body=body, status_code=200, headers={**headers(form_target), **(extra_headers or {})})


def problem(status: int, title: str, message: str, extra_headers: dict[str, str] | None = None) -> Response:
    """A page that says what went wrong, with no form and no link to follow."""
    body = pages.render("problem.html", title=title, message=message)
    return Response(body=body, status_code=status, headers={**headers(), **(extra_headers or {})})
