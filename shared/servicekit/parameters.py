"""Reading a value by reference: ``ssm:<parameter name>`` or ``file:<path>``.

The values are the services' secrets (the signing keys, the client secret) and the auth
service's own URL. Deployed stages keep them in SSM Parameter Store (secrets as
SecureString); the local stage keeps its secrets in files under ``.local/`` that
``make run`` writes.
"""

from __future__ import annotations

import os
from typing import Any

from . import aws, env
from .lazy import Lazy

KINDS = ("ssm", "file")


def _new_ssm_client() -> Any:
    return aws.client("ssm")


# One client per process: the auth service reads two parameters on a cold start (its key
# ring and its own URL), and building a botocore client is the expensive part.
ssm = Lazy(_new_ssm_client)


class ParameterNotFoundError(RuntimeError):
    """The reference names nothing that could be read."""


def is_reference(value: str) -> bool:
    """Whether ``value`` is a reference this module reads (rather than a value itself)."""
    return value.partition(":")[0] in KINDS


def read(reference: str) -> str:
    """The referenced value. Called from an accessor, on a cold start (and again when it ages out)."""
    kind, _, name = reference.partition(":")
    if kind == "file":
        if not os.path.isfile(name):
            raise ParameterNotFoundError(f"secret file {name} does not exist")
        with open(name, encoding="utf-8") as secret:
            return secret.read()
    if kind == "ssm":
        client = ssm()
        try:
            return client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]  # type: ignore[no-any-return]
        except client.exceptions.ParameterNotFound:
            raise ParameterNotFoundError(f"parameter {name} does not exist") from None
    raise ParameterNotFoundError(f"unknown secret reference {reference!r}: use ssm: or file:")


def write(reference: str, value: str) -> None:
    """Store a value (the bootstrap and the local stack create them); idempotent overwrite."""
    kind, _, name = reference.partition(":")
    if kind == "file":
        from pathlib import Path  # not at import: pathlib costs ~4 ms of every cold start

        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)  # touch sets the mode only when it creates the file
        path.write_text(value)
        return
    if kind == "ssm":
        ssm().put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
        return
    raise ParameterNotFoundError(f"unknown secret reference {reference!r}: use ssm: or file:")


def token_issuer(own_api_url: str | None = None) -> str:
    """The tokens' ``iss``: the auth service's base URL (``TOKEN_ISSUER`` overrides ``AUTH_URL``).

    The issuer is where the auth service is reached, so that ``issuer`` +
    ``/.well-known/openid-configuration`` resolves (RFC 8414); on the local stage that is
    the stack's actual auth URL, whichever port it was given. A deployed auth service
    cannot be told its own URL in an environment variable (in CloudFormation, a function
    naming its own API is a circular reference), so there ``TOKEN_ISSUER`` is a reference,
    ``ssm:/profiles/<stage>/auth/url``, to the parameter its stack (or ``tools.admin
    deploy``) writes once the API exists; it is read once per process. That parameter
    holds the function's own API's default URL, and nothing else: a caller that knows
    that URL already passes it as ``own_api_url`` and reads nothing (the auth service's
    authorizer, from its request: ``servicekit.authorizer.api_url``). A team whose auth
    API has a custom domain knows its URL before deploying: ``TOKEN_ISSUER`` is then that
    URL itself.
    """
    configured = env.optional("TOKEN_ISSUER")
    if configured is None:
        return env.required("AUTH_URL").rstrip("/")
    if is_reference(configured):
        configured = own_api_url if own_api_url is not None else read(configured).strip()
    return configured.rstrip("/")
