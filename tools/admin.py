"""Administration of a stage: tables, signing keys, service clients, URLs, deployment, tear-down.

    python -m tools.admin bootstrap --stage dev          # tables + signing keys + the profile service's client
    python -m tools.admin bootstrap --stage prod --tables-in-stacks   # the pipeline's stacks make the tables
    python -m tools.admin deploy --stage dev             # `chalice deploy` each service, in order, URLs linked
    python -m tools.admin link --stage dev               # write deployed URLs into the callers' stage config
    python -m tools.admin create-tables --stage local
    python -m tools.admin create-signing-keys --stage dev [--rotate]
    python -m tools.admin activate-signing-key KID --stage prod
    python -m tools.admin retire-signing-key KID --stage prod
    python -m tools.admin create-client profile-service --scope location:read --stage dev   # a new secret
    python -m tools.admin create-client my-app --public --redirect-uri http://localhost:5173/callback
                                                         # a browser app (no secret): authorization code + PKCE
    python -m tools.admin tear-down --stage dev --yes    # stacks or Chalice deployments, tables, secrets

Deployed stages use your AWS credentials and region; the local stage talks to the local
DynamoDB (``AWS_ENDPOINT_URL_DYNAMODB``, default http://127.0.0.1:8000). ``bootstrap``,
``create-tables``, ``create-signing-keys`` (without ``--rotate``) and ``link`` are
idempotent: they keep what exists. docs/deployment.md walks through a fresh account.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from tools import registry, stages
from tools.stages import LOCAL_STAGE

# The merge templates export each service's URL as profiles-<stage>-<service>-url.
EXPORT = re.compile(r"^profiles-\$\{Stage\}-(?P<service>[a-z]+)-url$")
# Lambda's limit on a function's environment, every name and value together, and the room
# left for each value the stack fills in (a generated table name, an imported URL).
ENVIRONMENT_LIMIT = 4096
FILLED_IN_BY_THE_STACK = 128


@cache
def _aws(kind: str) -> Any:
    """A client of the AWS service ``kind``, from the process's one session (servicekit.aws).

    Each new boto3 session parses botocore's data again (about 0.3 s a command, with several).
    """
    from servicekit import aws

    return aws.client(kind)


def stack_outputs(service: str, stage: str) -> dict[str, str] | None:
    """The outputs of the service's stack, or None when the stage has no such stack."""
    if stage == LOCAL_STAGE:
        return None
    from botocore.exceptions import ClientError

    try:
        (stack,) = _aws("cloudformation").describe_stacks(StackName=stages.stack_name(service, stage))["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def _stack_table(service: str, stage: str) -> str | None:
    return (stack_outputs(service, stage) or {}).get("TableName")


@cache
def _enter(stage: str) -> None:
    """The auth service's code and stage's environment; its table is its stack's when there is one.

    Runs before anything reads the auth service's settings (they are read once). On the
    local stage it talks to the `make run` that this environment describes (``DYNAMODB_PORT``,
    ``AUTH_PORT``, ``LOCAL_STATE_DIR``, ...), with the addresses `make run` computes: what
    the environment sets already (the local stack's own bootstrap) is kept.
    """
    handed: dict[str, str] = {}
    if stage == LOCAL_STAGE:
        from tools.localstack import stack_from_env

        wiring = stack_from_env(os.environ).wiring(registry.issuer().name)
        handed = {name: os.environ.get(name, value) for name, value in wiring.items()}
        # Never a real AWS account from the local stage, whatever the shell's profile says.
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
            handed[name] = wiring[name]
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
    stages.enter_auth_service(stage)
    # The stack's addresses and secrets win over the local stage's defaults, as in the stack's services.
    os.environ.update(handed)
    table = _stack_table(registry.issuer().name, stage)
    if table:
        os.environ["TABLE_NAME"] = table


def _secret_or_none(reference: str) -> str | None:
    from servicekit import parameters

    try:
        return parameters.read(reference)
    except parameters.ParameterNotFoundError:
        return None


# Tables.


def create_tables(stage: str, *, in_stacks: bool = False) -> None:
    """Create each service's table for ``stage`` from its resources.json (existing ones are kept).

    A table that a CloudFormation stack of the stage holds is left to the stack; with
    ``in_stacks`` no table is made here at all (the pipeline's stacks will make them).
    """
    _enter(stage)
    from servicekit import dynamo
    from tools import tables

    for service in stages.SERVICES:
        stack = stages.stack_name(service, stage)
        in_stack = _stack_table(service, stage)
        if in_stack:
            print(f"table {in_stack}: held by the stack {stack}")
            continue
        if in_stacks:
            print(f"table of {service}: made by the stack {stack} when the pipeline first deploys it")
            continue
        name = stages.table_name(service, stage)
        resources = stages.folder(service) / "resources.json"
        created = tables.create(dynamo.dynamodb(), name, resources, deployed=stage != LOCAL_STAGE)
        print(f"table {name}: {'created' if created else 'exists already'}")


def _table_exists(service: str, stage: str) -> bool:
    _enter(stage)
    from servicekit import dynamo

    client = dynamo.dynamodb()
    try:
        client.describe_table(TableName=stages.table_name(service, stage))
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


# Signing keys.


def _stored_key_ring(stage: str) -> tuple[str, Any]:
    """Where the stage keeps its key ring, and the ring stored there (None if there is none)."""
    _enter(stage)
    from chalicelib.settings import settings
    from servicekit.keyring import KeyRing

    reference = settings().signing_keys
    document = _secret_or_none(reference)
    if document is None:
        return reference, None
    try:
        return reference, KeyRing.loads(document)
    except ValueError as exc:
        # A ring from before ES256 (Ed25519 keys). Locally nothing is lost by starting over.
        if stage == LOCAL_STAGE:
            print(f"signing keys {reference}: {exc}; replacing the local ring")
            return reference, None
        raise SystemExit(
            f"signing keys {reference}: {exc}. Replace the ring as docs/security.md says (From EdDSA to ES256)."
        ) from None


def authorizer_environment(service: str, stage: str, jwks: str, root: Path = stages.ROOT) -> dict[str, Any]:
    """The environment the service's stack gives its authorizer: the stage's variables, the merge template's, ``jwks``.

    Values the stack fills in (``Ref``, ``Fn::ImportValue``) stay as the template has them.
    """
    resources = json.loads((root / f"{service}-service" / "resources.json").read_text())["Resources"]
    from_template = resources["JwtAuth"]["Properties"]["Environment"]["Variables"]
    return {**stages.stage_env(service, stage), **from_template, "JWKS": jwks}


def environment_size(variables: dict[str, Any]) -> int:
    """Bytes of a Lambda environment as JSON, a value the stack fills in counted as ``FILLED_IN_BY_THE_STACK``."""
    sized = {name: v if isinstance(v, str) else "x" * FILLED_IN_BY_THE_STACK for name, v in variables.items()}
    return len(json.dumps(sized, separators=(",", ":")).encode())


def jwks_document(stage: str, ring: Any) -> str:
    """The ring's public JWKS in compact JSON, once it is known to fit every authorizer's environment."""
    document = json.dumps(ring.jwks(), separators=(",", ":"))
    for service in stages.SERVICES:
        size = environment_size(authorizer_environment(service, stage, document))
        if size > ENVIRONMENT_LIMIT:
            raise SystemExit(
                f"a key ring of {len(ring.keys)} keys makes {service}-service's authorizer environment {size} bytes, "
                f"over Lambda's {ENVIRONMENT_LIMIT}: retire a key first (docs/security.md)"
            )
    return document


def _publish_jwks(stage: str, document: str) -> None:
    """Write the stage's public JWKS where the stacks hand it to their authorizers (the local stage has none)."""
    if stage == LOCAL_STAGE:
        return
    name = stages.jwks_parameter(stage)
    _aws("ssm").put_parameter(Name=name, Value=document, Type="String", Overwrite=True)
    print(f"public keys {name}: written for the authorizers")


def _published_jwks(stage: str) -> str | None:
    ssm = _aws("ssm")
    try:
        return str(ssm.get_parameter(Name=stages.jwks_parameter(stage))["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


def _store_key_ring(stage: str, reference: str, ring: Any, what: str) -> None:
    from servicekit import parameters

    document = jwks_document(stage, ring)  # before the ring: a ring that would not fit is not stored
    parameters.write(reference, ring.dumps())
    print(f"signing keys {reference}: {what} (active kid {ring.active}; keys {', '.join(ring.keys)})")
    _publish_jwks(stage, document)


def create_signing_keys(stage: str, *, rotate: bool = False) -> None:
    """Store a new key ring for ``stage`` unless one exists (``rotate``: add a key to it).

    An existing ring's public JWKS is written again where it is missing or differs (stages
    bootstrapped before the authorizers were handed it).
    """
    reference, ring = _stored_key_ring(stage)
    if ring is not None and not rotate:
        print(f"signing keys {reference}: exist already (active kid {ring.active})")
        document = jwks_document(stage, ring)
        if stage != LOCAL_STAGE and _published_jwks(stage) != document:
            _publish_jwks(stage, document)
        return
    from servicekit.keyring import KeyRing

    _store_key_ring(stage, reference, ring.with_new_key() if ring is not None else KeyRing.generate(), "written")
    if ring is not None:
        _next_step(stage, "authorizers that start cold are handed the new key too")


def _change_key_ring(stage: str, change: Callable[[Any], Any], what: str) -> None:
    reference, ring = _stored_key_ring(stage)
    if ring is None:
        raise SystemExit(f"there is no key ring at {reference}: run create-signing-keys --stage {stage} first")
    try:
        changed = change(ring)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    _store_key_ring(stage, reference, changed, what)


def _next_step(stage: str, why: str) -> None:
    """Say how the JWKS just written reaches the functions: by age in the warm ones, by a release in the cold."""
    from servicekit.authorizer import JWKS_MAX_AGE_S
    from servicekit.keyring import MAX_AGE_S

    print(
        f"next: nothing to restart or redeploy: the auth service serves the new public keys within "
        f"{MAX_AGE_S:.0f} s (its functions re-read the key ring once their copy is that old) "
        f"and every authorizer fetches them within {JWKS_MAX_AGE_S:.0f} s"
    )
    if stage == LOCAL_STAGE:
        return
    print(
        f"then, so that {why}: release the stage's stacks (the next push "
        f"does; or start the pipeline, or `python -m tools.release --stage {stage}` with its --alarm-email, "
        "--bucket and --role-arn); a stage deployed with `tools.admin deploy` is not handed the JWKS and needs nothing"
    )


def activate_signing_key(stage: str, kid: str) -> None:
    """Rotation step 2: sign with ``kid`` within a minute, in every warm and cold auth function."""
    _change_key_ring(stage, lambda ring: ring.activate(kid), f"{kid} activated")
    from servicekit.keyring import MAX_AGE_S

    # Which key signs is not part of the JWKS: the stacks have nothing new to hand over.
    print(
        f"next: nothing to restart or redeploy: the auth service signs with {kid} within {MAX_AGE_S:.0f} s "
        "(its functions re-read the key ring once their copy is that old); the public keys are unchanged, "
        "so there is nothing for the authorizers"
    )


def retire_signing_key(stage: str, kid: str) -> None:
    """Rotation step 3: drop ``kid`` from the ring (never the active key)."""

    def retire(ring: Any) -> Any:
        if kid not in ring.keys:
            raise ValueError(f"no key {kid} in the ring")
        return ring.without(kid)

    _change_key_ring(stage, retire, f"{kid} retired")
    _next_step(stage, f"{kid} stops verifying in authorizers that start cold too (docs/security.md)")


# Service clients.


def create_client(stage: str, client_id: str, scope: str, secret: str | None = None) -> str:
    """Create or replace a service client; return its secret."""
    _enter(stage)
    from chalicelib.clients import create_client as create

    try:
        return create(client_id, scope, secret)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def _service_clients() -> dict[str, str]:
    """The services that log in to others with client credentials (services.toml), and their scopes."""
    return {name: s.client for name, s in registry.load().services.items() if s.client}


def _secret_reference(service: str, variable: str, stage: str) -> str:
    """Where ``stage`` keeps one of the service's secrets (a servicekit.parameters reference)."""
    if stage == LOCAL_STAGE:  # in the state folder of the `make run` this environment describes
        from tools.localstack import stack_from_env

        return stack_from_env(os.environ).secret(service, variable)
    reference = stages.stage_env(service, stage).get(variable)
    if reference:
        return reference
    raise SystemExit(f"{service}-service's stage {stage} names no {variable}")


def _client_secret_reference(service: str, stage: str) -> str:
    return _secret_reference(service, "CLIENT_SECRET", stage)


def _client_matches(stage: str, client_id: str, scope: str, secret: str) -> bool:
    _enter(stage)
    from chalicelib import clients
    from chalicelib.store import auth_store

    client = auth_store().client(client_id)
    return client is not None and client["scope"] == scope and clients.check_secret(client.get("secret_hash"), secret)


def create_service_clients(stage: str) -> None:
    """Each calling service's client in the auth table, its secret where that service reads it.

    Idempotent: a client whose secret is stored already keeps it (and is registered again
    with it if the table does not match). Needs the auth table, so on a pipeline-deployed
    stage it waits for the auth stack.
    """
    issuer = registry.issuer().name
    if stage != LOCAL_STAGE and not _stack_table(issuer, stage) and not _table_exists(issuer, stage):
        print(f"service clients: the auth table of {stage} does not exist yet; run bootstrap again once it does")
        return
    from servicekit import parameters

    for service, scope in _service_clients().items():
        client_id = stages.stage_env(service, stage)["CLIENT_ID"]
        reference = _client_secret_reference(service, stage)
        stored = (_secret_or_none(reference) or "").strip() or None
        if stored is not None and _client_matches(stage, client_id, scope, stored):
            print(f"client {client_id} ({scope}): exists already; its secret is in {reference}")
            continue
        secret = create_client(stage, client_id, scope, stored)
        if stored is None:
            parameters.write(reference, secret)
        print(f"client {client_id} ({scope}): ready; its secret is in {reference}")


def check_client_scope(scope: str) -> None:
    """Refuse a scope that is not made of the client scopes the services declare (services.toml)."""
    _check_scope(scope, registry.load().client_scopes, "client")


def check_user_scope(scope: str) -> None:
    """Refuse a public app's scope that is not made of the user scopes the services declare (services.toml)."""
    _check_scope(scope, registry.load().user_scopes, "user")


def _check_scope(scope: str, declared: tuple[str, ...], kind: str) -> None:
    unknown = [s for s in scope.split() if s not in declared]
    if unknown or not scope.split():
        raise SystemExit(
            f"scope {scope!r}: {', '.join(unknown) or 'empty'} is not a {kind} scope any service declares; "
            f"choose from {', '.join(declared)} (services.toml's scopes.{kind})"
        )


def _client_exists(stage: str, client_id: str) -> bool:
    _enter(stage)
    from chalicelib.store import auth_store

    return auth_store().client(client_id) is not None


def new_client(stage: str, client_id: str, scope: str, *, replace: bool = False) -> None:
    """Create a client, or with ``replace`` give an existing one a new secret (``create-client``).

    The scope must be made of the client scopes the services declare. The client of one
    of our services gets the secret written where that service reads it (the service
    reads it once per process: restart or redeploy it); any other client's secret is
    printed, once. Should the write fail, ``bootstrap`` registers the client again with
    the secret that is stored.
    """
    check_client_scope(scope)
    if not replace and _client_exists(stage, client_id):
        raise SystemExit(
            f"client {client_id} exists already: add --replace to give it a new secret "
            "(its current secret stops working at once)"
        )
    secret = create_client(stage, client_id, scope)
    clients = _service_clients()
    service = next((s for s in clients if stages.stage_env(s, stage).get("CLIENT_ID") == client_id), None)
    if service is None:
        print(f"client {client_id} ({scope}) created; its secret, shown only now:\n{secret}")
        return
    from servicekit import parameters

    reference = _client_secret_reference(service, stage)
    parameters.write(reference, secret)
    print(
        f"client {client_id} ({scope}) created; its new secret is in {reference}: "
        f"restart (or redeploy) {service}-service so that it reads it"
    )


def new_public_client(
    stage: str, client_id: str, redirect_uris: list[str], scope: str | None = None, *, replace: bool = False
) -> None:
    """Register a public app (``create-client --public``): its exact redirect URIs, its users' scopes, no secret.

    Its users log in on the auth service's page (``GET /authorize``) and it exchanges the
    code with PKCE; ``scope`` (default: every user scope) bounds what it may ask for.
    """
    scope = scope or " ".join(registry.load().user_scopes)
    check_user_scope(scope)
    if not redirect_uris:
        raise SystemExit("a public client needs at least one --redirect-uri (the exact address of its callback)")
    if not replace and _client_exists(stage, client_id):
        raise SystemExit(f"client {client_id} exists already: add --replace to change its redirect URIs and scope")
    _enter(stage)
    from chalicelib.clients import create_public_client

    try:
        create_public_client(client_id, scope, redirect_uris)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    print(f"public client {client_id} ({scope}) registered with the redirect URIs: {' '.join(redirect_uris)}")


def _create_client_command(args: argparse.Namespace) -> None:
    if args.public:
        new_public_client(args.stage, args.client_id, args.redirect_uri, args.scope, replace=args.replace)
        return
    if args.redirect_uri:
        raise SystemExit(
            "--redirect-uri is for a public app (add --public): service clients log in with client credentials"
        )
    if args.scope is None:
        raise SystemExit("a service client needs --scope (client scopes of services.toml, e.g. location:read)")
    new_client(args.stage, args.client_id, args.scope, replace=args.replace)


def create_event_queues(stage: str) -> None:
    """The local stack's topic and queues of the events (``tools.queues``); deployed stacks make their own."""
    _enter(stage)
    if stage != LOCAL_STAGE or not os.environ.get("AWS_ENDPOINT_URL_SQS"):
        return  # the pipeline's stacks hold them; an external local DynamoDB comes without them
    from tools import queues

    for line in queues.create(_aws("sns"), _aws("sqs"), stage):
        print(line)


def bootstrap(stage: str, *, in_stacks: bool = False) -> None:
    """Everything a stage needs before (and just after) its services are deployed."""
    create_tables(stage, in_stacks=in_stacks)
    create_event_queues(stage)
    create_signing_keys(stage)
    create_service_clients(stage)


# The services' URLs, for `chalice deploy` (CloudFormation stacks import them instead).


def imported_urls(root: Path = stages.ROOT) -> dict[str, dict[str, str]]:
    """For each service, the URL variables its merge template imports, and whose URL each is."""
    wiring: dict[str, dict[str, str]] = {}
    for service in stages.SERVICES:
        resources = json.loads((root / f"{service}-service" / "resources.json").read_text())["Resources"]
        variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
        for variable, value in variables.items():
            match = isinstance(value, dict) and EXPORT.match(value.get("Fn::ImportValue", {}).get("Fn::Sub", ""))
            if match:
                wiring.setdefault(service, {})[variable] = match["service"]
    return wiring


def _record(service: str, stage: str, root: Path = stages.ROOT) -> Path:
    """Where ``chalice deploy`` records what it made for the stage (ignored by git)."""
    return root / f"{service}-service" / ".chalice" / "deployed" / f"{stage}.json"


def record_parameter(service: str, stage: str) -> str:
    """The SSM parameter holding the copy of the service's deployment record every clone reads."""
    return stages.parameter(service, stage, "chalice-deployed")


def fetch_record(service: str, stage: str, root: Path = stages.ROOT) -> bool:
    """Bring this clone's deployment record up to date from SSM; False when the stage has none there.

    ``chalice deploy`` updates what its record names and creates what it does not, so a
    clone without the record would deploy a second copy, and ``chalice delete`` would
    delete nothing. The copy in SSM, written after every deploy, is the one that counts.
    """
    ssm = _aws("ssm")
    try:
        stored = ssm.get_parameter(Name=record_parameter(service, stage))["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return False
    path = _record(service, stage, root)
    if not path.is_file() or json.loads(path.read_text()) != json.loads(stored):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(json.loads(stored), indent=2) + "\n")
        print(f"{service}-service {stage}: deployment record taken from SSM {record_parameter(service, stage)}")
    return True


def store_record(service: str, stage: str, root: Path = stages.ROOT) -> None:
    """Keep the service's deployment record in SSM, where every clone finds it."""
    compact = json.dumps(json.loads(_record(service, stage, root).read_text()), separators=(",", ":"))
    # Intelligent-Tiering: a standard parameter while the record fits 4 KB, advanced beyond.
    _aws("ssm").put_parameter(
        Name=record_parameter(service, stage), Value=compact, Type="String", Overwrite=True, Tier="Intelligent-Tiering"
    )


def deployed_url(service: str, stage: str, root: Path = stages.ROOT) -> str | None:
    """The API's URL as ``chalice deploy`` recorded it, or None when not deployed."""
    record = _record(service, stage, root)
    if not record.is_file():
        return None
    resources = json.loads(record.read_text()).get("resources", [])
    return next((r["rest_api_url"] for r in resources if r.get("resource_type") == "rest_api"), None)


def link(stage: str, root: Path = stages.ROOT, *, only: str | None = None) -> list[str]:
    """Write the deployed URLs into the stage config of the services that call them.

    Returns the variables still missing (their service is not deployed yet).
    """
    if stage == LOCAL_STAGE:
        raise SystemExit("the local stage is not deployed: its services find each other on 127.0.0.1")
    missing = []
    for service, variables in imported_urls(root).items():
        if only is not None and service != only:
            continue
        path = root / f"{service}-service" / ".chalice" / "config.json"
        config = json.loads(path.read_text())
        environment = config["stages"][stage].setdefault("environment_variables", {})
        changed = False
        for variable, source in variables.items():
            url = deployed_url(source, stage, root)
            if url is None:
                missing.append(f"{service}-service {variable} ({source}-service is not deployed on {stage})")
            elif environment.get(variable) != url:
                environment[variable] = url
                changed = True
                print(f"{service}-service {stage}: {variable}={url}")
        if changed:
            path.write_text(json.dumps(config, indent=2) + "\n")
    return missing


def _chalice(service: str, *args: str) -> None:
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run([str(chalice), *args], cwd=stages.folder(service), check=True)


def deploy(stage: str) -> None:
    """``chalice deploy`` each service in order, each told the URLs of those before it.

    From any clone: each service's deployment record comes from SSM first (so what
    another clone deployed is updated, not deployed again) and goes back after.
    """
    if stage == LOCAL_STAGE:
        raise SystemExit("the local stage is not deployed: run `make run`")
    with_events = [f"{s.name}-service" for s in registry.load().services.values() if s.publishes or s.subscribes]
    if with_events:
        # Refused before anything is made: Chalice would stop half-way, at the first event source.
        raise SystemExit(
            f"chalice deploy cannot make the events' resources (the table stream, topic and queues) that "
            f"{', '.join(with_events)} need: deploy the {stage} stage through the pipeline's stacks "
            '(docs/deployment.md, "Events on `chalice deploy`")'
        )
    for service in stages.SERVICES:
        fetch_record(service, stage)
    for service in stages.SERVICES:
        missing = link(stage, only=service)
        if missing:
            raise SystemExit("cannot deploy yet: " + "; ".join(missing))
        try:
            _chalice(service, "deploy", "--stage", stage)
        finally:  # a deploy that fails half-way has still made (and recorded) resources
            if _record(service, stage).is_file():
                store_record(service, stage)
        url = deployed_url(service, stage)
        if url is not None:
            publish_own_url(service, stage, url)
    print("deployed: " + ", ".join(f"{service} at {deployed_url(service, stage)}" for service in stages.SERVICES))


def publish_own_url(service: str, stage: str, url: str) -> None:
    """Tell a service its own URL where its ``TOKEN_ISSUER`` refers to (the auth service's issuer).

    A function cannot be given its own API's URL as an environment variable (in
    CloudFormation that is a circular reference), so the auth stack writes it to an SSM
    parameter; a `chalice deploy` of the same stage gets it written here instead.
    """
    kind, _, name = stages.stage_env(service, stage).get("TOKEN_ISSUER", "").partition(":")
    if kind == "ssm":
        _aws("ssm").put_parameter(Name=name, Value=url, Type="String", Overwrite=True)
        print(f"{service}-service {stage}: its URL {url} is in the parameter {name}")


# Tear-down.


def tear_down(stage: str) -> None:
    """Delete the stage: its stacks or Chalice deployments (last first), tables and secrets."""
    if stage == LOCAL_STAGE:
        raise SystemExit("the local stage lives in .local/: `make clean` removes it")
    _enter(stage)
    from servicekit import dynamo

    tables = []
    cloudformation, ssm = _aws("cloudformation"), _aws("ssm")
    for service in reversed(stages.SERVICES):
        outputs = stack_outputs(service, stage)
        if outputs is not None:
            stack = stages.stack_name(service, stage)
            print(f"deleting the stack {stack} ...")
            cloudformation.delete_stack(StackName=stack)
            cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack)
            if outputs.get("TableName"):
                tables.append(outputs["TableName"])  # retained by the stack: data outlives stacks
        # Else the pipeline's next release would take the stack for deployed and unchanged.
        _delete_parameter(ssm, stages.fingerprint_parameter(service, stage))
        if fetch_record(service, stage) or _record(service, stage).is_file():
            print(f"chalice delete --stage {stage} in {service}-service ...")
            _chalice(service, "delete", "--stage", stage)
            _delete_parameter(ssm, record_parameter(service, stage))
        tables.append(stages.table_name(service, stage))
    client = dynamo.dynamodb()
    for table in tables:
        try:
            client.delete_table(TableName=table)
            print(f"table {table}: deleted")
        except client.exceptions.ResourceNotFoundException:
            pass
    for service in stages.SERVICES:
        environment = stages.stage_env(service, stage)
        for variable in (*dict(registry.service(service).secrets), "TOKEN_ISSUER"):
            kind, _, name = environment.get(variable, "").partition(":")
            if kind == "ssm":
                _delete_parameter(ssm, name)
    _delete_parameter(ssm, stages.jwks_parameter(stage))


def _delete_parameter(ssm: Any, name: str) -> None:
    try:
        ssm.delete_parameter(Name=name)
        print(f"parameter {name}: deleted")
    except ssm.exceptions.ParameterNotFound:
        pass


# The command line.


def _tear_down_command(args: argparse.Namespace) -> int:
    if not args.yes:
        print(f"this deletes the {args.stage} stage with its tables and secrets: add --yes", file=sys.stderr)
        return 2
    tear_down(args.stage)
    return 0


def _link_command(args: argparse.Namespace) -> None:
    for missing in link(args.stage):
        print(f"not yet: {missing}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, run: Callable[[argparse.Namespace], int | None]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=summary, description=summary)
        sub.add_argument("--stage", default=os.environ.get("STAGE", LOCAL_STAGE), help="default: $STAGE, else local")
        sub.set_defaults(run=run)
        return sub

    no_tables = "make no table: the pipeline's stacks make them"
    sub = command(
        "bootstrap", "tables, signing keys, service clients", lambda a: bootstrap(a.stage, in_stacks=a.tables_in_stacks)
    )
    sub.add_argument("--tables-in-stacks", action="store_true", help=no_tables)
    command("deploy", "chalice deploy each service in order, URLs linked", lambda a: deploy(a.stage))
    command("link", "write the deployed URLs into the callers' stage config", _link_command)
    sub = command(
        "create-tables",
        "the tables, from resources.json",
        lambda a: create_tables(a.stage, in_stacks=a.tables_in_stacks),
    )
    sub.add_argument("--tables-in-stacks", action="store_true", help=no_tables)
    sub = command(
        "create-signing-keys", "a key ring, unless one exists", lambda a: create_signing_keys(a.stage, rotate=a.rotate)
    )
    sub.add_argument("--rotate", action="store_true", help="add a new (inactive) key to the ring")
    sub = command("activate-signing-key", "sign with KID", lambda a: activate_signing_key(a.stage, a.kid))
    sub.add_argument("kid")
    sub = command("retire-signing-key", "drop KID from the ring", lambda a: retire_signing_key(a.stage, a.kid))
    sub.add_argument("kid")
    sub = command(
        "create-client",
        "a service client with a new secret, or (--public) a browser or mobile app with its redirect URIs",
        _create_client_command,
    )
    sub.add_argument("client_id")
    sub.add_argument(
        "--scope",
        help="a service client: client scopes of services.toml, e.g. location:read; "
        "a public app: user scopes it may ask for (default: all)",
    )
    sub.add_argument(
        "--public",
        action="store_true",
        help="a public app (no secret) whose users log in with the authorization code flow and PKCE",
    )
    sub.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="with --public: an exact redirect URI of the app (repeat for more)",
    )
    sub.add_argument(
        "--replace", action="store_true", help="give an existing client a new secret (or new redirect URIs)"
    )
    sub = command("tear-down", "delete the stage: stacks or deployments, tables, secrets", _tear_down_command)
    sub.add_argument("--yes", action="store_true", help="really delete the stage and its data")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
