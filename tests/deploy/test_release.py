"""The pipeline's deploy step (tools.release): only the stacks whose inputs changed, in dependency order.

It runs against moto's server, which can create and execute change sets (and resolves
SSM-typed parameters as it creates a stack) but has no SAM transform: each service's
template here is a small stand-in (an SNS topic) with the same parameters as the real ones.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
import pytest

from tests.deploy.conftest import admin
from tests.support import services
from tests.support.repository import fresh_clone
from tools import release, stages

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group("bootstrap")]

STAGE = "prod"
BUCKET = "profiles-prod-pipeline-applicationbucket"
ROLE = "arn:aws:iam::123456789012:role/profiles-prod-pipeline-CFNDeployRole"
JWKS = '{"keys":[]}'  # stands for what tools.admin writes (test_handed_over_jwks.py)


def _template(name: str) -> str:
    return json.dumps(
        {
            "Parameters": {
                "Stage": {"Type": "String"},
                "AlarmEmail": {"Type": "String"},
                "HandedOverJwks": {"Type": "AWS::SSM::Parameter::Value<String>"},
            },
            "Resources": {"AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": name}}},
            "Outputs": {"Service": {"Value": name}},
        }
    )


@pytest.fixture
def clone(fake_aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh clone whose build has left a packaged template per service, the bucket for them, a JWKS."""
    boto3.client("ssm").put_parameter(Name=stages.jwks_parameter(STAGE), Value=JWKS, Type="String")
    root = fresh_clone(tmp_path / "clone")
    for name in services.SERVICES:
        release.template_file(name, root).write_text(_template(name))
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setattr(release, "POLL_S", 0)
    return root


def _release(root: Path) -> list[str]:
    run = release.Release(STAGE, "ops@example.com", BUCKET, ROLE, root)
    return release.release(run, boto3.session.Session())


def _stacks() -> dict[str, str]:
    found = boto3.client("cloudformation").describe_stacks()["Stacks"]
    return {s["StackName"]: s["StackStatus"] for s in found}


def _touch(path: Path) -> None:
    path.write_text(path.read_text() + "\n")


def test_the_first_release_creates_every_stack_in_dependency_order(clone: Path) -> None:
    deployed = _release(clone)

    assert deployed == list(services.SERVICES)
    assert _stacks() == {f"{s}-service-{STAGE}": "CREATE_COMPLETE" for s in services.SERVICES}


def test_a_change_to_one_service_deploys_that_service_only(clone: Path) -> None:
    # GIVEN a released stage
    _release(clone)

    # WHEN only the profile service's code changes
    _touch(clone / "profile-service" / "app.py")

    # THEN the next release deploys the profile stack only, and the one after nothing
    assert release.changed(boto3.client("ssm"), STAGE, clone) == ["profile"]
    assert _release(clone) == ["profile"]
    assert _release(clone) == []


def test_a_change_to_a_merge_template_deploys_its_service_only(clone: Path) -> None:
    _release(clone)

    _touch(clone / "location-service" / "resources.json")

    assert _release(clone) == ["location"]


def test_a_change_to_the_shared_library_deploys_every_service_in_order(clone: Path) -> None:
    _release(clone)

    _touch(clone / "shared" / "servicekit" / "__init__.py")

    assert _release(clone) == list(services.SERVICES)


def test_a_change_to_the_bytecode_the_build_adds_to_the_packages_deploys_every_service(clone: Path) -> None:
    _release(clone)

    _touch(clone / "tools" / "bytecode.py")

    assert _release(clone) == list(services.SERVICES)


def _published() -> str:
    return str(boto3.client("ssm").get_parameter(Name=stages.jwks_parameter(STAGE))["Parameter"]["Value"])


def _handed_over(service: str) -> str:
    """The JWKS CloudFormation resolved for the stack (AWS reports it as ResolvedValue, moto in ParameterValue)."""
    (stack,) = boto3.client("cloudformation").describe_stacks(StackName=f"{service}-service-{STAGE}")["Stacks"]
    (parameter,) = [p for p in stack["Parameters"] if p["ParameterKey"] == "HandedOverJwks"]
    return str(parameter.get("ResolvedValue", parameter["ParameterValue"]))


def test_a_new_signing_key_deploys_every_stack_with_the_new_public_keys(clone: Path) -> None:
    # GIVEN a stage released with its key ring, each stack handed the ring's public keys
    result = admin("create-signing-keys", "--stage", STAGE)
    assert result.returncode == 0, result.stderr
    assert _release(clone) == list(services.SERVICES)
    assert {_handed_over(s) for s in services.SERVICES} == {_published()}

    # WHEN a key is added to the ring
    result = admin("create-signing-keys", "--stage", STAGE, "--rotate")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(_published())["keys"]) == 2

    # THEN the next release updates every stack (CloudFormation reads the parameter again for
    # each change set; moto, which compares templates only, calls them unchanged), then none
    assert _release(clone) == list(services.SERVICES)
    assert _release(clone) == []


def test_a_stage_without_the_public_keys_is_refused_with_the_command_that_writes_them(clone: Path) -> None:
    boto3.client("ssm").delete_parameter(Name=stages.jwks_parameter(STAGE))

    with pytest.raises(SystemExit) as refused:
        _release(clone)

    assert f"tools.admin create-signing-keys --stage {STAGE}" in str(refused.value)


def test_tests_docs_and_tools_are_not_inputs_of_any_stack(clone: Path) -> None:
    _release(clone)

    for path in ("tests/test_apps.py", "docs/deployment.md", "tools/admin.py", "README.md"):
        _touch(clone / path)

    assert _release(clone) == []


def test_the_fingerprint_is_the_same_through_the_vendor_symlink_and_through_the_builds_copy(tmp_path: Path) -> None:
    # GIVEN a clone with the symlink, and one where the build copied the shared library into vendor/
    linked = fresh_clone(tmp_path / "linked")
    copied = fresh_clone(tmp_path / "copied")
    for name in services.SERVICES:
        vendored = copied / f"{name}-service" / "vendor" / "servicekit"
        target = vendored.resolve()
        vendored.unlink()
        shutil.copytree(target, vendored)  # what the buildspec's `cp -rL` does

    # THEN both have the same fingerprints
    assert {s: release.fingerprint(s, JWKS, linked) for s in services.SERVICES} == {
        s: release.fingerprint(s, JWKS, copied) for s in services.SERVICES
    }
