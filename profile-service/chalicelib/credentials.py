"""The profile service's own access token: client credentials, cached, renewed before expiry.

A profile read normally makes no call to the auth service: the token is fetched once
and reused by every thread until it has less than ``TOKEN_RENEWAL_MARGIN_S`` to live
(or half its lifetime, for short-lived tokens). Then one thread renews it while the
others keep using the still-valid old one; only when there is no valid token at all do
readers wait for the fetch, each until its own deadline. A token the location service
refuses is dropped (``drop``), so the next read fetches a new one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from servicekit import parameters
from servicekit.clock import clock
from servicekit.lazy import Lazy

from . import metrics
from .models import TokenAnswer
from .settings import TOKEN_RENEWAL_MARGIN_S, settings

if TYPE_CHECKING:
    # servicekit.http imports urllib3 (about 40 ms): not at cold start, only on the first call.
    from servicekit.http import JsonHttpClient

logger = logging.getLogger(__name__)

TOKEN_PATH = "/token"  # noqa: S105 - a URL path, not a secret
GRANT_TYPE = "client_credentials"
# A token this close to its expiry is not sent any more: it could expire on the way.
EXPIRY_SKEW_S = 5


class TokenUnavailableError(Exception):
    """No usable token: the auth service is down, slow, or refused the client's credentials."""


class _Token(msgspec.Struct, frozen=True):
    value: str
    renew_at: int
    expires_at: int


class ServiceToken:
    """A client-credentials access token shared by all threads of the process."""

    def __init__(
        self,
        http: JsonHttpClient,
        token_url: str,
        client_id: str,
        client_secret: Callable[[], str],
        now: Callable[[], int],
        monotonic: Callable[[], float],
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._now = now
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._current: _Token | None = None

    def get(self, deadline: float) -> tuple[str, bool]:
        """A token to send, and whether it was fetched just now (``TokenUnavailableError`` if none).

        ``deadline`` (on the ``monotonic`` clock) is when the caller stops waiting: it never
        waits longer for another thread's fetch.
        """
        current = self._current
        now = self._now()
        if current is not None and now < current.renew_at:
            return current.value, False
        usable = current if current is not None and now < current.expires_at - EXPIRY_SKEW_S else None
        # With a usable token in hand, never queue behind another thread's renewal.
        if usable is None:
            acquired = self._lock.acquire(timeout=max(0.0, deadline - self._monotonic()))
        else:
            acquired = self._lock.acquire(blocking=False)
        if not acquired:
            if usable is None:
                raise TokenUnavailableError("timed out waiting for another thread's token fetch")
            return usable.value, False
        try:
            current = self._current
            if current is not None and self._now() < current.renew_at:
                return current.value, False
            try:
                fresh = self._fetch()
            except TokenUnavailableError:
                metrics.count(metrics.TOKEN_FETCHES, outcome="failed")
                if usable is not None:
                    logger.warning("could not renew the service token; using the current one until it expires")
                    return usable.value, False
                raise
            metrics.count(metrics.TOKEN_FETCHES, outcome="ok")
            self._current = fresh
            return fresh.value, True
        finally:
            self._lock.release()

    def drop(self, value: str) -> None:
        """Forget ``value`` (refused by a peer), unless another thread has replaced it already."""
        with self._lock:
            if self._current is not None and self._current.value == value:
                self._current = None

    def _fetch(self) -> _Token:
        from servicekit.http import HttpCallError

        try:
            secret = self._client_secret()
        except Exception as exc:  # SSM or a file: any failure means no token
            logger.warning("could not read the client secret: %s", type(exc).__name__)
            raise TokenUnavailableError("the client secret could not be read") from exc
        body = {"grant_type": GRANT_TYPE, "client_id": self._client_id, "client_secret": secret}
        issued_at = self._now()
        try:
            response = self._http.request("POST", self._token_url, body=body)
        except HttpCallError as exc:
            logger.warning("the auth service did not issue a token: %s", exc)
            raise TokenUnavailableError(str(exc)) from exc
        if response.status != 200:
            logger.warning("the auth service answered %s to the client-credentials grant", response.status)
            raise TokenUnavailableError(f"the auth service answered {response.status}")
        try:
            answer = msgspec.convert(response.body, TokenAnswer)
        except msgspec.ValidationError as exc:
            logger.warning("the auth service's token response is malformed: %s", exc)
            raise TokenUnavailableError("malformed token response") from exc
        if answer.token_type.lower() != "bearer":
            raise TokenUnavailableError(f"unexpected token type {answer.token_type!r}")
        margin = min(TOKEN_RENEWAL_MARGIN_S, answer.expires_in // 2)
        return _Token(
            answer.access_token,
            renew_at=issued_at + answer.expires_in - margin,
            expires_at=issued_at + answer.expires_in,
        )


def _read_client_secret() -> str:
    return parameters.read(settings().client_secret).strip()


client_secret = Lazy(_read_client_secret)
"""The client's secret, read once per cold start (on the first token fetch)."""


def new_service_token(http: JsonHttpClient) -> ServiceToken:
    """The process's token source, for the auth service of ``settings()``."""
    config = settings()
    return ServiceToken(
        http,
        token_url=config.auth_url + TOKEN_PATH,
        client_id=config.client_id,
        client_secret=client_secret,
        now=lambda: clock().now(),
        monotonic=lambda: clock().monotonic(),
    )
