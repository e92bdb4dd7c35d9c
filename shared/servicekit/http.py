"""The HTTP client services use to call each other: JSON, pooled, with hard timeouts.

Every call carries the current request's correlation id (``X-Correlation-Id``), so the
called service logs under the same id, and, in Lambda with active tracing, the X-Ray
trace header of the current invocation (``X-Amzn-Trace-Id``), so that the called API
Gateway continues the same trace: traces join up without importing a tracing SDK.

urllib3 is imported here, and this module is imported on first use only (it costs
about 40 ms of a cold start that most authorizer invocations never need).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import urllib3

from .correlation import CORRELATION_HEADER, correlation_id

TRACE_HEADER = "X-Amzn-Trace-Id"
LAMBDA_TRACE_VARIABLE = "_X_AMZN_TRACE_ID"

# Why a call failed, for the caller's metrics: ``HttpCallError.cause``.
REFUSED = "refused"  # no connection (refused, reset, unreachable)
TIMEOUT = "timeout"
MALFORMED = "malformed"  # an answer whose body is not JSON


class HttpCallError(Exception):
    """The other service refused, timed out, or answered with something unusable."""

    def __init__(self, message: str, cause: str, status: int | None = None) -> None:
        super().__init__(message)
        self.cause = cause
        self.status = status  # of an answer that came, but unusable


@dataclass(frozen=True)
class JsonResponse:
    """A response whose body parsed as JSON."""

    status: int
    body: Any


class JsonHttpClient:
    """Calls JSON APIs with a connect and a read timeout and no retries of its own."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, pool_size: int = 10) -> None:
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._pool = urllib3.PoolManager(
            maxsize=pool_size,
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=False,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> JsonResponse:
        """Send the request; ``HttpCallError`` if it fails or the answer is not JSON.

        ``timeout`` (seconds) lowers the connect and read timeouts for this call only: a
        caller with a deadline passes what is left of it. (The read timeout bounds each
        wait for data, not the whole answer.)
        """
        all_headers = {"Accept": "application/json", **(headers or {})}
        correlation = correlation_id()
        if correlation is not None:
            all_headers.setdefault(CORRELATION_HEADER, correlation)
        trace = os.environ.get(LAMBDA_TRACE_VARIABLE)  # Lambda sets it for each invocation
        if trace:
            all_headers.setdefault(TRACE_HEADER, trace)
        encoded = None
        if body is not None:
            encoded = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        options: dict[str, Any] = {}
        if timeout is not None:
            options["timeout"] = urllib3.Timeout(
                connect=min(timeout, self._connect_timeout), read=min(timeout, self._read_timeout)
            )
        try:
            response = self._pool.request(method, url, body=encoded, headers=all_headers, **options)
        except urllib3.exceptions.HTTPError as exc:
            # NewConnectionError is a ConnectTimeoutError too (urllib3's history): test it first.
            timed_out = isinstance(exc, urllib3.exceptions.TimeoutError) and not isinstance(
                exc, urllib3.exceptions.NewConnectionError
            )
            cause = TIMEOUT if timed_out else REFUSED
            raise HttpCallError(f"{method} {url} failed: {type(exc).__name__}", cause) from exc
        if not response.data:
            return JsonResponse(response.status, None)
        try:
            return JsonResponse(response.status, json.loads(response.data))
        except ValueError as exc:
            raise HttpCallError(
                f"{method} {url} answered {response.status} with a body that is not JSON", MALFORMED, response.status
            ) from exc
