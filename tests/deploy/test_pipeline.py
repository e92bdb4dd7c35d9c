"""The pipeline: made by `chalice generate-pipeline` plus tools.pipeline, one pipeline for three stacks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import cfnlint
import pytest
import yaml

from tests.deploy.conftest import BIN, Packaged, as_list, merge_template, policy_file, statements
from tests.support import services
from tools import pipeline

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group("package")]

TEMPLATES = (pipeline.PIPELINE, pipeline.PIPELINE_CODECONNECTIONS)
SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas"
IAM_ACTIONS = json.loads((Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json").read_text())

# What the SAM transform turns the packaged templates' serverless resources into.
SAM_TYPES = {
    "AWS::Serverless::Function": ["AWS::Lambda::Function"],
    "AWS::Serverless::Api": ["AWS::ApiGateway::RestApi", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"],
}
# Permissions CloudFormation's resource handlers list that the deploy role leaves out on
# purpose: each is for a feature these stacks do not use, or for something the role
# must never do.
NOT_GRANTED = {
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
    "dynamodb:CreateTableReplica": "no global tables",
    "dynamodb:AssociateTableReplica": "no global tables",
    "dynamodb:EnableKinesisStreamingDestination": "no Kinesis streaming",
    "dynamodb:DisableKinesisStreamingDestination": "no Kinesis streaming",
    "dynamodb:UpdateKinesisStreamingDestination": "no Kinesis streaming",
    "dynamodb:PutResourcePolicy": "no resource policies on tables",
    "dynamodb:DeleteResourcePolicy": "no resource policies on tables",
    "dynamodb:UpdateContributorInsights": "no Contributor Insights",
    "lambda:PublishVersion": "no versions or aliases",
    "lambda:AssociateRuntimeAlias": "no versions or aliases",
    "lambda:GetLayerVersion": "no layers (automatic_layer is off)",
    "lambda:GetCodeSigningConfig": "no code signing",
    "lambda:PutFunctionCodeSigningConfig": "no code signing",
    "lambda:DeleteFunctionCodeSigningConfig": "no code signing",
    "lambda:PutFunctionScalingConfig": "no capacity providers",
    "lambda:PassCapacityProvider": "no capacity providers",
    "apigateway:UpdateRestApiPolicy": "no resource policies on APIs",
    "iam:AttachRolePolicy": "no managed policies: the deployer cannot attach AdministratorAccess to a role",
    "iam:DetachRolePolicy": "no managed policies",
    "iam:PutRolePermissionsBoundary": "no permissions boundaries",
    "iam:DeleteRolePermissionsBoundary": "no permissions boundaries",
    "sns:PutDataProtectionPolicy": "no data protection policies on topics",
    **{
        f"iam:{verb}{who}Policy": "policies go on the stacks' roles only"
        for verb in ("Get", "Put", "Delete")
        for who in ("User", "Group")
    },
}
OWN_NAMESPACE = {"DynamoDB": "dynamodb", "Lambda": "lambda", "ApiGateway": "apigateway", "IAM": "iam", "SNS": "sns"}
READ_ONLY = ("Describe", "Get", "List", "Validate")


def _template(name: str) -> dict[str, Any]:
    return json.loads((services.ROOT / name).read_text())  # type: ignore[no-any-return]


def _deploy_actions(template: dict[str, Any]) -> list[dict[str, Any]]:
    (deploy,) = [s for s in template["Resources"]["AppPipeline"]["Properties"]["Stages"] if s["Name"] == "Deploy"]
    return sorted(deploy["Actions"], key=lambda action: action["RunOrder"])


def test_the_committed_files_are_exactly_what_the_script_makes_from_chalices_output() -> None:
    for name, text in pipeline.render().items():
        assert (services.ROOT / name).read_text() == text, f"{name} is stale: run python -m tools.pipeline"


def test_both_pipeline_templates_pass_cfn_lint() -> None:
    result = subprocess.run(
        [str(BIN / "cfn-lint"), *(str(services.ROOT / t) for t in TEMPLATES)], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_pipeline_builds_then_deploys_one_stack_per_service_in_dependency_order(name: str) -> None:
    template = _template(name)
    stages = template["Resources"]["AppPipeline"]["Properties"]["Stages"]
    actions = _deploy_actions(template)

    assert [s["Name"] for s in stages] == ["Source", "Build", "Deploy"]
    assert [a["Configuration"]["ActionMode"] for a in actions] == ["CHANGE_SET_REPLACE", "CHANGE_SET_EXECUTE"] * 3
    assert [a["RunOrder"] for a in actions] == [1, 2, 3, 4, 5, 6]
    stacks = [a["Configuration"]["StackName"]["Fn::Sub"] for a in actions]
    assert stacks == [f"{s}-service-${{Stage}}" for s in services.SERVICES for _ in range(2)]
    for create, execute in zip(actions[::2], actions[1::2], strict=True):
        assert create["Configuration"]["ChangeSetName"] == execute["Configuration"]["ChangeSetName"]
        assert create["Configuration"]["RoleArn"] == {"Fn::GetAtt": ["CFNDeployRole", "Arn"]}


def test_each_change_set_deploys_its_services_template_from_the_build() -> None:
    buildspec = yaml.safe_load((services.ROOT / pipeline.BUILDSPEC).read_text())
    creates = _deploy_actions(_template(pipeline.PIPELINE))[::2]

    paths = [a["Configuration"]["TemplatePath"] for a in creates]

    assert paths == [f"{pipeline.TEMPLATE_ARTIFACT}::{s}-service.yaml" for s in services.SERVICES]
    assert buildspec["artifacts"]["files"] == [p.split("::")[1] for p in paths]


def test_every_stack_parameter_without_a_default_is_given_by_the_pipeline() -> None:
    creates = _deploy_actions(_template(pipeline.PIPELINE))[::2]

    for action, name in zip(creates, services.SERVICES, strict=True):
        given = json.loads(action["Configuration"]["ParameterOverrides"]["Fn::Sub"])
        required = {p for p, spec in merge_template(name)["Parameters"].items() if "Default" not in spec}
        assert set(given) == required
        assert given["Stage"] == "${Stage}"


def test_the_pipeline_stage_is_a_stage_of_every_service_and_reaches_the_build() -> None:
    template = _template(pipeline.PIPELINE)
    allowed = template["Parameters"]["Stage"]["AllowedValues"]
    variables = template["Resources"]["AppPackageBuild"]["Properties"]["Environment"]["EnvironmentVariables"]

    for name in services.SERVICES:
        for stage in allowed:
            assert services.stage_env(name, stage)["STAGE"] == stage
    assert {"Name": "DEPLOY_STAGE", "Value": {"Ref": "Stage"}} in variables


def test_the_build_copies_the_shared_library_into_each_vendor_tests_then_packages_with_the_merge_template() -> None:
    phases = yaml.safe_load((services.ROOT / pipeline.BUILDSPEC).read_text())["phases"]
    pre_build, build = phases["pre_build"]["commands"], phases["build"]["commands"]

    assert "cp -rL shared/servicekit $service-service/vendor/servicekit" in pre_build[0]
    assert "rm -rf $service-service/vendor/servicekit" in pre_build[0]
    assert pre_build[1] == "make test"
    assert "for service in auth location profile;" in build[0]
    assert "chalice package --stage $DEPLOY_STAGE --merge-template resources.json" in build[0]
    assert "aws cloudformation package" in build[0]


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
        if "*" in as_list(statement["Resource"]):
            # Only reads for which IAM has no resource to name.
            assert all(a.split(":")[1].startswith(READ_ONLY) for a in actions), (role, actions)


def _granted() -> set[str]:
    return {a for s in pipeline.deploy_role_statements() for a in as_list(s["Action"])}


def _handler_permissions(kind: str) -> tuple[set[str], set[str]]:
    """The read, and the create/update/delete, permissions CloudFormation's handler of ``kind`` lists."""
    index = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())
    handlers = json.loads((SCHEMAS / "resources" / f"{index[kind]}.json").read_text())["handlers"]
    read = set(handlers.get("read", {}).get("permissions", []))
    changes = {p for step in ("create", "update", "delete") for p in handlers.get(step, {}).get("permissions", [])}
    return read, changes


