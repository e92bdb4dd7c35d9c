"""Counting what an operator must see, as CloudWatch embedded-metric-format (EMF) log lines.

``count(COLD_STARTS)`` writes one JSON line to stdout, built by Powertools' Metrics;
CloudWatch Logs turns it into a data point of ``Profiles/ColdStarts`` with the
dimensions ``service`` and ``stage`` (plus the metric's own, such as ``cause``), and the
request's ``correlation_id`` as a property. No API call, no buffer to flush: the line
is the metric. A metric is declared once, with its dimensions: here if this library
counts it (for every service), else in the service's own ``chalicelib/metrics.py``; the
templates' alarms and dashboard are tested against those declarations
(``tools.dashboard.declared``).

Powertools' metrics module is imported on the first count, not with ``app.py``:
importing ``app.py`` is the whole cold start of an authorizer, which counts nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping

from . import env
from .correlation import correlation_id
from .lazy import FIRST_USE_IMPORTS, Lazy

NAMESPACE = "Profiles"
BASE_DIMENSIONS = ("service", "stage")


class Metric:
    """A count the code emits: its name, what it counts, its own dimensions (with their values), its unit.

    Each service declares its own metrics in its ``chalicelib/metrics.py``; the ones below
    are counted by this library, so every service may emit them. A plain class: a
    dataclass or NamedTuple generates code when the module is imported, and this module is
    imported with ``app.py``.
    """

    __slots__ = ("description", "dimensions", "name", "unit")

    def __init__(
        self,
        name: str,
        description: str,
        dimensions: Mapping[str, tuple[str, ...]] | None = None,
        unit: str = "Count",
    ) -> None:
        self.name = name
        self.description = description
        self.dimensions: Mapping[str, tuple[str, ...]] = dimensions or {}
        self.unit = unit  # CloudWatch's unit: Count for counts, Milliseconds for durations

    def __repr__(self) -> str:
        return f"Metric({self.name!r})"


COLD_STARTS = Metric("ColdStarts", "first requests served by a new instance of the API function")
DYNAMODB_CALLS_RETRIED = Metric(
    "DynamoDBCallsRetried", "table calls that needed more than one attempt (throttling, conflicts)"
)
DYNAMODB_CALLS_FAILED = Metric("DynamoDBCallsFailed", "table calls that failed after retries (a 503)")
# What the service that publishes UserErased emits (services.toml's publishes).
ERASURES_PUBLISHED = Metric("ErasuresPublished", "UserErased events published (at least once each)")
# What each service that subscribes to UserErased (services.toml's subscribes) emits.
ERASURES_COMPLETED = Metric(
    "ErasuresCompleted", "UserErased events that erased the user's data here (a redelivery is not)"
)
ERASURE_LATENCY = Metric("ErasureLatency", "from the erasure's 202 to its data gone here", unit="Milliseconds")
ERASURES_DEAD_LETTERED = Metric(
    "ErasuresDeadLettered", "UserErased events that failed their last attempt: now in the dead-letter queue"
)

SHARED = (
    COLD_STARTS,
    DYNAMODB_CALLS_RETRIED,
    DYNAMODB_CALLS_FAILED,
    ERASURES_PUBLISHED,
    ERASURES_COMPLETED,
    ERASURE_LATENCY,
    ERASURES_DEAD_LETTERED,
)
"""The metrics this library counts for whichever service uses it."""


def _base_dimensions() -> dict[str, str]:
    return {
        "service": env.optional("POWERTOOLS_SERVICE_NAME") or "unknown",
        "stage": env.optional(env.STAGE) or "unknown",
    }


base_dimensions = Lazy(_base_dimensions)
"""The dimensions of every count: the process's service and stage, read on the first count."""


def count(metric: Metric, **dimensions: str) -> None:
    """Add one to ``metric`` now; ``dimensions`` are exactly the metric's own, with declared values."""
    measure(metric, 1, **dimensions)


def measure(metric: Metric, value: float, **dimensions: str) -> None:
    """One data point of ``value`` (in the metric's unit) now; ``dimensions`` as for ``count``."""
    if dimensions.keys() != metric.dimensions.keys() or any(
        value not in metric.dimensions[name] for name, value in dimensions.items()
    ):
        raise ValueError(f"{metric.name} takes the dimensions {dict(metric.dimensions)}, got {dimensions}")
    with FIRST_USE_IMPORTS:
        from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    emf = EphemeralMetrics(namespace=NAMESPACE)
    for name, dimension in {**base_dimensions(), **dimensions}.items():
        emf.add_dimension(name, dimension)
    emf.add_metric(name=metric.name, unit=MetricUnit(metric.unit), value=value)
    identifier = correlation_id()
    if identifier is not None:  # a property, not a dimension: it finds the request's log lines
        emf.add_metadata(key="correlation_id", value=identifier)
    # One write per line: print() writes the newline separately, and lines of concurrent
    # requests (chalice local, the profile service's lookup threads) must not interleave.
    sys.stdout.write(json.dumps(emf.serialize_metric_set(), separators=(",", ":")) + "\n")
    sys.stdout.flush()
