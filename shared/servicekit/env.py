"""Configuration from environment variables, with clear failures and local defaults.

Each stage's variables are declared in the service's ``.chalice/config.json``. The
``local`` stage leaves the addresses of the local stack out of that file on purpose:
Chalice lets a stage's variables override the process environment, so anything the
file fixed could not be moved to other ports by ``make run`` or the end-to-end tests.
Instead, on the local stage an unset address falls back to the contract's default.
"""

from __future__ import annotations

import os

STAGE = "STAGE"
LOCAL_STAGE = "local"

# Where `make run` keeps the local stack's secrets: .local/ at the top of the repository.
# (os.path, not pathlib: importing pathlib costs about 4 ms of every cold start.)
LOCAL_STATE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))), ".local")
SIGNING_KEYS_FILE = "signing-keys.json"
CLIENT_SECRET_FILE = "profile-client-secret"  # noqa: S105 - a file name

# The local stack's default addresses (docs/api.md): one place for them.
LOCAL_DEFAULTS = {
    "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
    "AUTH_URL": "http://127.0.0.1:8001",
    "LOCATION_URL": "http://127.0.0.1:8002",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Secrets of the local stack, written by `make run`.
    "SIGNING_KEYS": f"file:{os.path.join(LOCAL_STATE_DIR, SIGNING_KEYS_FILE)}",
    "CLIENT_SECRET": f"file:{os.path.join(LOCAL_STATE_DIR, CLIENT_SECRET_FILE)}",
}


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
        return LOCAL_DEFAULTS.get(name)
    return None


def required(name: str) -> str:
    """The variable's value, or a ``SettingsError`` that names it."""
    value = optional(name)
    if value is None:
        raise SettingsError(f"environment variable {name} is not set")
    return value


def token_issuer() -> str:
    """The tokens' ``iss``: the auth service's base URL (``TOKEN_ISSUER`` overrides ``AUTH_URL``).

    The issuer is where the auth service is reached, so that ``issuer`` +
    ``/.well-known/openid-configuration`` resolves (RFC 8414); on the local stage that is
    the stack's actual auth URL, whichever port it was given. A deployed auth service
    cannot be told its own URL in an environment variable (in CloudFormation, a function
    naming its own API is a circular reference), so there ``TOKEN_ISSUER`` is a reference,
    ``ssm:/profiles/<stage>/auth/url``, to the parameter its stack (or ``tools.admin
    deploy``) writes once the API exists; it is read once per process.
    """
    configured = optional("TOKEN_ISSUER")
    if configured is None:
        return required("AUTH_URL").rstrip("/")
    from . import parameters

    if parameters.is_reference(configured):
        configured = parameters.read(configured).strip()
    return configured.rstrip("/")
