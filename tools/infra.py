"""Each service's infrastructure: its merge template and its stage policy files, made from the registry.

    python -m tools.infra           # write every service's resources.json, .chalice/policy-*.json and local defaults
    python -m tools.infra --check   # exit 1, naming each file that is not what this script makes

What every service has, with its name changed, is written here once, from services.toml
(``tools.registry``): the stack parameters; the table (``table.key``, ``table.ttl``);
the functions' ``TABLE_NAME`` and the ``<NAME>_URL`` of each service it ``calls``,
imported from that service's stack; the API's name and tracing; the table policy
(``table.actions``); the SSM read policy of its ``secrets`` (and, for the ``issuer``, of
the URL its stack publishes); the alarm topic and the alarms on the table, the functions
and the API; an AWS WAF web ACL on the API's stage with a rate-based rule per address (the
first line of defence against floods, docs/security.md); the outputs, and the exports of
what later stacks import. The stack
deployed last (the registry's last service) holds the stage's dashboard
(``tools.dashboard``).

What only one service has is in its folder's ``infrastructure.json`` (optional):
``Parameters``, ``Resources`` and ``Outputs`` merged over the generated ones (objects key
by key, anything else replaced). Each alarm there mails the stack's topic like the
generated ones, unless it says otherwise.

In each ``.chalice/config.json``, the local stage's addresses and secrets for a service run
by hand (``hand_run_defaults``); the rest of that file is the service's own.

The stage policy files are those each ``.chalice/config.json`` names (``iam_policy_file``
of a stage, and of a function within it). They are what ``chalice deploy`` gives each
function's role: logs and tracing; and on the stages ``chalice deploy`` deploys
(``CHALICE_DEPLOYED_STAGES``), the table and parameters the function reads. A stage the
pipeline deploys gets those from the merge template's policies instead, which name the
stack's table by reference.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tools import dashboard, generated, registry, stages
from tools.registry import ROOT, Service, load
from tools.stages import LOCAL_STAGE

PART = "infrastructure.json"  # a service's own part, in its folder
TEMPLATE = "resources.json"  # the merge template `chalice package --merge-template` takes
CHALICE_DEPLOYED_STAGES = ("dev",)  # docs/deployment.md: `chalice deploy` for dev, the pipeline for the rest
API_HANDLER = "api_handler"  # Chalice's name of the API function; any other function is the authorizer
OWN_URL = "url"  # the issuer's own URL, one of its parameters (stages.PARAMETERS)

Json = dict[str, Any]

# The DynamoDB action each IAM action is published under in CloudWatch's SystemErrors (by
# Operation). ConditionCheckItem exists only inside a transaction, so it stands for
# TransactWriteItems; the order is the alarm's.
OPERATIONS = {
    "GetItem": "GetItem",
    "PutItem": "PutItem",
    "UpdateItem": "UpdateItem",
    "DeleteItem": "DeleteItem",
    "Query": "Query",
    "Scan": "Scan",
    "ConditionCheckItem": "TransactWriteItems",
}
TOPIC = {"Ref": "AlarmTopic"}
ON_TOPIC = {"TreatMissingData": "notBreaching", "AlarmActions": [TOPIC], "OKActions": [TOPIC]}
AT_LEAST = "GreaterThanOrEqualToThreshold"
FUNCTIONS = {"APIHandler": "API handler", "JwtAuth": "authorizer"}  # logical id: what the alarms call it
ROLES = {"APIHandler": "ApiHandlerRole", "JwtAuth": "JwtAuthRole"}
# The event functions (app.py's ``publish_erasures`` and ``erase_user``), as Chalice names them
# in its template: the function, its role, its event source.
PUBLISHER = "PublishErasures"
SUBSCRIBER = "EraseUser"
EVENT_FUNCTIONS = {PUBLISHER: "UserErased publisher", SUBSCRIBER: "UserErased consumer"}
EVENT_SOURCES = {PUBLISHER: "PublishErasuresDynamodbEventSource", SUBSCRIBER: "EraseUserSqsEventSource"}
TOPIC_ID = "UserErasedTopic"
QUEUE_ID, DEAD_LETTER_ID = "UserErasedQueue", "UserErasedDeadLetterQueue"
# A consumer's message becomes visible again this long after a failed attempt; Lambda wants
# at least six times the function's timeout (erase_user's lambda_timeout in config.json).
VISIBILITY_TIMEOUT_S = 60
DEAD_LETTER_RETENTION_S = 14 * 24 * 3600  # SQS's longest: two weeks to look at what failed
# The contract's promise: every trace gone within 60 s of the 202.
OLDEST_MESSAGE_ALARM_S = 60
# Only the erasure records of the auth table reach the publisher (Lambda's event filtering).
ERASURE_RECORDS = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "erasure#"}]}}}}

ISSUER = registry.issuer().name
# AWS WAF's rate-based rule: requests of one address to one API in the window, past which
# the address is blocked until its rate falls under the limit again (docs/capacity.md).
REQUESTS_PER_ADDRESS = 1000
RATE_WINDOW_S = 300
TOO_MANY = "too-many-requests"
BEARER = {
    "ByteMatchStatement": {
        "FieldToMatch": {"SingleHeader": {"Name": "authorization"}},
        "PositionalConstraint": "STARTS_WITH",
        "SearchString": "Bearer ",
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
    }
}
STAGE_ARN = "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/${RestAPI.Stage}"
PARAMETERS_OF_EVERY_STACK: Json = {
    "Stage": {
        "Type": "String",
        "AllowedPattern": "^[a-z][a-z0-9]{0,15}$",
        "Description": "The Chalice stage this template was packaged for (dev, prod): "
        "it names the stage's secrets, API and exports",
    },
    "AlarmEmail": {
        "Type": "String",
        "AllowedPattern": "^[^@\\s]+@[^@\\s]+$",
        "Description": "The e-mail address the alarms go to (AWS sends it a confirmation first)",
    },
    "HandedOverJwks": {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "AllowedPattern": f"^/profiles/[a-z][a-z0-9]{{0,15}}/{ISSUER}/jwks$",
        "Description": f"The SSM parameter holding the {ISSUER} service's public JWKS (tools.admin writes it with the "
        "key ring), handed to the authorizer: CloudFormation reads its value on every change set",
    },
}


class PartError(ValueError):
    """A service's infrastructure.json says something this script cannot merge."""


