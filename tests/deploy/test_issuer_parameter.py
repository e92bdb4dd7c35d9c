"""A deployed auth service learns its own URL (its tokens' issuer) from a parameter its stack writes."""

from __future__ import annotations

import json

from tests.deploy.conftest import STAGE, Packaged
from tests.support import services


def test_the_stack_writes_the_url_the_other_services_import_as_auth_url(packaged: dict[str, Packaged]) -> None:
    auth = packaged["auth"]
    parameter = auth.resources["OwnUrlParameter"]["Properties"]

    assert parameter["Value"] == auth.template["Outputs"]["EndpointURL"]["Value"]
    assert parameter["Name"] == {"Fn::Sub": "/profiles/${Stage}/auth/url"}
    assert services.load("auth").stage_env(STAGE)["TOKEN_ISSUER"] == f"ssm:/profiles/{STAGE}/auth/url"


def test_both_auth_functions_may_read_it(packaged: dict[str, Packaged]) -> None:
    policy = packaged["auth"].resources["SecretAccessPolicy"]["Properties"]
    readable = json.dumps(
        [s["Resource"] for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "ssm:GetParameter"]
    )

    assert "parameter/profiles/${Stage}/auth/url" in readable
    assert {role["Ref"] for role in policy["Roles"]} == {"ApiHandlerRole", "JwtAuthRole"}


def test_the_dev_stage_reads_it_too() -> None:
    folder = services.ROOT / "auth-service" / ".chalice"
    for policy in ("policy-dev.json", "policy-dev-authorizer.json"):
        assert "parameter/profiles/dev/auth/url" in (folder / policy).read_text()
    assert services.load("auth").stage_env("dev")["TOKEN_ISSUER"] == "ssm:/profiles/dev/auth/url"
