"""The deployment pipeline: Chalice's generated one, made to serve all three services.

    python -m tools.pipeline           # write buildspec.yml, pipeline.json, pipeline-codeconnections.json
    python -m tools.pipeline --check   # exit 1 if the committed files are not what this script makes

``chalice generate-pipeline --pipeline-version v2 --buildspec-file`` assumes one app at
the root of the repository: Source -> Build -> Beta, one stack, no tests, a deploy role
allowed ``*`` on ``*``. This script runs it, then changes what it made:

- Build runs ``make test`` (the developer's whole suite, on the tree as the source gave
  it), then packages each service with its merge template (``resources.json``) for the
  stage being deployed, after giving each ``vendor/`` a real copy of ``shared/servicekit``
  (a source archive need not keep symlinks), and adds bytecode to each package
  (``tools.bytecode``); then ``tools.release`` deploys the stacks whose
  inputs changed since their last deployment, one change set each, in the order the
  services need each other (services.toml's order). There is no Deploy stage: a stage
  of CloudFormation actions deploys every stack on every push.
- The roles allow what deploying these stacks takes, on these stacks' resources,
  instead of ``*`` on ``*`` (see docs/deployment.md, "The pipeline's roles").
- The CodeBuild image is a parameter whose default is a curated image's name; the build's
  machine is ``COMPUTE_TYPE``, chosen from the measured memory peak of ``make test``.
- The pipeline is of type V2; a push starts it through an EventBridge rule (CodeCommit)
  or the connection's own change detection (CodeConnections), never by polling.
- The buckets forget old artifacts and packages after ``ARTIFACT_DAYS`` days.
- Source is CodeCommit (Chalice's default) in ``pipeline.json``, and a Git host reached
  through an AWS CodeConnections connection in ``pipeline-codeconnections.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tools import generated, registry, stages

ROOT = stages.ROOT
SERVICE_APPS = [f"{service}-service" for service in stages.SERVICES]  # the deployment order
STACKS = [stages.stack_name(service, "${Stage}") for service in stages.SERVICES]  # as CloudFormation substitutes them
APPLICATION_NAME = "serverless-profiles"
DEFAULT_BRANCH = "main"
SAM_TRANSFORM = "Serverless-2016-10-31"
# A name from AWS's list of curated images ("Docker images provided by CodeBuild", see
# docs/deployment.md): Amazon Linux 2023, whose runtimes include Python 3.13. Chalice's
# default, amazonlinux2023-x86_64-standard:5.0, is not a name on that list.
CODEBUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"

# The build's last step: it deploys (tools.release), so the buildspec test skips it by this name.
RELEASE_COMMAND = ".venv/bin/python -m tools.release --stage $DEPLOY_STAGE"
# The build's machine: 3 GB (SMALL) is too little for `make test` beside the build's own
# tools; MEDIUM has 7 GB and 4 vCPUs (docs/deployment.md, "The build's machine", has the
# peak measured with tools.memory_peak).
COMPUTE_TYPE = "BUILD_GENERAL1_MEDIUM"
# Old build artifacts and uploaded packages go after this many days: a release needs only
# the newest (the stacks keep their own copy of a function's code in Lambda).
ARTIFACT_DAYS = 30

BUILDSPEC = "buildspec.yml"
PIPELINE = "pipeline.json"
PIPELINE_CODECONNECTIONS = "pipeline-codeconnections.json"

HEADER = """\
# Made by `python -m tools.pipeline` from what `chalice generate-pipeline --pipeline-version v2`
# writes; edit tools/pipeline.py and run it again, not this file (a test compares the two).
# DEPLOY_STAGE and APP_S3_BUCKET come from the CodeBuild project of pipeline.json.
# `make test` runs the developer's whole suite on the tree as the source gave it; the
# shared library is copied into each vendor/ only after it, just before `chalice package`.
"""


def chalice_generated() -> tuple[dict[str, Any], dict[str, Any]]:
    """The pipeline template and buildspec exactly as ``chalice generate-pipeline`` writes them."""
    chalice = Path(sys.executable).with_name("chalice")
    with tempfile.TemporaryDirectory() as tmp:
        template, buildspec = Path(tmp) / "pipeline.json", Path(tmp) / "buildspec.yml"
        subprocess.run(
            [
                str(chalice),
                "--project-dir",
                str(stages.folder(stages.SERVICES[0])),
                "generate-pipeline",
                "--pipeline-version",
                "v2",
                "--buildspec-file",
                str(buildspec),
                str(template),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return json.loads(template.read_text()), yaml.safe_load(buildspec.read_text())


def deployed_stages() -> list[str]:
    """The stages a pipeline may deploy: those of config.json, but the local one."""
    config = json.loads((stages.folder(stages.SERVICES[0]) / ".chalice" / "config.json").read_text())
    return [stage for stage in config["stages"] if stage != stages.LOCAL_STAGE]


def stack_name(service: str) -> dict[str, str]:
    """One CloudFormation stack per service and stage, named by ``tools.stages.stack_name``."""
    return {"Fn::Sub": stages.stack_name(service, "${Stage}")}


def _title(app: str) -> str:
    return "".join(part.capitalize() for part in app.split("-"))


# The buildspec.


def buildspec(generated: dict[str, Any]) -> dict[str, Any]:
    """Test the tree as a developer has it, then package each service into a template of its own.

    CodeBuild runs each command with ``bash -c`` from the source's top folder, in order
    (tests/deploy/test_buildspec.py runs them so). ``make test`` comes first, on the tree as
    the source gave it (``make`` makes each ``vendor/servicekit`` the link again, should the
    source archive have lost it). Only then, just before ``chalice package``, each service's
    ``vendor/servicekit`` becomes a real copy of the shared library: the package then holds
    the files themselves, whatever the archive did with links. The packages go to ``build/``
    in the source folder (ignored by git), not to a shared place such as ``/tmp``: two builds
    on one machine (the buildspec test, two `make test` side by side) keep out of each other's way.
    """
    services = " ".join(stages.SERVICES)
    phases = {
        "install": {"runtime-versions": generated["phases"]["install"]["runtime-versions"]},
        "pre_build": {"commands": ["make test"]},
        "build": {
            "commands": [
                f"for service in {services}; do"
                " rm -rf $service-service/vendor/servicekit && mkdir -p $service-service/vendor"
                " && cp -rL shared/servicekit $service-service/vendor/servicekit || exit 1;"
                " (cd $service-service && ../.venv/bin/chalice package --stage $DEPLOY_STAGE"
                " --merge-template resources.json ../build/packaged/$service-service) || exit 1;"
                # Bytecode in the package: a cold start then reads the modules instead of compiling them.
                " .venv/bin/python -m tools.bytecode build/packaged/$service-service/deployment.zip || exit 1;"
                " aws cloudformation package --template-file build/packaged/$service-service/sam.json"
                " --s3-bucket $APP_S3_BUCKET --output-template-file $service-service.yaml || exit 1; done",
                # Deploys the stacks whose inputs changed since their last deployment, in order.
                RELEASE_COMMAND,
            ]
        },
    }
    artifacts = {"type": generated["artifacts"]["type"], "files": [f"{app}.yaml" for app in SERVICE_APPS]}
    return {"version": generated["version"], "phases": phases, "artifacts": artifacts}


# The pipeline template.


def _parameters(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    parameters["ApplicationName"]["Default"] = APPLICATION_NAME
    parameters["CodeBuildImage"]["Default"] = CODEBUILD_IMAGE
    parameters["CodeBuildImage"]["Description"] = (
        "A CodeBuild curated image with the buildspec's Python (aws codebuild list-curated-environment-images)"
    )
    parameters["Stage"] = {
        "Type": "String",
        "Default": deployed_stages()[-1],
        "AllowedValues": deployed_stages(),
        "Description": "The Chalice stage this pipeline deploys (a stage of each .chalice/config.json)",
    }
    parameters["BranchName"] = {
        "Type": "String",
        "Default": DEFAULT_BRANCH,
        "Description": "The branch whose commits are deployed",
    }
    parameters["AlarmEmail"] = {
        "Type": "String",
        "AllowedPattern": "^[^@\\s]+@[^@\\s]+$",
        "Description": "The e-mail address the services' alarms go to",
    }


def _build_project(template: dict[str, Any]) -> None:
    project = template["Resources"]["AppPackageBuild"]["Properties"]
    project["Environment"]["EnvironmentVariables"] += [
        {"Name": "DEPLOY_STAGE", "Value": {"Ref": "Stage"}},
        {"Name": "ALARM_EMAIL", "Value": {"Ref": "AlarmEmail"}},
        {"Name": "CFN_DEPLOY_ROLE", "Value": {"Fn::GetAtt": ["CFNDeployRole", "Arn"]}},
    ]
    project["TimeoutInMinutes"] = 60  # the tests, then up to three stacks one after the other
    project["Environment"]["ComputeType"] = COMPUTE_TYPE


def _codebuild_policy(template: dict[str, Any]) -> None:
    log_group = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/codebuild/"
    log_group += "${AppPackageBuild}"
    template["Resources"]["CodeBuildPolicy"]["Properties"]["PolicyDocument"]["Statement"] = [
        {
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [{"Fn::Sub": log_group}, {"Fn::Sub": log_group + ":*"}],
            "Effect": "Allow",
        },
        {
            # The source and build artifacts, and the Lambda packages `aws cloudformation package` uploads.
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            "Resource": [
                {"Fn::Sub": "${ArtifactBucketStore.Arn}/*"},
                {"Fn::Sub": "${ApplicationBucket.Arn}/*"},
            ],
            "Effect": "Allow",
        },
        {
            "Action": ["s3:ListBucket"],
            "Resource": [{"Fn::GetAtt": ["ApplicationBucket", "Arn"]}],
            "Effect": "Allow",
        },
        *_release_statements(),
    ]


def _release_statements() -> list[dict[str, Any]]:
    """What tools.release, run by the build, needs: change sets of the three stacks, through the deploy role."""
    records = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/profiles/${Stage}"
    return [
        {
            "Action": [
                "cloudformation:CreateChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStacks",
                "cloudformation:ExecuteChangeSet",
                # A failed first create leaves the stack in ROLLBACK_COMPLETE: only deleting it lets it be created.
                "cloudformation:DeleteStack",
            ],
            "Resource": _stack_arns("cloudformation"),
            "Effect": "Allow",
        },
        {
            # A template with a transform is expanded on behalf of whoever creates the change set.
            "Action": ["cloudformation:CreateChangeSet"],
            "Resource": [_transform_arn()],
            "Effect": "Allow",
        },
        {
            "Action": ["iam:PassRole"],
            "Resource": [{"Fn::GetAtt": ["CFNDeployRole", "Arn"]}],
            "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
            "Effect": "Allow",
        },
        {
            # The fingerprints of the inputs each stack was last deployed from.
            "Action": ["ssm:GetParameter", "ssm:PutParameter"],
            "Resource": [{"Fn::Sub": f"{records}/{service}/deployed-inputs"} for service in stages.SERVICES],
            "Effect": "Allow",
        },
        {
            # The public JWKS the stacks hand to their authorizers: read into the fingerprints, and
            # resolved for the stacks' SSM-typed parameter with the credentials of whoever creates
            # the change set (AWS: "under the caller's AWS account"; CloudFormation calls GetParameters).
            "Action": ["ssm:GetParameter", "ssm:GetParameters"],
            "Resource": [{"Fn::Sub": f"{records}/{registry.issuer().name}/jwks"}],
            "Effect": "Allow",
        },
    ]


def _pipeline_stages(template: dict[str, Any]) -> None:
    pipeline = template["Resources"]["AppPipeline"]["Properties"]
    source, build, _beta = pipeline["Stages"]
    source["Actions"][0]["Configuration"]["BranchName"] = {"Ref": "BranchName"}
    # The build deploys (tools.release): a stage of CloudFormation actions cannot skip a stack.
    pipeline["Stages"] = [source, build]
    # V2: paid per action minute rather than per pipeline and month; a push that comes while
    # a release runs waits for it instead of replacing it half-way.
    pipeline["PipelineType"] = "V2"
    pipeline["ExecutionMode"] = "QUEUED"


def _artifact_lifecycle(template: dict[str, Any]) -> None:
    """Both buckets expire what the builds put there (and the artifact bucket its old versions)."""
    expire = {"Id": "ExpireOldBuilds", "Status": "Enabled", "ExpirationInDays": ARTIFACT_DAYS}
    versions = {"NoncurrentVersionExpiration": {"NoncurrentDays": ARTIFACT_DAYS}}
    incomplete = {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
    for bucket, rule in (
        ("ArtifactBucketStore", {**expire, **versions, **incomplete}),
        ("ApplicationBucket", {**expire, **incomplete}),
    ):
        properties = template["Resources"][bucket].setdefault("Properties", {})
        properties["LifecycleConfiguration"] = {"Rules": [rule]}


def _codecommit_change_detection(template: dict[str, Any]) -> None:
    """A push to the branch starts the pipeline through EventBridge (AWS's recommended way), not polling."""
    (action,) = template["Resources"]["AppPipeline"]["Properties"]["Stages"][0]["Actions"]
    action["Configuration"]["PollForSourceChanges"] = False
    pipeline_arn = "arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:${AppPipeline}"
    template["Resources"]["SourceChangeRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "StartPipeline",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["codepipeline:StartPipelineExecution"],
                                "Resource": [{"Fn::Sub": pipeline_arn}],
                            }
                        ],
                    },
                }
            ],
        },
    }
    template["Resources"]["SourceChangeRule"] = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "Description": "A push to the pipeline's branch starts the pipeline",
            "EventPattern": {
                "source": ["aws.codecommit"],
                "detail-type": ["CodeCommit Repository State Change"],
                "resources": [{"Fn::GetAtt": ["SourceRepository", "Arn"]}],
                "detail": {
                    "event": ["referenceCreated", "referenceUpdated"],
                    "referenceType": ["branch"],
                    "referenceName": [{"Ref": "BranchName"}],
                },
            },
            "Targets": [
                {
                    "Id": "Pipeline",
                    "Arn": {"Fn::Sub": pipeline_arn},
                    "RoleArn": {"Fn::GetAtt": ["SourceChangeRole", "Arn"]},
                }
            ],
        },
    }


