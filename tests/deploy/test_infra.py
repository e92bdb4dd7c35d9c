"""resources.json and the stage policy files: made by tools.infra from the registry and each service's part."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import services
from tests.support.repository import fresh_clone
from tools import infra, new_service, registry

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group("infra")]

NEW = services.unused_name()
NEW_PORT = new_service.next_port(registry.load())
NEW_SERVICE = f"""
[{NEW}]
summary = "a fourth service, as tools.new_service adds one"
port = {NEW_PORT}
calls = ["auth"]
table = {{ key = "account_id", actions = ["GetItem", "PutItem"] }}
"""


def _infra(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tools.infra`` run in the repository at ``root``, as a developer runs it."""
    return subprocess.run(
        [sys.executable, "-m", "tools.infra", *args], cwd=root, capture_output=True, text=True, timeout=120
    )


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def test_the_committed_templates_and_policy_files_are_exactly_what_the_script_makes() -> None:
    made = infra.render()

    assert {path.relative_to(services.ROOT).parts[0] for path in made} == {f"{s}-service" for s in services.SERVICES}
    for path, text in made.items():
        assert path.read_text() == text, f"{path} is stale: run python -m tools.infra"


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_policy_file_the_stage_config_names_is_made(name: str) -> None:
    config = _json(services.ROOT / f"{name}-service" / ".chalice" / "config.json")
    named = {stage["iam_policy_file"] for stage in config["stages"].values() if "iam_policy_file" in stage}
    named |= {
        function["iam_policy_file"]
        for stage in config["stages"].values()
        for function in stage.get("lambda_functions", {}).values()
        if "iam_policy_file" in function
    }

    made = {
        path.name
        for path in infra.render()
        if path.parent.name == ".chalice" and path.parts[-3] == f"{name}-service" and path.name != "config.json"
    }
    assert named and made == named


def test_check_names_each_file_that_differs_and_changes_nothing(tmp_path: Path) -> None:
    # GIVEN a clone where one template was edited by hand and one policy file is missing
    root = fresh_clone(tmp_path / "clone")
    template = root / "location-service" / "resources.json"
    template.write_text(template.read_text().replace('"TracingEnabled": true', '"TracingEnabled": false'))
    edited = template.read_text()
    (root / "profile-service" / ".chalice" / "policy-prod.json").unlink()

    # WHEN the check runs
    checked = _infra(root, "--check")

    # THEN it fails naming both, and writes nothing
    assert checked.returncode == 1
    assert "location-service/resources.json" in checked.stderr
    assert "profile-service/.chalice/policy-prod.json" in checked.stderr
    assert "auth-service" not in checked.stderr
    assert template.read_text() == edited
    # AND writing makes them again, after which the check passes
    assert _infra(root).returncode == 0
    assert _infra(root, "--check").returncode == 0
    assert template.read_text() == (services.ROOT / "location-service" / "resources.json").read_text()


@pytest.fixture(scope="module")
def with_a_fourth_service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone with a fourth service in the registry, a config.json like the location service's, no part."""
    root = fresh_clone(tmp_path_factory.mktemp("fourth") / "clone")
    with (root / "services.toml").open("a") as registry_file:
        registry_file.write(NEW_SERVICE)
    config = (root / "location-service" / ".chalice" / "config.json").read_text().replace("location", NEW)
    (root / f"{NEW}-service" / ".chalice").mkdir(parents=True)
    (root / f"{NEW}-service" / ".chalice" / "config.json").write_text(config)
    made = _infra(root)
    assert made.returncode == 0, made.stderr
    return root


