"""The pipeline: made by `chalice generate-pipeline` plus tools.pipeline, one pipeline for three stacks."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import cfnlint
import pytest
import yaml

from tests.deploy import iam
from tests.deploy.conftest import BIN, STAGE, Packaged, as_list, merge_template, policy_file, policy_files, statements
from tests.support import services
from tools import pipeline, release

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group("package")]

TEMPLATES = (pipeline.PIPELINE, pipeline.PIPELINE_CODECONNECTIONS)
IAM_ACTIONS = json.loads((Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json").read_text())

# Permissions CloudFormation's resource handlers list that the deploy role leaves out on
# purpose: each is for a feature these stacks do not use, or for something the role must
# never do. A key is a permission (for every type) or "<type> <permission>".
NOT_NEEDED = {
    # Tables are retained when a stack goes: the deployer never deletes one and never touches items.
    "dynamodb:DeleteTable": "tables are DeletionPolicy Retain",
    "dynamodb:GetItem": "no data access for the deployer",
    "dynamodb:PutItem": "no data access for the deployer",
    "dynamodb:UpdateItem": "no data access for the deployer",
    "dynamodb:DeleteItem": "no data access for the deployer",
    "dynamodb:BatchWriteItem": "no data access for the deployer",
    "dynamodb:Query": "no data access for the deployer",
    "dynamodb:Scan": "no data access for the deployer",
    "dynamodb:ImportTable": "no table is imported from S3",
    "dynamodb:DescribeImport": "no table is imported from S3",
    "AWS::DynamoDB::Table s3:GetObject": "no table is imported from S3",
    "AWS::DynamoDB::Table s3:GetObjectMetadata": "no table is imported from S3",
    "AWS::DynamoDB::Table s3:ListBucket": "no table is imported from S3",
    **{
        f"AWS::DynamoDB::Table logs:{action}": "only an import from S3 writes logs"
        for action in (
            "CreateLogGroup",
            "CreateLogStream",
            "DescribeLogGroups",
            "DescribeLogStreams",
            "PutLogEvents",
            "PutRetentionPolicy",
        )
    },
    "dynamodb:CreateTableReplica": "no global tables",
    "dynamodb:AssociateTableReplica": "no global tables",
    "iam:CreateServiceLinkedRole": "no global tables (their replication role)",
    "dynamodb:EnableKinesisStreamingDestination": "no Kinesis streaming",
    "dynamodb:DisableKinesisStreamingDestination": "no Kinesis streaming",
    "dynamodb:UpdateKinesisStreamingDestination": "no Kinesis streaming",
    "kinesis:DescribeStream": "no Kinesis streaming",
    "kinesis:PutRecords": "no Kinesis streaming",
    "dynamodb:PutResourcePolicy": "no resource policies on tables",
    "dynamodb:DeleteResourcePolicy": "no resource policies on tables",
    "dynamodb:UpdateContributorInsights": "no Contributor Insights",
    **{
        f"kms:{action}": "AWS managed keys only: their key policies let the account use them through the service"
        for action in ("CreateGrant", "Decrypt", "DescribeKey", "Encrypt", "GenerateDataKey")
    },
    "kms:ListAliases": "AWS managed keys only",
    "kms:RevokeGrant": "AWS managed keys only",
    "ec2:DescribeNetworkInterfaces": "no function in a VPC",
    "ec2:DescribeSecurityGroups": "no function in a VPC",
    "ec2:DescribeSubnets": "no function in a VPC",
    "ec2:DescribeVpcs": "no function in a VPC",
    "elasticfilesystem:DescribeMountTargets": "no file systems on functions",
    "s3files:ListMountTargets": "no file systems on functions",
    "lambda:PublishVersion": "no versions or aliases",
    "lambda:AssociateRuntimeAlias": "no versions or aliases",
    "lambda:GetLayerVersion": "no layers (automatic_layer is off)",
    "lambda:GetCodeSigningConfig": "no code signing",
    "lambda:PutFunctionCodeSigningConfig": "no code signing",
    "lambda:DeleteFunctionCodeSigningConfig": "no code signing",
    "lambda:PutFunctionScalingConfig": "no capacity providers",
    "lambda:PassCapacityProvider": "no capacity providers",
    "apigateway:UpdateRestApiPolicy": "no resource policies on APIs",
    "AWS::ApiGateway::RestApi iam:PassRole": "no role is given to API Gateway",
    "AWS::ApiGateway::RestApi s3:GetObject": "the API definition is inline (DefinitionBody), not in S3",
    "AWS::SNS::Topic iam:GetRole": "no delivery status logging on topics",
    "AWS::SNS::Subscription iam:GetRole": "no subscription role (only Firehose subscriptions have one)",
    "AWS::SNS::Subscription iam:PassRole": "no subscription role (only Firehose subscriptions have one)",
    "AWS::SNS::Topic iam:PassRole": "no delivery status logging on topics",
    "iam:AttachRolePolicy": "no managed policies: the deployer cannot attach AdministratorAccess to a role",
    "iam:DetachRolePolicy": "no managed policies",
    "iam:PutRolePermissionsBoundary": "no permissions boundaries",
    "iam:DeleteRolePermissionsBoundary": "no permissions boundaries",
    "sns:PutDataProtectionPolicy": "no data protection policies on topics",
    "payments:GetConnectedAccount": "no paid (AWS Marketplace) rule groups in the web ACLs",
    **{
        f"AWS::WAFv2::WebACLAssociation {action}": "the web ACLs protect API Gateway stages only"
        for action in iam.handler_permissions("AWS::WAFv2::WebACLAssociation")
        if action.split(":")[0] not in ("wafv2", "apigateway")
    },
    # The functions' log groups (Chalice's log_retention_in_days): a name and a retention, nothing more.
    **{
        f"AWS::Logs::LogGroup {permission}": reason
        for reason, permissions in {
            "no KMS key of our own on log groups": ("logs:AssociateKmsKey", "logs:DisassociateKmsKey"),
            "no data protection policies on log groups": (
                "logs:DeleteDataProtectionPolicy",
                "logs:GetDataProtectionPolicy",
                "logs:PutDataProtectionPolicy",
            ),
            "no field index policies": ("logs:DeleteIndexPolicy", "logs:DescribeIndexPolicies", "logs:PutIndexPolicy"),
            "no resource policies on log groups": (
                "logs:DeleteResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:PutResourcePolicy",
            ),
            "no log delivery to Firehose or S3": (
                "logs:CreateLogDelivery",
                "firehose:TagDeliveryStream",
                "s3:REST.PUT.OBJECT",
            ),
            "no bearer-token log ingestion": ("logs:PutBearerTokenAuthentication",),
            "no deletion protection: a stack's logs go with it": ("logs:PutLogGroupDeletionProtection",),
        }.items()
        for permission in permissions
    },
    **{
        f"iam:{verb}{who}Policy": "policies go on the stacks' roles only"
        for verb in ("Get", "Put", "Delete")
        for who in ("User", "Group")
    },
}
# What the role's resources stand for in the evaluation (an account, a region, a stage).
NAMES = {
    "AWS::Partition": iam.PARTITION,
    "AWS::Region": iam.REGION,
    "AWS::AccountId": iam.ACCOUNT,
    "Stage": STAGE,
    "ApplicationBucket.Arn": f"arn:aws:s3:::{iam.APPLICATION_BUCKET}",
}
READ_ONLY = ("Describe", "Get", "List", "Validate")


def _template(name: str) -> dict[str, Any]:
    return json.loads((services.ROOT / name).read_text())  # type: ignore[no-any-return]


def _buildspec() -> dict[str, Any]:
    return yaml.safe_load((services.ROOT / pipeline.BUILDSPEC).read_text())  # type: ignore[no-any-return]


def _build_variables(template: dict[str, Any]) -> list[dict[str, Any]]:
    return template["Resources"]["AppPackageBuild"]["Properties"]["Environment"]["EnvironmentVariables"]  # type: ignore[no-any-return]


def test_the_committed_files_are_exactly_what_the_script_makes_from_chalices_output() -> None:
    for name, text in pipeline.render().items():
        assert (services.ROOT / name).read_text() == text, f"{name} is stale: run python -m tools.pipeline"


def test_both_pipeline_templates_pass_cfn_lint() -> None:
    result = subprocess.run(
        [str(BIN / "cfn-lint"), *(str(services.ROOT / t) for t in TEMPLATES)], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_pipeline_builds_tests_and_deploys_the_changed_stacks_in_one_build(name: str) -> None:
    template = _template(name)
    stages = template["Resources"]["AppPipeline"]["Properties"]["Stages"]
    build = _buildspec()["phases"]["build"]["commands"]

    assert [s["Name"] for s in stages] == ["Source", "Build"]
    assert build[-1] == ".venv/bin/python -m tools.release --stage $DEPLOY_STAGE"
    # What tools.release reads from the build's environment: the stage, the bucket, the role, the address.
    assert {v["Name"]: v["Value"] for v in _build_variables(template)} == {
        "APP_S3_BUCKET": {"Ref": "ApplicationBucket"},
        "DEPLOY_STAGE": {"Ref": "Stage"},
        "ALARM_EMAIL": {"Ref": "AlarmEmail"},
        "CFN_DEPLOY_ROLE": {"Fn::GetAtt": ["CFNDeployRole", "Arn"]},
    }


def test_the_build_packages_each_service_into_the_template_tools_release_deploys() -> None:
    build = _buildspec()["phases"]["build"]["commands"]

    assert "--output-template-file $service-service.yaml" in build[0]
    assert _buildspec()["artifacts"]["files"] == [release.template_file(s).name for s in services.SERVICES]


def test_every_stack_parameter_without_a_default_is_given_by_the_release() -> None:
    given = release.Release(STAGE, "ops@example.com", "bucket", "role").parameters

    for name in services.SERVICES:
        required = {p for p, spec in merge_template(name)["Parameters"].items() if "Default" not in spec}
        assert set(given) == required
    assert given["Stage"] == STAGE


def test_the_pipeline_stage_is_a_stage_of_every_service_and_reaches_the_build() -> None:
    template = _template(pipeline.PIPELINE)
    allowed = template["Parameters"]["Stage"]["AllowedValues"]
    variables = _build_variables(template)

    for name in services.SERVICES:
        for stage in allowed:
            assert services.stage_env(name, stage)["STAGE"] == stage
    assert {"Name": "DEPLOY_STAGE", "Value": {"Ref": "Stage"}} in variables


def test_the_build_tests_the_tree_as_given_then_copies_the_shared_library_just_before_packaging() -> None:
    phases = _buildspec()["phases"]
    (loop, _) = phases["build"]["commands"]
    steps = [
        "rm -rf $service-service/vendor/servicekit",
        "cp -rL shared/servicekit $service-service/vendor/servicekit || exit 1;",
        "chalice package --stage $DEPLOY_STAGE --merge-template resources.json",
        "aws cloudformation package",
    ]

    assert phases["pre_build"]["commands"] == ["make test"]
    assert loop.startswith(f"for service in {' '.join(services.SERVICES)};")
    assert [loop.index(step) for step in steps] == sorted(loop.index(step) for step in steps)


def test_the_build_adds_bytecode_to_each_package_after_chalice_package_and_before_uploading_it() -> None:
    (loop, _) = _buildspec()["phases"]["build"]["commands"]
    steps = [
        "chalice package --stage $DEPLOY_STAGE",
        ".venv/bin/python -m tools.bytecode build/packaged/$service-service/deployment.zip || exit 1;",
        "aws cloudformation package --template-file build/packaged/$service-service/sam.json",
    ]

    assert loop.startswith(f"for service in {' '.join(services.SERVICES)};")
    assert [loop.index(step) for step in steps] == sorted(loop.index(step) for step in steps)


def test_the_source_is_codecommit_or_a_codeconnections_connection_given_as_a_parameter() -> None:
    def source(name: str) -> dict[str, Any]:
        (action,) = _template(name)["Resources"]["AppPipeline"]["Properties"]["Stages"][0]["Actions"]
        return action  # type: ignore[no-any-return]

    assert source(pipeline.PIPELINE)["ActionTypeId"]["Provider"] == "CodeCommit"
    connection = source(pipeline.PIPELINE_CODECONNECTIONS)
    assert connection["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert connection["Configuration"]["ConnectionArn"] == {"Ref": "ConnectionArn"}
    assert "SourceRepository" not in _template(pipeline.PIPELINE_CODECONNECTIONS)["Resources"]


def _role_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            for inline in resource["Properties"].get("Policies", []):
                found += [(name, s) for s in statements(inline["PolicyDocument"])]
        if resource["Type"] == "AWS::IAM::Policy":
            found += [(name, s) for s in statements(resource["Properties"]["PolicyDocument"])]
    return found


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_pipeline_role_may_do_anything_anywhere(name: str) -> None:
    for role, statement in _role_statements(_template(name)):
        actions = as_list(statement["Action"])
        assert not [a for a in actions if a == "*" or a.endswith(":*")], role
        if "*" in as_list(statement["Resource"]) and not _scoped_to_own_functions(statement):
            # Only reads for which IAM has no resource to name.
            assert all(a.split(":")[1].startswith(READ_ONLY) for a in actions), (role, actions)


def _scoped_to_own_functions(statement: dict[str, Any]) -> bool:
    """Whether a statement on no resource is held by a condition to the stacks' own functions."""
    like = statement.get("Condition", {}).get("StringLike", {}).get("lambda:FunctionArn", [])
    return bool(like) and all("-service-${Stage}-" in value["Fn::Sub"] for value in as_list(like))


