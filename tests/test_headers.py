"""Headers on every answer: nosniff everywhere, private answers never stored, public ones revalidated."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.tokens import bearer, claims

USER_ID = "5ec00000-0000-4000-8000-000000000001"
JSON = {"Content-Type": "application/json"}
LOCATION = json.dumps({"latitude": 48.85, "longitude": 2.35})


def _user(key_ring: Any) -> dict[str, str]:
    return bearer(key_ring.sign(claims(USER_ID)))


@pytest.mark.parametrize(
    ("service", "method", "path", "body"),
    [
        ("location", "PUT", f"/locations/{USER_ID}", LOCATION),
        ("location", "GET", f"/locations/{USER_ID}", None),
        ("location", "GET", "/locations/someone-else", None),
        ("location", "DELETE", "/locations/someone-else", None),
        ("profile", "PUT", f"/profiles/{USER_ID}", json.dumps({"display_name": "Sec"})),
        ("profile", "PUT", f"/profiles/{USER_ID}", "not json"),
    ],
)
def test_an_answer_to_an_authenticated_request_is_never_stored(
    apps: dict[str, Any], key_ring: Any, service: str, method: str, path: str, body: str | None
) -> None:
    client = apps[service]
    client.http.put(f"/locations/{USER_ID}", headers={**JSON, **_user(key_ring)}, body=LOCATION)

    response = client.http.request(method, path, headers={**JSON, **_user(key_ring)}, body=body or b"")

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_calling_users_own_record_is_never_stored(apps: dict[str, Any]) -> None:
    auth = apps["auth"]
    auth.http.post("/users", headers=JSON, body=json.dumps({"username": "nostore", "password": "a long passphrase"}))
    login = json.loads(
        auth.http.post(
            "/token",
            headers=JSON,
            body=json.dumps({"grant_type": "password", "username": "nostore", "password": "a long passphrase"}),
        ).body
    )

    response = auth.http.get("/users/me", headers=bearer(login["access_token"]))

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("profile", f"/profiles/{USER_ID}"),
        ("profile", f"/pages/{USER_ID}"),
        ("auth", "/health"),
        ("location", "/health"),
        ("profile", "/openapi.json"),
    ],
)
def test_a_public_answer_may_be_cached_only_if_revalidated(apps: dict[str, Any], service: str, path: str) -> None:
    response = apps[service].http.get(path)

    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_route_that_chooses_its_own_caching_keeps_it(apps: dict[str, Any]) -> None:
    response = apps["auth"].http.get("/.well-known/jwks.json")

    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("service", "method", "path", "headers"),
    [
        ("auth", "POST", "/users", {"Content-Type": "text/plain"}),
        ("auth", "POST", "/users", JSON),
        ("profile", "GET", f"/profiles/{USER_ID}", {}),
    ],
    ids=["415", "400", "404"],
)
def test_error_answers_carry_nosniff_too(
    apps: dict[str, Any], service: str, method: str, path: str, headers: dict[str, str]
) -> None:
    response = apps[service].http.request(method, path, headers=headers, body=b"<script>")

    assert response.status_code >= 400
    assert response.headers["X-Content-Type-Options"] == "nosniff"