def test_a_new_service_gets_its_table_wiring_policies_and_alarms_from_the_registry(
    with_a_fourth_service: Path,
) -> None:
    folder = with_a_fourth_service / f"{NEW}-service"
    template = _json(folder / "resources.json")
    resources = template["Resources"]

    table = resources[f"{NEW.capitalize()}Table"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "account_id", "KeyType": "HASH"}]
    assert "TimeToLiveSpecification" not in table
    wiring = {
        "TABLE_NAME": {"Ref": f"{NEW.capitalize()}Table"},
        "AUTH_URL": {"Fn::ImportValue": {"Fn::Sub": "profiles-${Stage}-auth-url"}},
    }
    assert resources["APIHandler"]["Properties"]["Environment"]["Variables"] == wiring
    assert resources["JwtAuth"]["Properties"]["Environment"]["Variables"] == wiring | {
        "JWKS": {"Ref": "HandedOverJwks"}
    }
    assert template["Parameters"]["HandedOverJwks"]["AllowedPattern"].endswith("/auth/jwks$")
    (grant,) = resources["TableAccessPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert grant["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert "SecretAccessPolicy" not in resources and "OwnUrlParameter" not in resources
    assert resources["RestAPI"]["Properties"]["Name"] == {"Fn::Sub": f"{NEW}-service-${{Stage}}"}
    (system_errors,) = [m for m in resources["TableSystemErrorsAlarm"]["Properties"]["Metrics"] if m["ReturnData"]]
    assert system_errors["Expression"] == "SUM([getitem, putitem])"
    dev = _json(folder / ".chalice" / "policy-dev.json")
    (own_table,) = [s for s in dev["Statement"] if s["Sid"] == "OwnTable"]
    assert own_table["Resource"] == [
        f"arn:*:dynamodb:*:*:table/{NEW}-dev",
        f"arn:*:dynamodb:*:*:table/{NEW}-dev/index/*",
    ]
    assert {s["Sid"] for s in _json(folder / ".chalice" / "policy-prod.json")["Statement"]} == {"Logs", "Tracing"}


def test_a_new_last_service_takes_the_dashboard_and_the_one_before_exports_its_functions(
    with_a_fourth_service: Path,
) -> None:
    fourth = _json(with_a_fourth_service / f"{NEW}-service" / "resources.json")
    profile = _json(with_a_fourth_service / "profile-service" / "resources.json")

    assert "Dashboard" not in profile["Resources"]
    dashboard = fourth["Resources"]["Dashboard"]["Properties"]
    assert dashboard["DashboardName"] == {"Fn::Sub": f"{NEW}-service-${{Stage}}-dashboard"}
    body, variables = dashboard["DashboardBody"]["Fn::Sub"]
    assert f"{NEW}-service-${{Stage}}" in body and "profile-service-${Stage}" in body
    assert variables["ProfileApiFunction"] == {"Fn::ImportValue": {"Fn::Sub": "profiles-${Stage}-profile-api-function"}}
    exports = {o["Export"]["Name"]["Fn::Sub"] for o in profile["Outputs"].values() if "Export" in o}
    assert exports == {"profiles-${Stage}-profile-api-function", "profiles-${Stage}-profile-authorizer-function"}
    assert "Export" not in fourth["Outputs"].get("APIHandlerName", {})


def test_a_part_that_is_not_an_object_of_template_sections_is_refused_by_name(with_a_fourth_service: Path) -> None:
    part = with_a_fourth_service / f"{NEW}-service" / infra.PART
    try:
        part.write_text('{"Resource": {}}')
        refused = _infra(with_a_fourth_service)
        part.write_text("{")
        not_json = _infra(with_a_fourth_service)
    finally:
        part.unlink()

    assert refused.returncode == 2 and f"{NEW}-service/infrastructure.json" in refused.stderr
    assert "Parameters, Resources and Outputs" in refused.stderr
    assert not_json.returncode == 2 and f"{NEW}-service/infrastructure.json: not JSON" in not_json.stderr


def test_what_a_part_adds_is_merged_and_its_alarms_mail_the_topic() -> None:
    auth = infra.template(registry.service("auth"))
    part = _json(services.ROOT / "auth-service" / infra.PART)

    assert auth["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] is True  # generated, kept
    assert (
        auth["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
        == part["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    )
    assert "AlarmActions" not in part["Resources"]["LockoutsAlarm"]["Properties"]
    assert auth["Resources"]["LockoutsAlarm"]["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


# What the registry says about the issuer.


def _registry(extra: str) -> str:
    return (services.ROOT / "services.toml").read_text() + extra


def test_the_registry_has_exactly_one_issuer() -> None:
    assert registry.issuer().name == "auth"
    second = _registry(NEW_SERVICE.replace(f"port = {NEW_PORT}", f"port = {NEW_PORT}\nissuer = true"))
    none = (services.ROOT / "services.toml").read_text().replace("issuer = true\n", "")

    with pytest.raises(registry.RegistryError, match="exactly one service issues the tokens"):
        registry.parse(second)
    with pytest.raises(registry.RegistryError, match="exactly one service issues the tokens"):
        registry.parse(none)


def test_issuer_is_true_or_false() -> None:
    text = _registry(NEW_SERVICE.replace(f"port = {NEW_PORT}", f'port = {NEW_PORT}\nissuer = "yes"'))

    with pytest.raises(registry.RegistryError, match=rf"{NEW}\.issuer: must be true or false"):
        registry.parse(text)