def _stack_arns(service: str) -> list[dict[str, str]]:
    return [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:stack/{stack}/*"}
        for stack in STACKS
    ]


def _transform_arn() -> dict[str, str]:
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:cloudformation:${{AWS::Region}}:aws:transform/{SAM_TRANSFORM}"}


def _pipeline_role(template: dict[str, Any]) -> None:
    statements: list[dict[str, Any]] = [
        {
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketVersioning", "s3:PutObject"],
            "Resource": [
                {"Fn::GetAtt": ["ArtifactBucketStore", "Arn"]},
                {"Fn::Sub": "${ArtifactBucketStore.Arn}/*"},
            ],
            "Effect": "Allow",
        },
        {
            "Action": [
                "codecommit:CancelUploadArchive",
                "codecommit:GetBranch",
                "codecommit:GetCommit",
                "codecommit:GetUploadArchiveStatus",
                "codecommit:UploadArchive",
            ],
            "Resource": [{"Fn::GetAtt": ["SourceRepository", "Arn"]}],
            "Effect": "Allow",
        },
        {
            "Action": ["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
            "Resource": [{"Fn::GetAtt": ["AppPackageBuild", "Arn"]}],
            "Effect": "Allow",
        },
    ]
    policy = template["Resources"]["CodePipelineRole"]["Properties"]["Policies"][0]
    policy["PolicyDocument"]["Statement"] = statements


def _own(service: str, kind: str) -> list[dict[str, str]]:
    """ARNs of resources CloudFormation names after the stacks (``<stack>-<logical id>-<random>``)."""
    return [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{kind}{stack}-*"}
        for stack in STACKS
    ]


def deploy_role_statements() -> list[dict[str, Any]]:
    """What CloudFormation may do while deploying the service stacks, and on what.

    Each statement covers one resource type of the stacks, scoped to the names
    CloudFormation generates from the stack's name; API Gateway ids are random, so REST
    APIs are scoped to the region's ``/restapis`` only. Tables are never deleted by a
    stack (DeletionPolicy Retain), so the role cannot delete tables at all.
    """
    roles = [{"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{stack}-*"} for stack in STACKS]
    api = "arn:${AWS::Partition}:apigateway:${AWS::Region}::"
    parameters = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/profiles/${Stage}"
    encoded_api = "arn%3A${AWS::Partition}%3Aapigateway%3A${AWS::Region}%3A%3A"
    last = stages.SERVICES[-1]  # its stack holds the dashboard
    return [
        {
            "Sid": "LambdaFunctions",
            "Action": [
                "lambda:AddPermission",
                "lambda:CreateFunction",
                "lambda:DeleteFunction",
                "lambda:DeleteFunctionConcurrency",
                "lambda:GetFunction",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:GetFunctionConfiguration",
                "lambda:GetFunctionRecursionConfig",
                "lambda:GetFunctionScalingConfig",
                "lambda:GetPolicy",
                "lambda:GetRuntimeManagementConfig",
                "lambda:ListTags",
                "lambda:PutFunctionConcurrency",
                "lambda:PutFunctionRecursionConfig",
                "lambda:PutRuntimeManagementConfig",
                "lambda:RemovePermission",
                "lambda:TagResource",
                "lambda:UntagResource",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
            ],
            "Resource": _own("lambda", "function:"),
            "Effect": "Allow",
        },
        {
            "Sid": "FunctionRoles",
            "Action": [
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
                "iam:PutRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
            ],
            "Resource": roles,
            "Effect": "Allow",
        },
        {
            "Sid": "PassFunctionRoles",
            "Action": ["iam:PassRole"],
            "Resource": roles,
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            "Effect": "Allow",
        },
        {
            "Sid": "Tables",
            "Action": [
                "dynamodb:CreateTable",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:DescribeContributorInsights",
                "dynamodb:DescribeKinesisStreamingDestination",
                "dynamodb:DescribeTable",
                "dynamodb:DescribeTimeToLive",
                "dynamodb:GetResourcePolicy",
                "dynamodb:ListTagsOfResource",
                "dynamodb:TagResource",
                "dynamodb:UntagResource",
                "dynamodb:UpdateContinuousBackups",
                "dynamodb:UpdateTable",
                "dynamodb:UpdateTimeToLive",
            ],
            "Resource": _own("dynamodb", "table/"),
            "Effect": "Allow",
        },
        {
            # CloudFormation tags each REST API and stage as it creates them (its system tags):
            # PUT /tags/<the URL-encoded ARN of the API or stage>; the IDs are random.
            "Sid": "RestApis",
            "Action": ["apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT"],
            "Resource": [
                {"Fn::Sub": f"{api}/restapis"},
                {"Fn::Sub": f"{api}/restapis/*"},
                {"Fn::Sub": f"{api}/tags/{encoded_api}%2Frestapis%2F*"},
                {"Fn::Sub": f"{api}/tags/{api}/restapis/*"},
            ],
            "Effect": "Allow",
        },
        {
            # Each stack's AWS WAF web ACL (named after the stack) and its association with
            # the stack's API stage (docs/security.md).
            "Sid": "WebAcls",
            "Action": [
                "wafv2:AssociateWebACL",
                "wafv2:CreateWebACL",
                "wafv2:DeleteWebACL",
                "wafv2:DisassociateWebACL",
                "wafv2:GetPermissionPolicy",
                "wafv2:GetWebACL",
                "wafv2:GetWebACLForResource",
                "wafv2:ListTagsForResource",
                "wafv2:PutPermissionPolicy",
                "wafv2:TagResource",
                "wafv2:UntagResource",
                "wafv2:UpdateWebACL",
            ],
            "Resource": [*_own("wafv2", "regional/webacl/"), {"Fn::Sub": f"{api}/restapis/*/stages/*"}],
            "Effect": "Allow",
        },
        {
            "Sid": "WebAclOnStages",
            "Action": ["apigateway:SetWebACL"],
            "Resource": [{"Fn::Sub": f"{api}/restapis/*/stages/*"}],
            "Effect": "Allow",
        },
        {
            "Sid": "Topics",
            "Action": [
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:GetDataProtectionPolicy",
                "sns:GetSubscriptionAttributes",
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
                "sns:ListTagsForResource",
                "sns:SetSubscriptionAttributes",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:TagResource",
                "sns:Unsubscribe",
                "sns:UntagResource",
            ],
            "Resource": _own("sns", ""),
            "Effect": "Allow",
        },
        {
            "Sid": "EventQueues",
            "Action": [
                "sqs:CreateQueue",
                "sqs:DeleteQueue",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ListQueueTags",
                "sqs:SetQueueAttributes",
                "sqs:TagQueue",
                "sqs:UntagQueue",
            ],
            "Resource": _own("sqs", ""),
            "Effect": "Allow",
        },
        {
            # A mapping's id is random: it is created only for the stacks' own functions.
            "Sid": "EventSourceMappingsOfOwnFunctions",
            "Action": ["lambda:CreateEventSourceMapping"],
            "Resource": "*",
            "Condition": {"StringLike": {"lambda:FunctionArn": _own("lambda", "function:")}},
            "Effect": "Allow",
        },
        {
            "Sid": "EventSourceMappings",
            "Action": [
                "lambda:DeleteEventSourceMapping",
                "lambda:GetEventSourceMapping",
                "lambda:TagResource",
                "lambda:UntagResource",
                "lambda:UpdateEventSourceMapping",
            ],
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:event-source-mapping:*"
            },
            "Effect": "Allow",
        },
        {
            "Sid": "Alarms",
            "Action": [
                "cloudwatch:DeleteAlarms",
                "cloudwatch:ListTagsForResource",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
            ],
            "Resource": _own("cloudwatch", "alarm:"),
            "Effect": "Allow",
        },
        {
            # The stage's dashboard, in the stack deployed last (tools.dashboard); dashboards are global.
            "Sid": "Dashboard",
            "Action": [
                "cloudwatch:DeleteDashboards",
                "cloudwatch:GetDashboard",
                "cloudwatch:ListTagsForResource",
                "cloudwatch:PutDashboard",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
            ],
            "Resource": [
                {
                    "Fn::Sub": "arn:${AWS::Partition}:cloudwatch::${AWS::AccountId}:dashboard/"
                    + f"{last}-service-${{Stage}}-*"
                }
            ],
            "Effect": "Allow",
        },
        {
            # The issuer's stack writes its own URL, its tokens' issuer, where its functions read it.
            "Sid": "OwnUrlParameter",
            "Action": [
                "ssm:AddTagsToResource",
                "ssm:DeleteParameter",
                "ssm:GetParameters",
                "ssm:PutParameter",
                "ssm:RemoveTagsFromResource",
            ],
            "Resource": [{"Fn::Sub": f"{parameters}/{registry.issuer().name}/url"}],
            "Effect": "Allow",
        },
        {
            # The stacks' SSM-typed parameter HandedOverJwks, should CloudFormation read it as the
            # role the change set was given; read-only, the one public parameter.
            "Sid": "HandedOverJwks",
            "Action": ["ssm:GetParameters"],
            "Resource": [{"Fn::Sub": f"{parameters}/{registry.issuer().name}/jwks"}],
            "Effect": "Allow",
        },
        {
            # The functions' log groups, made by the stacks to give them a retention (Chalice's
            # log_retention_in_days); Lambda names them after the functions.
            "Sid": "FunctionLogGroups",
            "Action": [
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:DeleteRetentionPolicy",
                "logs:ListTagsForResource",
                "logs:PutRetentionPolicy",
                "logs:TagResource",
                "logs:UntagResource",
            ],
            "Resource": _own("logs", "log-group:/aws/lambda/"),
            "Effect": "Allow",
        },
        {
            # Read-only; CloudFormation's handlers list the account's alarms and log groups.
            "Sid": "DescribeAlarmsAndLogGroups",
            "Action": ["cloudwatch:DescribeAlarms", "logs:DescribeLogGroups"],
            "Resource": "*",
            "Effect": "Allow",
        },
        {
            # Lambda reads the function packages `aws cloudformation package` uploaded.
            "Sid": "FunctionPackages",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": [{"Fn::Sub": "${ApplicationBucket.Arn}/*"}],
            "Effect": "Allow",
        },
        {
            "Sid": "SamTransform",
            "Action": ["cloudformation:CreateChangeSet"],
            "Resource": [_transform_arn()],
            "Effect": "Allow",
        },
    ]


def _deploy_role(template: dict[str, Any]) -> None:
    policy = template["Resources"]["CFNDeployRole"]["Properties"]["Policies"][0]
    policy["PolicyDocument"]["Statement"] = deploy_role_statements()


def _outputs(template: dict[str, Any]) -> None:
    for service in stages.SERVICES:
        template["Outputs"][f"{_title(service)}ServiceStackName"] = {"Value": stack_name(service)}


def codecommit_pipeline(generated: dict[str, Any]) -> dict[str, Any]:
    """Chalice's template, serving the three services (its source, CodeCommit, is replaced by the callers)."""
    template = copy.deepcopy(generated)
    _parameters(template)
    _build_project(template)
    _codebuild_policy(template)
    _pipeline_stages(template)
    _artifact_lifecycle(template)
    _pipeline_role(template)
    _deploy_role(template)
    _outputs(template)
    return template


def codecommit_pipeline_with_change_detection(generated: dict[str, Any]) -> dict[str, Any]:
    """Chalice's template, its source a CodeCommit repository whose pushes start it."""
    template = codecommit_pipeline(generated)
    _codecommit_change_detection(template)
    return template


def codeconnections_pipeline(generated: dict[str, Any]) -> dict[str, Any]:
    """The same pipeline, its source any Git host an AWS CodeConnections connection reaches."""
    template = codecommit_pipeline(generated)
    del template["Resources"]["SourceRepository"]
    del template["Outputs"]["SourceRepoURL"]
    template["Parameters"]["ConnectionArn"] = {
        "Type": "String",
        "AllowedPattern": "^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/.+$",
        "Description": "The ARN of an AVAILABLE CodeConnections connection to the Git host (GitHub, GitLab, Bitbucket)",
    }
    template["Parameters"]["FullRepositoryId"] = {
        "Type": "String",
        "AllowedPattern": "^[^/]+/[^/]+$",
        "Description": "The repository as owner/name, e.g. my-org/serverless-profiles",
    }
    (action,) = template["Resources"]["AppPipeline"]["Properties"]["Stages"][0]["Actions"]
    action["ActionTypeId"]["Provider"] = "CodeStarSourceConnection"
    action["Configuration"] = {
        "ConnectionArn": {"Ref": "ConnectionArn"},
        "FullRepositoryId": {"Ref": "FullRepositoryId"},
        "BranchName": {"Ref": "BranchName"},
        "OutputArtifactFormat": "CODE_ZIP",
        # The connection's own webhook starts the pipeline on a push to the branch.
        "DetectChanges": True,
    }
    policy = template["Resources"]["CodePipelineRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    policy["Statement"][1] = {
        # Connections made before 2024 are named codestar-connections, newer ones codeconnections.
        "Action": ["codeconnections:UseConnection", "codestar-connections:UseConnection"],
        "Resource": [{"Ref": "ConnectionArn"}],
        "Effect": "Allow",
    }
    return template


def render() -> dict[str, str]:
    """Each file this script writes, by name, as text."""
    template, spec = chalice_generated()
    return {
        BUILDSPEC: HEADER + yaml.safe_dump(buildspec(spec), sort_keys=False, width=1000),
        PIPELINE: json.dumps(codecommit_pipeline_with_change_detection(template), indent=2) + "\n",
        PIPELINE_CODECONNECTIONS: json.dumps(codeconnections_pipeline(template), indent=2) + "\n",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pipeline", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    args = parser.parse_args(argv)
    files = {ROOT / name: text for name, text in render().items()}
    return generated.write_or_check(files, check=args.check, command="python -m tools.pipeline")


if __name__ == "__main__":
    sys.exit(main())
