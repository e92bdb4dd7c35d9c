"""The admin command on the local stage follows the same settings as `make run`: moved ports, another state folder."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import StackFactory, admin

pytestmark = [pytest.mark.e2e]


def test_create_client_reaches_a_make_run_on_moved_ports_through_the_same_variables(own_stack: StackFactory) -> None:
    # GIVEN a stack on ports other than the contract's, keeping its state in a folder of its own
    stack = own_stack()

    # WHEN a client is created on the local stage with the variables `make run` was given, and nothing else
    result = admin(stack, "create-client", "reporting-job", "--scope", "location:read")

    # THEN it lands in that stack's table: the printed secret logs in at that stack's auth service
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip().splitlines()[-1]
    login = requests.post(
        f"{stack.urls['auth']}/token",
        data={"grant_type": "client_credentials"},
        auth=("reporting-job", secret),
        timeout=10,
    )
    assert login.status_code == 200, login.text
    assert login.json()["scope"] == "location:read"
