"""Fixtures and helpers for the location service's route tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import services
from tests.support.services import json_body
from tests.support.tokens import json_headers_for

ALICE = "a11ce000-0000-4000-8000-000000000001"
BOB = "b0b00000-0000-4000-8000-000000000002"
PROFILE_SERVICE = "client:profile-service"
JSON = {"Content-Type": "application/json"}

SAN_FRANCISCO = {"latitude": 37.774929, "longitude": -122.419416, "city": "San Francisco", "country": "US"}


@pytest.fixture
def location(aws: Any) -> Iterator[Any]:
    """A test client of the location service."""
    with services.load("location").client() as client:
        yield client


@pytest.fixture
def alice(key_ring: Any) -> dict[str, str]:
    """Headers of a user token of Alice (the scopes every user token carries)."""
    return json_headers_for(key_ring, ALICE)


@pytest.fixture
def bob(key_ring: Any) -> dict[str, str]:
    """Headers of a user token of Bob."""
    return json_headers_for(key_ring, BOB)


@pytest.fixture
def profile_service(key_ring: Any) -> dict[str, str]:
    """Headers of the profile service's client-credentials token (scope location:read)."""
    return json_headers_for(key_ring, PROFILE_SERVICE, scope="location:read")


def path(user_id: str) -> str:
    """The location's route."""
    return f"/locations/{user_id}"


def put(client: Any, user_id: str, body: Any, headers: dict[str, str]) -> Any:
    """PUT ``body`` (JSON-encoded unless it is bytes already)."""
    raw = body if isinstance(body, bytes) else json.dumps(body)
    return client.http.put(path(user_id), headers=headers, body=raw)


def get(client: Any, user_id: str, headers: dict[str, str]) -> Any:
    """GET the location."""
    return client.http.get(path(user_id), headers=headers)


def delete(client: Any, user_id: str, headers: dict[str, str]) -> Any:
    """DELETE the location."""
    return client.http.delete(path(user_id), headers=headers)


def stored(client: Any, user_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """PUT a location that must succeed; its 200 body."""
    response = put(client, user_id, SAN_FRANCISCO, headers)
    assert response.status_code == 200, response.body
    return json_body(response)  # type: ignore[no-any-return]