def test_the_deploy_role_can_manage_every_resource_type_of_the_service_stacks(packaged: dict[str, Packaged]) -> None:
    kinds = set()
    for package in packaged.values():
        for resource in package.resources.values():
            kinds.update(SAM_TYPES.get(resource["Type"], [resource["Type"]]))
    granted = _granted()

    for kind in sorted(kinds):
        namespace = OWN_NAMESPACE.get(kind.split("::")[1], kind.split("::")[1].lower())
        read, changes = _handler_permissions(kind)
        needed = {p for p in read | changes if p.startswith(namespace + ":")} - set(NOT_GRANTED)
        assert needed <= granted, f"{kind}: {sorted(needed - granted)}"
    assert "iam:PassRole" in granted and "s3:GetObject" in granted  # the functions' roles and code


def test_the_deploy_role_is_scoped_to_the_three_stacks_resources() -> None:
    for statement in pipeline.deploy_role_statements():
        for resource in as_list(statement["Resource"]):
            if resource == "*":
                assert statement["Action"] == ["cloudwatch:DescribeAlarms"]
                continue
            arn = resource["Fn::Sub"] if isinstance(resource, dict) and "Fn::Sub" in resource else json.dumps(resource)
            assert any(s in arn for s in ("-service-${Stage}-", "restapis", "ApplicationBucket", "transform/")), arn
    assert not set(NOT_GRANTED) & _granted()


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_action_the_pipeline_roles_grant_exists(name: str) -> None:
    for role, statement in _role_statements(_template(name)):
        for action in as_list(statement["Action"]):
            service, _, operation = action.partition(":")
            assert operation.lower() in IAM_ACTIONS[service]["Actions"], f"{role}: {action}"


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_action_the_services_policies_grant_exists(packaged: dict[str, Packaged], name: str) -> None:
    documents = [policy_file(name, f) for f in ("policy-dev.json", "policy-dev-authorizer.json", "policy-prod.json")]
    documents += [r["Properties"]["PolicyDocument"] for r in packaged[name].of_type("AWS::IAM::Policy").values()]

    for document in documents:
        for statement in statements(document):
            for action in as_list(statement["Action"]):
                service, _, operation = action.partition(":")
                assert operation.lower() in IAM_ACTIONS[service]["Actions"], action