# Names every stack uses for the same things.


def table_id(service: Service) -> str:
    """The table's logical id."""
    return f"{service.name.capitalize()}Table"


def export(service: str, what: str) -> str:
    """The ``Fn::Sub`` of the name a stack exports ``what`` under (url, api-function, authorizer-function)."""
    return f"profiles-${{Stage}}-{service}-{what}"


def api_name(service: Service) -> str:
    """The ``Fn::Sub`` of the stage's API name (its metrics' ApiName)."""
    return f"{service.app_name}-${{Stage}}"


def _camel(parameter: str) -> str:
    return "".join(part.capitalize() for part in parameter.split("-"))


def _one_or_list(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def parameters_read(service: Service, function: str) -> list[str]:
    """The names (under /profiles/<stage>/<service>/) of the SSM parameters ``function`` reads.

    The API function reads the service's secrets; the issuer's functions may both read its
    own URL (its authorizer only in a partition ``servicekit.authorizer.api_url`` does not
    know), and its authorizer verifies tokens against its own key ring (its secrets) where
    the other services' authorizers verify against the issuer's published keys.
    """
    if function != "APIHandler" and not service.issuer:
        return []
    return [parameter for _, parameter in service.secrets] + ([OWN_URL] if service.issuer else [])


def functions(service: Service) -> dict[str, str]:
    """The service's functions by logical id: what the alarms call each."""
    found = dict(FUNCTIONS)
    if service.publishes:
        found[PUBLISHER] = EVENT_FUNCTIONS[PUBLISHER]
    if service.subscribes:
        found[SUBSCRIBER] = EVENT_FUNCTIONS[SUBSCRIBER]
    return found


def _parameters_sid(service: Service) -> str:
    secrets = "".join(_camel(parameter) for _, parameter in service.secrets)
    if service.issuer:
        return f"{secrets}AndOwnUrl" if secrets else "OwnUrl"
    return secrets


# The merge template.


def _table(service: Service) -> Json:
    key = service.table.key
    properties: Json = {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
    }
    if service.table.ttl:
        properties["TimeToLiveSpecification"] = {"AttributeName": service.table.ttl, "Enabled": True}
    if service.publishes:  # the outbox: its stream carries each event's record to the publishing function
        properties["StreamSpecification"] = {"StreamViewType": "NEW_IMAGE"}
    properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    properties["SSESpecification"] = {"SSEEnabled": True}
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def _variables(service: Service, function: str) -> Json:
    variables: Json = {"TABLE_NAME": {"Ref": table_id(service)}}
    for callee in service.calls:
        variables[f"{callee.upper()}_URL"] = {"Fn::ImportValue": {"Fn::Sub": export(callee, "url")}}
    if function == "JwtAuth":  # the issuer's public keys, as the stack's parameter resolved them
        variables["JWKS"] = {"Ref": "HandedOverJwks"}
    return {"Properties": {"Environment": {"Variables": variables}}}


def _access(service: Service) -> Json:
    """The table policy, the parameters' read policy and the issuer's URL parameter."""
    table = table_id(service)
    access: Json = {
        "TableAccessPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": f"{service.name}-table-access",
                "Roles": [{"Ref": ROLES["APIHandler"]}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "OwnTable",
                            "Effect": "Allow",
                            "Action": [f"dynamodb:{action}" for action in sorted(service.table.actions)],
                            "Resource": [{"Fn::GetAtt": [table, "Arn"]}, {"Fn::Sub": f"${{{table}.Arn}}/index/*"}],
                        }
                    ],
                },
            },
        }
    }
    readers = [function for function in FUNCTIONS if parameters_read(service, function)]
    if readers:
        arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
        names = parameters_read(service, "APIHandler")
        access["SecretAccessPolicy"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "-".join([service.name, *(p for _, p in service.secrets), "read"]),
                "Roles": [{"Ref": ROLES[function]} for function in readers],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": _parameters_sid(service),
                            "Effect": "Allow",
                            "Action": "ssm:GetParameter",
                            "Resource": _one_or_list(
                                [{"Fn::Sub": arn + stages.parameter(service.name, "${Stage}", n)} for n in names]
                            ),
                        }
                    ],
                },
            },
        }
    if service.issuer:
        access["OwnUrlParameter"] = {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": {"Fn::Sub": stages.parameter(service.name, "${Stage}", OWN_URL)},
                "Type": "String",
                "Description": f"The {service.name} service's base URL, its tokens' issuer "
                "(TOKEN_ISSUER refers to it: a function cannot name its own API)",
                "Value": {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/"},
            },
        }
    return access


