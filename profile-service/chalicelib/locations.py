"""Reading a user's location from the location service, concurrently and within a time budget.

``lookup`` starts the read on a thread pool and returns at once, so the caller reads
the profile from its table meanwhile. A lookup given a ``Gate`` fetches its token (if it
needs one) meanwhile too, but calls the location service only once the gate opens (the
profile exists): a read of a profile that does not exist costs the location service
nothing. ``PendingLocation.result`` then waits at most
until the deadline (``READ_BUDGET_S`` after the lookup started, the token fetch
included). The location call stops at that deadline too (its HTTP timeouts are cut
to what is left), so a worker does not stay busy with an answer no one waits for; only
a token fetch, which later reads share, may run on to its own timeouts. Whatever goes
wrong (no token, refused or timed-out connection, an error status, a body that is not
the contract's location) the answer is "unavailable", never an exception: a failing
location service never fails a profile read.

A 401 or 403 to a *cached* token means the token went stale (the auth service's keys
rotated, say): it is dropped and the read retried once with a fresh one, if the
budget allows. A 401/403 to a token fetched for this very read is not retried (the
client lacks ``location:read``; retrying would only double the load on auth).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from typing import TYPE_CHECKING
from urllib.parse import quote

import msgspec

from servicekit.clock import clock
from servicekit.lazy import Lazy

from . import metrics
from .credentials import ServiceToken, TokenUnavailableError, new_service_token
from .models import Location, LocationAnswer, LocationStatus
from .settings import COLD_PEER_READ_TIMEOUT_S, CONNECT_TIMEOUT_S, READ_BUDGET_S, READ_TIMEOUT_S, settings

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from servicekit.http import JsonHttpClient

logger = logging.getLogger(__name__)

# Lookups of concurrent profile reads run side by side up to this many; beyond it they
# queue, and a queued lookup spends its own request's budget. Each worker is busy for at
# most the budget, so even a silent location service cannot keep one longer.
LOOKUP_WORKERS = 32
# Below this much time left, a retry could not finish anyway.
MIN_RETRY_S = 0.1
REFUSED = (401, 403)
# The wake-up's call to the authorizer: a bearer that is no token, for a user id that is none.
WAKE_UP_TOKEN = "wake-up"  # noqa: S105 - not a secret: the string the authorizer is woken with
WAKE_UP_USER = "wake-up"


class LocationLookup(msgspec.Struct, frozen=True):
    """What the location service said: ``ok`` with the location, ``none``, or ``unavailable`` and why."""

    status: LocationStatus
    location: Location | None = None
    cause: str | None = None  # of ``unavailable``: a value of metrics.LOCATION_CALL_FAILURES' ``cause``


NONE = LocationLookup("none")
# The profile does not exist: nobody will look at this answer.
NOT_NEEDED = LocationLookup("none")


class Gate:
    """What a lookup waits for before it calls the location service: the profile's existence."""

    def __init__(self) -> None:
        self._decided = threading.Event()
        self._open = False

    def open(self) -> None:
        """The profile exists: call."""
        self._open = True
        self._decided.set()

    def close(self) -> None:
        """The profile does not exist (or the read failed): never call."""
        self._decided.set()

    def wait(self, timeout: float) -> bool:
        """Whether the gate opened within ``timeout`` seconds."""
        return self._decided.wait(max(0.0, timeout)) and self._open

    def pending(self) -> bool:
        """Whether nothing was decided yet."""
        return not self._decided.is_set()


def unavailable(cause: str) -> LocationLookup:
    """No location to show, because of ``cause``."""
    return LocationLookup("unavailable", cause=cause)


class WakeUp:
    """The location service's functions woken during this process's Init (``chalicelib.early``).

    Until they have answered, a location call waits for them rather than start a second
    cold environment of each; a process that woke nothing never waits.
    """

    def __init__(self) -> None:
        self._answered: threading.Event | None = None

    def begin(self) -> None:
        """A wake-up is under way: calls wait for ``end``."""
        self._answered = threading.Event()

    def end(self) -> None:
        """The wake-up's calls have answered (or failed)."""
        if self._answered is not None:
            self._answered.set()

    def wait(self, timeout: float) -> None:
        """Wait for a wake-up under way, at most ``timeout`` seconds."""
        if self._answered is not None:
            self._answered.wait(max(0.0, timeout))


wake_up = WakeUp()
"""This process's wake-up of the location service, if any."""


