"""CORS on the running stack, as a browser's requests carry it (the browser itself: test_browser.py).

Locally the stage's origins are any ``http://localhost:<port>`` and ``http://127.0.0.1:<port>``.
"""

from __future__ import annotations

import pytest

from tests.e2e.api import Api, User
from tools.registry import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

APP = "http://localhost:5173"
STRANGER = "https://elsewhere.example"


def _preflight(api: Api, service: str, path: str, origin: str, method: str) -> dict[str, str]:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    response = api.session.options(api.urls[service] + path, headers=headers, timeout=30)
    assert response.status_code in (200, 204), response.text
    return dict(response.headers)


# Every route of every service, by its path: the preflight of each is answered.
ROUTES = {
    "auth": [("/users", "POST"), ("/token", "POST"), ("/token/revoke", "POST"), ("/users/me", "GET")],
    "location": [("/locations/{id}", "PUT"), ("/locations/{id}", "GET"), ("/locations/{id}", "DELETE")],
    "profile": [("/profiles/{id}", "PUT"), ("/profiles/{id}", "DELETE")],
}
PUBLIC_READS = {
    "auth": ["/.well-known/jwks.json", "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"],
    "location": [],
    "profile": ["/profiles/{id}", "/pages/{id}"],
}


@pytest.mark.parametrize(("service", "path", "method"), [(s, p, m) for s, routes in ROUTES.items() for p, m in routes])
def test_a_preflight_from_the_stages_origin_allows_the_route(
    api: Api, alice: User, service: str, path: str, method: str
) -> None:
    headers = _preflight(api, service, path.replace("{id}", alice.user_id), APP, method)

    assert headers["Access-Control-Allow-Origin"] == APP
    assert method in headers["Access-Control-Allow-Methods"].split(",")
    assert "authorization" in headers["Access-Control-Allow-Headers"].lower()


@pytest.mark.parametrize(("service", "path", "method"), [(s, p, m) for s, routes in ROUTES.items() for p, m in routes])
def test_a_preflight_from_another_origin_does_not_allow_a_credentialed_route(
    api: Api, alice: User, service: str, path: str, method: str
) -> None:
    headers = _preflight(api, service, path.replace("{id}", alice.user_id), STRANGER, method)

    allowed = headers.get("Access-Control-Allow-Origin")
    assert allowed != STRANGER and (allowed is None or method not in headers["Access-Control-Allow-Methods"])


@pytest.mark.parametrize(
    ("service", "path"),
    [(s, "/health") for s in SERVICES]
    + [(s, "/openapi.json") for s in SERVICES]
    + [(s, p) for s, paths in PUBLIC_READS.items() for p in paths],
)
def test_a_public_read_is_readable_from_any_origin(api: Api, alice: User, service: str, path: str) -> None:
    path = path.replace("{id}", alice.user_id)

    assert _preflight(api, service, path, STRANGER, "GET")["Access-Control-Allow-Origin"] == "*"
    assert api.get(service, path, headers={"Origin": STRANGER}).headers["Access-Control-Allow-Origin"] == "*"


def test_an_authenticated_answer_names_the_stages_origin_and_exposes_the_etag(api: Api, alice: User) -> None:
    body = {"display_name": "Cross-origin"}

    response = api.put("profile", f"/profiles/{alice.user_id}", body=body, headers={**alice.auth, "Origin": APP})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert "Origin" in response.headers["Vary"]
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_a_token_answer_to_another_origin_is_not_readable_there(api: Api, alice: User) -> None:
    response = api.post(
        "auth",
        "/token/revoke",
        data="token=unknown",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": STRANGER,
        },
    )

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not.a.token"}], ids=["401", "403"])
def test_the_authorizers_own_refusals_are_readable_from_any_origin(api: Api, headers: dict[str, str]) -> None:
    # A browser app must see the 401 that tells it to refresh, not a failed fetch
    response = api.get("auth", "/users/me", headers={**headers, "Origin": APP})

    assert response.status_code in (401, 403)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
