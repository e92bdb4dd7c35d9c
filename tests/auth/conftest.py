"""Helpers for the auth service's route tests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.services import json_body

PASSWORD = "correct horse battery staple"
JSON = {"Content-Type": "application/json"}


def post(client: Any, path: str, body: Any) -> Any:
    """POST ``body`` as JSON."""
    return client.http.post(path, headers=JSON, body=json.dumps(body))


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
