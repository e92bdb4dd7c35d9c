"""What a stack's deployment asks of IAM, from CloudFormation's own resource schemas, and an evaluator.

cfn-lint ships CloudFormation's resource provider schemas. Each lists, for its create,
update and delete handlers, the permissions the handler uses with the credentials of
whoever deploys the stack (here the pipeline's deploy role). For each resource of a
packaged template, :func:`requests` pairs every such permission with the ARNs it acts
on: the resource's own ARN as CloudFormation names it from the stack
(``<stack>-<logical id>-<random>``), or for API Gateway the paths it calls, tags
included. :func:`allows` decides whether policy statements allow a request, the way
IAM does for identity policies (explicit deny wins; ``*`` and ``?`` wildcards; the
``StringEquals`` condition on the request's context).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import cfnlint

SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas"
HANDLERS = ("create", "update", "delete")

# The account the evaluation pretends to deploy into.
PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
SUFFIX = "1A2B3C4D5E6F7"  # CloudFormation's random part of a generated name
REST_API_ID, DEPLOYMENT_ID = "a1b2c3d4e5", "dep123"
WEB_ACL_ID = "a1b2c3d4-5678-90ab-cdef-1234567890ab"
WEB_ACL = "AWS::WAFv2::WebACL"
# What a web ACL association asks of the resource it protects, and of the web ACL.
ON_BOTH = ("wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource")
CODE_KEY = "0123456789abcdef0123456789abcdef"  # the key `aws cloudformation package` gives the code
APPLICATION_BUCKET = "profiles-prod-pipeline-applicationbucket-1a2b3c4d5e6f"

# What the SAM transform makes of the packaged templates' serverless resources (by logical id suffix).
SAM_EXPANSION = {
    "AWS::Serverless::Function": [("", "AWS::Lambda::Function")],
    "AWS::Serverless::Api": [
        ("", "AWS::ApiGateway::RestApi"),
        ("Deployment", "AWS::ApiGateway::Deployment"),
        ("Stage", "AWS::ApiGateway::Stage"),
    ],
}


@dataclass(frozen=True)
class Request:
    """One permission a handler uses, on one resource, with the request context IAM sees."""

    kind: str
    logical_id: str
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


def handler_permissions(kind: str) -> set[str]:
    """The permissions CloudFormation's create, update and delete handlers of ``kind`` list."""
    index = json.loads((SCHEMAS / "providers" / f"{REGION}.json").read_text())
    handlers = json.loads((SCHEMAS / "resources" / f"{index[kind]}.json").read_text())["handlers"]
    return {p for step in HANDLERS for p in handlers.get(step, {}).get("permissions", [])}


# The event sources of a function SAM makes an event source mapping of (``<function><event>``).
POLLED_EVENTS = ("SQS", "DynamoDB", "Kinesis")
EVENT_SOURCE_MAPPING_ID = "a1b2c3d4-5678-90ab-cdef-111111111111"
# A subscription's topic, imported from the stack that exports it: profiles-<stage>-<service>-<what>.
TOPIC_EXPORT = re.compile(r"^profiles-\$\{Stage\}-(?P<service>[a-z0-9]+)-user-erased-topic$")


