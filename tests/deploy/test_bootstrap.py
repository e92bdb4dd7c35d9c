"""`python -m tools.admin`: what a fresh AWS account gets before and after the services are deployed.

Each test runs the real command against moto's server on 127.0.0.1, as an operator would
against AWS.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.deploy.conftest import admin, merge_template
from tests.support import services
from tests.support.repository import fresh_clone
from tools import admin as admin_module
from tools import registry, stages

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group("bootstrap")]

STAGE = "dev"
SIGNING_KEYS = "/profiles/dev/auth/signing-keys"
CLIENT_SECRET = "/profiles/dev/profile/client-secret"


def _ok(*args: str) -> str:
    result = admin(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _table_definition(name: str) -> dict[str, Any]:
    (table,) = [r for r in merge_template(name)["Resources"].values() if r.get("Type") == "AWS::DynamoDB::Table"]
    return table["Properties"]  # type: ignore[no-any-return]


def _key_ring() -> dict[str, Any]:
    parameter = boto3.client("ssm").get_parameter(Name=SIGNING_KEYS, WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    return json.loads(parameter["Value"])  # type: ignore[no-any-return]


def _client_item(table: str) -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "client#profile-service"}})
    return item["Item"]  # type: ignore[no-any-return]


def test_bootstrap_creates_each_table_as_its_template_defines_it(fake_aws: str) -> None:
    _ok("bootstrap", "--stage", STAGE)

    dynamodb = boto3.client("dynamodb")
    for name in services.SERVICES:
        table_name = services.stage_env(name, STAGE)["TABLE_NAME"]
        table = dynamodb.describe_table(TableName=table_name)["Table"]
        definition = _table_definition(name)
        assert table["KeySchema"] == definition["KeySchema"]
        assert table["AttributeDefinitions"] == definition["AttributeDefinitions"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["SSEDescription"]["Status"] == "ENABLED"
        backups = dynamodb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        expected_ttl = definition.get("TimeToLiveSpecification")
        if expected_ttl:
            assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", expected_ttl["AttributeName"])
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_a_table_made_without_its_ttl_gets_it_from_the_bootstrap(fake_aws: str) -> None:
    # GIVEN the auth table as a create whose answer was lost leaves it: made, no TTL yet
    # (botocore's retry of the create then finds the table in use)
    name = registry.issuer().name
    table_name = services.stage_env(name, STAGE)["TABLE_NAME"]
    definition = _table_definition(name)
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=definition["KeySchema"],
        AttributeDefinitions=definition["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )

    _ok("bootstrap", "--stage", STAGE)
    again = _ok("bootstrap", "--stage", STAGE)  # and enabling it twice is not attempted

    ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == (
        "ENABLED",
        definition["TimeToLiveSpecification"]["AttributeName"],
    )
    assert f"table {table_name}: exists already" in again


def test_bootstrap_stores_the_key_ring_as_a_secure_string_with_one_active_key(fake_aws: str) -> None:
    _ok("bootstrap", "--stage", STAGE)

    ring = _key_ring()

    assert [key["kid"] for key in ring["keys"]] == [ring["active"]]
    assert ring["keys"][0]["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    key = serialization.load_pem_private_key(ring["keys"][0]["private_key"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"  # ES256


def _eddsa_key_ring() -> str:
    """A key ring as revision 1 stored it: one Ed25519 key."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return json.dumps({"active": "old", "keys": [{"kid": "old", "private_key": pem.decode()}]})


def test_a_key_ring_from_before_es256_is_refused_with_the_way_out(fake_aws: str) -> None:
    boto3.client("ssm").put_parameter(Name=SIGNING_KEYS, Value=_eddsa_key_ring(), Type="SecureString")

    result = admin("create-signing-keys", "--stage", STAGE, "--rotate")

    assert result.returncode != 0
    assert "not a P-256 key" in result.stderr and "docs/security.md" in result.stderr


