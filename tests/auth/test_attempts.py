"""The bounds on logins and anonymous work (auth-service/chalicelib/attempts.py), by address and subject.

The rules that need callers at different addresses are also tested through the local
stack, from different loopback addresses (tests/e2e/test_abuse.py); here the policy is
called directly, with addresses named and a clock that moves only when told.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from servicekit.clock import clock
from tests.auth.conftest import PASSWORD, assert_oauth_error, basic, login, post, post_form, register
from tests.support import services
from tests.support.clocks import ManualClock

ATTACKERS = [f"198.51.100.{n}" for n in range(1, 30)]
HOME = "203.0.113.7"


@pytest.fixture
def attempts(aws: Any) -> Iterator[Any]:
    """The auth service's attempts module, in its stage's environment, on a clock that stands still."""
    clock.override(ManualClock())
    with services.load("auth").environment():
        yield services.load("auth").module("attempts")


def _fail(attempts: Any, username: str, address: str) -> None:
    """A login attempt that turns out wrong: counted, never taken back."""
    attempts.attempt(attempts.user(username), address)


def _refused(attempts: Any, username: str, address: str) -> int:
    errors = services.load("auth").module("errors")
    with pytest.raises(errors.TooManyRequestsError) as refused:
        attempts.attempt(attempts.user(username), address)
    return int(refused.value.retry_after)


def test_five_failures_from_one_address_refuse_that_address_only(attempts: Any) -> None:
    for _ in range(5):
        _fail(attempts, "alice", ATTACKERS[0])

    assert 890 <= _refused(attempts, "alice", ATTACKERS[0]) <= 900
    attempts.attempt(attempts.user("alice"), HOME).succeeded()


def test_past_twenty_failures_from_everywhere_each_attempt_waits_a_growing_turn_of_at_most_a_minute(
    attempts: Any,
) -> None:
    # GIVEN 20 failed logins for alice, from four addresses (5 each, their own limit)
    start = clock().now()
    for address in ATTACKERS[:4]:
        for _ in range(5):
            _fail(attempts, "alice", address)

    # WHEN attempts keep coming from new addresses, each as soon as its turn comes, for the
    # rest of the 15 minutes
    waits = []
    for n in itertools.count():
        _fail(attempts, "alice", f"192.0.2.{n}")
        waits.append(_refused(attempts, "alice", HOME))
        if clock().now() + waits[-1] >= start + 900:
            break
        clock().advance(waits[-1])

    # THEN each turn is a second longer than the one before, never more than a minute (so
    # about 60 guesses in 15 minutes from the whole internet), and alice at home waits her
    # turn: a slowdown, never the 15-minute lockout
    assert waits == list(range(1, len(waits) + 1))
    assert max(waits) <= 60
    clock().advance(waits[-1])
    attempts.attempt(attempts.user("alice"), HOME).succeeded()


def test_a_wait_for_the_turn_is_no_failure_from_the_waiting_address(attempts: Any) -> None:
    for address in ATTACKERS[:4]:
        for _ in range(5):
            _fail(attempts, "alice", address)
    _fail(attempts, "alice", ATTACKERS[5])

    for _ in range(10):  # alice tries again and again while it is not her turn
        _refused(attempts, "alice", HOME)
    clock().advance(60)

    attempts.attempt(attempts.user("alice"), HOME).succeeded()


def test_an_address_gets_thirty_expensive_requests_a_minute(attempts: Any) -> None:
    for _ in range(30):
        attempts.spend(HOME)

    assert 1 <= _refused(attempts, "anyone", HOME) <= 60
    attempts.spend(ATTACKERS[0])
    clock().advance(60)
    attempts.spend(HOME)


def test_a_username_shaped_like_a_client_touches_none_of_the_clients_counters(auth: Any) -> None:
    # GIVEN the profile service's client, and five failed password logins for the
    # "username" client:profile-service (finding 1 of issue 20)
    with services.load("auth").environment():
        secret = services.load("auth").module("clients").create_client("profile-service", "location:read")
    for _ in range(5):
        assert login(auth, "client:profile-service", "not the secret at all").status_code == 400

    # WHEN the client logs in
    response = post_form(auth, "/token", {"grant_type": "client_credentials"}, basic("profile-service", secret))

    # THEN it gets its token: the user subject of that name is not the client
    assert response.status_code == 200, response.body
    assert_oauth_error(login(auth, "client:profile-service", "not the secret at all"), 429, "login_locked")


class CountingHasher:
    """The service's Argon2 hasher, counting the passwords it hashes."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.hashed = 0

    def hash(self, password: str) -> str:
        self.hashed += 1
        return self._real.hash(password)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_a_registration_past_the_addresss_budget_is_429_with_retry_after_and_hashes_nothing(auth: Any) -> None:
    clock.override(ManualClock())  # the budget's windows are whole minutes: none may end during the test
    hasher = services.load("auth").module("passwords").hasher
    counting = CountingHasher(hasher())
    hasher.override(counting)
    for n in range(30):
        register(auth, f"user-{n}")

    refused = post(auth, "/users", {"username": "one-too-many", "password": PASSWORD})

    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert services.json_body(refused)["Code"] == "TooManyRequestsError"
    assert counting.hashed == 30
