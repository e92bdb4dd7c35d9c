"""The authorizer's JWKS cache: fetched once, refetched on an unknown kid, and never a Deny for a fetch that failed."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from servicekit.keyring import KeyRing
from servicekit.tokens import REFETCH_INTERVAL_S, RETRY_BACKOFF_S, InvalidTokenError, KeySet, KeysUnavailableError
from tests.support.clocks import ManualClock


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Jwks:
    """The auth service's JWKS endpoint: serves a ring, or fails, and counts its calls."""

    def __init__(self, ring: Any) -> None:
        self.ring = ring
        self.down = False
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.down:
            raise ConnectionRefusedError("auth service down")
        return self.ring.jwks()


def _public_bytes(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)  # type: ignore[no-any-return]


@pytest.fixture
def ring() -> Any:
    return KeyRing.generate()


def test_keys_are_fetched_once_and_then_served_from_the_cache(ring: Any) -> None:
    jwks = Jwks(ring)
    keys = KeySet(jwks, clock=Clock())

    for _ in range(10):
        keys.key(ring.active)

    assert jwks.calls == 1


def test_an_unknown_kid_refetches_at_most_once_a_minute(ring: Any) -> None:
    jwks, clock = Jwks(ring), Clock()
    keys = KeySet(jwks, clock=clock)
    keys.key(ring.active)

    for _ in range(5):
        with pytest.raises(InvalidTokenError):
            keys.key("forged-kid")
    clock.now += REFETCH_INTERVAL_S
    with pytest.raises(InvalidTokenError):
        keys.key("forged-kid")

    assert jwks.calls == 2


def test_a_rotated_key_is_found_by_refetching(ring: Any) -> None:
    # GIVEN a cache that knows the first key, then the auth service adds a second
    jwks, clock = Jwks(ring), Clock()
    keys = KeySet(jwks, clock=clock)
    keys.key(ring.active)
    rotated = ring.with_new_key()
    new_kid = next(kid for kid in rotated.keys if kid != ring.active)
    jwks.ring = rotated
    clock.now += REFETCH_INTERVAL_S

    # WHEN a token names the new key
    found = keys.key(new_kid)

    # THEN one more fetch found it: the public half of exactly that private key
    assert jwks.calls == 2
    assert _public_bytes(found) == _public_bytes(rotated.keys[new_kid].public_key())
    assert _public_bytes(found) != _public_bytes(ring.keys[ring.active].public_key())


def test_a_failed_fetch_is_not_the_tokens_fault(ring: Any) -> None:
    jwks = Jwks(ring)
    jwks.down = True
    keys = KeySet(jwks, clock=Clock())

    with pytest.raises(KeysUnavailableError):
        keys.key(ring.active)


def test_a_failed_fetch_is_retried_after_a_short_backoff_without_calls_in_between(ring: Any) -> None:
    jwks, clock = Jwks(ring), Clock()
    jwks.down = True
    keys = KeySet(jwks, clock=clock)
    with pytest.raises(KeysUnavailableError):
        keys.key(ring.active)

    for delay in [*RETRY_BACKOFF_S, RETRY_BACKOFF_S[-1]]:
        calls = jwks.calls
        clock.now += delay - 0.01
        with pytest.raises(KeysUnavailableError):
            keys.key(ring.active)
        assert jwks.calls == calls  # still backing off: no call
        clock.now += 0.01
        with pytest.raises(KeysUnavailableError):
            keys.key(ring.active)
        assert jwks.calls == calls + 1  # due: one more try

    assert max(RETRY_BACKOFF_S) <= 10


def test_keys_already_known_keep_verifying_while_the_jwks_is_down(ring: Any) -> None:
    jwks, clock = Jwks(ring), Clock()
    keys = KeySet(jwks, clock=clock)
    known = keys.key(ring.active)
    jwks.down = True
    clock.now += REFETCH_INTERVAL_S

    with pytest.raises(KeysUnavailableError):
        keys.key("rotated-in-meanwhile")
    assert keys.key(ring.active) is known


