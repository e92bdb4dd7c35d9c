"""Configuration from environment variables, with clear failures.

Each stage's variables are declared in the service's ``.chalice/config.json``; a
service learns everything else (its peers' URLs, its DynamoDB endpoint, its secrets'
references) from its environment, locally as on AWS. The local stage's file carries the
local stack's default addresses, for a service run by hand (``tools.infra`` writes them
from ``services.toml``); the local stack and the tests hand over their own, which win
(``tools/chalice_local.py``). This module reads no registry and finds no repository.
"""

from __future__ import annotations

import os

STAGE = "STAGE"
LOCAL_STAGE = "local"

LOCAL_REGION = "us-east-1"  # the local stack's (moto accepts any)
# Each service's config.json names it here (Powertools' logger reads it too).
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"


class SettingsError(RuntimeError):
    """A required environment variable is missing or malformed."""


def is_local() -> bool:
    """Whether this process runs the local stage (``chalice local`` or tests)."""
    return os.environ.get(STAGE) == LOCAL_STAGE


def optional(name: str) -> str | None:
    """The variable's value; on the local stage, the local region for an unset region; else None."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if name == "AWS_DEFAULT_REGION" and is_local():
        return LOCAL_REGION
    return None


def required(name: str) -> str:
    """The variable's value, or a ``SettingsError`` that names it."""
    value = optional(name)
    if value is None:
        raise SettingsError(f"environment variable {name} is not set")
    return value
