"""The bench's parts: prices, the memory rule, the package and world it models, what it accepts (no timings here)."""

from __future__ import annotations

import json
import os
import re
from importlib.util import cache_from_source
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from servicekit.keyring import KeyRing
from servicekit.tokens import KeySet, TokenVerifier
from tools import stages, tables
from tools.bench import __main__ as bench
from tools.bench import aws, costs, cpu, package, speed, world
from tools.bench.model import Function, run_once


def test_a_million_invocations_cost_requests_plus_gb_seconds_billed_per_ms() -> None:
    # 1,024 MB for 99.2 ms is billed as 100 ms: 0.1 GB-s each.
    assert costs.lambda_per_million(1024, 99.2) == pytest.approx(0.20 + 100_000 * 0.0000166667)


def test_the_cheapest_size_meeting_the_goal_is_chosen() -> None:
    by_size = {512: (700.0, 0.40), 1024: (450.0, 0.42), 1769: (300.0, 0.60)}

    assert costs.choose("api", by_size)[0] == 1024


def test_of_sizes_within_five_percent_of_the_cheapest_the_fastest_is_chosen() -> None:
    by_size = {1024: (450.0, 0.42), 1769: (300.0, 0.43)}

    assert costs.choose("api", by_size)[0] == 1769


def test_when_no_size_meets_the_goal_the_cheapest_near_fastest_is_chosen() -> None:
    by_size = {1024: (900.0, 0.40), 1769: (600.0, 0.50), 2048: (590.0, 0.55)}

    size, why = costs.choose("api", by_size)

    assert size == 1769
    assert "no size meets" in why


def test_the_modelled_package_holds_what_chalice_package_zips(tmp_path: Path) -> None:
    folder = package.build("location", tmp_path, bytecode=False)

    assert (folder / "app.py").is_file()
    assert (folder / "vendor" / "servicekit" / "authorizer.py").is_file()  # through the symlink
    assert sorted(p.name for p in (folder / "chalice").iterdir()) == ["__init__.py", "app.py"]
    assert (folder / "jwt" / "api_jwt.py").is_file()
    assert (folder / "cryptography").is_dir()  # PyJWT[crypto]'s requirement
    assert not (folder / "boto3").exists()  # the runtime's
    assert not list(folder.rglob("*.pyc"))


def test_the_modelled_package_has_the_bytecode_the_pipeline_adds(tmp_path: Path) -> None:
    folder = package.build("location", tmp_path)

    sources = sorted(folder.rglob("*.py"))
    assert sources
    assert sorted(folder.rglob("*.pyc")) == sorted(Path(cache_from_source(str(s), optimization="")) for s in sources)


