"""Structured request logs: one JSON line per request through Powertools' Logger.

The logger is built on the first request, not at import: the authorizer functions
import ``app.py`` too and never serve a route.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response
from chalice.app import Request

from . import settings
from .lazy import Lazy


def _new_logger() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(service=settings.optional("POWERTOOLS_SERVICE_NAME") or "service")


logger = Lazy(_new_logger)


def log_requests(app: Chalice) -> None:
    """Log method, route, status and duration of every request of ``app`` (never bodies or headers)."""

    @app.middleware("http")
    def access_log(request: Request, get_response: Callable[[Request], Response]) -> Response:
        started = time.perf_counter()
        response = get_response(request)
        context = request.context or {}
        logger().info(
            "request",
            extra={
                "method": request.method,
                "route": context.get("resourcePath", request.path),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "request_id": context.get("requestId"),
            },
        )
        return response
