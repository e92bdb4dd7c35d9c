"""The packaged CloudFormation templates: valid, least privilege, observable, wired in order."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from servicekit import events, metrics
from servicekit.cors import is_navigated
from tests.deploy.conftest import (
    BIN,
    STAGE,
    Packaged,
    actions_used,
    as_list,
    merge_template,
    operations_used,
    policy_file,
    policy_files,
    statements,
)
from tests.support import services
from tools import dashboard, infra, registry

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group("package")]

AUTHORIZER = "jwt_auth"
AUTHORIZER_TTL_S = 60
DATA_SERVICES = ("dynamodb", "ssm", "secretsmanager", "kms", "s3")
EXPORT = "profiles-${Stage}-{service}-url"

# Each metric the alarms may use, in its namespace, with the dimension sets AWS publishes
# it under (CloudWatch matches dimension sets exactly: any other set has no data).
METRICS: dict[tuple[str, str], list[set[str]]] = {
    ("AWS/DynamoDB", "ReadThrottleEvents"): [{"TableName"}, {"TableName", "GlobalSecondaryIndexName"}],
    ("AWS/DynamoDB", "WriteThrottleEvents"): [{"TableName"}, {"TableName", "GlobalSecondaryIndexName"}],
    ("AWS/DynamoDB", "SystemErrors"): [{"TableName", "Operation"}],
    ("AWS/Lambda", "Errors"): [{"FunctionName"}, {"FunctionName", "Resource"}],
    ("AWS/Lambda", "Throttles"): [{"FunctionName"}, {"FunctionName", "Resource"}],
    ("AWS/ApiGateway", "5XXError"): [{"ApiName"}, {"ApiName", "Stage"}],
    ("AWS/ApiGateway", "Latency"): [{"ApiName"}, {"ApiName", "Stage"}],
    ("AWS/Lambda", "IteratorAge"): [{"FunctionName"}, {"FunctionName", "Resource"}],
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): [{"QueueName"}],
    ("AWS/SQS", "ApproximateAgeOfOldestMessage"): [{"QueueName"}],
}
# The services' own metrics (EMF), with the dimension set each is emitted with.
METRICS.update(
    {(metrics.NAMESPACE, m.name): [{*metrics.BASE_DIMENSIONS, *m.dimensions}] for m, _ in dashboard.declared().values()}
)
# Actions with no resource type (IAM allows them only on "*").
RESOURCELESS_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
DYNAMODB_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "TransactWriteItems"}


def test_each_packaged_template_passes_cfn_lint(packaged: dict[str, Packaged]) -> None:
    templates = [str(p.zip_path.with_name("sam.json")) for p in packaged.values()]

    result = subprocess.run([str(BIN / "cfn-lint"), *templates], capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_package_holds_the_shared_library_and_no_boto3(packaged: dict[str, Packaged], name: str) -> None:
    names = packaged[name].zip_names()
    shared = {f"servicekit/{p.name}" for p in (services.ROOT / "shared" / "servicekit").glob("*.py")}

    assert shared <= set(names)
    assert "app.py" in names and "chalicelib/__init__.py" in names
    assert not [n for n in names if n.split("/")[0] in ("boto3", "botocore") or n.startswith("boto3-")]


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_protected_route_carries_the_authorizer_and_no_public_one_does(
    packaged: dict[str, Packaged], name: str
) -> None:
    swagger = packaged[name].resources["RestAPI"]["Properties"]["DefinitionBody"]
    routes = services.load(name).app.routes

    for path, methods in routes.items():
        for method, entry in methods.items():
            security = swagger["paths"][path][method.lower()].get("security")
            expected = [{AUTHORIZER: []}] if entry.authorizer is not None else None
            assert security == expected, f"{method} {path}"


@pytest.mark.parametrize("name", services.SERVICES)
def test_preflights_are_answered_for_every_path_by_chalices_mock_or_by_the_function(
    packaged: dict[str, Packaged], name: str
) -> None:
    swagger = packaged[name].resources["RestAPI"]["Properties"]["DefinitionBody"]
    routes = services.load(name).app.routes

    for path, operations in swagger["paths"].items():
        if all(is_navigated(entry) for entry in routes[path].values()):
            assert "options" not in operations, path  # a page a browser navigates to: never fetched across origins
            continue
        preflight = operations["options"]
        assert "security" not in preflight, path  # a browser's preflight carries no token
        integration = preflight["x-amazon-apigateway-integration"]["type"]
        assert integration in ("mock", "aws_proxy"), path


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_gateways_own_errors_are_readable_from_any_origin(packaged: dict[str, Packaged], name: str) -> None:
    swagger = packaged[name].resources["RestAPI"]["Properties"]["DefinitionBody"]
    responses = swagger["x-amazon-apigateway-gateway-responses"]

    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert responses[kind]["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_authorizer_reads_the_bearer_header_and_caches_each_answer_for_a_minute(
    packaged: dict[str, Packaged], name: str
) -> None:
    definition = packaged[name].resources["RestAPI"]["Properties"]["DefinitionBody"]["securityDefinitions"]
    authorizer = definition[AUTHORIZER]["x-amazon-apigateway-authorizer"]

    assert definition[AUTHORIZER]["name"] == "Authorization"
    assert authorizer["type"] == "token"
    # A cached answer outlives the token by at most this much: a small part of 15 minutes.
    assert authorizer["authorizerResultTtlInSeconds"] == AUTHORIZER_TTL_S
    assert "${JwtAuth.Arn}" in authorizer["authorizerUri"]["Fn::Sub"]


# The table and who may touch it.


def _table_id(package: Packaged) -> str:
    (table_id,) = package.of_type("AWS::DynamoDB::Table")
    return table_id


def _references(value: Any, name: str) -> bool:
    """Whether a template fragment refers to resource ``name``."""
    if isinstance(value, dict):
        if value.get("Ref") == name or (value.get("Fn::GetAtt") or [None])[0] == name:
            return True
        sub = value.get("Fn::Sub")
        if isinstance(sub, str) and re.search(r"\$\{" + re.escape(name) + r"[.}]", sub):
            return True
        return any(_references(v, name) for v in value.values())
    if isinstance(value, list):
        return any(_references(v, name) for v in value)
    return False


def _policies(package: Packaged) -> dict[str, tuple[list[Any], dict[str, Any]]]:
    """Every policy in the template: name -> (the roles it is on, its document)."""
    found = {}
    for name, resource in package.of_type("AWS::IAM::Policy").items():
        found[name] = (resource["Properties"]["Roles"], resource["Properties"]["PolicyDocument"])
    for name, role in package.of_type("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            found[f"{name}.{inline['PolicyName']}"] = ([{"Ref": name}], inline["PolicyDocument"])
    return found


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_table_is_on_demand_recoverable_encrypted_and_kept_when_its_stack_goes(
    packaged: dict[str, Packaged], name: str
) -> None:
    table = packaged[name].resources[_table_id(packaged[name])]
    properties = table["Properties"]

    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_table_expires_items_by_the_attribute_the_registry_names(name: str) -> None:
    (table,) = [r for r in merge_template(name)["Resources"].values() if r.get("Type") == "AWS::DynamoDB::Table"]
    ttl = registry.service(name).table.ttl

    expected = {"AttributeName": ttl, "Enabled": True} if ttl else None
    assert table["Properties"].get("TimeToLiveSpecification") == expected


@pytest.mark.parametrize("name", [s for s in services.SERVICES if registry.service(s).subscribes])
def test_a_subscribers_queue_hides_a_message_six_times_as_long_as_its_consumer_may_run(
    packaged: dict[str, Packaged], name: str
) -> None:
    # Lambda's advice for an SQS event source: a message taken by an invocation that is still
    # running must not come back to another one; and tombstones expire by the table's TTL.
    queue = packaged[name].resources[infra.QUEUE_ID]["Properties"]
    consumer = packaged[name].resources[infra.SUBSCRIBER]["Properties"]

    assert queue["VisibilityTimeout"] >= 6 * consumer["Timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == events.MAX_RECEIVES
    assert registry.service(name).table.ttl == "expires_at"


@pytest.mark.parametrize("name", services.SERVICES)
def test_only_the_services_own_policies_reach_its_table_from_the_api_handler_and_its_event_functions(
    packaged: dict[str, Packaged], name: str
) -> None:
    package = packaged[name]
    table_id = _table_id(package)
    service = registry.service(name)

    reaching = [policy for policy, (_, document) in _policies(package).items() if _references(document, table_id)]

    events = {"PublisherPolicy": f"{infra.PUBLISHER}Role"} if service.publishes else {}
    events |= {"ConsumerPolicy": f"{infra.SUBSCRIBER}Role"} if service.subscribes else {}
    assert reaching == ["TableAccessPolicy", *events]
    assert package.resources["TableAccessPolicy"]["Properties"]["Roles"] == [{"Ref": "ApiHandlerRole"}]
    for policy, role in events.items():
        assert package.resources[policy]["Properties"]["Roles"] == [{"Ref": role}]
    if service.subscribes:  # Table.erase: one PutItem of the tombstone, nothing else of the table
        consumer = statements(package.resources["ConsumerPolicy"]["Properties"]["PolicyDocument"])
        assert [a for st in consumer for a in as_list(st["Action"]) if a.startswith("dynamodb:")] == [
            "dynamodb:PutItem"
        ]
    for policy, (_, document) in _policies(package).items():
        for statement in statements(document):
            for resource in as_list(statement["Resource"]):
                if any(action.startswith("dynamodb:") for action in as_list(statement["Action"])):
                    # No literal ARN, no other table: only references to this template's own table.
                    assert _references(resource, table_id), f"{policy}: {resource}"


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_table_policy_grants_exactly_the_calls_the_code_makes(packaged: dict[str, Packaged], name: str) -> None:
    used = actions_used(name)
    (granted,) = statements(packaged[name].resources["TableAccessPolicy"]["Properties"]["PolicyDocument"])
    (dev_grant,) = [s for s in statements(policy_file(name, "policy-dev.json")) if s["Sid"] == "OwnTable"]

    assert used, "no table calls found in the service's code"
    assert set(granted["Action"]) == used
    assert set(dev_grant["Action"]) == used


@pytest.mark.parametrize("name", services.SERVICES)
def test_nothing_grants_wildcard_actions_or_any_resource_for_data(packaged: dict[str, Packaged], name: str) -> None:
    documents = [document for _, document in _policies(packaged[name]).values()]
    documents += [policy_file(name, f) for f in policy_files(name)]

    for document in documents:
        for statement in statements(document):
            actions = as_list(statement["Action"])
            assert not [a for a in actions if a == "*" or (a.split(":")[0] in DATA_SERVICES and "*" in a)]
            if not set(actions) <= RESOURCELESS_ACTIONS:
                assert "*" not in as_list(statement["Resource"])
            assert "NotAction" not in statement and "NotResource" not in statement


def _parameters(references: dict[str, str]) -> set[str]:
    return {value.removeprefix("ssm:") for value in references.values() if value.startswith("ssm:")}


@pytest.mark.parametrize("name", [s.name for s in registry.load().services.values() if s.secrets or s.issuer])
def test_parameters_are_readable_by_exactly_the_ones_the_stage_config_names(
    packaged: dict[str, Packaged], name: str
) -> None:
    # The secrets (signing keys, the client secret) and the auth service's own URL (its issuer).
    package = packaged[name]
    environment = services.stage_env(name, STAGE)
    (statement,) = statements(package.resources["SecretAccessPolicy"]["Properties"]["PolicyDocument"])
    arns = [r["Fn::Sub"].replace("${Stage}", STAGE) for r in as_list(statement["Resource"])]

    assert statement["Action"] == "ssm:GetParameter"
    assert {arn.split(":parameter", 1)[1] for arn in arns} == _parameters(environment)
    variables = package.resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert {k: v for k, v in variables.items() if str(v).startswith("ssm:")} == {
        k: v for k, v in environment.items() if v.startswith("ssm:")
    }
    dev_grants = [s for s in statements(policy_file(name, "policy-dev.json")) if s["Action"] == "ssm:GetParameter"]
    dev_arns = [arn for s in dev_grants for arn in as_list(s["Resource"])]
    assert {arn.removeprefix("arn:*:ssm:*:*:parameter") for arn in dev_arns} == _parameters(
        services.stage_env(name, "dev")
    )


def test_only_the_issuers_authorizer_reads_a_secret_and_no_authorizer_reaches_a_table(
    packaged: dict[str, Packaged],
) -> None:
    for name, package in packaged.items():
        authorizer_policies = [
            document for roles, document in _policies(package).values() if {"Ref": "JwtAuthRole"} in roles
        ]
        actions = {a for document in authorizer_policies for s in statements(document) for a in as_list(s["Action"])}
        assert not [a for a in actions if a.startswith("dynamodb:")]
        assert ("ssm:GetParameter" in actions) == (name == registry.issuer().name)


# What the functions are told.


def _required_variables(name: str) -> set[str]:
    code = " ".join(p.read_text() for p in (services.ROOT / f"{name}-service" / "chalicelib").glob("*.py"))
    required = set(re.findall(r"required\(\"([A-Z_]+)\"\)", code))
    issuer = registry.issuer().name
    if name != issuer:
        # The shared authorizer's verifier (AUTH_URL is also the tokens' issuer); the issuer
        # verifies against its own key ring.
        required |= {f"{issuer.upper()}_URL", "TOKEN_AUDIENCE"}
    return required


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_function_gets_every_variable_the_code_requires_and_its_tables_name_by_ref(
    packaged: dict[str, Packaged], name: str
) -> None:
    package = packaged[name]
    functions = package.of_type("AWS::Serverless::Function")

    assert set(functions) == set(infra.functions(registry.service(name)))
    for function in functions.values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert _required_variables(name) <= set(variables)
        assert variables["TABLE_NAME"] == {"Ref": _table_id(package)}
        assert variables["STAGE"] == STAGE


def test_each_service_imports_only_urls_exported_by_a_service_deployed_before_it(
    packaged: dict[str, Packaged],
) -> None:
    exported: dict[str, str] = {}
    for name in services.SERVICES:  # the deployment order
        variables = packaged[name].resources["APIHandler"]["Properties"]["Environment"]["Variables"]
        for variable, value in variables.items():
            if isinstance(value, dict) and "Fn::ImportValue" in value:
                assert value["Fn::ImportValue"]["Fn::Sub"] in exported.values(), f"{name} imports {variable} too early"
        export = packaged[name].template["Outputs"].get("EndpointURL", {}).get("Export")
        if export:
            assert export["Name"]["Fn::Sub"] == EXPORT.replace("{service}", name)
            exported[name] = export["Name"]["Fn::Sub"]

    assert set(exported) == {callee for s in registry.load().services.values() for callee in s.calls}


# Alarms.


def _alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of each metric an alarm watches."""
    properties = alarm["Properties"]
    if "Metrics" in properties:
        watched = [m["MetricStat"]["Metric"] for m in properties["Metrics"] if "MetricStat" in m]
        return [(m["Namespace"], m["MetricName"], _dims(m)) for m in watched]
    return [(properties["Namespace"], properties["MetricName"], _dims(properties))]


