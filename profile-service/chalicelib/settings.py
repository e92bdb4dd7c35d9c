"""The profile service's configuration, read once from the stage's environment."""

from __future__ import annotations

import msgspec

from servicekit import env
from servicekit.lazy import Lazy

WRITE_SCOPE = "profile:write"

# Reading a location: a profile read waits for it at most READ_BUDGET_S in all (the
# client-credentials token fetch included); each HTTP call also has its own connect and
# read timeouts, so a dead or slow peer never holds a worker much longer than that.
READ_BUDGET_S = 1.0
CONNECT_TIMEOUT_S = 0.25
READ_TIMEOUT_S = 0.75
# Calls that may meet a cold peer and that no read waits for beyond its own deadline (the
# token fetch, the early wake-up) wait longer than a read: a cold auth service answers in
# about a second on AWS (docs/performance.md, "after a quiet night"), and a call cut at
# 0.75 s would only make Lambda start a second cold environment there, for nothing.
COLD_PEER_READ_TIMEOUT_S = 3.0
# A cached service token is renewed when it has less than this left to live.
TOKEN_RENEWAL_MARGIN_S = 60


class Settings(msgspec.Struct, frozen=True):
    """What the profile service needs to know about its stage."""

    table_name: str
    auth_url: str
    location_url: str
    client_id: str
    client_secret: str  # a servicekit.parameters reference to the client's secret


def _load() -> Settings:
    return Settings(
        table_name=env.required("TABLE_NAME"),
        auth_url=env.required("AUTH_URL").rstrip("/"),
        location_url=env.required("LOCATION_URL").rstrip("/"),
        client_id=env.required("CLIENT_ID"),
        client_secret=env.required("CLIENT_SECRET"),
    )


settings = Lazy(_load)
