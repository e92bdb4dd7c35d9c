"""The templates' observability: alarms on the services' own metrics, the dashboard, X-Ray tracing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from servicekit import metrics
from tests.deploy.conftest import Packaged, merge_template, statements
from tests.deploy.test_templates import METRICS
from tests.support import services
from tools import dashboard

OPERATIONS_DOC = services.ROOT / "docs" / "operations.md"
DECLARED = dashboard.declared()  # name -> (metric, the services that may emit it)
TRACE_WRITES = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
API_METRICS = {"Count", "4XXError", "5XXError", "Latency"}


def _own_alarms(name: str) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The alarms on the services' own metrics: id -> (properties, the metrics they watch)."""
    found = {}
    for alarm_id, resource in merge_template(name)["Resources"].items():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        properties = resource["Properties"]
        watched = [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
        watched = watched or [properties]
        if any(m["Namespace"] == metrics.NAMESPACE for m in watched):
            found[alarm_id] = (properties, watched)
    return found


def _dimensions(metric: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in metric["Dimensions"]}


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_alarm_on_an_own_metric_watches_it_with_the_dimensions_the_code_emits(name: str) -> None:
    for alarm_id, (_, watched) in _own_alarms(name).items():
        for metric in watched:
            declared, emitters = DECLARED[metric["MetricName"]]
            dimensions = _dimensions(metric)
            assert metric["Namespace"] == metrics.NAMESPACE, alarm_id
            assert set(dimensions) == {*metrics.BASE_DIMENSIONS, *declared.dimensions}, alarm_id
            assert dimensions["service"] == name and name in emitters, alarm_id
            assert dimensions["stage"] == {"Ref": "Stage"}, alarm_id  # STAGE of the functions is the stack's Stage
            for dimension, values in declared.dimensions.items():
                assert dimensions[dimension] in values, alarm_id


def test_a_single_reused_refresh_token_raises_the_alarm_within_a_minute() -> None:
    (properties, _) = _own_alarms("auth")["RefreshTokenReuseAlarm"]

    assert properties["MetricName"] == "RefreshTokenReuse"
    assert (properties["Statistic"], properties["Period"], properties["EvaluationPeriods"]) == ("Sum", 60, 1)
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


def test_lockouts_raise_the_alarm_above_a_rate_per_minute() -> None:
    (properties, _) = _own_alarms("auth")["LockoutsAlarm"]

    assert properties["MetricName"] == "Lockouts"
    assert (properties["Statistic"], properties["Period"]) == ("Sum", 60)
    assert properties["Threshold"] > 1


def test_the_share_of_unavailable_locations_is_computed_from_all_three_statuses() -> None:
    (properties, watched) = _own_alarms("profile")["LocationUnavailableAlarm"]

    statuses = {_dimensions(metric)["location_status"] for metric in watched}
    assert statuses == set(DECLARED["ProfileReads"][0].dimensions["location_status"])
    (returned,) = [m for m in properties["Metrics"] if m["ReturnData"]]
    assert "100 * FILL(unavailable, 0) / reads" in returned["Expression"]
    assert 0 < properties["Threshold"] < 100


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_alarm_on_an_own_metric_has_its_runbook_entry(name: str) -> None:
    runbook = OPERATIONS_DOC.read_text()

    for alarm_id, (properties, _) in _own_alarms(name).items():
        match = re.search(r"docs/operations\.md: (\w+)", properties["AlarmDescription"])
        assert match, f"{alarm_id} names no runbook entry"
        assert re.search(rf"^#+ .*\b{match.group(1)}\b", runbook, re.MULTILINE), f"no runbook entry {match.group(1)}"


# The dashboard.


def _dashboard() -> tuple[dict[str, Any], dict[str, Any]]:
    body, variables = merge_template(dashboard.HOME)["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(body), variables


def _rows() -> list[list[Any]]:
    document, _ = _dashboard()
    return [row for w in document["widgets"] if w["type"] == "metric" for row in w["properties"]["metrics"]]


def test_the_dashboard_is_in_the_stack_deployed_last_as_the_script_makes_it() -> None:
    committed = merge_template(services.SERVICES[-1])["Resources"]["Dashboard"]

    assert dashboard.HOME == services.SERVICES[-1]
    assert committed == dashboard.resource()
    assert not [s for s in services.SERVICES[:-1] if "Dashboard" in merge_template(s)["Resources"]]


def test_every_widget_names_a_metric_the_code_or_aws_publishes_with_its_dimensions() -> None:
    for row in _rows():
        namespace, name, *rest = row
        pairs = [item for item in rest if not isinstance(item, dict)]
        dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
        if namespace == metrics.NAMESPACE:
            declared, emitters = DECLARED[name]
            assert set(dimensions) == {*metrics.BASE_DIMENSIONS, *declared.dimensions}, row
            assert dimensions["service"] in emitters and dimensions["stage"] == "${Stage}", row
            assert all(dimensions[d] in values for d, values in declared.dimensions.items()), row
        elif namespace == "AWS/ApiGateway":
            assert name in API_METRICS and set(dimensions) == {"ApiName"}, row
            assert dimensions["ApiName"] in {f"{s}-service-${{Stage}}" for s in services.SERVICES}, row
        else:
            assert set(dimensions) in METRICS[namespace, name], row


def test_the_dashboard_shows_what_an_operator_watches() -> None:
    rows = _rows()
    shown = {(row[0], row[1]) for row in rows}
    apis = {row[3] for row in rows if row[0] == "AWS/ApiGateway"}
    functions = {row[3] for row in rows if row[0] == "AWS/Lambda"}

    assert {("AWS/ApiGateway", m) for m in ("Count", "5XXError", "Latency")} <= shown
    assert apis == {f"{s}-service-${{Stage}}" for s in services.SERVICES}
    assert len(functions) == 2 * len(services.SERVICES)  # each service's API function and authorizer
    assert ("AWS/Lambda", "Throttles") in shown
    assert {(metrics.NAMESPACE, name) for name in DECLARED} <= shown


def test_the_dashboard_refers_only_to_this_stack_and_to_names_earlier_stacks_export() -> None:
    document, variables = _dashboard()
    home = merge_template(dashboard.HOME)
    exported = {
        output["Export"]["Name"]["Fn::Sub"]
        for service in services.SERVICES[: services.SERVICES.index(dashboard.HOME)]
        for output in merge_template(service)["Outputs"].values()
        if "Export" in output
    }
    known = {*variables, *home["Parameters"], *home["Resources"], "AWS::Region"}

    assert set(re.findall(r"\$\{([^}]+)\}", json.dumps(document))) <= known
    for variable in variables.values():
        assert variable["Fn::ImportValue"]["Fn::Sub"] in exported


# X-Ray.


@pytest.mark.parametrize("name", services.SERVICES)
def test_chalice_traces_every_function_and_the_api_is_traced_too(name: str) -> None:
    config = json.loads((services.ROOT / f"{name}-service" / ".chalice" / "config.json").read_text())

    assert config["xray"] is True
    assert not [stage for stage, values in config["stages"].items() if "xray" in values]
    assert merge_template(name)["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] is True


@pytest.mark.deploy
@pytest.mark.xdist_group("package")
@pytest.mark.parametrize("name", services.SERVICES)
def test_every_packaged_function_traces_actively_and_its_role_may_send_traces(
    packaged: dict[str, Packaged], name: str
) -> None:
    package = packaged[name]
    functions = package.of_type("AWS::Serverless::Function")

    assert package.resources["RestAPI"]["Properties"]["TracingEnabled"] is True
    assert functions
    for function_id, function in functions.items():
        assert function["Properties"]["Tracing"] == "Active", function_id
        role = package.resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]
        granted = {
            action
            for policy in role["Properties"]["Policies"]
            for statement in statements(policy["PolicyDocument"])
            for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        }
        assert granted >= TRACE_WRITES, function_id
