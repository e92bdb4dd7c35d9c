"""When the authorizer cannot get the auth service's keys: an uncached error, never a Deny."""

from __future__ import annotations

import json
import logging
from typing import Any

import jwt
import pytest

from servicekit.authorizer import verifier
from servicekit.tokens import ALGORITHM, RETRY_BACKOFF_S, KeySet, TokenVerifier
from tests.location.conftest import ALICE, SAN_FRANCISCO, path
from tests.shared.test_key_set import Clock, Jwks
from tests.support.output import log_lines
from tests.support.tokens import AUDIENCE, ISSUER, claims, json_headers_for


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jwks(aws: Any, key_ring: Any, clock: Clock) -> Jwks:
    """The JWKS endpoint as the location service's authorizer sees it, on a clock the test moves."""
    endpoint = Jwks(key_ring)
    verifier.override(TokenVerifier(KeySet(endpoint, clock=clock), issuer=ISSUER, audience=AUDIENCE))
    return endpoint


def test_a_valid_token_gets_an_authorizer_error_not_a_deny_while_the_keys_cannot_be_fetched(
    location: Any, key_ring: Any, jwks: Jwks
) -> None:
    jwks.down = True

    response = location.http.get(path(ALICE), headers=json_headers_for(key_ring, ALICE))

    # API Gateway's answer to an authorizer without a policy: 500, which it does not cache
    # (a 403 here would be cached for the token and lock the user out for the TTL).
    assert response.status_code == 500
    assert json.loads(response.body) == {"message": None}


def test_the_same_token_works_once_the_keys_are_back_after_the_backoff(
    location: Any, key_ring: Any, jwks: Jwks, clock: Clock
) -> None:
    headers = json_headers_for(key_ring, ALICE)
    jwks.down = True
    assert location.http.put(path(ALICE), headers=headers, body=json.dumps(SAN_FRANCISCO)).status_code == 500

    jwks.down = False
    clock.now += RETRY_BACKOFF_S[0]

    assert location.http.put(path(ALICE), headers=headers, body=json.dumps(SAN_FRANCISCO)).status_code == 200


def test_an_attackers_huge_kid_is_clipped_in_the_log(
    location: Any, key_ring: Any, jwks: Jwks, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    stranger = type(key_ring).generate()
    forged = jwt.encode(
        claims(ALICE), stranger.keys[stranger.active], algorithm=ALGORITHM, headers={"kid": "k" * 10_000}
    )
    location.http.get(path(ALICE), headers=json_headers_for(key_ring, ALICE))  # the keys are known
    caplog.set_level(logging.INFO, logger="servicekit")  # rejections are logged at INFO
    capsys.readouterr()

    response = location.http.get(path(ALICE), headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 403
    # The service's JSON log lines, as CloudWatch gets them (servicekit's loggers write through Powertools').
    rejected = [line["message"] for line in log_lines(capsys.readouterr().out) if "token rejected" in line["message"]]
    assert len(rejected) == 1
    assert "unknown key id 'kkkk" in rejected[0]
    assert len(rejected[0]) < 400
