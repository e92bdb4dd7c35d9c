"""A real HTTP server on 127.0.0.1 that plays the auth service's ``POST /token`` and the
location service's ``GET /locations/{user_id}``, for the profile service's tests.

It is a stand-in for the other two services, not a mock of the HTTP library: the
profile service reaches it over a socket, with its real client, timeouts and pool.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Callable
from typing import Any

from tools.jsonserver import JsonHandler, Server

CLIENT_ID = "profile-service"
CLIENT_SECRET = "the-profile-service-client-secret"
# How long a "slow" location service sleeps: far beyond the profile service's read timeout
# and budget, so that a read which waited for it fails its test on any machine.
SLOW_S = 10.0


class FakeUpstream:
    """The auth and location services, as the profile service sees them.

    ``location_mode`` chooses how ``GET /locations/{id}`` answers: ``normal`` (200 with
    the stored location, 404 without), ``error`` (500), ``malformed`` (a body that is not
    JSON), ``wrong-shape`` (JSON that is not a location), ``slow`` (sleeps ``SLOW_S``),
    ``forbidden`` (403 to every token).
    ``on_token_request`` and ``on_location_request`` run as each request arrives (after
    it is counted): a test holds a request there until it lets it go, or moves its clock.
    """

    def __init__(self) -> None:
        self.locations: dict[str, dict[str, Any]] = {}
        self.location_mode = "normal"
        self.expires_in = 900
        self.token_calls = 0
        self.location_calls = 0
        self.grants: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.correlation_ids: list[tuple[str, str | None]] = []  # (path, X-Correlation-Id) of each request
        self.trace_ids: list[str | None] = []  # the X-Amzn-Trace-Id of each request
        self.valid_tokens: set[str] = set()
        self.on_token_request: Callable[[], object] = lambda: None
        self.on_location_request: Callable[[], object] = lambda: None
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = Server(_handler(self), name="fake-upstream")

    @property
    def url(self) -> str:
        """The base URL of both fake services."""
        return self._server.url

    def start(self) -> FakeUpstream:
        self._server.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes every "slow" handler
        self._server.stop()

    def revoke_tokens(self) -> None:
        """Every token issued so far stops working (as after a key rotation)."""
        with self._lock:
            self.valid_tokens.clear()

    def location(self, user_id: str, /, **fields: Any) -> dict[str, Any]:
        """Store a location as the location service would answer it."""
        location = {
            "user_id": user_id,
            "latitude": 52.52,
            "longitude": 13.405,
            "city": "Berlin",
            "country": "DE",
            "updated_at": "2026-11-27T05:00:00.000Z",
            "version": 3,
            **fields,
        }
        self.locations[user_id] = location
        return location

    def issue(self, grant: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            self.token_calls += 1  # counted on arrival: a test can tell that a fetch is under way
            self.grants.append(grant)
        self.on_token_request()
        with self._lock:
            if grant != {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}:
                return 401, {"Code": "InvalidCredentialsError", "Message": "The client id or secret is wrong."}
            token = f"token-{next(self._numbers)}"
            self.valid_tokens.add(token)
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": "location:read",
        }

    def answer_location(self, user_id: str, authorization: str) -> tuple[int, Any]:
        with self._lock:
            self.location_calls += 1
            self.authorizations.append(authorization)
            authorized = authorization.removeprefix("Bearer ") in self.valid_tokens
        self.on_location_request()
        mode = self.location_mode
        if mode == "slow":
            self._stop.wait(SLOW_S)
        if not authorized:
            return 401, {"message": "Unauthorized"}
        if mode == "forbidden":
            return 403, {"Code": "ForbiddenError", "Message": "no"}
        if mode == "error":
            return 500, {"Code": "InternalServerError", "Message": "An internal server error occurred."}
        if mode == "malformed":
            return 200, b'{"user_id": "half a'
        if mode == "wrong-shape":
            return 200, {"user_id": user_id, "lat": "north", "lon": None}
        if user_id not in self.locations:
            return 404, {"Code": "LocationNotFoundError", "Message": "No location."}
        return 200, self.locations[user_id]


def _handler(upstream: FakeUpstream) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            upstream.correlation_ids.append((self.path, self.headers.get("X-Correlation-Id")))
            upstream.trace_ids.append(self.headers.get("X-Amzn-Trace-Id"))
            body = self.read_body()
            if self.path != "/token":
                self.send_json(404, {"message": "Not Found"})
                return
            self.send_json(*upstream.issue(json.loads(body)))

        def do_GET(self) -> None:
            upstream.correlation_ids.append((self.path, self.headers.get("X-Correlation-Id")))
            upstream.trace_ids.append(self.headers.get("X-Amzn-Trace-Id"))
            prefix = "/locations/"
            if not self.path.startswith(prefix):
                self.send_json(404, {"message": "Not Found"})
                return
            self.send_json(*upstream.answer_location(self.path[len(prefix) :], self.headers.get("Authorization", "")))

    return Handler


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
