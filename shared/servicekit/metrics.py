"""Counting what an operator must see, as CloudWatch embedded-metric-format (EMF) log lines.

``count(LOGINS_FAILED)`` writes one JSON line to stdout, built by Powertools' Metrics;
CloudWatch Logs turns it into a data point of ``Profiles/LoginsFailed`` with the
dimensions ``service`` and ``stage`` (plus the metric's own, such as ``cause``), and the
request's ``correlation_id`` as a property. No API call, no buffer to flush: the line
is the metric. Every metric the services emit is
declared here, once, with its dimensions; the templates' alarms and dashboard are
tested against this list.

Powertools' metrics module is imported on the first count, not with ``app.py``:
importing ``app.py`` is the whole cold start of an authorizer, which counts nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping

from . import env
from .correlation import correlation_id
from .lazy import Lazy

NAMESPACE = "Profiles"
BASE_DIMENSIONS = ("service", "stage")


class Metric:
    """A count the code emits: its name, the services that emit it (none named: every service), its dimensions.

    A plain class: a dataclass or NamedTuple generates code when the module is imported,
    and this module is imported with ``app.py``.
    """

    __slots__ = ("description", "dimensions", "name", "services", "unit")

    def __init__(
        self,
        name: str,
        services: tuple[str, ...],
        description: str,
        dimensions: Mapping[str, tuple[str, ...]] | None = None,
        unit: str = "Count",
    ) -> None:
        self.name = name
        self.services = services
        self.description = description
        self.dimensions: Mapping[str, tuple[str, ...]] = dimensions or {}
        self.unit = unit  # CloudWatch's unit: Count for counts, Milliseconds for durations

    def __repr__(self) -> str:
        return f"Metric({self.name!r})"

    def published_by(self, service: str) -> bool:
        """Whether ``service`` publishes this metric (every service, when the metric names none)."""
        return not self.services or service in self.services


EVERY_SERVICE: tuple[str, ...] = ()  # a metric that every service publishes

LOGINS_SUCCEEDED = Metric("LoginsSucceeded", ("auth",), "password logins that issued tokens")
LOGINS_FAILED = Metric("LoginsFailed", ("auth",), "password logins refused: wrong username or password (401)")
LOCKOUTS = Metric("Lockouts", ("auth",), "logins refused because the username is locked out (429)")
REGISTRATIONS = Metric("Registrations", ("auth",), "users registered")
REFRESH_ROTATIONS = Metric("RefreshRotations", ("auth",), "refresh tokens exchanged for new tokens")
REFRESH_TOKEN_REUSE = Metric(
    "RefreshTokenReuse", ("auth",), "a used refresh token presented again (theft or a broken client): login revoked"
)
AUTHORIZATION_CODE_REUSE = Metric(
    "AuthorizationCodeReuse",
    ("auth",),
    "a used authorization code presented again (theft or a broken client): the login it started revoked",
)
CLIENT_CREDENTIALS_LOGINS = Metric("ClientCredentialsLogins", ("auth",), "service clients that got a token")
PROFILE_READS = Metric(
    "ProfileReads",
    ("profile",),
    "profiles read, by what the location service gave them",
    {"location_status": ("ok", "none", "unavailable")},
)
LOCATION_CALL_FAILURES = Metric(
    "LocationCallFailures",
    ("profile",),
    "location reads that ended 'unavailable', by cause",
    {"cause": ("refused", "timeout", "5xx", "malformed", "rejected", "no_token", "unexpected")},
)
TOKEN_FETCHES = Metric(
    "TokenFetches",
    ("profile",),
    "client-credentials token requests the profile service sent to the auth service",
    {"outcome": ("ok", "failed")},
)
COLD_STARTS = Metric("ColdStarts", EVERY_SERVICE, "first requests served by a new instance of the API function")
DYNAMODB_CALLS_RETRIED = Metric(
    "DynamoDBCallsRetried", EVERY_SERVICE, "table calls that needed more than one attempt (throttling, conflicts)"
)
DYNAMODB_CALLS_FAILED = Metric("DynamoDBCallsFailed", EVERY_SERVICE, "table calls that failed after retries (a 503)")
ERASURES_REQUESTED = Metric("ErasuresRequested", ("auth",), "accounts erased here, their UserErased event under way")
ERASURES_PUBLISHED = Metric("ErasuresPublished", ("auth",), "UserErased events published (at least once each)")
# What each service that subscribes to UserErased (services.toml's subscribes) emits.
ERASURES_COMPLETED = Metric(
    "ErasuresCompleted", EVERY_SERVICE, "UserErased events that erased the user's data here (a redelivery is not)"
)
ERASURE_LATENCY = Metric(
    "ErasureLatency", EVERY_SERVICE, "from the erasure's 202 to its data gone here", unit="Milliseconds"
)
ERASURES_DEAD_LETTERED = Metric(
    "ErasuresDeadLettered",
    EVERY_SERVICE,
    "UserErased events that failed their last attempt: now in the dead-letter queue",
)

ALL = (
    LOGINS_SUCCEEDED,
    LOGINS_FAILED,
    LOCKOUTS,
    REGISTRATIONS,
    REFRESH_ROTATIONS,
    REFRESH_TOKEN_REUSE,
    AUTHORIZATION_CODE_REUSE,
    CLIENT_CREDENTIALS_LOGINS,
    PROFILE_READS,
    LOCATION_CALL_FAILURES,
    TOKEN_FETCHES,
    COLD_STARTS,
    DYNAMODB_CALLS_RETRIED,
    DYNAMODB_CALLS_FAILED,
    ERASURES_REQUESTED,
    ERASURES_PUBLISHED,
    ERASURES_COMPLETED,
    ERASURE_LATENCY,
    ERASURES_DEAD_LETTERED,
)


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
