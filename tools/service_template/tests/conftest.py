"""Fixtures of the scaffold service's route tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import services
from tests.support.tokens import json_headers_for

ALICE = "a11ce000-0000-4000-8000-000000000001"
BOB = "b0b00000-0000-4000-8000-000000000002"


@pytest.fixture
def scaffold(aws: Any) -> Iterator[Any]:
    """A test client of the scaffold service (its table in moto)."""
    with services.load("scaffold").client() as client:
        yield client


@pytest.fixture
def alice(key_ring: Any) -> dict[str, str]:
    """Headers of a user token of Alice."""
    return json_headers_for(key_ring, ALICE)


@pytest.fixture
def bob(key_ring: Any) -> dict[str, str]:
    """Headers of a user token of Bob."""
    return json_headers_for(key_ring, BOB)
