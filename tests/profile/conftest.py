"""Fixtures of the profile service's tests: its client, the fake peers it calls, users and tokens."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.profile.upstream import CLIENT_SECRET, FakeUpstream
from tests.support import services, tokens

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    """The auth and location services, played by a real HTTP server on 127.0.0.1."""
    server = FakeUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def profile(aws: Any, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """A test client of the profile service, whose peers are ``upstream``."""
    secret = tmp_path / "profile-client-secret"
    secret.write_text(CLIENT_SECRET + "\n")
    # The local stage leaves these out of config.json, so the process environment decides.
    monkeypatch.setenv("AUTH_URL", upstream.url)
    monkeypatch.setenv("LOCATION_URL", upstream.url)
    monkeypatch.setenv("CLIENT_SECRET", f"file:{secret}")
    with services.load("profile").client() as client:
        yield client


@pytest.fixture
def user_id() -> str:
    """A user (as the auth service would name one)."""
    return str(uuid.uuid4())


@pytest.fixture
def token(key_ring: Any, user_id: str) -> str:
    """The user's access token, with the usual user scopes."""
    return key_ring.sign(tokens.claims(user_id))  # type: ignore[no-any-return]


def cold_start() -> None:
    """Forget what the process has read and cached: settings, secret, token, HTTP pool."""
    service = services.load("profile")
    for module, accessor in [
        ("settings", "settings"),
        ("credentials", "client_secret"),
        ("locations", "location_reader"),
    ]:
        getattr(service.module(module), accessor).reset()


def put(client: Any, user_id: str, body: Any, token: str | None = None, headers: dict[str, str] | None = None) -> Any:
    """``PUT /profiles/{user_id}`` with ``body`` (JSON unless already bytes or str)."""
    all_headers = {**JSON, **(headers or {}), **(tokens.bearer(token) if token else {})}
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.http.put(f"/profiles/{user_id}", headers=all_headers, body=raw)


def get(client: Any, user_id: str) -> Any:
    """``GET /profiles/{user_id}``."""
    return client.http.get(f"/profiles/{user_id}")


def delete(client: Any, user_id: str, token: str | None = None) -> Any:
    """``DELETE /profiles/{user_id}``."""
    return client.http.delete(f"/profiles/{user_id}", headers=tokens.bearer(token) if token else {})


@pytest.fixture
def existing(profile: Any, user_id: str, token: str) -> dict[str, Any]:
    """A profile at version 1."""
    response = put(profile, user_id, {"display_name": "Alice", "bio": "Hello."}, token)
    assert response.status_code == 200, response.body
    return json.loads(response.body)  # type: ignore[no-any-return]
