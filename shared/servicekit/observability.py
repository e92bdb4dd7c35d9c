"""Structured request logs and correlation ids: one JSON line per request through Powertools' Logger.

Every request gets a correlation id: the caller's ``X-Correlation-Id`` when it is a
plausible id (bounded length and characters), otherwise a new one. It is answered in
the response's ``X-Correlation-Id``, appended to every log line the request writes
(the service's own loggers included, on any thread that copied the request's context),
and sent on by ``servicekit.http`` to the services this one calls, so that one id finds
a request in all three services' logs. API Gateway's own request id stays beside it.

The logger is built on the first request, not at import: the authorizer functions
import ``app.py`` too and never serve a route.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

from chalice import Chalice, ConvertToMiddleware, Response
from chalice.app import Request

from . import env, metrics
from .correlation import CORRELATION_HEADER, accepted_correlation_id, current
from .lazy import FIRST_USE_IMPORTS, Lazy

# The loggers of the services' own code (``logging.getLogger(__name__)``) write through
# Powertools' formatter too, so their lines carry the correlation id.
OWN_LOGGERS = frozenset({"chalicelib", "servicekit"})


class _Stdout:
    """``sys.stdout`` as it is when a line is written (Lambda never swaps it; a test capturing output does)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _new_logger() -> Any:
    with FIRST_USE_IMPORTS:
        from aws_lambda_powertools import Logger
        from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    service = env.optional("POWERTOOLS_SERVICE_NAME") or "service"
    powertools = Logger(service=service, stream=cast("IO[str]", _Stdout()))
    copy_config_to_registered_loggers(source_logger=powertools, include=set(OWN_LOGGERS), ignore_log_level=True)
    return powertools


logger = Lazy(_new_logger)


def _count_cold_start() -> bool:
    metrics.count(metrics.COLD_STARTS)
    return True


cold_start_counted = Lazy(_count_cold_start)
"""Counts the process's first request as a cold start (Lambda has no such metric of its own)."""


def _begin_correlation(request: Request) -> str:
    """Give the request its correlation id, in this context and on every log line from now on."""
    context = request.context or {}
    powertools = logger()
    powertools.thread_safe_clear_keys()  # Lambda reuses the thread: nothing of the last request stays
    incoming = request.headers.get(CORRELATION_HEADER)
    identifier = accepted_correlation_id(incoming)
    current.set(identifier)
    powertools.thread_safe_append_keys(correlation_id=identifier, request_id=context.get("requestId"))
    if incoming is not None and incoming != identifier:
        # Its length only: the value came from outside and failed validation.
        powertools.info("replaced an invalid %s", CORRELATION_HEADER, extra={"length": len(incoming)})
    return identifier


@contextlib.contextmanager
def correlated(identifier: str) -> Iterator[None]:
    """Inside: ``identifier`` is the correlation id of every log line and count, as during a request.

    For the work an event brings (an erasure): its id came with the event, so that one id
    finds the erasure in every service's logs.
    """
    identifier = accepted_correlation_id(identifier)
    powertools = logger()
    saved = current.set(identifier)
    powertools.thread_safe_append_keys(correlation_id=identifier)
    try:
        yield
    finally:
        current.reset(saved)
        powertools.thread_safe_remove_keys(["correlation_id"])


def _end_correlation() -> None:
    current.set(None)
    # A new dict, not a change to the old one: a lookup thread still finishing keeps its keys.
    logger().thread_safe_clear_keys()


def _inject_lambda_context(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Powertools' ``inject_lambda_context``, run the way Chalice runs a Lambda handler's decorator.

    Every line the request logs then has Powertools' Lambda fields (``cold_start``,
    ``function_name``, ``function_request_id``, ...). Built on the first request, like the
    logger: the authorizers import ``app.py`` and never serve a route.
    """
    if request.lambda_context is None:  # a request made without a Lambda context (none of ours)
        return get_response(request)
    return ConvertToMiddleware(logger().inject_lambda_context)(request, get_response)  # type: ignore[no-any-return]


def log_requests(app: Chalice) -> None:
    """Log method, route, status and duration of every request of ``app`` (never bodies or headers)."""
    app.register_middleware(_inject_lambda_context, "http")

    @app.middleware("http")
    def access_log(request: Request, get_response: Callable[[Request], Response]) -> Response:
        started = time.perf_counter()
        correlation = _begin_correlation(request)
        try:
            cold_start_counted()
            response = get_response(request)
            response.headers[CORRELATION_HEADER] = correlation
            context = request.context or {}
            logger().info(
                "request",
                extra={
                    "method": request.method,
                    "route": context.get("resourcePath", request.path),
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _end_correlation()
