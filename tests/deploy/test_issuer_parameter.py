"""A deployed issuer (the auth service) learns its own URL, its tokens' issuer, from a parameter its stack writes."""

from __future__ import annotations

import json

from servicekit.authorizer import api_url
from tests.deploy.conftest import STAGE, Packaged
from tests.support import services
from tools import registry

ISSUER = registry.issuer().name


def test_the_stack_writes_the_url_the_other_services_import(packaged: dict[str, Packaged]) -> None:
    issuer = packaged[ISSUER]
    parameter = issuer.resources["OwnUrlParameter"]["Properties"]

    assert parameter["Value"] == issuer.template["Outputs"]["EndpointURL"]["Value"]
    assert parameter["Name"] == {"Fn::Sub": f"/profiles/${{Stage}}/{ISSUER}/url"}
    assert services.load(ISSUER).stage_env(STAGE)["TOKEN_ISSUER"] == f"ssm:/profiles/{STAGE}/{ISSUER}/url"
    assert not [name for name, p in packaged.items() if name != ISSUER and "OwnUrlParameter" in p.resources]


def test_both_functions_of_the_issuer_may_read_it(packaged: dict[str, Packaged]) -> None:
    policy = packaged[ISSUER].resources["SecretAccessPolicy"]["Properties"]
    readable = json.dumps(
        [s["Resource"] for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "ssm:GetParameter"]
    )

    assert f"parameter/profiles/${{Stage}}/{ISSUER}/url" in readable
    assert {role["Ref"] for role in policy["Roles"]} == {"ApiHandlerRole", "JwtAuthRole"}


def test_the_dev_stage_reads_it_too() -> None:
    folder = services.ROOT / f"{ISSUER}-service" / ".chalice"
    for policy in ("policy-dev.json", "policy-dev-authorizer.json"):
        assert f"parameter/profiles/dev/{ISSUER}/url" in (folder / policy).read_text()
    assert services.load(ISSUER).stage_env("dev")["TOKEN_ISSUER"] == f"ssm:/profiles/dev/{ISSUER}/url"


def test_the_authorizer_knows_the_url_the_parameter_holds_from_its_method_arn(packaged: dict[str, Packaged]) -> None:
    # The issuer's authorizer reads nothing on its cold start: the parameter's value is its
    # API's default URL, which API Gateway's methodArn names (servicekit.authorizer.api_url).
    value = packaged[ISSUER].resources["OwnUrlParameter"]["Properties"]["Value"]["Fn::Sub"]
    written = (
        value.replace("${RestAPI}", "a1b2c3d4e5")
        .replace("${AWS::Region}", "eu-central-1")
        .replace("${AWS::URLSuffix}", "amazonaws.com")
    )

    assert written.rstrip("/") == api_url("arn:aws:execute-api:eu-central-1:123456789012:a1b2c3d4e5/api/GET/users/me")