def alarm(properties: Json) -> Json:
    """An alarm that treats missing data as fine and tells the stack's topic when it fires and when it clears."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": properties | {k: v for k, v in ON_TOPIC.items() if k not in properties},
    }


def _on_one_event(description: str, namespace: str, metric: str, dimensions: Json) -> Json:
    return alarm(
        {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()],
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": AT_LEAST,
        }
    )


def _system_errors(service: Service) -> Json:
    """SystemErrors is published per table and operation: the sum of those the service calls."""
    table = {"Ref": table_id(service)}
    operations = [op for action, op in OPERATIONS.items() if action in service.table.actions]
    watched = [
        {
            "Id": operation.lower(),
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/DynamoDB",
                    "MetricName": "SystemErrors",
                    "Dimensions": [{"Name": "TableName", "Value": table}, {"Name": "Operation", "Value": operation}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
        }
        for operation in operations
    ]
    total = {
        "Id": "systemerrors",
        "Label": "SystemErrors, all operations",
        "ReturnData": True,
        "Expression": f"SUM([{', '.join(m['Id'] for m in watched)}])",
    }
    return alarm(
        {
            "AlarmDescription": f"DynamoDB answered the {service.name} table's requests with internal errors "
            "(SystemErrors is published per operation)",
            "Metrics": [*watched, total],
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": AT_LEAST,
        }
    )


def _alarms(service: Service) -> Json:
    name, table, api = service.name, {"Ref": table_id(service)}, {"Fn::Sub": api_name(service)}
    alarms = {
        "TableReadThrottleAlarm": _on_one_event(
            f"Reads of the {name} table were throttled", "AWS/DynamoDB", "ReadThrottleEvents", {"TableName": table}
        ),
        "TableWriteThrottleAlarm": _on_one_event(
            f"Writes to the {name} table were throttled", "AWS/DynamoDB", "WriteThrottleEvents", {"TableName": table}
        ),
        "TableSystemErrorsAlarm": _system_errors(service),
    }
    for function, called in functions(service).items():
        for metric, happened in (("Errors", "failed"), ("Throttles", "was throttled")):
            alarms[f"{function}{metric}Alarm"] = _on_one_event(
                f"The {called} function of the {name} service {happened}",
                "AWS/Lambda",
                metric,
                {"FunctionName": {"Ref": function}},
            )
    alarms["Api5XXErrorAlarm"] = _on_one_event(
        f"The {name} API answered with a 5XX", "AWS/ApiGateway", "5XXError", {"ApiName": api}
    )
    alarms["ApiLatencyAlarm"] = alarm(
        {
            "AlarmDescription": f"The {name} API's p99 latency was 3 s or more in 3 of 5 minutes",
            "Namespace": "AWS/ApiGateway",
            "MetricName": "Latency",
            "Dimensions": [{"Name": "ApiName", "Value": api}],
            "ExtendedStatistic": "p99",
            "Period": 60,
            "EvaluationPeriods": 5,
            "DatapointsToAlarm": 3,
            "Threshold": 3000,
            "ComparisonOperator": AT_LEAST,
        }
    )
    return alarms


def _firewall(service: Service) -> Json:
    """The API's web ACL: a rate-based rule per address, answering 429 in the contract's error shape.

    An API another service calls (services.toml's ``calls``) is reached from that service's
    functions, which share AWS's egress addresses with each other: there the rule counts
    only requests without a bearer token. Those with one are the authorizer's to refuse
    and the stage throttle's to bound.
    """
    message = "Too many requests from this address; try again in a few minutes."
    body = {"Code": "TooManyRequestsError", "Message": message}
    block = {"CustomResponse": {"ResponseCode": 429, "CustomResponseBodyKey": TOO_MANY}}
    rate: Json = {"Limit": REQUESTS_PER_ADDRESS, "EvaluationWindowSec": RATE_WINDOW_S, "AggregateKeyType": "IP"}
    if any(service.name in other.calls for other in load().services.values()):
        rate["ScopeDownStatement"] = {"NotStatement": {"Statement": BEARER}}
    return {
        "WebAcl": {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}-per-address"},
                "Description": f"At most {REQUESTS_PER_ADDRESS} requests in {RATE_WINDOW_S} s from one address",
                "Scope": "REGIONAL",
                "DefaultAction": {"Allow": {}},
                "CustomResponseBodies": {TOO_MANY: {"ContentType": "APPLICATION_JSON", "Content": json.dumps(body)}},
                "Rules": [
                    {
                        "Name": "RequestsPerAddress",
                        "Priority": 0,
                        "Statement": {"RateBasedStatement": rate},
                        "Action": {"Block": block},
                        "VisibilityConfig": _visibility("RequestsPerAddress"),
                    }
                ],
                "VisibilityConfig": _visibility(f"{service.app_name}-web-acl"),
            },
        },
        "WebAclAssociation": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "Properties": {
                # RestAPI.Stage: the stage the SAM transform makes of the API (api_gateway_stage).
                "ResourceArn": {"Fn::Sub": STAGE_ARN},
                "WebACLArn": {"Fn::GetAtt": ["WebAcl", "Arn"]},
            },
        },
    }


def _visibility(metric: str) -> Json:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": metric}


def _outputs(service: Service, services: list[Service]) -> Json:
    outputs: Json = {
        "TableName": {
            "Description": "The service's table (tools.admin finds it here)",
            "Value": {"Ref": table_id(service)},
        },
        "AlarmTopicArn": {"Value": TOPIC},
    }
    if any(service.name in other.calls for other in services):
        outputs["EndpointURL"] = {"Export": {"Name": {"Fn::Sub": export(service.name, "url")}}}
    if service.publishes:
        outputs["UserErasedTopicArn"] = {
            "Description": "The topic of UserErased events; each subscriber's stack subscribes its queue",
            "Value": {"Ref": TOPIC_ID},
            "Export": {"Name": {"Fn::Sub": _topic_export(service.name)}},
        }
    home = services[-1]
    if service is not home:  # the dashboard's stack shows these functions by the names exported here
        outputs["APIHandlerName"] = {"Export": {"Name": {"Fn::Sub": export(service.name, "api-function")}}}
        outputs["JwtAuthName"] = {
            "Description": f"The authorizer function (the dashboard of the {home.name} stack shows it)",
            "Value": {"Ref": "JwtAuth"},
            "Export": {"Name": {"Fn::Sub": export(service.name, "authorizer-function")}},
        }
    return outputs


def part(service: Service) -> Json:
    """The service's own part (its infrastructure.json), or nothing."""
    path = service.folder / PART
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PartError(f"{path.relative_to(ROOT)}: not JSON: {exc}") from None
    if not isinstance(document, dict) or set(document) - {"Parameters", "Resources", "Outputs"}:
        raise PartError(f"{path.relative_to(ROOT)}: an object of Parameters, Resources and Outputs only")
    for resource in document.get("Resources", {}).values():
        if resource.get("Type") == "AWS::CloudWatch::Alarm":
            resource.update(alarm(resource.get("Properties", {})))
    return document  # type: ignore[no-any-return]


def merged(base: Any, extra: Any) -> Any:
    """``extra`` over ``base``: objects merged key by key, anything else replaced (as Chalice merges)."""
    if isinstance(base, dict) and isinstance(extra, dict):
        return {**base, **{key: merged(base.get(key), value) for key, value in extra.items()}}
    return extra


# Events: the publisher's topic and stream, each subscriber's queues.


def _topic_export(publisher: str) -> str:
    return export(publisher, "user-erased-topic")


def _publisher(service: Service) -> Json:
    """The topic, the publishing function's stream and variables, its policy and its alarm on lag."""
    table = table_id(service)
    stream = {"Fn::GetAtt": [table, "StreamArn"]}
    return {
        TOPIC_ID: {
            "Type": "AWS::SNS::Topic",
            "Properties": {"DisplayName": {"Fn::Sub": "UserErased ${Stage}"}},
        },
        PUBLISHER: {
            "Properties": {
                # The API function's variables (it runs the same app.py), and the topic.
                "Environment": {
                    "Variables": {
                        **_variables(service, "APIHandler")["Properties"]["Environment"]["Variables"],
                        "EVENTS_TOPIC_ARN": {"Ref": TOPIC_ID},
                    }
                },
                "Events": {
                    EVENT_SOURCES[PUBLISHER]: {
                        "Properties": {
                            "Stream": stream,
                            "BisectBatchOnFunctionError": True,
                            "FilterCriteria": {"Filters": [{"Pattern": json.dumps(ERASURE_RECORDS)}]},
                        }
                    }
                },
            }
        },
        "PublisherPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": f"{service.name}-publish-user-erased",
                "Roles": [{"Ref": f"{PUBLISHER}Role"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "ReadOwnStream",
                            "Effect": "Allow",
                            "Action": [
                                "dynamodb:DescribeStream",
                                "dynamodb:GetRecords",
                                "dynamodb:GetShardIterator",
                                "dynamodb:ListStreams",
                            ],
                            "Resource": stream,
                        },
                        {
                            "Sid": "PublishUserErased",
                            "Effect": "Allow",
                            "Action": "sns:Publish",
                            "Resource": {"Ref": TOPIC_ID},
                        },
                    ],
                },
            },
        },
        "PublisherIteratorAgeAlarm": alarm(
            {
                "AlarmDescription": f"The {service.name} table's erasure records waited 60 s or more for their "
                "UserErased event (docs/operations.md: UserErased)",
                "Namespace": "AWS/Lambda",
                "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": PUBLISHER}}],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 60_000,
                "ComparisonOperator": AT_LEAST,
            }
        ),
    }