def expanded(template: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Each resource as CloudFormation creates it: (logical id, type, properties), SAM expanded."""
    for logical_id, resource in template["Resources"].items():
        for suffix, kind in SAM_EXPANSION.get(resource["Type"], [("", resource["Type"])]):
            yield logical_id + suffix, kind, resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            for event, source in resource["Properties"].get("Events", {}).items():
                if source["Type"] in POLLED_EVENTS:
                    properties = {"FunctionName": {"Ref": logical_id}, **source["Properties"]}
                    yield logical_id + event, "AWS::Lambda::EventSourceMapping", properties


def _arn(service: str, resource: str, *, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


def generated_name(stack: str, logical_id: str) -> str:
    """The name CloudFormation gives a resource whose template names none."""
    return f"{stack}-{logical_id}-{SUFFIX}"


def _target(value: Any) -> str:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


def _name(value: Any, stack: str) -> str | None:
    """A name the template gives (a string, or an ``Fn::Sub`` of the stage and stack name), or None."""
    if value is None or isinstance(value, str):
        return value
    stage = stack.rsplit("-", 1)[1]
    return str(value["Fn::Sub"]).replace("${Stage}", stage).replace("${AWS::StackName}", stack)


def _log_group_name(value: Any, stack: str) -> str:
    """A log group's name, ``/aws/lambda/${Function}`` with the function's generated name filled in."""
    return re.sub(r"\$\{([^}]+)\}", lambda m: generated_name(stack, m[1]), str(value["Fn::Sub"]))


def _api_paths(kind: str, logical_id: str, properties: dict[str, Any]) -> list[str]:
    api = f"/restapis/{REST_API_ID}"
    if kind == "AWS::ApiGateway::RestApi":
        own = [api]
        paths = ["/restapis", api, f"{api}/*"]
    elif kind == "AWS::ApiGateway::Stage":
        own = [f"{api}/stages/{properties.get('StageName', 'api')}"]
        paths = [f"{api}/stages", *own]
    else:  # a Deployment: no tags
        own, paths = [], [f"{api}/deployments", f"{api}/deployments/{DEPLOYMENT_ID}"]
    # Tagging on create and update: PUT/DELETE on /tags/<the resource's ARN, URL-encoded>.
    tags = [f"/tags/{quote(f'arn:{PARTITION}:apigateway:{REGION}::{path}', safe='')}" for path in own]
    return [f"arn:{PARTITION}:apigateway:{REGION}::{path}" for path in paths + tags]


def _web_acl(stack: str, logical_id: str, properties: dict[str, Any]) -> str:
    name = _name(properties.get("Name"), stack) or generated_name(stack, logical_id)
    return _arn("wafv2", f"regional/webacl/{name}/{WEB_ACL_ID}")


def _resources_of(
    stack: str,
    kind: str,
    logical_id: str,
    properties: dict[str, Any],
    action: str,
    web_acls: dict[str, str] | None = None,
) -> list[tuple[str, dict[str, str]]] | None:
    """The ARNs ``action`` acts on for this resource, with the request context; None when not modelled.

    ``web_acls``: the ARN of each web ACL of the template, by logical id (an association names one).
    """
    namespace = action.split(":")[0]

    def role(role_logical_id: str) -> str:
        return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{generated_name(stack, role_logical_id)}"

    def function(function_logical_id: str) -> str:
        return _arn("lambda", f"function:{generated_name(stack, function_logical_id)}")

    if kind == "AWS::Lambda::Function":
        if action == "iam:PassRole":
            return [(role(_target(properties["Role"])), {"iam:PassedToService": "lambda.amazonaws.com"})]
        if namespace == "s3":
            return [(f"arn:{PARTITION}:s3:::{APPLICATION_BUCKET}/{CODE_KEY}", {})]
        if namespace == "lambda":
            return [(function(logical_id), {})]
    if kind == "AWS::Lambda::Permission" and namespace == "lambda":
        return [(function(_target(properties["FunctionName"])), {})]
    if kind == "AWS::IAM::Role" and namespace == "iam":
        return [(role(logical_id), {})]
    if kind == "AWS::IAM::Policy" and action.startswith(("iam:PutRole", "iam:GetRole", "iam:DeleteRole")):
        return [(role(_target(r)), {}) for r in properties["Roles"]]
    if kind == "AWS::DynamoDB::Table" and namespace == "dynamodb":
        return [(_arn("dynamodb", f"table/{generated_name(stack, logical_id)}"), {})]
    if kind == "AWS::SNS::Topic" and namespace == "sns":
        return [(_arn("sns", generated_name(stack, logical_id)), {})]
    if kind == "AWS::SNS::Subscription" and namespace == "sns":
        exported = TOPIC_EXPORT.match(properties["TopicArn"]["Fn::ImportValue"]["Fn::Sub"])
        assert exported, properties["TopicArn"]
        publisher = f"{exported['service']}-service-{stack.rsplit('-', 1)[1]}"
        return [(_arn("sns", generated_name(publisher, "UserErasedTopic")), {})]
    if kind == "AWS::SQS::Queue" and namespace == "sqs":
        return [(_arn("sqs", generated_name(stack, logical_id)), {})]
    if kind == "AWS::SQS::QueuePolicy" and namespace == "sqs":
        return [(_arn("sqs", generated_name(stack, _target(queue))), {}) for queue in properties["Queues"]]
    if kind == "AWS::Lambda::EventSourceMapping" and namespace == "lambda":
        if action == "lambda:CreateEventSourceMapping":  # no resource yet: IAM checks the function it is for
            return [("*", {"lambda:FunctionArn": function(_target(properties["FunctionName"]))})]
        return [(_arn("lambda", f"event-source-mapping:{EVENT_SOURCE_MAPPING_ID}"), {})]
    if kind == "AWS::CloudWatch::Alarm" and namespace == "cloudwatch":
        return [(_arn("cloudwatch", f"alarm:{generated_name(stack, logical_id)}"), {})]
    if kind == "AWS::CloudWatch::Dashboard" and namespace == "cloudwatch":
        name = _name(properties.get("DashboardName"), stack) or generated_name(stack, logical_id)
        return [(_arn("cloudwatch", f"dashboard/{name}", region=""), {})]  # dashboards are global
    if kind == "AWS::SSM::Parameter" and namespace == "ssm":
        name = _name(properties["Name"], stack) or generated_name(stack, logical_id)
        return [(_arn("ssm", f"parameter{name}"), {})]
    if kind == "AWS::Logs::LogGroup" and namespace == "logs":
        if action == "logs:DescribeLogGroups":
            return [("*", {})]  # lists the account's log groups: IAM names no resource for it
        return [(_arn("logs", f"log-group:{_log_group_name(properties['LogGroupName'], stack)}"), {})]
    if kind.startswith("AWS::ApiGateway::") and namespace == "apigateway":
        return [(path, {}) for path in _api_paths(kind, logical_id, properties)]
    if kind == WEB_ACL and namespace == "wafv2":
        return [(_web_acl(stack, logical_id, properties), {})]
    if kind == "AWS::WAFv2::WebACLAssociation":
        stage = f"arn:{PARTITION}:apigateway:{REGION}::/restapis/{REST_API_ID}/stages/api"
        web_acl = (web_acls or {})[_target(properties["WebACLArn"])]
        if action == "apigateway:SetWebACL":
            return [(stage, {})]
        if namespace == "wafv2":
            return [(web_acl, {}), (stage, {})] if action in ON_BOTH else [(web_acl, {})]
    return None


def requests(
    stack: str, template: dict[str, Any], not_needed: dict[str, str]
) -> tuple[list[Request], list[tuple[str, str]]]:
    """Every (permission, resource) the stack's handlers need, and the (type, permission) not modelled.

    ``not_needed`` names permissions of features the stacks do not use, with the reason, as
    ``"<permission>"`` (for every type) or ``"<type> <permission>"``.
    """
    found, unmodelled = [], []
    web_acls = {i: _web_acl(stack, i, p) for i, kind, p in expanded(template) if kind == WEB_ACL}
    for logical_id, kind, properties in expanded(template):
        for action in sorted(handler_permissions(kind)):
            if action in not_needed or f"{kind} {action}" in not_needed:
                continue
            targets = _resources_of(stack, kind, logical_id, properties, action, web_acls)
            if targets is None:
                unmodelled.append((kind, action))
                continue
            found += [Request(kind, logical_id, action, arn, context) for arn, context in targets]
    return found, unmodelled


def ssm_parameter_requests(template: dict[str, Any], given: dict[str, str]) -> list[Request]:
    """What resolving the template's SSM-typed stack parameters asks of IAM, for the parameter names ``given``.

    CloudFormation reads each with ``ssm:GetParameters`` when it makes a change set; AWS's
    documentation says the parameter must exist "under the caller's AWS account", not
    which identity reads it, so the tests ask it of the caller and of the deploy role.
    """
    return [
        Request(spec["Type"], name, "ssm:GetParameters", _arn("ssm", f"parameter{given[name]}"))
        for name, spec in template["Parameters"].items()
        if spec["Type"].startswith("AWS::SSM::Parameter::Value<")
    ]


# The evaluator.


def _pattern(text: str, *, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        if operator not in ("StringEquals", "StringLike"):
            raise ValueError(f"the evaluator does not know the condition operator {operator}")
        for key, values in tests.items():
            value = context.get(key)
            if operator == "StringEquals" and value not in _as_list(values):
                return False
            if operator == "StringLike" and not (
                value is not None and any(_pattern(v, ignore_case=False).fullmatch(value) for v in _as_list(values))
            ):
                return False
    return True


def _applies(statement: dict[str, Any], request: Request) -> bool:
    actions = _as_list(statement["Action"])
    if not any(_pattern(a, ignore_case=True).fullmatch(request.action) for a in actions):
        return False
    if not any(_pattern(r, ignore_case=False).fullmatch(request.resource) for r in _as_list(statement["Resource"])):
        return False
    return _conditions_hold(statement.get("Condition", {}), request.context)


def allows(statements: list[dict[str, Any]], request: Request) -> bool:
    """Whether identity-policy ``statements`` (resources resolved to strings) allow ``request``."""
    applicable = [s for s in statements if _applies(s, request)]
    return any(s["Effect"] == "Allow" for s in applicable) and not any(s["Effect"] == "Deny" for s in applicable)


def resolve(value: Any, names: dict[str, str]) -> Any:
    """A template value with ``Fn::Sub`` and ``Fn::GetAtt`` replaced by the strings in ``names``."""
    if isinstance(value, list):
        return [resolve(v, names) for v in value]
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda m: names[m[1]], value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            return names[".".join(value["Fn::GetAtt"])]
        return {k: resolve(v, names) for k, v in value.items()}
    return value