def _deploy_role() -> list[dict[str, Any]]:
    return iam.resolve(pipeline.deploy_role_statements(), NAMES)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_deploy_role_allows_every_permission_cloudformations_handlers_need_on_the_resources_they_touch(
    packaged: dict[str, Packaged], name: str
) -> None:
    # GIVEN every (permission, resource) the create, update and delete handlers of the stack's
    # resource types list in CloudFormation's schemas, tagging included
    needed, unmodelled = iam.requests(f"{name}-service-{STAGE}", packaged[name].template, NOT_NEEDED)
    assert not unmodelled, f"give these a resource in tests/deploy/iam.py or a reason in NOT_NEEDED: {unmodelled}"

    # WHEN the deploy role's policy is evaluated for each
    denied = [r for r in needed if not iam.allows(_deploy_role(), r)]

    # THEN it allows all of them
    assert not denied, "\n".join(f"{r.kind} {r.logical_id}: {r.action} on {r.resource}" for r in denied)


def test_the_permission_check_sees_what_action_names_alone_miss() -> None:
    # GIVEN a role that may do every API Gateway verb on the REST APIs, but not on their tags
    role = [{"Effect": "Allow", "Action": "apigateway:PUT", "Resource": "arn:aws:apigateway:us-east-1::/restapis/*"}]
    tag_on_create = next(
        r
        for r in iam.requests("auth-service-prod", _rest_api_template(), NOT_NEEDED)[0]
        if r.action == "apigateway:PUT" and "/tags/" in r.resource
    )

    # THEN tagging the new API is denied, as AWS would deny it
    assert tag_on_create.resource == (
        "arn:aws:apigateway:us-east-1::/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2Fa1b2c3d4e5"
    )
    assert not iam.allows(role, tag_on_create)
    assert iam.allows(_deploy_role(), tag_on_create)


