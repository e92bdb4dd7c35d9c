"""The auth service's metrics, read from the EMF lines it writes while serving each scenario."""

from __future__ import annotations

from typing import Any

import pytest

from tests.auth.conftest import PASSWORD, login, post, refresh, register
from tests.support import services
from tests.support.output import counted, data_points
from tests.support.services import json_body
from tests.support.threads import at_once

AUTH = {"service": "auth", "stage": "local"}


def test_every_metric_is_a_count_in_the_profiles_namespace(auth: Any, capsys: pytest.CaptureFixture[str]) -> None:
    register(auth)
    login(auth)
    login(auth, password="not the right password")

    points = data_points(capsys.readouterr().out)

    assert points
    assert {(p.namespace, p.unit, p.value) for p in points} == {("Profiles", "Count", 1)}


def test_a_registration_is_counted(auth: Any, capsys: pytest.CaptureFixture[str]) -> None:
    register(auth)

    assert counted(capsys.readouterr().out, "Registrations") == [AUTH]


def test_a_taken_username_is_not_counted_as_a_registration(auth: Any, capsys: pytest.CaptureFixture[str]) -> None:
    register(auth)
    capsys.readouterr()

    assert post(auth, "/users", {"username": "alice", "password": PASSWORD}).status_code == 409

    assert counted(capsys.readouterr().out, "Registrations") == []


def test_a_successful_login_is_counted(auth: Any, capsys: pytest.CaptureFixture[str]) -> None:
    register(auth)
    capsys.readouterr()

    assert login(auth).status_code == 200

    output = capsys.readouterr().out
    assert counted(output, "LoginsSucceeded") == [AUTH]
    assert counted(output, "LoginsFailed") == []


def test_a_wrong_password_is_counted_as_a_failed_login(auth: Any, capsys: pytest.CaptureFixture[str]) -> None:
    register(auth)
    capsys.readouterr()

    assert login(auth, password="not the right password").status_code == 400  # invalid_grant
    assert login(auth, "nobody", PASSWORD).status_code == 400

    output = capsys.readouterr().out
    assert counted(output, "LoginsFailed") == [AUTH, AUTH]
    assert counted(output, "LoginsSucceeded") == []


def test_a_login_refused_by_the_lockout_is_counted(auth: Any, capsys: pytest.CaptureFixture[str]) -> None:
    register(auth)
    for _ in range(5):
        login(auth, password="not the right password")
    capsys.readouterr()

    assert login(auth).status_code == 429
    assert login(auth).status_code == 429

    output = capsys.readouterr().out
    assert counted(output, "Lockouts") == [AUTH, AUTH]
    assert counted(output, "LoginsFailed") == []


def test_a_refresh_is_counted_as_a_rotation(
    auth: Any, alice: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()

    assert refresh(auth, alice["tokens"]["refresh_token"]).status_code == 200

    output = capsys.readouterr().out
    assert counted(output, "RefreshRotations") == [AUTH]
    assert counted(output, "RefreshTokenReuse") == []


def test_a_used_refresh_token_presented_again_is_counted_as_reuse(
    auth: Any, alice: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    stolen = alice["tokens"]["refresh_token"]
    successor = json_body(refresh(auth, stolen))["refresh_token"]
    assert refresh(auth, successor).status_code == 200  # the successor is used: no retry any more
    capsys.readouterr()

    assert refresh(auth, stolen).status_code == 400  # invalid_grant

    output = capsys.readouterr().out
    assert counted(output, "RefreshTokenReuse") == [AUTH]
    assert counted(output, "RefreshRotations") == []


def test_concurrent_uses_of_one_refresh_token_are_retries_not_reuse(
    auth: Any, alice: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    token = alice["tokens"]["refresh_token"]
    capsys.readouterr()

    responses = at_once(4, lambda _: refresh(auth, token))

    output = capsys.readouterr().out
    assert [r.status_code for r in responses] == [200] * 4
    assert counted(output, "RefreshRotations") == [AUTH] * 4
    assert counted(output, "RefreshTokenReuse") == []


def test_an_unknown_refresh_token_is_not_counted_as_reuse(auth: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert refresh(auth, "not-a-token").status_code == 400

    assert counted(capsys.readouterr().out, "RefreshTokenReuse") == []


def test_a_client_credentials_login_is_counted(auth: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with services.load("auth").environment():
        secret = services.load("auth").module("clients").create_client("profile-service", "location:read")
    grant = {"grant_type": "client_credentials", "client_id": "profile-service"}
    capsys.readouterr()

    assert post(auth, "/token", {**grant, "client_secret": secret}).status_code == 200
    assert post(auth, "/token", {**grant, "client_secret": "wrong"}).status_code == 401

    output = capsys.readouterr().out
    assert counted(output, "ClientCredentialsLogins") == [AUTH]
    assert counted(output, "LoginsSucceeded") == []