def _subscriber(service: Service, publisher: Service) -> Json:
    """The service's queue of UserErased and its dead-letter queue, subscribed to the topic; the consumer's access."""
    table = table_id(service)
    queue_arn = {"Fn::GetAtt": [QUEUE_ID, "Arn"]}
    topic = {"Fn::ImportValue": {"Fn::Sub": _topic_export(publisher.name)}}
    from servicekit import events  # the redrive's count is the consumer's too (it counts the last failure)

    def queue_alarm(description: str, queue: str, metric: str, threshold: int) -> Json:
        return alarm(
            {
                "AlarmDescription": description,
                "Namespace": "AWS/SQS",
                "MetricName": metric,
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": threshold,
                "ComparisonOperator": AT_LEAST,
            }
        )

    return {
        DEAD_LETTER_ID: {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": DEAD_LETTER_RETENTION_S, "SqsManagedSseEnabled": True},
        },
        QUEUE_ID: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": VISIBILITY_TIMEOUT_S,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [DEAD_LETTER_ID, "Arn"]},
                    "maxReceiveCount": events.MAX_RECEIVES,
                },
            },
        },
        "UserErasedQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": QUEUE_ID}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "FromTheTopic",
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue_arn,
                            "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                        }
                    ],
                },
            },
        },
        "UserErasedSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn, "RawMessageDelivery": True},
        },
        SUBSCRIBER: {
            "Properties": {
                **_variables(service, "APIHandler")["Properties"],  # it runs the same app.py
                "Events": {EVENT_SOURCES[SUBSCRIBER]: {"Properties": {"Queue": queue_arn}}},
            }
        },
        "ConsumerPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": f"{service.name}-consume-user-erased",
                "Roles": [{"Ref": f"{SUBSCRIBER}Role"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "OwnQueue",
                            "Effect": "Allow",
                            "Action": ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
                            "Resource": queue_arn,
                        },
                        {
                            "Sid": "Tombstones",
                            "Effect": "Allow",
                            "Action": "dynamodb:PutItem",
                            "Resource": {"Fn::GetAtt": [table, "Arn"]},
                        },
                    ],
                },
            },
        },
        "UserErasedDeadLettersAlarm": queue_alarm(
            f"UserErased events the {service.name} service could not process are in its dead-letter queue "
            "(docs/operations.md: UserErased)",
            DEAD_LETTER_ID,
            "ApproximateNumberOfMessagesVisible",
            1,
        ),
        "UserErasedOldestMessageAlarm": queue_alarm(
            f"A UserErased event waited {OLDEST_MESSAGE_ALARM_S} s or more on the {service.name} service's queue: "
            "the 60-second promise is at risk (docs/operations.md: UserErased)",
            QUEUE_ID,
            "ApproximateAgeOfOldestMessage",
            OLDEST_MESSAGE_ALARM_S,
        ),
    }


