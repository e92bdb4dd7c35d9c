"""The authorizer's JWKS cache: fetched once, refetched on an unknown kid at most once a minute."""

from __future__ import annotations

from typing import Any

import pytest

from servicekit.tokens import InvalidTokenError, KeySet
from tests.support import services


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ring() -> Any:
    return services.load("auth").module("keys").KeyRing.generate()


def test_keys_are_fetched_once_and_then_served_from_the_cache(ring: Any) -> None:
    fetches = []
    keys = KeySet(lambda: fetches.append(1) or ring.jwks(), clock=Clock())

    for _ in range(10):
        keys.key(ring.active)

    assert len(fetches) == 1


def test_an_unknown_kid_refetches_at_most_once_a_minute(ring: Any) -> None:
    fetches = []
    clock = Clock()
    keys = KeySet(lambda: fetches.append(1) or ring.jwks(), clock=clock)
    keys.key(ring.active)

    for _ in range(5):
        with pytest.raises(InvalidTokenError):
            keys.key("forged-kid")
    clock.now += 61
    with pytest.raises(InvalidTokenError):
        keys.key("forged-kid")

    assert len(fetches) == 2


def test_a_rotated_key_is_found_by_refetching(ring: Any) -> None:
    current = {"ring": ring}
    clock = Clock()
    keys = KeySet(lambda: current["ring"].jwks(), clock=clock)
    keys.key(ring.active)
    rotated = ring.with_new_key()
    new_kid = next(kid for kid in rotated.keys if kid != ring.active)
    current["ring"] = rotated
    clock.now += 61

    assert keys.key(new_kid) is not None


def test_a_failing_jwks_endpoint_verifies_nothing_and_does_not_raise_otherwise(ring: Any) -> None:
    def broken() -> Any:
        raise ConnectionRefusedError("auth service down")

    keys = KeySet(broken, clock=Clock())

    with pytest.raises(InvalidTokenError):
        keys.key(ring.active)


def test_keys_handed_over_at_deploy_time_need_no_fetch(ring: Any) -> None:
    fetches = []
    keys = KeySet(lambda: fetches.append(1) or ring.jwks(), clock=Clock(), initial=ring.jwks())

    for _ in range(3):
        keys.key(ring.active)

    assert fetches == []


def test_a_kid_the_handed_over_keys_lack_is_fetched_at_once(ring: Any) -> None:
    # GIVEN keys handed over before the auth service added a new one
    newer = ring.with_new_key()
    new_kid = next(kid for kid in newer.keys if kid != ring.active)
    fetches = []
    keys = KeySet(lambda: fetches.append(1) or newer.jwks(), clock=Clock(), initial=ring.jwks())

    # WHEN a token signed with the new key arrives THEN its key is fetched, once
    assert keys.key(new_kid) is not None
    assert keys.key(ring.active) is not None
    assert fetches == [1]
