"""Configuration from environment variables, with clear failures and local defaults.

Each stage's variables are declared in the service's ``.chalice/config.json``. The
``local`` stage leaves the addresses of the local stack out of that file on purpose:
Chalice lets a stage's variables override the process environment, so anything the
file fixed could not be moved to other ports by ``make run`` or the end-to-end tests.
Instead, on the local stage an unset address falls back to the contract's default.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

STAGE = "STAGE"
LOCAL_STAGE = "local"

# The registry of the services (their ports and secrets), at the top of the repository.
REGISTRY = "services.toml"
LOCAL_REGION = "us-east-1"
LOCAL_HOST = "127.0.0.1"
# Each service's config.json names it here (Powertools' logger reads it too).
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"


class SettingsError(RuntimeError):
    """A required environment variable is missing or malformed."""


def is_local() -> bool:
    """Whether this process runs the local stage (``chalice local`` or tests)."""
    return os.environ.get(STAGE) == LOCAL_STAGE


def optional(name: str) -> str | None:
    """The variable's value; on the local stage, its local default; else None."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if is_local():
        return local_default(name)
    return None


def required(name: str) -> str:
    """The variable's value, or a ``SettingsError`` that names it."""
    value = optional(name)
    if value is None:
        raise SettingsError(f"environment variable {name} is not set")
    return value


def repository() -> str | None:
    """The repository's top folder: the nearest folder holding ``services.toml``, from the working folder up.

    Found from where the process runs (``make run`` starts each service in its folder, the
    tests run from the top), never from where this file sits: the pipeline's build packages
    a copy of this library inside each service, and a source archive may have replaced the
    ``vendor/`` link by a copy too. None outside a repository.
    """
    folder = os.getcwd()
    while True:
        if os.path.isfile(os.path.join(folder, REGISTRY)):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


@cache
def _registry() -> dict[str, Any]:
    top = repository()
    if top is None:
        return {}
    import tomllib

    with open(os.path.join(top, REGISTRY), "rb") as file:
        return tomllib.load(file)


def local_state_dir() -> str:
    """The local stage's state folder: ``LOCAL_STATE_DIR`` (the local stack sets it), else ``.local/`` at the top."""
    configured = os.environ.get("LOCAL_STATE_DIR", "").strip()
    if configured:
        return configured
    return os.path.join(repository() or os.getcwd(), ".local")


def local_secret(service: str, parameter: str) -> str:
    """The reference to a service's secret on the local stage: a file of the state folder."""
    return f"file:{os.path.join(local_state_dir(), f'{service}-{parameter}')}"


def local_default(name: str) -> str | None:
    """A variable's value on the local stage when unset: the contract's addresses, the local secrets.

    The local stack hands every service these in its environment; the defaults serve a
    service run by hand and the in-process tests. The addresses are services.toml's ports
    on 127.0.0.1 (``AWS_ENDPOINT_URL_DYNAMODB``, each service's ``<NAME>_URL``); a secret
    the service's entry declares is its file in the state folder. Read only on the local
    stage, never by a deployed function; outside a repository there are none.
    """
    if name == "AWS_DEFAULT_REGION":
        return LOCAL_REGION
    registry = _registry()
    if name == "AWS_ENDPOINT_URL_DYNAMODB":
        return f"http://{LOCAL_HOST}:{registry.get('dynamodb_port', 8000)}"
    callee = registry.get(name.removesuffix("_URL").lower())
    if name.endswith("_URL") and isinstance(callee, dict):
        return f"http://{LOCAL_HOST}:{callee['port']}"
    own = os.environ.get(SERVICE_NAME, "")
    parameter = registry.get(own, {}).get("secrets", {}).get(name)
    return local_secret(own, parameter) if parameter else None
