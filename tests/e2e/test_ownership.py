"""Two users over HTTP: neither can touch the other's data, and forged tokens get nowhere."""

from __future__ import annotations

import pytest

from servicekit import parameters
from servicekit.keyring import KeyRing
from tests.e2e.api import Api, User, assert_denied, assert_error, assert_oauth_error, bearer
from tests.e2e.conftest import client_secret
from tests.support import tokens
from tools import stages
from tools.localstack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BERLIN = {"latitude": 52.52, "longitude": 13.405, "city": "Berlin", "country": "DE"}
PARIS = {"latitude": 48.86, "longitude": 2.35, "city": "Paris", "country": "FR"}


@pytest.fixture
def alice_with_data(api: Api, alice: User) -> User:
    """Alice, with a location and a profile."""
    assert api.put("location", f"/locations/{alice.user_id}", body=BERLIN, headers=alice.auth).status_code == 200
    profile = api.put("profile", f"/profiles/{alice.user_id}", body={"display_name": "Alice"}, headers=alice.auth)
    assert profile.status_code == 200
    return alice


def _alice_is_untouched(api: Api, alice: User) -> None:
    location = api.get("location", f"/locations/{alice.user_id}", headers=alice.auth).json()
    profile = api.get("profile", f"/profiles/{alice.user_id}").json()
    assert {k: location[k] for k in BERLIN} == BERLIN
    assert location["version"] == 1
    assert profile["display_name"] == "Alice"
    assert profile["version"] == 1


@pytest.mark.parametrize(
    ("service", "method", "path", "body"),
    [
        ("location", "PUT", "/locations/{id}", PARIS),
        ("location", "GET", "/locations/{id}", None),
        ("location", "DELETE", "/locations/{id}", None),
        ("profile", "PUT", "/profiles/{id}", {"display_name": "Mallory"}),
        ("profile", "DELETE", "/profiles/{id}", None),
    ],
)
def test_another_user_cannot_act_on_alices_resources(
    api: Api, alice_with_data: User, bob: User, service: str, method: str, path: str, body: object
) -> None:
    response = api.request(service, method, path.format(id=alice_with_data.user_id), body=body, headers=bob.auth)

    assert_error(response, 403)
    _alice_is_untouched(api, alice_with_data)


def test_a_body_cannot_name_another_user(api: Api, alice_with_data: User, bob: User) -> None:
    # The user comes from the path and the token, never from the body.
    response = api.put(
        "location", f"/locations/{bob.user_id}", body={**PARIS, "user_id": alice_with_data.user_id}, headers=bob.auth
    )

    assert_error(response, 400)
    _alice_is_untouched(api, alice_with_data)


@pytest.mark.parametrize(
    ("service", "method", "path"),
    [
        ("auth", "GET", "/users/me"),
        ("location", "PUT", "/locations/{id}"),
        ("location", "GET", "/locations/{id}"),
        ("location", "DELETE", "/locations/{id}"),
        ("profile", "PUT", "/profiles/{id}"),
        ("profile", "DELETE", "/profiles/{id}"),
    ],
)
def test_protected_routes_need_a_token(api: Api, alice: User, service: str, method: str, path: str) -> None:
    response = api.request(service, method, path.format(id=alice.user_id), body={"display_name": "x"})

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda alice: tokens.tampered(alice.access_token), id="payload-swapped-after-signing"),
        pytest.param(lambda alice: tokens.alg_none(tokens.claims(alice.user_id), kid="any"), id="alg-none"),
        pytest.param(lambda alice: tokens.unknown_key(tokens.claims(alice.user_id)), id="signed-by-another-key"),
        pytest.param(lambda alice: "not.a.jwt", id="garbage"),
    ],
)
@pytest.mark.parametrize(
    ("service", "method", "path", "body"),
    [
        ("auth", "GET", "/users/me", None),
        ("location", "PUT", "/locations/{id}", PARIS),
        ("profile", "PUT", "/profiles/{id}", {"display_name": "Mallory"}),
    ],
)
def test_forged_tokens_are_refused(
    api: Api, alice: User, forge: object, service: str, method: str, path: str, body: object
) -> None:
    token = forge(alice)  # type: ignore[operator]

    response = api.request(service, method, path.format(id=alice.user_id), body=body, headers=bearer(token))

    assert_denied(response)


@pytest.mark.parametrize(
    "claims_of_the_other_stage",
    [("iss", "aud"), ("aud",), ("iss",)],
    ids=["its issuer and audience", "its audience", "its issuer"],
)
def test_a_token_of_another_stage_is_refused(
    api: Api, stack: LocalStack, alice_with_data: User, claims_of_the_other_stage: tuple[str, ...]
) -> None:
    # GIVEN this stack's own signing key (as if a stage's keys leaked into or were copied
    # to another), and the issuer and audience the dev stage puts in its tokens: its
    # audience from its config, its issuer its own deployed URL (an API Gateway URL)
    ring = KeyRing.loads(parameters.read(stack.secret("auth", "SIGNING_KEYS")))
    dev = stages.stage_env("auth", "dev")
    other_stage = {"iss": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/api", "aud": dev["TOKEN_AUDIENCE"]}
    this_stage = {"iss": stack.urls["auth"]}
    path = f"/locations/{alice_with_data.user_id}"
    # (the key itself is good: with this stage's claims, the token is accepted)
    accepted = ring.sign(tokens.claims(alice_with_data.user_id, **this_stage))
    assert api.get("location", path, headers=bearer(accepted)).status_code == 200

    # WHEN the token, signed by that same key, names the other stage
    replayed = ring.sign(
        tokens.claims(
            alice_with_data.user_id,
            **{**this_stage, **{claim: other_stage[claim] for claim in claims_of_the_other_stage}},
        )
    )

    # THEN it is refused for the stage it names
    assert_denied(api.get("location", path, headers=bearer(replayed)))


def test_the_profile_services_client_may_read_locations_but_write_nothing(
    api: Api, stack: LocalStack, alice_with_data: User
) -> None:
    # GIVEN the profile service's own client-credentials token (scope location:read)
    client_id = stages.stage_env("profile", "local")["CLIENT_ID"]
    token = bearer(api.client_token(client_id, client_secret(stack)))
    alice_id = alice_with_data.user_id

    # THEN it reads any user's location, and nothing else
    assert api.get("location", f"/locations/{alice_id}", headers=token).status_code == 200
    assert_error(api.put("location", f"/locations/{alice_id}", body=PARIS, headers=token), 403)
    assert_error(api.delete("location", f"/locations/{alice_id}", headers=token), 403)
    assert_error(api.put("profile", f"/profiles/{alice_id}", body={"display_name": "M"}, headers=token), 403)
    assert_error(api.get("auth", "/users/me", headers=token), 403)
    _alice_is_untouched(api, alice_with_data)


def test_a_wrong_client_secret_gets_no_token(api: Api) -> None:
    client_id = stages.stage_env("profile", "local")["CLIENT_ID"]

    response = api.post(
        "auth", "/token", body={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "guess"}
    )

    assert_oauth_error(response, 401, "invalid_client")


def test_a_refresh_token_is_not_an_access_token(api: Api, alice: User) -> None:
    assert_denied(api.get("auth", "/users/me", headers=bearer(alice.refresh_token)))