def test_each_function_has_the_memory_the_last_bench_chose() -> None:
    # docs/performance.md is make bench's output: its table of chosen sizes is what deploys.
    text = (stages.ROOT / "docs" / "performance.md").read_text()
    section = text.split("## The memory each function gets", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| ") and " MB |" in line]
    handlers = {"api": "api_handler", "authorizer": "jwt_auth"}
    chosen = {name.strip(): int(memory.strip().removesuffix(" MB")) for name, memory in rows}

    assert len(chosen) == 2 * len({name.split()[0] for name in chosen})
    for name, memory in chosen.items():
        service, kind = name.split()
        config = json.loads((stages.folder(service) / ".chalice" / "config.json").read_text())
        assert config["lambda_functions"][handlers[kind]]["lambda_memory_size"] == memory, name


# The all-cold model (issue 24): AWS's parameters, their sources, and the arithmetic.


def test_every_aws_parameter_has_a_value_a_source_and_dates() -> None:
    parameters = aws.load()

    for name, parameter in parameters.table.items():
        assert any(isinstance(v, int | float) and v > 0 for v in parameter.values()), name
        assert parameter["source"].strip() and parameter["what"].strip(), name
        assert parameter["published"].strip() and parameter["read"].strip(), name
    for name in ("environment_creation", "runtime_init", "package_load", "api_gateway", "tls", "reference_speed"):
        assert name in parameters.table


def test_a_parameter_without_its_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "aws.toml"
    path.write_text('[api_gateway]\nms_per_hop = 30\nwhat = "x"\npublished = "2025"\nread = "2026-12-04"\n')

    with pytest.raises(ValueError, match="api_gateway"):
        aws.load(path)


def test_aws_adds_the_environment_the_runtime_and_the_package_before_app_py() -> None:
    parameters = aws.load()
    per_mb = parameters.value("package_load", "ms_per_mb")

    assert parameters.platform_ms(9.0) == pytest.approx(
        parameters.environment_ms + parameters.runtime_init_ms + 9.0 * per_mb
    )
    assert parameters.tls_ms == parameters.value("tls", "round_trips") * parameters.value("tls", "rtt_ms")


def test_a_figure_from_a_faster_host_is_normalised_up_to_lambdas_speed() -> None:
    # This host runs the reference workload in 290 ms, Lambda's vCPU in 386.1 ms.
    assert aws.normalised(100.0, host_ms=290.0, reference_ms=386.1) == pytest.approx(133.14, abs=0.01)


def test_the_margin_is_what_is_left_of_the_budget_from_the_lookups_start() -> None:
    assert aws.margin_ms(1000.0, lookup_started=10.25, answered=11.0) == pytest.approx(250.0)
    assert aws.margin_ms(1000.0, lookup_started=10.0, answered=None) == float("-inf")


def test_provisioned_concurrency_costs_a_month_of_gb_seconds() -> None:
    parameters = aws.load()

    assert parameters.provisioned_usd_per_month(1024) == pytest.approx(
        30 * 24 * 3600 * parameters.value("provisioned_concurrency", "usd_per_gb_s")
    )


def test_an_idle_environment_answers_warm_and_a_busy_one_makes_lambda_start_another_cold() -> None:
    function = world.Environments(cold_ms=500.0, warm_ms=10.0)

    first = function.invoke(0.0)  # cold: a new environment
    meanwhile = function.invoke(0.1)  # the first is still starting: another, cold
    later = function.invoke(1.0)  # both idle: warm

    assert (first, meanwhile, later) == pytest.approx((0.5, 0.6, 1.01))
    assert len(function.busy_until) == 2


def test_a_location_read_pays_a_hop_for_the_authorizer_and_one_for_the_api_and_a_denied_token_stops_early() -> None:
    def world_after_a_quiet_night() -> world.AllCold:
        return world.AllCold(
            auth=world.Environments(800.0, 50.0),
            authorizer=world.Environments(300.0, 1.0),
            location=world.Environments(400.0, 5.0),
            hop_ms=30.0,
            tls_ms=6.0,
            valid_token="t",
        )

    answered, allowed = world_after_a_quiet_night().read(0.0, new_connection=True, bearer="t")
    denied, let_through = world_after_a_quiet_night().read(0.0, new_connection=False, bearer="wake-up")

    assert allowed and answered == pytest.approx((6 + 30 + 300 + 30 + 400) / 1000)
    assert not let_through and denied == pytest.approx((30 + 300) / 1000)


def test_the_reference_workload_is_the_published_one() -> None:
    # The same million chained SHA-256 digests the published Lambda figure ran (aws.toml).
    assert "sha256(data).digest()" in speed.WORKLOAD
    assert b"benchmark data for Lambda ARM vs x86 performance testing".decode() in speed.WORKLOAD
    assert aws.load().value("reference_speed", "iterations") == 1_000_000


def test_the_token_the_bench_sends_the_authorizers_is_one_they_accept() -> None:
    # The authorizers' cold start is measured on an Allow: a token they refused would time a Deny.
    ring = KeyRing.generate()
    issuer = "http://127.0.0.1:8001"
    token = ring.sign(bench._claims("u-1", "profile:write location:write", issuer))
    audience = stages.stage_env("auth", world.STAGE)["TOKEN_AUDIENCE"]

    claims = TokenVerifier(KeySet(ring.jwks, initial=ring.jwks()), issuer=issuer, audience=audience).verify(token)

    assert claims.subject == "u-1"


class _MotoInProcess:
    """``world.Moto``'s one method a ``Stage`` uses, under moto's in-process mock."""

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=world.REGION)


