"""The public JWKS handed to the authorizers at deploy time: written with the key ring, read by the stacks.

The key ring commands of ``tools.admin`` write the stage's public JWKS to the SSM
parameter ``/profiles/<stage>/auth/jwks``; each service's stack declares it as an
SSM-typed parameter and gives it to its authorizer as ``JWKS``. What the authorizer does
with ``JWKS`` is tested with the authorizer (tests/shared); the release's side is in
test_release.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from servicekit.keyring import KeyRing
from servicekit.lazy import Lazy
from tests.deploy.conftest import STAGE, Packaged, admin
from tests.support import services
from tools import admin as admin_module
from tools import stages

pytestmark = [pytest.mark.deploy]

BOOTSTRAPPED = "dev"
SIGNING_KEYS = "/profiles/dev/auth/signing-keys"
SSM_TYPE = "AWS::SSM::Parameter::Value<String>"


def _ok(*args: str) -> str:
    result = admin(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _published() -> str:
    parameter = boto3.client("ssm").get_parameter(Name=stages.jwks_parameter(BOOTSTRAPPED))["Parameter"]
    assert parameter["Type"] == "String"
    return str(parameter["Value"])


def _version() -> int:
    return int(boto3.client("ssm").get_parameter(Name=stages.jwks_parameter(BOOTSTRAPPED))["Parameter"]["Version"])


@pytest.fixture
def jwks_route() -> Iterator[Any]:
    """What ``GET /.well-known/jwks.json`` of the auth service serves with the stage's stored key ring."""
    auth = services.load("auth")

    def served() -> Any:
        document = boto3.client("ssm").get_parameter(Name=SIGNING_KEYS, WithDecryption=True)["Parameter"]["Value"]
        auth.module("keys").key_ring.override(KeyRing.loads(document))
        with auth.client() as client:
            response = client.http.get("/.well-known/jwks.json")
        assert response.status_code == 200
        return json.loads(response.body)

    yield served
    Lazy.reset_all()


def _compact(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


@pytest.mark.xdist_group("bootstrap")
def test_each_key_ring_command_writes_the_jwks_the_auth_service_serves(fake_aws: str, jwks_route: Any) -> None:
    # GIVEN a bootstrapped stage
    _ok("bootstrap", "--stage", BOOTSTRAPPED)
    assert _published() == _compact(jwks_route())
    (old,) = [key["kid"] for key in jwks_route()["keys"]]

    # WHEN a key is added, activated, and the old one retired, THEN each time the parameter is the served JWKS
    _ok("create-signing-keys", "--stage", BOOTSTRAPPED, "--rotate")
    assert _published() == _compact(jwks_route())
    (new,) = [key["kid"] for key in jwks_route()["keys"] if key["kid"] != old]

    _ok("activate-signing-key", new, "--stage", BOOTSTRAPPED)
    assert _published() == _compact(jwks_route())

    _ok("retire-signing-key", old, "--stage", BOOTSTRAPPED)
    assert _published() == _compact(jwks_route())
    assert [key["kid"] for key in json.loads(_published())["keys"]] == [new]


@pytest.mark.xdist_group("bootstrap")
def test_create_signing_keys_repairs_a_missing_or_outdated_jwks_and_otherwise_writes_nothing(
    fake_aws: str, jwks_route: Any
) -> None:
    # GIVEN a stage bootstrapped before the JWKS was handed over (no parameter)
    _ok("bootstrap", "--stage", BOOTSTRAPPED)
    boto3.client("ssm").delete_parameter(Name=stages.jwks_parameter(BOOTSTRAPPED))

    # WHEN create-signing-keys runs on its existing ring, THEN the parameter is back
    assert "public keys" in _ok("create-signing-keys", "--stage", BOOTSTRAPPED)
    assert _published() == _compact(jwks_route())

    # AND an outdated one is written again, from the same ring
    boto3.client("ssm").put_parameter(
        Name=stages.jwks_parameter(BOOTSTRAPPED), Value='{"keys":[]}', Type="String", Overwrite=True
    )
    _ok("create-signing-keys", "--stage", BOOTSTRAPPED)
    assert _published() == _compact(jwks_route())

    # AND a current one is left alone
    version = _version()
    assert "public keys" not in _ok("create-signing-keys", "--stage", BOOTSTRAPPED)
    assert _version() == version


@pytest.mark.xdist_group("bootstrap")
def test_adding_or_retiring_a_key_says_to_release_the_stacks_and_activating_says_what_still_reads_the_old(
    fake_aws: str,
) -> None:
    _ok("bootstrap", "--stage", BOOTSTRAPPED)
    (old,) = [key["kid"] for key in json.loads(_published())["keys"]]

    added = _ok("create-signing-keys", "--stage", BOOTSTRAPPED, "--rotate")
    (new,) = [key["kid"] for key in json.loads(_published())["keys"] if key["kid"] != old]
    activated = _ok("activate-signing-key", new, "--stage", BOOTSTRAPPED)
    retired = _ok("retire-signing-key", old, "--stage", BOOTSTRAPPED)

    assert f"python -m tools.release --stage {BOOTSTRAPPED}" in added
    assert f"python -m tools.release --stage {BOOTSTRAPPED}" in retired and f"{old} stops verifying" in retired
    assert "tools.release" not in activated and "nothing for the authorizers" in activated
    # Every step reaches the running functions by itself: nothing to restart, redeploy or recycle.
    for output in (added, activated, retired):
        assert "nothing to restart or redeploy" in output
    assert f"signs with {new} within 60 s" in activated


# The templates.


@pytest.mark.xdist_group("package")
@pytest.mark.parametrize("name", services.SERVICES)
def test_the_authorizer_gets_jwks_from_the_ssm_typed_parameter_and_the_api_handler_does_not(
    packaged: dict[str, Packaged], name: str
) -> None:
    template = packaged[name].template

    assert template["Parameters"]["HandedOverJwks"]["Type"] == SSM_TYPE
    assert template["Resources"]["JwtAuth"]["Properties"]["Environment"]["Variables"]["JWKS"] == {
        "Ref": "HandedOverJwks"
    }
    assert "JWKS" not in template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    # A dynamic reference would be read again only when the template changes, not on every update.
    assert "{{resolve:ssm" not in json.dumps(template)


@pytest.mark.xdist_group("package")
@pytest.mark.parametrize("name", services.SERVICES)
def test_the_authorizers_environment_with_a_ring_of_three_keys_fits_lambdas_4_kb(
    packaged: dict[str, Packaged], name: str
) -> None:
    # GIVEN the JWKS of a ring in the middle of a rotation that was never finished: three keys
    ring = KeyRing.generate().with_new_key().with_new_key()
    jwks = _compact(ring.jwks())
    packaged_environment = packaged[name].resources["JwtAuth"]["Properties"]["Environment"]["Variables"]

    # THEN the environment tools.admin checks is the one Chalice packages, and it fits
    modelled = admin_module.authorizer_environment(name, STAGE, jwks)
    assert set(modelled) == set(packaged_environment)
    assert admin_module.environment_size({**packaged_environment, "JWKS": jwks}) <= admin_module.ENVIRONMENT_LIMIT
    assert admin_module.jwks_document(STAGE, ring) == jwks


def test_a_ring_too_large_for_the_authorizers_environment_is_refused_naming_the_sizes() -> None:
    ring = KeyRing.generate()
    for _ in range(19):
        ring = ring.with_new_key()

    with pytest.raises(SystemExit) as refused:
        admin_module.jwks_document(STAGE, ring)

    assert "a key ring of 20 keys" in str(refused.value) and "over Lambda's 4096" in str(refused.value)