def test_a_local_key_ring_from_before_es256_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ring_file = tmp_path / "signing-keys.json"
    ring_file.write_text(_eddsa_key_ring())
    monkeypatch.setenv("SIGNING_KEYS", f"file:{ring_file}")

    result = admin("create-signing-keys", "--stage", "local")

    assert result.returncode == 0, result.stderr
    assert "replacing the local ring" in result.stdout
    (entry,) = json.loads(ring_file.read_text())["keys"]
    key = serialization.load_pem_private_key(entry["private_key"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


def test_bootstrap_creates_the_profile_services_client_with_its_secret_where_the_profile_service_reads_it(
    fake_aws: str,
) -> None:
    _ok("bootstrap", "--stage", STAGE)

    parameter = boto3.client("ssm").get_parameter(Name=CLIENT_SECRET, WithDecryption=True)["Parameter"]
    client = _client_item(services.stage_env("auth", STAGE)["TABLE_NAME"])

    assert parameter["Type"] == "SecureString"
    assert client["scope"] == {"S": "location:read"}
    assert client["secret_hash"]["S"] == _stored_form(parameter["Value"])


def test_bootstrap_run_twice_changes_nothing(fake_aws: str) -> None:
    # GIVEN a bootstrapped stage
    _ok("bootstrap", "--stage", STAGE)
    ring = _key_ring()
    secret = boto3.client("ssm").get_parameter(Name=CLIENT_SECRET, WithDecryption=True)["Parameter"]["Value"]
    client = _client_item(services.stage_env("auth", STAGE)["TABLE_NAME"])

    # WHEN it runs again
    output = _ok("bootstrap", "--stage", STAGE)

    # THEN the same tables, keys, client and secret are there, and it says so
    for name in services.SERVICES:
        assert f"table {name}-dev: exists already" in output
    assert "signing keys ssm:/profiles/dev/auth/signing-keys: exist already" in output
    assert "client profile-service (location:read): exists already" in output
    assert _key_ring() == ring
    assert boto3.client("ssm").get_parameter(Name=CLIENT_SECRET, WithDecryption=True)["Parameter"]["Value"] == secret
    assert _client_item(services.stage_env("auth", STAGE)["TABLE_NAME"]) == client


def test_a_table_name_left_in_the_shell_does_not_redirect_the_bootstrap(
    fake_aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an operator's shell that still exports another stage's variables
    monkeypatch.setenv("TABLE_NAME", "auth-local")
    monkeypatch.setenv("STAGE", "local")

    _ok("bootstrap", "--stage", STAGE)

    # THEN the client is in the dev stage's auth table, as the deployed service reads it
    assert _client_item(services.stage_env("auth", STAGE)["TABLE_NAME"])["scope"] == {"S": "location:read"}


def test_a_new_secret_for_the_profile_services_client_goes_where_the_profile_service_reads_it(
    fake_aws: str,
) -> None:
    # GIVEN a bootstrapped stage
    _ok("bootstrap", "--stage", STAGE)
    ssm = boto3.client("ssm")
    old = ssm.get_parameter(Name=CLIENT_SECRET, WithDecryption=True)["Parameter"]["Value"]

    # WHEN the client is given a new secret, as docs/operations.md says
    output = _ok("create-client", "profile-service", "--scope", "location:read", "--replace", "--stage", STAGE)

    # THEN the parameter holds the new secret, the table its hash, and nothing printed it
    new = ssm.get_parameter(Name=CLIENT_SECRET, WithDecryption=True)["Parameter"]["Value"]
    client = _client_item(services.stage_env("auth", STAGE)["TABLE_NAME"])
    assert new != old
    assert client["secret_hash"]["S"] == _stored_form(new)
    assert new not in output and CLIENT_SECRET in output


def test_an_existing_clients_secret_is_replaced_only_when_asked(fake_aws: str) -> None:
    # GIVEN a bootstrapped stage, whose profile-service client has a secret
    _ok("bootstrap", "--stage", STAGE)
    before = _client_item(services.stage_env("auth", STAGE)["TABLE_NAME"])

    # WHEN the client is created again without --replace
    refused = admin("create-client", "profile-service", "--scope", "location:read", "--stage", STAGE)

    # THEN nothing changes, and the message says how to replace it
    assert refused.returncode != 0
    assert "exists already: add --replace" in refused.stderr
    assert _client_item(services.stage_env("auth", STAGE)["TABLE_NAME"]) == before


@pytest.mark.parametrize("scope", ["billing:read", "profile:write location:write", "location:read billing:read", ""])
def test_a_client_may_be_given_only_the_client_scopes_the_services_declare(fake_aws: str, scope: str) -> None:
    refused = admin("create-client", "reporting-job", "--scope", scope, "--stage", STAGE)

    assert refused.returncode != 0
    assert "is not a client scope any service declares; choose from location:read" in refused.stderr


def test_for_a_pipeline_stage_bootstrap_leaves_the_tables_to_the_stacks_and_the_client_for_later(
    fake_aws: str,
) -> None:
    output = _ok("bootstrap", "--stage", "prod", "--tables-in-stacks")

    assert boto3.client("dynamodb").list_tables()["TableNames"] == []
    assert "run bootstrap again once it does" in output
    boto3.client("ssm").get_parameter(Name="/profiles/prod/auth/signing-keys")


def test_once_the_auth_stack_exists_bootstrap_creates_the_client_in_the_stacks_table(fake_aws: str) -> None:
    # GIVEN the auth stack of the pipeline, holding its table
    auth = merge_template("auth")
    template = {
        "Resources": {"AuthTable": auth["Resources"]["AuthTable"]},
        "Outputs": {"TableName": auth["Outputs"]["TableName"]},
    }
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName="auth-service-prod", TemplateBody=json.dumps(template))
    (output,) = cloudformation.describe_stacks(StackName="auth-service-prod")["Stacks"][0]["Outputs"]

    # WHEN the bootstrap runs again
    printed = _ok("bootstrap", "--stage", "prod", "--tables-in-stacks")

    # THEN the client is in the stack's table, and no other auth table was made
    assert _client_item(output["OutputValue"])["scope"] == {"S": "location:read"}
    assert f"table {output['OutputValue']}: held by the stack auth-service-prod" in printed
    assert boto3.client("dynamodb").list_tables()["TableNames"] == [output["OutputValue"]]


def test_a_signing_key_is_added_then_activated_then_the_old_one_retired(fake_aws: str) -> None:
    _ok("create-signing-keys", "--stage", STAGE)
    old = _key_ring()["active"]

    _ok("create-signing-keys", "--stage", STAGE, "--rotate")
    (new,) = [key["kid"] for key in _key_ring()["keys"] if key["kid"] != old]
    assert _key_ring()["active"] == old

    _ok("activate-signing-key", new, "--stage", STAGE)
    assert _key_ring()["active"] == new

    _ok("retire-signing-key", old, "--stage", STAGE)
    assert [key["kid"] for key in _key_ring()["keys"]] == [new]


def test_the_active_signing_key_cannot_be_retired_nor_an_unknown_one_activated(fake_aws: str) -> None:
    _ok("create-signing-keys", "--stage", STAGE)
    ring = _key_ring()

    retired = admin("retire-signing-key", ring["active"], "--stage", STAGE)
    activated = admin("activate-signing-key", "no-such-kid", "--stage", STAGE)

    assert retired.returncode != 0 and "active key cannot be removed" in retired.stderr
    assert activated.returncode != 0 and "no key no-such-kid" in activated.stderr
    assert _key_ring() == ring


def test_tear_down_asks_first_then_deletes_tables_stacks_and_secrets(fake_aws: str) -> None:
    # GIVEN a bootstrapped stage, one of whose services also has a stack with a retained table
    _ok("bootstrap", "--stage", STAGE)
    location = merge_template("location")
    template = {
        "Resources": {"LocationTable": location["Resources"]["LocationTable"]},
        "Outputs": {"TableName": location["Outputs"]["TableName"]},
    }
    boto3.client("cloudformation").create_stack(StackName="location-service-dev", TemplateBody=json.dumps(template))
    fingerprint = stages.fingerprint_parameter("location", STAGE)  # as the pipeline's release stored it
    boto3.client("ssm").put_parameter(Name=fingerprint, Value="0" * 64, Type="String")

    # WHEN tear-down runs without, then with, --yes
    refused = admin("tear-down", "--stage", STAGE)
    assert refused.returncode != 0 and boto3.client("dynamodb").list_tables()["TableNames"]
    _ok("tear-down", "--stage", STAGE, "--yes")

    # THEN nothing of the stage is left
    assert boto3.client("dynamodb").list_tables()["TableNames"] == []
    assert boto3.client("ssm").describe_parameters()["Parameters"] == []
    assert not [
        s
        for s in boto3.client("cloudformation").list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    ]


def _service_tree(root: Path) -> None:
    for name in services.SERVICES:
        folder = root / f"{name}-service"
        (folder / ".chalice").mkdir(parents=True)
        (folder / "resources.json").write_text((services.ROOT / f"{name}-service" / "resources.json").read_text())
        config = services.ROOT / f"{name}-service" / ".chalice" / "config.json"
        (folder / ".chalice" / "config.json").write_text(config.read_text())


def _deployed(root: Path, name: str, url: str) -> None:
    record = root / f"{name}-service" / ".chalice" / "deployed" / f"{STAGE}.json"
    record.parent.mkdir(parents=True)
    resources = [{"name": "rest_api", "resource_type": "rest_api", "rest_api_id": "abc", "rest_api_url": url}]
    record.write_text(json.dumps({"resources": resources, "schema_version": "2.0", "backend": "api"}))


def _stage_variables(root: Path, name: str) -> dict[str, str]:
    config = json.loads((root / f"{name}-service" / ".chalice" / "config.json").read_text())
    return config["stages"][STAGE]["environment_variables"]  # type: ignore[no-any-return]


def test_link_gives_the_later_services_the_urls_of_the_deployed_ones_in_their_stage_config(tmp_path: Path) -> None:
    # GIVEN the auth service deployed by `chalice deploy`, the others not yet
    _service_tree(tmp_path)
    _deployed(tmp_path, "auth", "https://auth.example/api/")

    # WHEN the URLs are linked
    missing = admin_module.link(STAGE, tmp_path)

    # THEN both callers of the auth service know its URL; the location URL is still to come
    assert _stage_variables(tmp_path, "location")["AUTH_URL"] == "https://auth.example/api/"
    assert _stage_variables(tmp_path, "profile")["AUTH_URL"] == "https://auth.example/api/"
    assert "LOCATION_URL" not in _stage_variables(tmp_path, "profile")
    assert missing == ["profile-service LOCATION_URL (location-service is not deployed on dev)"]


def test_link_refuses_the_local_stage() -> None:
    with pytest.raises(SystemExit, match="not deployed"):
        admin_module.link("local")


def test_the_urls_chalice_deploy_needs_are_the_ones_the_stacks_import() -> None:
    assert admin_module.imported_urls() == {
        s.name: {f"{callee.upper()}_URL": callee for callee in s.calls}
        for s in registry.load().services.values()
        if s.calls
    }


# Deploying from any clone: Chalice's records are ignored by git, their copies in SSM are not.

ROLE_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}


def _deployed_in_fake_aws(name: str) -> dict[str, Any]:
    """What `chalice deploy` makes for a service (a role, a function, a REST API), and its record."""
    role = boto3.client("iam").create_role(
        RoleName=f"{name}-service-{STAGE}", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY)
    )["Role"]
    function = boto3.client("lambda").create_function(
        FunctionName=f"{name}-service-{STAGE}",
        Runtime="python3.13",
        Role=role["Arn"],
        Handler="app.app",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    api = boto3.client("apigateway").create_rest_api(name=f"{name}-service")
    url = f"https://{api['id']}.execute-api.us-east-1.amazonaws.com/api/"
    resources = [
        {"name": "default-role", "resource_type": "iam_role", "role_name": role["RoleName"], "role_arn": role["Arn"]},
        {"name": "api_handler", "resource_type": "lambda_function", "lambda_arn": function["FunctionArn"]},
        {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api["id"], "rest_api_url": url},
    ]
    return {"resources": resources, "schema_version": "2.0", "backend": "api"}


def _in_clone(clone: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tools.admin", *args], cwd=clone, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_deployment_record_stored_by_one_clone_is_what_another_clone_deploys_against(
    fake_aws: str, tmp_path: Path
) -> None:
    # GIVEN a clone that deployed the auth service and stored its record
    first, second = fresh_clone(tmp_path / "first"), tmp_path / "second"
    record = _deployed_in_fake_aws("auth")
    (first / "auth-service" / ".chalice" / "deployed").mkdir(parents=True)
    (first / "auth-service" / ".chalice" / "deployed" / f"{STAGE}.json").write_text(json.dumps(record))
    admin_module._aws.cache_clear()
    admin_module.store_record("auth", STAGE, first)

    # WHEN a clone without records fetches them
    found = admin_module.fetch_record("auth", STAGE, second)
    missing = admin_module.fetch_record("location", STAGE, second)

    # THEN it has the same record (so `chalice deploy` updates that API), and none for the others
    assert found and not missing
    assert json.loads((second / "auth-service" / ".chalice" / "deployed" / f"{STAGE}.json").read_text()) == record
    assert admin_module.deployed_url("auth", STAGE, second) == record["resources"][2]["rest_api_url"]
    admin_module._aws.cache_clear()


def test_tear_down_from_a_fresh_clone_removes_what_another_clone_deployed(fake_aws: str, tmp_path: Path) -> None:
    # GIVEN a stage whose three services were deployed from another clone, records in SSM
    _ok("bootstrap", "--stage", STAGE)
    ssm = boto3.client("ssm")
    for name in services.SERVICES:
        record = _deployed_in_fake_aws(name)
        ssm.put_parameter(
            Name=admin_module.record_parameter(name, STAGE), Value=json.dumps(record), Type="String", Overwrite=True
        )
    clone = fresh_clone(tmp_path / "clone")

    # WHEN a fresh clone tears the stage down
    _in_clone(clone, "tear-down", "--stage", STAGE, "--yes")

    # THEN no function, role, API, table or parameter of the stage is left
    assert boto3.client("lambda").list_functions()["Functions"] == []
    assert [r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]] == []
    assert boto3.client("apigateway").get_rest_apis()["items"] == []
    assert boto3.client("dynamodb").list_tables()["TableNames"] == []
    assert ssm.describe_parameters()["Parameters"] == []


