"""The auth service's own metrics: what it counts besides what every service counts (``servicekit.metrics``).

Declared here, counted with ``metrics.count(metrics.LOGINS_FAILED)``. This module imports
nothing but ``servicekit.metrics``: the tools that list every metric (the dashboard, the
alarms' checks) load it by path, without importing the rest of the service.
"""

from servicekit.metrics import Metric, count

__all__ = ["ALL", "count"]

LOGINS_SUCCEEDED = Metric("LoginsSucceeded", "password logins that issued tokens")
LOGINS_FAILED = Metric("LoginsFailed", "password logins refused: wrong username or password (401)")
LOCKOUTS = Metric("Lockouts", "logins refused because the username is locked out (429)")
REGISTRATIONS = Metric("Registrations", "users registered")
REFRESH_ROTATIONS = Metric("RefreshRotations", "refresh tokens exchanged for new tokens")
REFRESH_TOKEN_REUSE = Metric(
    "RefreshTokenReuse", "a used refresh token presented again (theft or a broken client): login revoked"
)
AUTHORIZATION_CODE_REUSE = Metric(
    "AuthorizationCodeReuse",
    "a used authorization code presented again (theft or a broken client): the login it started revoked",
)
CLIENT_CREDENTIALS_LOGINS = Metric("ClientCredentialsLogins", "service clients that got a token")
ERASURES_REQUESTED = Metric("ErasuresRequested", "accounts erased here, their UserErased event under way")

ALL = (
    LOGINS_SUCCEEDED,
    LOGINS_FAILED,
    LOCKOUTS,
    REGISTRATIONS,
    REFRESH_ROTATIONS,
    REFRESH_TOKEN_REUSE,
    AUTHORIZATION_CODE_REUSE,
    CLIENT_CREDENTIALS_LOGINS,
    ERASURES_REQUESTED,
)