class LocationReader:
    """``GET {LOCATION_URL}/locations/{user_id}`` with the service token; never raises."""

    def __init__(
        self, http: JsonHttpClient, base_url: str, token: ServiceToken, patient: JsonHttpClient | None = None
    ) -> None:
        self._http = http
        self._base_url = base_url
        self._token = token
        self._patient = patient or http  # for the wake-up, which may meet cold functions

    def fetch_token(self, deadline: float) -> None:
        """Get the service token now (shared with later reads); a failure is left for a read to retry."""
        try:
            self._token.get(deadline)
        except TokenUnavailableError as exc:
            logger.warning("no service token ahead of the first read: %s", exc)

    def wake(self, deadline: float) -> None:
        """Start the location service's API function and its authorizer, both at once; return when both answered.

        ``/health`` runs the API function; a request with a token that is not one
        (``WAKE_UP_TOKEN``) runs the authorizer, which denies it (API Gateway caches that
        Deny for that string only). Neither reads a location. Any answer, or none, will do.
        """
        from servicekit.http import HttpCallError

        def call(path: str, headers: dict[str, str]) -> None:
            left = deadline - clock().monotonic()
            if left > 0:
                with contextlib.suppress(HttpCallError):
                    self._patient.request("GET", self._base_url + path, headers=headers, timeout=left)

        health = threading.Thread(target=call, args=("/health", {}), name="wake-location-api", daemon=True)
        health.start()
        call(f"/locations/{WAKE_UP_USER}", {"Authorization": f"Bearer {WAKE_UP_TOKEN}"})
        health.join(max(0.0, deadline - clock().monotonic()))

    def read(self, user_id: str, deadline: float, gate: Gate | None = None) -> LocationLookup:
        """The user's location, or why there is none to show; with a ``gate``, called only once it opens."""
        try:
            return self._read(user_id, deadline, gate)
        except Exception:  # whatever fails here, the profile must still be served
            logger.exception("reading the location failed unexpectedly")
            return unavailable("unexpected")

    def _read(self, user_id: str, deadline: float, gate: Gate | None) -> LocationLookup:
        from servicekit.http import HttpCallError

        if clock().monotonic() >= deadline:
            return unavailable("timeout")  # queued behind other reads until the caller stopped waiting
        url = f"{self._base_url}/locations/{quote(user_id, safe='')}"
        for attempt in (1, 2):
            try:
                token, fresh = self._token.get(deadline)
            except TokenUnavailableError as exc:
                logger.warning("no service token, location unavailable: %s", exc)
                return unavailable("no_token")
            if gate is not None and not gate.wait(deadline - clock().monotonic()):
                return unavailable("timeout") if gate.pending() else NOT_NEEDED
            # While the location service's cold functions answer this process's wake-up, a
            # call now would only start another cold environment of each: wait for them.
            wake_up.wait(deadline - clock().monotonic())
            left = deadline - clock().monotonic()
            if left <= 0:
                return unavailable("timeout")  # the token took what was left of the budget
            try:
                response = self._http.request("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=left)
            except HttpCallError as exc:
                logger.warning("the location service did not answer: %s", exc)
                return unavailable("5xx" if exc.status is not None and exc.status >= 500 else exc.cause)
            if response.status not in REFUSED:
                break
            if not fresh:
                self._token.drop(token)
            if fresh or attempt == 2 or clock().monotonic() > deadline - MIN_RETRY_S:
                logger.warning("the location service refused the service token (%s)", response.status)
                return unavailable("rejected")
        if response.status == 404:
            return NONE
        if response.status != 200:
            logger.warning("the location service answered %s", response.status)
            return unavailable("5xx" if response.status >= 500 else "rejected")
        try:
            answer = msgspec.convert(response.body, LocationAnswer)
        except msgspec.ValidationError as exc:
            logger.warning("the location service's answer is not a location: %s", exc)
            return unavailable("malformed")
        if answer.user_id != user_id:
            logger.warning("the location service answered with another user's location")
            return unavailable("malformed")
        return LocationLookup("ok", answer.public())


class PendingLocation:
    """A location read in flight."""

    def __init__(self, future: Future[LocationLookup], deadline: float, gate: Gate | None = None) -> None:
        self._future = future
        self._deadline = deadline
        self._gate = gate

    def result(self) -> LocationLookup:
        """The lookup, or ``unavailable`` if it has not finished by the deadline (counted once, here)."""
        try:
            found = self._future.result(timeout=max(0.0, self._deadline - clock().monotonic()))
        except TimeoutError:  # concurrent.futures.TimeoutError is this one since Python 3.11
            logger.warning("the location read did not finish within %.2f s", READ_BUDGET_S)
            found = unavailable("timeout")
        if found.cause is not None:
            metrics.count(metrics.LOCATION_CALL_FAILURES, cause=found.cause)
        return found

    def proceed(self) -> None:
        """The profile exists: the lookup may call the location service."""
        if self._gate is not None:
            self._gate.open()

    def cancel(self) -> None:
        """Not needed after all (no profile, or the write failed)."""
        if self._gate is not None:
            self._gate.close()
        self._future.cancel()


def _new_http() -> JsonHttpClient:
    from servicekit.http import JsonHttpClient

    return JsonHttpClient(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S, pool_size=LOOKUP_WORKERS)


def _new_reader() -> LocationReader:
    from servicekit.http import JsonHttpClient

    patient = JsonHttpClient(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=COLD_PEER_READ_TIMEOUT_S, pool_size=4)
    return LocationReader(_new_http(), settings().location_url, new_service_token(patient), patient)


location_reader = Lazy(_new_reader)
"""The process's location reader, with its HTTP pool and cached service token."""


def _new_pool() -> ThreadPoolExecutor:
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=LOOKUP_WORKERS, thread_name_prefix="location")


lookups = Lazy(_new_pool)
"""The threads that read locations while the request thread reads the profile."""


def lookup(user_id: str, *, gated: bool = False) -> PendingLocation:
    """Start reading the user's location; the answer is due within ``READ_BUDGET_S``.

    ``gated``: the location service is called only after ``PendingLocation.proceed``.
    """
    deadline = clock().monotonic() + READ_BUDGET_S
    reader = location_reader()  # built here, on the request's thread, where the stage's settings are
    gate = Gate() if gated else None
    # In the request's context: its correlation id goes on the calls and on the log lines.
    read = contextvars.copy_context().run
    return PendingLocation(lookups().submit(read, reader.read, user_id, deadline, gate), deadline, gate)
