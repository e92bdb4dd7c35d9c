"""Reading a secret by reference: ``ssm:<parameter name>``, ``secretsmanager:<secret id>``, ``file:<path>``.

Deployed stages keep secrets in SSM Parameter Store (SecureString) or Secrets Manager;
the local stage keeps them in files under ``.local/`` that ``make run`` writes.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from . import aws
from .lazy import Lazy

KINDS = ("ssm", "secretsmanager", "file")


def _new_client(kind: str) -> Any:
    return aws.client(kind)


# One client per kind and process: the auth service reads two parameters on a cold start
# (its key ring and its own URL), and building a botocore client is the expensive part.
_clients: dict[str, Lazy[Any]] = {
    kind: Lazy(functools.partial(_new_client, kind)) for kind in ("ssm", "secretsmanager")
}


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
    if kind in _clients:
        client = _clients[kind]()
        if kind == "ssm":
            try:
                return client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]  # type: ignore[no-any-return]
            except client.exceptions.ParameterNotFound:
                raise SecretNotFoundError(f"parameter {name} does not exist") from None
        try:
            return client.get_secret_value(SecretId=name)["SecretString"]  # type: ignore[no-any-return]
        except client.exceptions.ResourceNotFoundException:
            raise SecretNotFoundError(f"secret {name} does not exist") from None
    raise SecretNotFoundError(f"unknown secret reference {reference!r}: use ssm:, secretsmanager: or file:")


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
    if kind in _clients:
        client = _clients[kind]()
        if kind == "ssm":
            client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
            return
        try:
            client.put_secret_value(SecretId=name, SecretString=value)
        except client.exceptions.ResourceNotFoundException:
            client.create_secret(Name=name, SecretString=value)
        return
    raise SecretNotFoundError(f"unknown secret reference {reference!r}: use ssm:, secretsmanager: or file:")
