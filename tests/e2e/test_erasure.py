"""Erasure on the local stack: the event reaches every service within the contract's minute, and nothing comes back.

The shared stack carries the event as `make run` does: the auth table's stream read by the
auth service's ``publish_erasures``, the topic, each subscriber's queue read by its
``erase_user`` (tools/lambda_events.py). The chaos test kills a subscriber's service of a
stack of its own while the event is in flight.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import boto3
import pytest
import requests

from tests.e2e.api import PASSWORD, Api, User, bearer
from tests.e2e.conftest import StackFactory, client_secret
from tools.localstack import LOCAL_REGION, LocalStack

# On the worker of the other end-to-end tests: a test of this file on the other worker would
# start a second shared stack there, whose services and pollers run to the end of the session.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

WITHIN_S = 60.0  # the contract: every trace gone within 60 seconds of the 202
POLL_S = 0.1


def _with_data(api: Api, user: User) -> None:
    location = {"latitude": 48.8566, "longitude": 2.3522, "city": "Paris", "country": "FR"}
    assert api.put("location", f"/locations/{user.user_id}", body=location, headers=user.auth).status_code == 200
    assert (
        api.put("profile", f"/profiles/{user.user_id}", body={"display_name": "E"}, headers=user.auth).status_code
        == 200
    )


def _erase(api: Api, user: User, correlation_id: str | None = None) -> float:
    headers = {**user.auth, **({"X-Correlation-Id": correlation_id} if correlation_id else {})}
    response = api.post("auth", "/users/me/erasure", body={"password": PASSWORD}, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json() == {"user_id": user.user_id, "status": "erasing"}
    return time.monotonic()


def _reads(api: Api, user: User, service_token: str) -> dict[str, Callable[[], requests.Response]]:
    return {
        "profile": lambda: api.get("profile", f"/profiles/{user.user_id}"),
        "page": lambda: api.get("profile", f"/pages/{user.user_id}"),
        "location": lambda: api.get("location", f"/locations/{user.user_id}", headers=bearer(service_token)),
    }


def _all_gone_within(reads: dict[str, Callable[[], requests.Response]], deadline: float) -> None:
    waiting = dict(reads)
    while waiting:
        waiting = {name: read for name, read in waiting.items() if read().status_code != 404}
        assert time.monotonic() < deadline or not waiting, f"still there after {WITHIN_S} s: {sorted(waiting)}"
        if waiting:
            time.sleep(POLL_S)


def test_an_erasure_reaches_every_service_within_a_minute_and_no_write_brings_data_back(
    stack: LocalStack, api: Api
) -> None:
    # GIVEN a user with a location and a profile, and a service allowed to read locations
    user = api.new_user("erased")
    _with_data(api, user)
    service_token = api.client_token("profile-service", client_secret(stack))
    reads = _reads(api, user, service_token)
    assert {name: read().status_code for name, read in reads.items()} == dict.fromkeys(reads, 200)

    # WHEN the user erases their account, and writes again at once with their still-valid token
    correlation_id = f"erasure-{uuid.uuid4().hex}"
    answered = _erase(api, user, correlation_id)
    racing = api.put("location", f"/locations/{user.user_id}", body={"latitude": 1, "longitude": 2}, headers=user.auth)
    assert racing.status_code in (200, 403), racing.text  # landed before the event (then erased), or refused

    # THEN within the minute every read is 404 (the time to the last 404 is printed: `pytest -s`)
    _all_gone_within(reads, answered + WITHIN_S)
    print(f"erasure: from the 202 to the last 404 in {time.monotonic() - answered:.2f} s")
    # AND the erasure's correlation id is in every service's log, as an HTTP call's would be
    assert _logged_everywhere(stack, correlation_id, time.monotonic() + 10) == set(stack.services)

    # AND the token that is still valid writes nothing any more, and the data stays gone
    assert (
        api.put(
            "location", f"/locations/{user.user_id}", body={"latitude": 1, "longitude": 2}, headers=user.auth
        ).status_code
        == 403
    )
    assert (
        api.put("profile", f"/profiles/{user.user_id}", body={"display_name": "E"}, headers=user.auth).status_code
        == 403
    )
    assert {name: read().status_code for name, read in reads.items()} == dict.fromkeys(reads, 404)

    # AND the account is gone: no login, no refresh, and the username is free for a new user
    assert api.login(user.username).status_code == 400
    assert api.refresh(user.refresh_token).status_code == 400
    again = api.register(user.username)
    assert again["user_id"] != user.user_id


def test_an_erasure_completes_when_a_subscriber_killed_with_the_event_in_flight_comes_back(
    own_stack: StackFactory,
) -> None:
    stack = own_stack()
    api = Api(stack.urls)
    user = api.new_user("chaos")
    _with_data(api, user)
    service_token = api.client_token("profile-service", client_secret(stack))
    reads = _reads(api, user, service_token)

    # WHEN the location service dies, and the user is erased while it is down
    stack.stop_process("location")
    answered = _erase(api, user)

    # THEN the profile service erases at once; the location's event waits on its queue
    _all_gone_within({name: reads[name] for name in ("profile", "page")}, answered + WITHIN_S)

    # AND once the location service is back, it consumes the event and the location is gone
    stack.restart("location")
    _all_gone_within({"location": reads["location"]}, time.monotonic() + WITHIN_S)


def _logged_everywhere(stack: LocalStack, identifier: str, deadline: float) -> set[str]:
    """The services whose log has a line with ``identifier`` by ``deadline`` (a log line follows its write)."""
    found: set[str] = set()
    while True:
        found = {s for s in stack.services if identifier in (stack.logs_dir / f"{s}.log").read_text(errors="replace")}
        if found == set(stack.services) or time.monotonic() > deadline:
            return found
        time.sleep(POLL_S)


def test_a_poison_message_is_retried_and_ends_in_the_dead_letter_queue_as_the_log_says(stack: LocalStack) -> None:
    # GIVEN a message on the location service's queue that is no event at all
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=LOCAL_REGION)
    sqs = session.client("sqs", endpoint_url=stack.dynamodb_endpoint)
    queue = sqs.get_queue_url(QueueName="location-service-local-user-erased")["QueueUrl"]
    dead = sqs.get_queue_url(QueueName="location-service-local-user-erased-dead")["QueueUrl"]
    marker = f"poison-{uuid.uuid4().hex}"
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"type": "UserErased", "user_id": marker}))

    # WHEN its consumer fails on it at each receive
    deadline = time.monotonic() + WITHIN_S
    dead_letters: list[str] = []
    while marker not in "".join(dead_letters) and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10, VisibilityTimeout=0)
        dead_letters = [m["Body"] for m in answer.get("Messages", [])]
        time.sleep(POLL_S * 5)

    # THEN after its last attempt SQS moved it to the dead-letter queue, and the log says so
    assert marker in "".join(dead_letters)
    log = (stack.logs_dir / "location.log").read_text(errors="replace")
    assert "moves it to the dead-letter queue" in log and "ErasuresDeadLettered" in log