def test_a_chalice_deployed_auth_service_finds_its_own_url_where_it_reads_its_issuer(fake_aws: str) -> None:
    # GIVEN the auth service deployed by `tools.admin deploy`, which then publishes its URL
    url = "https://abc123.execute-api.us-east-1.amazonaws.com/api/"
    admin_module.publish_own_url("auth", STAGE, url)
    reference = services.load("auth").stage_env(STAGE)["TOKEN_ISSUER"]

    # THEN the parameter its TOKEN_ISSUER names holds it, and tear-down removes it
    assert reference == "ssm:/profiles/dev/auth/url"
    stored = boto3.client("ssm").get_parameter(Name=reference.removeprefix("ssm:"))["Parameter"]["Value"]
    assert stored == url
    _ok("tear-down", "--stage", STAGE, "--yes")
    assert boto3.client("ssm").describe_parameters()["Parameters"] == []


def test_deploy_refuses_a_stage_whose_services_have_event_functions_before_making_anything(fake_aws: str) -> None:
    # chalice deploy makes no stream, topic or queue: it would stop at the first event source
    result = admin("deploy", "--stage", STAGE)

    assert result.returncode != 0
    assert "deploy the dev stage through the pipeline's stacks" in result.stderr, result.stderr
    assert "auth-service, location-service, profile-service" in result.stderr
    assert boto3.client("lambda").list_functions()["Functions"] == []


def _stored_form(secret: str) -> str:
    """A service client's secret as the auth table holds it (docs/security.md): its SHA-256."""
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()