def _rest_api_template() -> dict[str, Any]:
    return {"Resources": {"RestAPI": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "api"}}}}


def test_the_deploy_role_is_scoped_to_the_three_stacks_resources() -> None:
    for statement in pipeline.deploy_role_statements():
        for resource in as_list(statement["Resource"]):
            if resource == "*":
                if _scoped_to_own_functions(statement):  # an event source mapping: no resource until made
                    assert statement["Action"] == ["lambda:CreateEventSourceMapping"]
                    continue
                assert statement["Action"] == ["cloudwatch:DescribeAlarms", "logs:DescribeLogGroups"]
                continue
            arn = resource["Fn::Sub"] if isinstance(resource, dict) and "Fn::Sub" in resource else json.dumps(resource)
            assert any(
                s in arn
                for s in (
                    "-service-${Stage}-",
                    "restapis",
                    "event-source-mapping:",  # random ids, as the REST APIs'
                    "ApplicationBucket",
                    "transform/",
                    ":parameter/profiles/${Stage}/",
                )
            ), arn
    granted = {a for s in pipeline.deploy_role_statements() for a in as_list(s["Action"])}
    assert not {k for k in NOT_NEEDED if " " not in k} & granted


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_action_the_pipeline_roles_grant_exists(name: str) -> None:
    for role, statement in _role_statements(_template(name)):
        for action in as_list(statement["Action"]):
            service, _, operation = action.partition(":")
            assert operation.lower() in IAM_ACTIONS[service]["Actions"], f"{role}: {action}"


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_action_the_services_policies_grant_exists(packaged: dict[str, Packaged], name: str) -> None:
    documents = [policy_file(name, f) for f in policy_files(name)]
    documents += [r["Properties"]["PolicyDocument"] for r in packaged[name].of_type("AWS::IAM::Policy").values()]

    for document in documents:
        for statement in statements(document):
            for action in as_list(statement["Action"]):
                service, _, operation = action.partition(":")
                assert operation.lower() in IAM_ACTIONS[service]["Actions"], action


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_pipeline_is_v2_started_by_a_push_never_by_polling(name: str) -> None:
    template = _template(name)
    properties = template["Resources"]["AppPipeline"]["Properties"]
    (source,) = properties["Stages"][0]["Actions"]

    assert properties["PipelineType"] == "V2"
    assert properties["ExecutionMode"] == "QUEUED"
    if source["ActionTypeId"]["Provider"] == "CodeCommit":
        assert source["Configuration"]["PollForSourceChanges"] is False
        rule = template["Resources"]["SourceChangeRule"]["Properties"]
        assert rule["EventPattern"]["detail"]["referenceName"] == [{"Ref": "BranchName"}]
        assert rule["Targets"][0]["RoleArn"] == {"Fn::GetAtt": ["SourceChangeRole", "Arn"]}
    else:
        assert source["Configuration"]["DetectChanges"] is True


