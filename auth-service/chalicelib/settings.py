"""The auth service's configuration, read once from the stage's environment."""

from __future__ import annotations

import msgspec

from servicekit import env, parameters
from servicekit.lazy import Lazy

ACCESS_TOKEN_TTL_S = 15 * 60
REFRESH_TOKEN_TTL_S = 30 * 24 * 3600
# An authorization code works once, within this many seconds of the login that made it.
CODE_TTL_S = 60
# How long a login page may stay open before its form is refused (its request is forgotten).
AUTHORIZATION_REQUEST_TTL_S = 10 * 60
USER_SCOPE = "profile:write location:write"
SERVICE_SCOPES = ("location:read",)  # what a service client may be given
SCOPES = (*USER_SCOPE.split(), *SERVICE_SCOPES)


class Settings(msgspec.Struct, frozen=True):
    """What the auth service needs to know about its stage."""

    table_name: str
    audience: str
    signing_keys: str  # a servicekit.parameters reference to the key ring document


def _load() -> Settings:
    return Settings(
        table_name=env.required("TABLE_NAME"),
        audience=env.required("TOKEN_AUDIENCE"),
        signing_keys=env.required("SIGNING_KEYS"),
    )


settings = Lazy(_load)

issuer = Lazy(parameters.token_issuer)
"""Every token's ``iss`` and the metadata's ``issuer``: the auth service's own base URL.

Read apart from ``settings``: the admin tools need the table and the keys of a stage
whose URL is not known before its first deployment.
"""