def test_each_process_gets_a_table_of_its_own_holding_what_was_set_up() -> None:
    # moto copies a whole table on every transaction: a table shared by every run would
    # slow the bench's later logins with its earlier ones, which DynamoDB does not.
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=world.REGION)
        tables.create(dynamodb, "auth-bench", stages.folder("auth") / "resources.json")
        user = {"pk": {"S": "user#1"}, "sk": {"S": "user"}, "name": {"S": "Ada"}}
        dynamodb.put_item(TableName="auth-bench", Item=user)
        stage = world.Stage(_MotoInProcess(), {"auth": {"TABLE_NAME": "auth-bench", "OTHER": "kept"}})

        first, second = stage.env("auth"), stage.env("auth")
        handed = stage.handing(JWKS="{}").env("auth")  # the same moto: its copies are fresh too
        dynamodb.put_item(TableName=first["TABLE_NAME"], Item={**user, "sk": {"S": "family#1"}})

        assert len({"auth-bench", first["TABLE_NAME"], second["TABLE_NAME"], handed["TABLE_NAME"]}) == 4
        assert first["OTHER"] == "kept"
        assert handed["JWKS"] == "{}"
        assert dynamodb.scan(TableName=second["TABLE_NAME"])["Items"] == [user]
        assert dynamodb.scan(TableName=handed["TABLE_NAME"])["Items"] == [user]
        assert dynamodb.scan(TableName="auth-bench")["Items"] == [user]
        assert stage.setup_env("auth")["TABLE_NAME"] == "auth-bench"


@pytest.mark.parametrize(
    ("answers", "named"),
    [
        ([{"statusCode": 429, "body": "slow down"}], "POST /token answered 429: slow down"),
        ([{"statusCode": 200, "body": "{}"}, {"statusCode": 400, "body": "invalid_grant"}], "answered 400"),
        ([{"principalId": "x", "policyDocument": {"Statement": [{"Effect": "Deny"}]}}], "answered None"),
    ],
    ids=["cold-429", "warm-400", "authorizer-deny"],
)
def test_a_figure_is_only_taken_from_an_invocation_that_succeeded(
    tmp_path: Path, answers: list[dict[str, Any]], named: str
) -> None:
    # A 429 is fast and a retried, failed write slow: neither times the path the figure names.
    (tmp_path / "app.py").write_text(
        f"ANSWERS = {answers!r}\n"
        "def app(event, context):\n"
        "    return ANSWERS.pop(0) if len(ANSWERS) > 1 else ANSWERS[0]\n"
    )
    function = Function("bench", "api", "app", [{"name": "POST /token", "event": {}}], tmp_path)

    with cpu.limited(cpu.FULL_VCPU_MB) as limit, pytest.raises(RuntimeError, match=re.escape(named)):
        run_once(function, limit, dict(os.environ), warm=2, lambda_handler=False)


def test_the_grant_the_bench_times_is_the_profile_services_and_the_auth_api_grants_it(tmp_path: Path) -> None:
    # The all-cold read waits for the auth API's answer to this request: the bench must
    # time a token actually issued, for the client registered as an operator registers it.
    ring = KeyRing.generate()
    moto = world.Moto()
    peers = world.Peers(ring.jwks(), {})
    try:
        world.create_resources(moto, ring.dumps())
        client_id, secret = world.register_client(moto, bench.FETCHING_SERVICE, bench.STARTING_ENVIRONMENT)
        environment = world.environment("auth", moto, peers, bench.STARTING_ENVIRONMENT)
        stored = moto.client("dynamodb").scan(TableName=environment["TABLE_NAME"])["Items"]
        functions = bench._functions(tmp_path, ring, "u-1", "someone", world.ISSUER)
        grant = bench._grant(functions, client_id, secret)

        with cpu.limited(cpu.FULL_VCPU_MB) as limit:
            run = run_once(grant, limit, world.Stage(moto, {"auth": environment}).env("auth"), warm=1)
    finally:
        peers.stop()
        moto.stop()

    assert client_id == stages.stage_env("profile", world.STAGE)["CLIENT_ID"]
    assert secret not in json.dumps(stored)  # stored hashed only
    assert run.answer["status"] == 200
    assert json.loads(run.answer["body"])["scope"] == "location:read"