def test_once_the_jwks_is_back_an_unknown_kid_is_invalid_again(ring: Any) -> None:
    jwks, clock = Jwks(ring), Clock()
    jwks.down = True
    keys = KeySet(jwks, clock=clock)
    with pytest.raises(KeysUnavailableError):
        keys.key(ring.active)
    jwks.down = False
    clock.now += RETRY_BACKOFF_S[0]

    assert keys.key(ring.active) is not None
    with pytest.raises(InvalidTokenError):
        keys.key("forged-kid")
    assert jwks.calls == 2  # the refetch interval after success is back to a minute


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


def test_a_retired_key_stops_verifying_once_the_keys_are_older_than_their_max_age(ring: Any) -> None:
    # GIVEN keys handed over with a max age, then the key ring adds a key, activates it and retires the old one
    clock = ManualClock()
    jwks = Jwks(ring)
    keys = KeySet(jwks, clock=clock.monotonic, initial=ring.jwks(), max_age_s=600)
    old_kid = ring.active
    newer = ring.with_new_key()
    jwks.ring = newer.activate(next(kid for kid in newer.keys if kid != old_kid)).without(old_kid)

    # WHEN tokens signed by the old key arrive before and after the max age
    clock.advance(599)
    before = keys.key(old_kid)
    clock.advance(1)

    # THEN the old key verifies until then, without a fetch, and is unknown after the one fetch
    assert before is not None and jwks.calls == 0
    with pytest.raises(InvalidTokenError, match="unknown key id"):
        keys.key(old_kid)
    assert jwks.calls == 1


def test_old_keys_keep_verifying_when_their_refetch_fails(ring: Any) -> None:
    clock = ManualClock()
    jwks = Jwks(ring)
    keys = KeySet(jwks, clock=clock.monotonic, initial=ring.jwks(), max_age_s=600)
    jwks.down = True
    clock.advance(600)

    # The refetch fails: the known key still verifies, and the next try waits for the backoff
    assert keys.key(ring.active) is not None
    assert keys.key(ring.active) is not None
    assert jwks.calls == 1
    clock.advance(RETRY_BACKOFF_S[0])
    jwks.down = False
    assert keys.key(ring.active) is not None
    assert jwks.calls == 2


def _fetched_once(ring: Any) -> tuple[ManualClock, Jwks, KeySet]:
    """Keys fetched for their first token, on a clock of the test's (both the monotonic and the wall time)."""
    clock = ManualClock()
    jwks = Jwks(ring)
    keys = KeySet(jwks, clock=clock.monotonic, wall_clock=clock.timestamp)
    keys.key(ring.active)
    return clock, jwks, keys


def test_a_key_activated_after_the_last_fetch_is_fetched_on_its_first_token(ring: Any) -> None:
    # GIVEN keys fetched a moment ago (an unknown kid of an older token then found nothing new)
    clock, jwks, keys = _fetched_once(ring)
    with pytest.raises(InvalidTokenError):
        keys.key("not-yet-a-key", issued_at=clock.timestamp() - 100)
    assert jwks.calls == 1

    # WHEN the auth service adds and activates a key, and a token it signed after the fetch arrives
    newer = ring.with_new_key()
    new_kid = next(kid for kid in newer.keys if kid != ring.active)
    jwks.ring = newer.activate(new_kid)
    clock.advance(2)

    # THEN its key is fetched at once, not a minute later
    assert keys.key(new_kid, issued_at=clock.timestamp()) is not None
    assert jwks.calls == 2


def test_tokens_claiming_to_be_new_force_at_most_one_fetch_a_second(ring: Any) -> None:
    clock, jwks, keys = _fetched_once(ring)

    # A flood of forged tokens, each with an unknown kid and an issue time after the fetch
    for step in range(50):
        clock.advance(0.1)
        with pytest.raises(InvalidTokenError):
            keys.key(f"forged-{step}", issued_at=clock.timestamp())

    # 5 s of them: the first fetch, then at most one per second
    assert jwks.calls <= 1 + 5


def test_an_unknown_kid_on_a_token_older_than_the_keys_waits_for_the_refetch_interval(ring: Any) -> None:
    clock, jwks, keys = _fetched_once(ring)
    clock.advance(5)

    with pytest.raises(InvalidTokenError):
        keys.key("unknown", issued_at=clock.timestamp() - 60)
    assert jwks.calls == 1

    clock.advance(REFETCH_INTERVAL_S)
    with pytest.raises(InvalidTokenError):
        keys.key("unknown", issued_at=clock.timestamp() - 60)
    assert jwks.calls == 2
