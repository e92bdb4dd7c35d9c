"""Faults on a running stack: a dead or frozen dependency degrades, never hangs, never leaks a 500.

A test that stops part of a stack stops part of a stack of its own, so the stack the
other tests share keeps running; freezing a service and thawing it again is done to the
shared one.
"""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.e2e.api import PASSWORD, Api, User, assert_error
from tests.e2e.conftest import StackFactory
from tools.localstack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BERLIN = {"latitude": 52.52, "longitude": 13.405, "city": "Berlin", "country": "DE"}
# The contract: a profile within about one second whatever the location service does.
# Five processes on a machine busy with other work add their own delays to that second,
# so the tests allow three; a profile service that waited for a frozen location service
# would not answer at all while it is frozen (the client gives up after api.TIMEOUT_S).
PROFILE_WITHIN_S = 3.0
# With DynamoDB gone, botocore retries a refused connection twice, with jittered waits of
# under 0.1 s in all, before the 503; the rest is room for a busy machine.
STORE_DOWN_BOUND_S = 5.0


def _user_with_a_profile(api: Api) -> User:
    """A user with a location and a profile, read once: every cache (JWKS, service token) is warm."""
    user = api.new_user("faulty")
    assert api.put("location", f"/locations/{user.user_id}", body=BERLIN, headers=user.auth).status_code == 200
    assert api.put("profile", f"/profiles/{user.user_id}", body={"display_name": "F"}, headers=user.auth).ok
    assert api.profile_with_location(user.user_id).json()["location_status"] == "ok"
    return user


def _timed(call: Any) -> tuple[requests.Response, float]:
    began = time.perf_counter()
    response = call()
    return response, time.perf_counter() - began


@pytest.fixture
def stack_and_user(own_stack: StackFactory) -> tuple[LocalStack, Api, User]:
    stack = own_stack()
    api = Api(stack.urls)
    return stack, api, _user_with_a_profile(api)


def test_a_profile_is_served_when_the_location_service_is_down(stack_and_user: tuple[LocalStack, Api, User]) -> None:
    stack, api, user = stack_and_user

    # WHEN the location service's process is gone
    stack.stop_process("location")
    response, elapsed = _timed(lambda: api.get("profile", f"/profiles/{user.user_id}"))

    # THEN the profile still comes back, quickly, saying the location is unavailable
    assert response.status_code == 200, response.text
    assert response.json()["location_status"] == "unavailable"
    assert response.json()["location"] is None
    assert response.json()["display_name"] == "F"
    assert elapsed < PROFILE_WITHIN_S
    assert api.get("profile", f"/pages/{user.user_id}").status_code == 200


def test_a_profile_is_served_within_the_budget_when_the_location_service_hangs(stack: LocalStack, api: Api) -> None:
    user = _user_with_a_profile(api)

    # WHEN the location service hangs: its port still accepts connections, nothing answers
    stack.processes["location"].signal_group(signal.SIGSTOP)
    try:
        response, elapsed = _timed(lambda: api.get("profile", f"/profiles/{user.user_id}"))
    finally:
        stack.processes["location"].signal_group(signal.SIGCONT)

    # THEN the profile service gives up on it within its budget: it answered while the
    # location service could not answer anything
    assert response.status_code == 200, response.text
    assert response.json()["location_status"] == "unavailable"
    assert elapsed < PROFILE_WITHIN_S


def test_existing_tokens_keep_working_when_the_auth_service_is_down(
    stack_and_user: tuple[LocalStack, Api, User],
) -> None:
    stack, api, user = stack_and_user

    # WHEN the auth service's process is gone
    stack.stop_process("auth")

    # THEN tokens issued before still verify (both services cached the JWKS)...
    moved = api.put("location", f"/locations/{user.user_id}", body={**BERLIN, "city": "Potsdam"}, headers=user.auth)
    assert moved.status_code == 200, moved.text
    renamed = api.put("profile", f"/profiles/{user.user_id}", body={"display_name": "G"}, headers=user.auth)
    assert renamed.status_code == 200, renamed.text
    # ...and the profile service still reads locations with its cached client token
    profile = api.profile_with_location(user.user_id).json()
    assert profile["location_status"] == "ok"
    assert profile["location"]["city"] == "Potsdam"
    # but nobody can log in
    with pytest.raises(requests.ConnectionError):
        api.login(user.username)


def test_every_service_answers_503_quickly_when_dynamodb_is_down(
    stack_and_user: tuple[LocalStack, Api, User],
) -> None:
    stack, api, user = stack_and_user
    me, profile_path, location_path = user.auth, f"/profiles/{user.user_id}", f"/locations/{user.user_id}"
    # Each call gets its own client: a requests.Session is not for sharing between threads.
    calls = {
        "register": lambda a: a.post("auth", "/users", body={"username": "late-comer", "password": PASSWORD}),
        "login": lambda a: a.login(user.username),
        "me": lambda a: a.get("auth", "/users/me", headers=me),
        "get location": lambda a: a.get("location", location_path, headers=me),
        "put location": lambda a: a.put("location", location_path, body=BERLIN, headers=me),
        "get profile": lambda a: a.get("profile", profile_path),
        "put profile": lambda a: a.put("profile", profile_path, body={"display_name": "H"}, headers=me),
    }

    # WHEN the database is gone
    stack.stop_process("dynamodb")
    with ThreadPoolExecutor(max_workers=4) as pool:
        timed = pool.map(lambda call: _timed(lambda: call(Api(stack.urls))), calls.values())
        results = dict(zip(calls, timed, strict=True))
    page, page_elapsed = _timed(lambda: api.get("profile", f"/pages/{user.user_id}"))

    # THEN each answers 503 with the contract's error body, quickly, and no internals
    for name, (response, elapsed) in results.items():
        error = assert_error(response, 503)
        assert elapsed < STORE_DOWN_BOUND_S, f"{name} took {elapsed:.1f} s"
        for secret in ("auth-local", "location-local", "profile-local", "botocore", "127.0.0.1"):
            assert secret not in error["Message"], f"{name}: {error}"
    assert page.status_code == 503
    assert "Traceback" not in page.text
    assert page_elapsed < STORE_DOWN_BOUND_S
