"""Administration of a stage: tables, the signing key ring, service clients.

    python -m tools.admin bootstrap --stage dev          # tables + signing keys (idempotent)
    python -m tools.admin create-tables --stage local
    python -m tools.admin create-signing-keys --stage dev
    python -m tools.admin create-client profile-service --scope location:read --stage dev

Deployed stages use your AWS credentials and region; the local stage talks to the local
DynamoDB (``AWS_ENDPOINT_URL_DYNAMODB``, default http://127.0.0.1:8000).
"""

from __future__ import annotations

import argparse
import os
import sys

from tools import stages


def create_tables(stage: str) -> None:
    """Create each service's table for ``stage`` from its resources.json (existing ones are kept)."""
    stages.enter_auth_service(stage)
    from servicekit import dynamo, tables

    for service in stages.SERVICES:
        name = stages.table_name(service, stage)
        created = tables.create(dynamo.dynamodb(), name, stages.folder(service) / "resources.json")
        print(f"table {name}: {'created' if created else 'exists already'}")


def create_signing_keys(stage: str, *, rotate: bool = False) -> None:
    """Store a new key ring for ``stage`` unless one exists (``rotate``: add a key to it)."""
    stages.enter_auth_service(stage)
    from chalicelib.keys import KeyRing
    from chalicelib.settings import settings

    from servicekit import secrets

    reference = settings().signing_keys
    try:
        ring = KeyRing.loads(secrets.read(reference))
    except secrets.SecretNotFoundError:
        ring = None
    except Exception as exc:  # noqa: BLE001 - boto3's not-found errors differ by service
        if "NotFound" not in type(exc).__name__:
            raise
        ring = None
    if ring is not None and not rotate:
        print(f"signing keys {reference}: exist already (active kid {ring.active})")
        return
    ring = ring.with_new_key() if ring is not None else KeyRing.generate()
    secrets.write(reference, ring.dumps())
    print(f"signing keys {reference}: written (active kid {ring.active}; keys {', '.join(ring.keys)})")


def create_client(stage: str, client_id: str, scope: str, secret: str | None = None) -> str:
    """Create or replace a service client; print and return its secret."""
    stages.enter_auth_service(stage)
    from chalicelib.clients import create_client as create

    return create(client_id, scope, secret)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.admin", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("bootstrap", "create-tables", "create-signing-keys", "create-client"):
        command = commands.add_parser(name)
        command.add_argument("--stage", default=os.environ.get("STAGE", "local"))
        if name == "create-signing-keys":
            command.add_argument("--rotate", action="store_true", help="add a new (inactive) key to the ring")
        if name == "create-client":
            command.add_argument("client_id")
            command.add_argument("--scope", required=True, help="space-separated scopes, e.g. location:read")
    args = parser.parse_args(argv)
    if args.command in ("bootstrap", "create-tables"):
        create_tables(args.stage)
    if args.command in ("bootstrap", "create-signing-keys"):
        create_signing_keys(args.stage, rotate=getattr(args, "rotate", False))
    if args.command == "create-client":
        secret = create_client(args.stage, args.client_id, args.scope)
        print(f"client {args.client_id} ({args.scope}) created; its secret, shown only now:\n{secret}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
