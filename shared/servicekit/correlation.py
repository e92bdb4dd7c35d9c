"""The correlation id of the request (or event) being served: the lower floor of logging and counting.

``servicekit.observability`` gives each request its id and ``servicekit.metrics`` stamps it
on each count; both read it here, so that neither imports the other.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

CORRELATION_HEADER = "X-Correlation-Id"
# Letters, digits and . _ : - only, 1 to 64 of them: a UUID, an X-Ray or API Gateway id
# fits; anything else from outside (a log-injection attempt, a megabyte) is replaced.
_VALID_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

current: ContextVar[str | None] = ContextVar("correlation_id", default=None)
"""The id of the request being served in this context (set by ``servicekit.observability``)."""


def correlation_id() -> str | None:
    """The correlation id of the request being served in this context (None outside a request)."""
    return current.get()


def accepted_correlation_id(incoming: str | None) -> str:
    """``incoming`` if it is a valid correlation id, else a new one."""
    if incoming is not None and _VALID_CORRELATION_ID.fullmatch(incoming):
        return incoming
    return str(uuid.uuid4())
