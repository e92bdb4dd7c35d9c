"""When a password or a client secret may be checked: guessing stays slow, and nobody locks another out.

Three bounds, each counted in the auth table (``store.py``) before any Argon2 work:

| bound | counted per | limit | beyond it |
| --- | --- | --- | --- |
| expensive anonymous work (1) | address | 30 a minute | 429 until the minute ends |
| failed logins | subject (2) and address | 5 in 15 minutes | 429 from that address, to the window's end |
| failed logins | subject, all addresses | 20 in 15 minutes | one attempt a turn (3) |

(1) registrations, password logins, client-credentials logins. (2) a username or a client
id. (3) the n-th attempt past 20 comes n seconds after the one before, at most 60 s: 429
with ``Retry-After`` until then.

The address is API Gateway's ``sourceIp``. A guesser at one address gets 5 tries at a
username, and cannot make it wait for the user at another address; guessers at many
addresses together get about 20 tries, then one try a turn, and the user's own login waits
at most a minute. A process also remembers each "not before" it was told, and answers from
memory until then: a flood from one address, or at one username, costs the table nothing more.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from servicekit.clock import clock
from servicekit.lazy import Lazy

from .errors import TooManyRequestsError
from .store import (
    AttemptsDelayedError,
    AttemptsExhaustedError,
    Key,
    Subject,
    auth_store,
    budget_key,
    lockout_key,
    slowdown_key,
)

WORK_PER_ADDRESS = 30
WORK_WINDOW_S = 60
FAILURES_PER_ADDRESS = 5
FAILURE_WINDOW_S = 15 * 60
FREE_FAILURES = 20
MAX_DELAY_S = 60
# How many "not before" answers a process remembers (each is a few hundred bytes).
REMEMBERED = 10_000


def user(username: str) -> Subject:
    """The subject of a password login."""
    return Subject("user", username)


def client(client_id: str) -> Subject:
    """The subject of a client-credentials login."""
    return Subject("client", client_id)


class Refusals:
    """The "not before" times this process was told, by counter key: answered from memory until then."""

    def __init__(self) -> None:
        self._until: dict[str, int] = {}
        self._lock = threading.Lock()

    def check(self, key: Key, now: int, message: str) -> None:
        """``TooManyRequestsError`` while ``key`` is refused."""
        until = self._until.get(key["pk"], 0)
        if until > now:
            raise TooManyRequestsError(message, until - now)

    def refuse(self, key: Key, until: int, now: int, message: str) -> TooManyRequestsError:
        """Remember that ``key`` is refused until ``until``; the error that says so."""
        with self._lock:
            if len(self._until) >= REMEMBERED:
                self._until = {k: v for k, v in self._until.items() if v > now}
                if len(self._until) >= REMEMBERED:
                    self._until.clear()
            self._until[key["pk"]] = until
        return TooManyRequestsError(message, until - now)


refusals = Lazy(Refusals)
"""The process's memory of refusals."""

BUSY = "Too many registrations and logins from this address"
LOCKED = "Too many failed logins"


def spend(address: str) -> None:
    """Count one piece of anonymous expensive work of ``address``; 429 past the limit (nothing hashed)."""
    now = clock().now()
    remembered = budget_key(address, (now // WORK_WINDOW_S + 1) * WORK_WINDOW_S)
    refusals().check(remembered, now, BUSY)
    try:
        auth_store().spend(address, now, WORK_PER_ADDRESS, WORK_WINDOW_S)
    except AttemptsExhaustedError as exhausted:
        raise refusals().refuse(remembered, exhausted.window_ends, now, BUSY) from None


@dataclass(frozen=True)
class Attempt:
    """A login counted as failed until it proves right."""

    subject: Subject
    address: str

    def succeeded(self) -> None:
        """The secret was right: its counts are taken back, and the address's failures forgotten."""
        store = auth_store()
        store.clear_failures(lockout_key(self.subject, self.address))
        store.take_back(slowdown_key(self.subject))


def attempt(subject: Subject, address: str) -> Attempt:
    """Count a login of ``subject`` from ``address`` before its secret is checked; 429 when it may not come now.

    The address's own work is spent first, then its count for this subject (the lockout
    from that address), then the subject's turn among all addresses (the slowdown). An
    attempt that must wait its turn is no failure from its address: that count is taken back.
    """
    store, memory, now = auth_store(), refusals(), clock().now()
    lockout, slowdown = lockout_key(subject, address), slowdown_key(subject)
    memory.check(lockout, now, LOCKED)
    memory.check(slowdown, now, LOCKED)
    spend(address)
    try:
        store.count_attempt(lockout, now, FAILURES_PER_ADDRESS, FAILURE_WINDOW_S)
    except AttemptsExhaustedError as exhausted:
        raise memory.refuse(lockout, exhausted.window_ends, now, LOCKED) from None
    try:
        store.claim_attempt(slowdown, now, FREE_FAILURES, FAILURE_WINDOW_S, MAX_DELAY_S)
    except AttemptsDelayedError as delayed:
        store.take_back(lockout)
        raise memory.refuse(slowdown, delayed.not_before, now, LOCKED) from None
    return Attempt(subject, address)