# The answers API Gateway makes itself (the authorizer's 401 and 403, an unknown route,
# throttling, the authorizer's 500) carry no CORS headers of their own: a browser app would
# see a failed fetch, never the 401 that tells it to refresh its token. They say nothing, so
# any origin may read them (servicekit.cors; tools/chalice_local.py does the same locally).
GATEWAY_RESPONSES = {
    kind: {"responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}}
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX")
}


def template(service: Service) -> Json:
    """The service's merge template (resources.json)."""
    services = list(load().services.values())
    resources: Json = {
        table_id(service): _table(service),
        "APIHandler": _variables(service, "APIHandler"),
        "JwtAuth": _variables(service, "JwtAuth"),
        # Chalice 1.34 names the API function's log group (log_retention_in_days) after
        # ${ApiHandler}, a resource that does not exist (the function is APIHandler): cfn-lint's E3030.
        "ApiHandlerLogGroup": {"Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${APIHandler}"}}},
        "RestAPI": {
            "Properties": {
                "TracingEnabled": True,
                "Name": {"Fn::Sub": api_name(service)},
                "DefinitionBody": {
                    "info": {"title": {"Fn::Sub": api_name(service)}},
                    "x-amazon-apigateway-gateway-responses": GATEWAY_RESPONSES,
                },
            }
        },
        **_access(service),
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "DisplayName": {"Fn::Sub": f"{service.app_name} ${{Stage}} alarms"},
                "Subscription": [{"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}],
            },
        },
        **_alarms(service),
        **_firewall(service),
    }
    if service.publishes:
        resources.update(_publisher(service))
    for event in service.subscribes:
        publisher = registry.publisher(event)
        assert publisher is not None  # the registry checks that a subscribed event has its publisher
        resources.update(_subscriber(service, publisher))
    if service is services[-1]:
        resources[dashboard.RESOURCE] = dashboard.resource()
    generated = {
        "Parameters": PARAMETERS_OF_EVERY_STACK,
        "Resources": resources,
        "Outputs": _outputs(service, services),
    }
    return merged(generated, part(service))  # type: ignore[no-any-return]


