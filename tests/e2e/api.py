"""A plain HTTP client for the end-to-end tests: what any client of the contract would send.

Every response it receives is checked against the OpenAPI document of the service that
sent it (openapi-core, ``check_against_document``): a response the document does not
describe fails the test that received it. Other ``requests`` sessions of the tests (the
OAuth 2.0 libraries') get the same check with ``check_documented(session)``.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound

from tests.support import addresses

# Every call is bounded: a hung service fails the test, never the whole run. Generous:
# a service's first answer on a machine busy with other work can take several seconds.
TIMEOUT_S = 30.0
# A profile read gives up on the location after about a second; on a machine busy with
# other work a lookup (the first one fetches a token: an Argon2 check) can take longer.
LOCATION_TRIES = 10
PASSWORD = "correct horse battery staple"


@dataclass
class User:
    """A registered user with the tokens of their last login."""

    user_id: str
    username: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header of this user's access token."""
        return bearer(self.access_token)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def unique_username(prefix: str) -> str:
    """A username no other test uses (the stack is shared by the session)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class DocumentCheck:
    """A ``requests`` response hook: the response must be one its service's ``/openapi.json`` describes."""

    def __init__(self) -> None:
        self._documents: dict[str, OpenAPI] = {}
        self._lock = threading.Lock()
        self.checked = 0

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        document = self._document(response.url)
        try:
            document.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
        except (PathNotFound, OperationNotFound):
            return response  # no route of the service: API Gateway's own answer, outside any document
        except OpenAPIError as exc:
            causes = [str(e.message) for e in getattr(exc.__cause__, "schema_errors", None) or []]
            raise AssertionError(
                f"{response.request.method} {response.url} answered {response.status_code} {response.text[:300]!r}, "
                f"which its OpenAPI document does not describe: {exc!r} {exc.__cause__!r} {causes}"
            ) from exc
        with self._lock:
            self.checked += 1
        return response

    def _document(self, url: str) -> OpenAPI:
        parts = urllib.parse.urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            document = self._documents.get(base)
        if document is None:
            # Fetched with a bare session: the document's own answer is checked by its route tests.
            answer = requests.get(base + "/openapi.json", timeout=TIMEOUT_S, proxies={"http": "", "https": ""})
            answer.raise_for_status()
            document = OpenAPI.from_dict(answer.json())
            with self._lock:
                self._documents[base] = document
        return document


check_against_document = DocumentCheck()
"""The one check every end-to-end response goes through (per test process)."""


def check_documented(session: requests.Session, source: str | None = None) -> requests.Session:
    """``session`` with every response checked against its service's OpenAPI document.

    It connects from ``source``, a loopback address of its own unless named: each client
    a test makes is another caller to the auth service's per-address limits.
    """
    addresses.session_from(source or addresses.fresh(), session)
    session.trust_env = False  # never a proxy from the environment: everything is local
    session.hooks["response"].append(check_against_document)
    return session


class Api:
    """The services by name, over HTTP, on 127.0.0.1 only, from a loopback address of its own.

    Each client is a caller of its own (``source``, a fresh address unless named), and each
    user ``new_user`` makes registers and logs in from an address of their own: the auth
    service's per-address limits then bound each test's callers, not the whole run's.
    """

    def __init__(self, urls: Mapping[str, str], source: str | None = None) -> None:
        self.urls = dict(urls)
        self.source = source or addresses.fresh()
        self.session = check_documented(requests.Session(), self.source)

    def elsewhere(self) -> Api:
        """A client of the same services from another address."""
        return Api(self.urls)

    def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT_S,
    ) -> requests.Response:
        """Send ``body`` as JSON (or ``data`` as it is; for a JSON ``null``, ``data="null"``) to ``service``."""
        all_headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body)
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        return self.session.request(
            method, self.urls[service] + path, data=data, headers=all_headers, timeout=timeout, allow_redirects=False
        )

    def get(self, service: str, path: str, **kwargs: Any) -> requests.Response:
        return self.request(service, "GET", path, **kwargs)

    def post(self, service: str, path: str, **kwargs: Any) -> requests.Response:
        return self.request(service, "POST", path, **kwargs)

    def put(self, service: str, path: str, **kwargs: Any) -> requests.Response:
        return self.request(service, "PUT", path, **kwargs)

    def delete(self, service: str, path: str, **kwargs: Any) -> requests.Response:
        return self.request(service, "DELETE", path, **kwargs)

    # The steps every journey starts with.

    def register(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        """``POST /users``; asserts the 201."""
        response = self.post("auth", "/users", body={"username": username, "password": password})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        """``POST /token`` with the password grant."""
        return self.post("auth", "/token", body={"grant_type": "password", "username": username, "password": password})

    def refresh(self, refresh_token: str) -> requests.Response:
        """``POST /token`` with the refresh-token grant."""
        return self.post("auth", "/token", body={"grant_type": "refresh_token", "refresh_token": refresh_token})

    def new_user(self, prefix: str = "user") -> User:
        """A freshly registered user, logged in."""
        username = unique_username(prefix)
        own = self.elsewhere()
        registered = own.register(username)
        response = own.login(username)
        assert response.status_code == 200, response.text
        tokens = response.json()
        return User(registered["user_id"], username, PASSWORD, tokens["access_token"], tokens["refresh_token"])

    def profile_with_location(self, user_id: str) -> requests.Response:
        """``GET /profiles/{user_id}``, read again while the location is "unavailable" (as a user reloads)."""
        for _ in range(LOCATION_TRIES):
            response = self.get("profile", f"/profiles/{user_id}")
            if response.status_code != 200 or response.json()["location_status"] != "unavailable":
                break
        return response

    def client_token(self, client_id: str, secret: str) -> str:
        """A service's access token (client-credentials grant)."""
        response = self.post(
            "auth", "/token", body={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]  # type: ignore[no-any-return]


def assert_error(response: requests.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    """The response is the contract's error: the status, ``{"Code", "Message"}``, no internals."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"Code", "Message"}, body
    assert isinstance(body["Code"], str) and body["Code"]
    assert isinstance(body["Message"], str) and body["Message"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body  # type: ignore[no-any-return]


def assert_denied(response: requests.Response) -> None:
    """An authorizer's or a route's refusal: 401 or 403, never a 2xx or a 500."""
    assert response.status_code in (401, 403), f"{response.status_code}: {response.text}"
    assert "Traceback" not in response.text


def assert_oauth_error(response: requests.Response, status: int, error: str) -> dict[str, Any]:
    """RFC 6749 section 5.2: the status, ``{"error", "error_description"}``, ``Cache-Control: no-store``."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    assert response.headers["Cache-Control"] == "no-store"
    return body  # type: ignore[no-any-return]
