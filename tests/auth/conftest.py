"""Helpers for the auth service's route tests."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

import pytest

from tests.support.services import json_body

PASSWORD = "correct horse battery staple"
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post(client: Any, path: str, body: Any) -> Any:
    """POST ``body`` as JSON."""
    return client.http.post(path, headers=JSON, body=json.dumps(body))


def post_form(client: Any, path: str, params: Any, headers: Mapping[str, str] | None = None) -> Any:
    """POST ``params`` form-encoded, as OAuth 2.0 clients do (a mapping, or pairs to repeat a name)."""
    return client.http.post(path, headers={**FORM, **(headers or {})}, body=urllib.parse.urlencode(params))


def basic(client_id: str, secret: str) -> dict[str, str]:
    """HTTP Basic client authentication (RFC 6749 section 2.3.1)."""
    user = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(user.encode()).decode()}


def assert_oauth_error(response: Any, status: int, error: str) -> dict[str, Any]:
    """RFC 6749 section 5.2: the status, ``{"error", "error_description"}``, never cached."""
    assert response.status_code == status, response.body
    body = json_body(response)
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    assert response.headers["Cache-Control"] == "no-store"
    return body  # type: ignore[no-any-return]


def register(client: Any, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
    """Register a user and return the 201 body."""
    response = post(client, "/users", {"username": username, "password": password})
    assert response.status_code == 201, response.body
    return json_body(response)  # type: ignore[no-any-return]


def login(client: Any, username: str = "alice", password: str = PASSWORD) -> Any:
    """The response of a password-grant login."""
    return post(client, "/token", {"grant_type": "password", "username": username, "password": password})


def refresh(client: Any, refresh_token: str) -> Any:
    """The response of a refresh-token grant."""
    return post(client, "/token", {"grant_type": "refresh_token", "refresh_token": refresh_token})


@pytest.fixture
def alice(auth: Any) -> dict[str, Any]:
    """A registered user, logged in: her user and her token response."""
    user = register(auth)
    response = login(auth)
    assert response.status_code == 200, response.body
    return {"user": user, "tokens": json_body(response)}