# The stage policy files.


def policy_files(service: Service) -> dict[str, tuple[str, str]]:
    """The policy files the service's config.json names: file name -> (stage, Chalice function name)."""
    config = json.loads((service.folder / ".chalice" / "config.json").read_text())
    found = {}
    for stage, settings in config["stages"].items():
        if "iam_policy_file" in settings:
            found[settings["iam_policy_file"]] = (stage, API_HANDLER)
        for function, function_settings in settings.get("lambda_functions", {}).items():
            if "iam_policy_file" in function_settings:
                found[function_settings["iam_policy_file"]] = (stage, function)
    return found


def policy(service: Service, stage: str, function: str) -> Json:
    """What ``chalice deploy`` gives ``function``'s role on ``stage``."""
    statements: list[Json] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:*:logs:*:*:*",
        },
        {
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
    ]
    if stage not in CHALICE_DEPLOYED_STAGES:
        return {"Version": "2012-10-17", "Statement": statements}
    logical_id = "APIHandler" if function == API_HANDLER else "JwtAuth"
    if logical_id == "APIHandler":
        table = f"arn:*:dynamodb:*:*:table/{stages.table_name(service.name, stage)}"
        statements.append(
            {
                "Sid": "OwnTable",
                "Effect": "Allow",
                "Action": [f"dynamodb:{action}" for action in sorted(service.table.actions)],
                "Resource": [table, f"{table}/index/*"],
            }
        )
    names = parameters_read(service, logical_id)
    if names:
        arns = [f"arn:*:ssm:*:*:parameter{stages.parameter(service.name, stage, n)}" for n in names]
        statements.append(
            {
                "Sid": _parameters_sid(service),
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": _one_or_list(arns),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _dumps(document: Json) -> str:
    # In the generator's order (Type before Properties, as CloudFormation's docs write them), not sorted.
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def hand_run_defaults(service: Service) -> dict[str, str]:
    """The local stack's addresses and secrets for the service run by hand, from its folder.

    ``chalice local --stage local`` in the service's folder, with nothing set, finds
    DynamoDB, itself, the services it calls and its secrets (in ``.local/``) where `make
    run` puts them by default. The local stack and the tests hand over their own, which win
    over these (``tools/chalice_local.py``); nothing in the shared library reads the registry.
    """
    from tools import localstack

    known = load()
    defaults = {"AWS_ENDPOINT_URL_DYNAMODB": localstack.url(known.dynamodb_port)}
    for callee in (*service.calls, service.name):
        defaults[known.services[callee].url_variable] = localstack.url(known.services[callee].port)
    state = Path("..", localstack.LOCAL_STATE_DIR.name)
    defaults.update(
        {variable: f"file:{state / f'{service.name}-{parameter}'}" for variable, parameter in service.secrets}
    )
    return defaults


def chalice_config(service: Service) -> str:
    """The service's ``.chalice/config.json`` with the local stage's defaults of ``hand_run_defaults``."""
    config = json.loads((service.folder / ".chalice" / "config.json").read_text())
    config["stages"][LOCAL_STAGE].setdefault("environment_variables", {}).update(hand_run_defaults(service))
    return _dumps(config)


def render() -> dict[Path, str]:
    """Every generated file, by path, as this script writes it."""
    files = {}
    for service in load().services.values():
        files[service.folder / TEMPLATE] = _dumps(template(service))
        files[service.folder / ".chalice" / "config.json"] = chalice_config(service)
        for name, (stage, function) in policy_files(service).items():
            files[service.folder / ".chalice" / name] = _dumps(policy(service, stage, function))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.infra", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    args = parser.parse_args(argv)
    try:
        files = render()
    except PartError as exc:
        print(exc, file=sys.stderr)
        return 2
    return generated.write_or_check(files, check=args.check, command="python -m tools.infra")


if __name__ == "__main__":
    sys.exit(main())