def _dims(metric: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_alarm_watches_a_real_metric_of_this_stacks_resources(packaged: dict[str, Packaged], name: str) -> None:
    package = packaged[name]
    functions = set(package.of_type("AWS::Serverless::Function"))
    api_name = package.resources["RestAPI"]["Properties"]["Name"]

    for alarm_id, alarm in package.of_type("AWS::CloudWatch::Alarm").items():
        for namespace, metric, dimensions in _alarm_metrics(alarm):
            assert (namespace, metric) in METRICS, f"{alarm_id}: {namespace} {metric}"
            assert set(dimensions) in METRICS[namespace, metric], f"{alarm_id}: {sorted(dimensions)}"
            if "TableName" in dimensions:
                assert dimensions["TableName"] == {"Ref": _table_id(package)}
            if "FunctionName" in dimensions:
                assert dimensions["FunctionName"]["Ref"] in functions
            if "ApiName" in dimensions:
                assert dimensions["ApiName"] == api_name
            if "Operation" in dimensions:
                assert dimensions["Operation"] in DYNAMODB_OPERATIONS
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_alarms_cover_the_table_every_function_and_the_api(packaged: dict[str, Packaged], name: str) -> None:
    package = packaged[name]
    watched = {
        (metric, json_key(dimensions))
        for alarm in package.of_type("AWS::CloudWatch::Alarm").values()
        for _, metric, dimensions in _alarm_metrics(alarm)
    }
    table = {"Ref": _table_id(package)}
    api = {"ApiName": package.resources["RestAPI"]["Properties"]["Name"]}

    expected = {(metric, json_key({"TableName": table})) for metric in ("ReadThrottleEvents", "WriteThrottleEvents")}
    expected |= {("SystemErrors", json_key({"TableName": table, "Operation": op})) for op in operations_used(name)}
    for function in package.of_type("AWS::Serverless::Function"):
        for metric in ("Errors", "Throttles"):
            expected.add((metric, json_key({"FunctionName": {"Ref": function}})))
    expected |= {("5XXError", json_key(api)), ("Latency", json_key(api))}
    assert expected <= watched


def json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_api_is_named_per_stage_so_its_metrics_are_its_own(packaged: dict[str, Packaged], name: str) -> None:
    api = packaged[name].resources["RestAPI"]["Properties"]

    # The Swagger title and the Name agree, whichever API Gateway takes the name from.
    assert api["Name"] == {"Fn::Sub": f"{name}-service-${{Stage}}"}
    assert api["DefinitionBody"]["info"]["title"] == api["Name"]


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_api_is_a_regional_endpoint_in_both_deployment_paths(packaged: dict[str, Packaged], name: str) -> None:
    config = json.loads((packaged[name].folder / ".chalice" / "config.json").read_text())

    # Services call each other in one region: an edge endpoint would send each call through CloudFront.
    assert packaged[name].resources["RestAPI"]["Properties"]["EndpointConfiguration"] == "REGIONAL"
    assert config["api_gateway_endpoint_type"] == "REGIONAL"  # what `chalice deploy` reads
    assert not [stage for stage in config["stages"].values() if "api_gateway_endpoint_type" in stage]


@pytest.mark.parametrize("name", services.SERVICES)
def test_throttling_alarms_fire_on_one_event_in_a_minute_and_latency_on_the_p99(
    packaged: dict[str, Packaged], name: str
) -> None:
    alarms = packaged[name].of_type("AWS::CloudWatch::Alarm")

    for alarm in alarms.values():
        properties = alarm["Properties"]
        if properties.get("MetricName") in ("ReadThrottleEvents", "WriteThrottleEvents"):
            assert (properties["Statistic"], properties["Period"], properties["Threshold"]) == ("Sum", 60, 1)
            assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        if properties.get("MetricName") == "Latency":
            assert properties["ExtendedStatistic"] == "p99"


@pytest.mark.parametrize("name", services.SERVICES)
def test_alarms_mail_the_address_given_as_a_stack_parameter(packaged: dict[str, Packaged], name: str) -> None:
    package = packaged[name]
    (subscription,) = package.resources["AlarmTopic"]["Properties"]["Subscription"]

    assert subscription == {"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    assert package.template["Parameters"]["AlarmEmail"]["Type"] == "String"


@pytest.mark.parametrize("name", services.SERVICES)
def test_a_web_acl_limits_each_address_in_front_of_the_apis_stage(packaged: dict[str, Packaged], name: str) -> None:
    # The first line of defence (issue 20): AWS WAF blocks an address past its rate, with a
    # 429 in the contract's error shape, before API Gateway or a function sees the request.
    (acl,) = packaged[name].of_type("AWS::WAFv2::WebACL").values()
    (association,) = packaged[name].of_type("AWS::WAFv2::WebACLAssociation").values()
    properties = acl["Properties"]
    (rule,) = properties["Rules"]

    assert properties["Scope"] == "REGIONAL" and properties["DefaultAction"] == {"Allow": {}}
    rate = rule["Statement"]["RateBasedStatement"]
    assert (rate["Limit"], rate["EvaluationWindowSec"], rate["AggregateKeyType"]) == (
        infra.REQUESTS_PER_ADDRESS,
        infra.RATE_WINDOW_S,
        "IP",
    )
    # A service other services call counts only requests without a bearer token: its
    # callers' functions share AWS's egress addresses.
    called = any(name in registry.service(other).calls for other in services.SERVICES)
    assert ("ScopeDownStatement" in rate) == called
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    body = json.loads(properties["CustomResponseBodies"][response["CustomResponseBodyKey"]]["Content"])
    assert set(body) == {"Code", "Message"}
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
    assert "/restapis/${RestAPI}/stages/${RestAPI.Stage}" in association["Properties"]["ResourceArn"]["Fn::Sub"]
