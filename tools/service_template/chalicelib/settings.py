"""The scaffold service's configuration, read once from the stage's environment.

``TOKEN_ISSUER``, ``TOKEN_AUDIENCE`` and ``AUTH_URL`` are read by the shared
authorizer (``servicekit.authorizer``), not here.
"""

from __future__ import annotations

import msgspec

from servicekit import env
from servicekit.lazy import Lazy


class Settings(msgspec.Struct, frozen=True):
    """What the scaffold service needs to know about its stage."""

    table_name: str


def _load() -> Settings:
    return Settings(table_name=env.required("TABLE_NAME"))


settings = Lazy(_load)