@pytest.mark.parametrize("name", TEMPLATES)
def test_both_buckets_forget_old_builds(name: str) -> None:
    resources = _template(name)["Resources"]

    for bucket in ("ArtifactBucketStore", "ApplicationBucket"):
        (rule,) = resources[bucket]["Properties"]["LifecycleConfiguration"]["Rules"]
        assert rule["Status"] == "Enabled"
        assert rule["ExpirationInDays"] == pipeline.ARTIFACT_DAYS
    versioned = resources["ArtifactBucketStore"]["Properties"]
    assert versioned["VersioningConfiguration"]["Status"] == "Enabled"
    (rule,) = versioned["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == pipeline.ARTIFACT_DAYS


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_build_machine_is_the_compute_type_the_docs_justify(name: str) -> None:
    environment = _template(name)["Resources"]["AppPackageBuild"]["Properties"]["Environment"]

    assert environment["ComputeType"] == pipeline.COMPUTE_TYPE
    assert f"`{pipeline.COMPUTE_TYPE}`" in (services.ROOT / "docs" / "deployment.md").read_text()


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_function_keeps_its_logs_for_the_stages_retention(packaged: dict[str, Packaged], name: str) -> None:
    config = json.loads((services.ROOT / f"{name}-service" / ".chalice" / "config.json").read_text())
    functions = packaged[name].of_type("AWS::Serverless::Function")
    groups = packaged[name].of_type("AWS::Logs::LogGroup")

    assert {g["Properties"]["LogGroupName"]["Fn::Sub"] for g in groups.values()} == {
        f"/aws/lambda/${{{f}}}" for f in functions
    }
    days = config["stages"][STAGE]["log_retention_in_days"]
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {days}
    assert all("log_retention_in_days" in c for s, c in config["stages"].items() if s != "local")


def _build_role() -> list[dict[str, Any]]:
    names = {**NAMES, "CFNDeployRole.Arn": DEPLOY_ROLE, "AppPackageBuild": "build", "ArtifactBucketStore.Arn": "x"}
    document = _template(pipeline.PIPELINE)["Resources"]["CodeBuildPolicy"]["Properties"]["PolicyDocument"]
    return iam.resolve(statements(document), names)  # type: ignore[no-any-return]


DEPLOY_ROLE = f"arn:aws:iam::{iam.ACCOUNT}:role/profiles-prod-pipeline-CFNDeployRole-{iam.SUFFIX}"


@pytest.mark.parametrize("action", ["CreateChangeSet", "ExecuteChangeSet", "DescribeStacks", "DeleteStack"])
def test_the_build_may_deploy_and_recover_the_service_stacks_and_no_other(action: str) -> None:
    def request(stack: str) -> iam.Request:
        arn = f"arn:aws:cloudformation:{iam.REGION}:{iam.ACCOUNT}:stack/{stack}/0a1b2c3d"
        return iam.Request("", "", f"cloudformation:{action}", arn)

    for name in services.SERVICES:
        assert iam.allows(_build_role(), request(f"{name}-service-{STAGE}"))
    assert not iam.allows(_build_role(), request(f"billing-{STAGE}"))
    assert not iam.allows(_build_role(), request("auth-service-dev"))


def test_the_build_passes_the_deploy_role_to_cloudformation_only() -> None:
    def pass_role(service: str) -> iam.Request:
        return iam.Request("", "", "iam:PassRole", DEPLOY_ROLE, {"iam:PassedToService": service})

    assert iam.allows(_build_role(), pass_role("cloudformation.amazonaws.com"))
    assert not iam.allows(_build_role(), pass_role("lambda.amazonaws.com"))


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_build_and_the_deploy_role_may_resolve_the_stacks_ssm_typed_parameters_and_no_secret(
    packaged: dict[str, Packaged], name: str
) -> None:
    # GIVEN what resolving the stack's SSM-typed parameters asks, with the names the release passes
    given = release.Release(STAGE, "ops@example.com", "bucket", DEPLOY_ROLE).parameters
    needed = iam.ssm_parameter_requests(packaged[name].template, given)
    assert [r.logical_id for r in needed] == ["HandedOverJwks"]

    # THEN the build (which creates the change set) and the deploy role (given to it) may
    # read them, and the build may also read the JWKS into the fingerprints
    for role in (_build_role(), _deploy_role()):
        assert all(iam.allows(role, r) for r in needed)
    (jwks,) = needed
    assert iam.allows(_build_role(), iam.Request("", "", "ssm:GetParameter", jwks.resource))

    # AND neither may read the signing keys beside it
    secret = jwks.resource.replace("/auth/jwks", "/auth/signing-keys")
    for role in (_build_role(), _deploy_role()):
        for action in ("ssm:GetParameter", "ssm:GetParameters"):
            assert not iam.allows(role, iam.Request("", "", action, secret))


def test_the_lambda_runtime_is_the_python_of_the_makefile_and_of_the_build(packaged: dict[str, Packaged]) -> None:
    makefile = (services.ROOT / "Makefile").read_text()
    (version,) = re.findall(r"^PYTHON_VERSION := (\S+)$", makefile, re.MULTILINE)

    runtimes = {
        r["Properties"]["Runtime"] for p in packaged.values() for r in p.of_type("AWS::Serverless::Function").values()
    }

    assert runtimes == {f"python{version}"}
    assert _buildspec()["phases"]["install"]["runtime-versions"]["python"] == version


def test_the_codebuild_image_is_a_parameter_defaulting_to_the_curated_image_the_docs_cite() -> None:
    deployment = (services.ROOT / "docs" / "deployment.md").read_text()

    for name in TEMPLATES:
        template = _template(name)
        assert template["Parameters"]["CodeBuildImage"]["Default"] == pipeline.CODEBUILD_IMAGE
        assert template["Resources"]["AppPackageBuild"]["Properties"]["Environment"]["Image"] == {
            "Ref": "CodeBuildImage"
        }
    assert f"`{pipeline.CODEBUILD_IMAGE}`" in deployment
    assert "https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-available.html" in deployment
