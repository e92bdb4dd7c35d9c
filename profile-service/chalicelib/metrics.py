"""The profile service's own metrics: what it counts besides what every service counts (``servicekit.metrics``).

Declared here, counted with ``metrics.count(metrics.PROFILE_READS, location_status=...)``.
This module imports nothing but ``servicekit.metrics``: the tools that list every metric
(the dashboard, the alarms' checks) load it by path, without importing the rest of the service.
"""

from servicekit.metrics import Metric, count

__all__ = ["ALL", "count"]

PROFILE_READS = Metric(
    "ProfileReads",
    "profiles read, by what the location service gave them",
    {"location_status": ("ok", "none", "unavailable")},
)
LOCATION_CALL_FAILURES = Metric(
    "LocationCallFailures",
    "location reads that ended 'unavailable', by cause",
    {"cause": ("refused", "timeout", "5xx", "malformed", "rejected", "no_token", "unexpected")},
)
TOKEN_FETCHES = Metric(
    "TokenFetches",
    "client-credentials token requests the profile service sent to the auth service",
    {"outcome": ("ok", "failed")},
)

ALL = (PROFILE_READS, LOCATION_CALL_FAILURES, TOKEN_FETCHES)
