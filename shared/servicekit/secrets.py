"""Reading a secret by reference: ``ssm:<parameter name>`` or ``file:<path>``.

Deployed stages keep secrets in SSM Parameter Store (SecureString); the local stage
keeps them in files under ``.local/`` that ``make run`` writes.
"""

from __future__ import annotations

import os
from typing import Any

from . import settings
from .lazy import Lazy

KINDS = ("ssm", "file")


def _new_ssm_client() -> Any:
    import boto3

    region = settings.optional("AWS_REGION") or settings.optional("AWS_DEFAULT_REGION")
    return boto3.session.Session().client("ssm", region_name=region)


# One client per process: the auth service reads two parameters on a cold start (its key
# ring and its own URL), and building a botocore client is the expensive part.
ssm = Lazy(_new_ssm_client)


class SecretNotFoundError(RuntimeError):
    """The reference names nothing that could be read."""


def is_reference(value: str) -> bool:
    """Whether ``value`` is a reference this module reads (rather than a value itself)."""
    return value.partition(":")[0] in KINDS


def read(reference: str) -> str:
    """The secret's text. Called once per cold start, from an accessor."""
    kind, _, name = reference.partition(":")
    if kind == "file":
        if not os.path.isfile(name):
            raise SecretNotFoundError(f"secret file {name} does not exist")
        with open(name, encoding="utf-8") as secret:
            return secret.read()
    if kind == "ssm":
        client = ssm()
        try:
            return client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]  # type: ignore[no-any-return]
        except client.exceptions.ParameterNotFound:
            raise SecretNotFoundError(f"parameter {name} does not exist") from None
    raise SecretNotFoundError(f"unknown secret reference {reference!r}: use ssm: or file:")


def write(reference: str, value: str) -> None:
    """Store a secret (the bootstrap and the local stack create them); idempotent overwrite."""
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
    raise SecretNotFoundError(f"unknown secret reference {reference!r}: use ssm: or file:")
