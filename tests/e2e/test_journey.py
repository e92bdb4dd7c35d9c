"""The whole journey over HTTP against the running stack: what a client of the contract sees."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.api import Api, User, assert_error, assert_oauth_error, bearer, unique_username
from tools.registry import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BERLIN = {"latitude": 52.52, "longitude": 13.405, "city": "Berlin", "country": "DE"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_healthy_and_documents_itself(api: Api, service: str) -> None:
    health = api.get(service, "/health")
    document = api.get(service, "/openapi.json")

    assert health.status_code == 200
    assert health.json() == {"status": "ok", "service": service}
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.")
    assert document.json()["paths"]


def test_a_user_registers_logs_in_and_publishes_a_profile_with_a_location(api: Api) -> None:
    # GIVEN a new user registers (the username is stored lower-cased)
    username = unique_username("Journey")
    registered = api.post("auth", "/users", body={"username": username, "password": "a long enough password"})
    assert registered.status_code == 201, registered.text
    user = registered.json()
    assert set(user) == {"user_id", "username", "created_at"}
    assert UUID.match(user["user_id"])
    assert user["username"] == username.lower()
    user_id = user["user_id"]

    # WHEN they log in
    login = api.login(username, "a long enough password")
    assert login.status_code == 200, login.text
    tokens = login.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert tokens["token_type"] == "Bearer"
    assert set(tokens["scope"].split()) == {"profile:write", "location:write"}
    auth = bearer(tokens["access_token"])

    # THEN the auth service knows who they are
    me = api.get("auth", "/users/me", headers=auth)
    assert me.status_code == 200
    assert me.json() == user

    # WHEN they set their location
    put_location = api.put("location", f"/locations/{user_id}", body=BERLIN, headers=auth)
    assert put_location.status_code == 200, put_location.text
    location = put_location.json()
    assert set(location) == {"user_id", "latitude", "longitude", "city", "country", "updated_at", "version"}
    assert {k: location[k] for k in BERLIN} == BERLIN
    assert location["user_id"] == user_id
    assert api.get("location", f"/locations/{user_id}", headers=auth).json() == location

    # AND their profile
    put_profile = api.put(
        "profile", f"/profiles/{user_id}", body={"display_name": "Jo Journey", "bio": "Walks a lot."}, headers=auth
    )
    assert put_profile.status_code == 200, put_profile.text
    assert put_profile.json()["display_name"] == "Jo Journey"

    # THEN anyone reads the public profile, the location embedded (without its version)
    profile = api.profile_with_location(user_id)
    assert profile.status_code == 200
    body = profile.json()
    assert set(body) == {"user_id", "display_name", "bio", "location", "location_status", "updated_at", "version"}
    assert body["display_name"] == "Jo Journey"
    assert body["bio"] == "Walks a lot."
    assert body["location_status"] == "ok"
    assert body["location"] == {k: v for k, v in location.items() if k != "version"}
    assert profile.headers["ETag"] == f'"{body["version"]}"'

    # AND the public page shows it
    page = api.get("profile", f"/pages/{user_id}")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Jo Journey" in page.text
    assert "Walks a lot." in page.text
    assert "Berlin" in page.text

    # WHEN they move, the profile follows
    moved = api.put("location", f"/locations/{user_id}", body={"latitude": 48.86, "longitude": 2.35}, headers=auth)
    assert moved.status_code == 200
    assert moved.json()["version"] == location["version"] + 1
    assert moved.json()["city"] is None
    assert api.get("profile", f"/profiles/{user_id}").json()["location"]["latitude"] == 48.86


def test_a_refresh_rotates_the_tokens_and_a_reused_refresh_token_ends_the_login(api: Api, alice: User) -> None:
    # WHEN alice refreshes, and refreshes again with the new refresh token
    rotated = api.refresh(alice.refresh_token)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["refresh_token"] != alice.refresh_token
    again = api.refresh(new["refresh_token"])
    assert again.status_code == 200, again.text

    # THEN the new access token works and the first refresh token, its successor used, does not
    assert api.get("auth", "/users/me", headers=bearer(new["access_token"])).status_code == 200
    assert_oauth_error(api.refresh(alice.refresh_token), 400, "invalid_grant")
    # AND presenting the used one again revoked the whole login, the newest refresh token too
    assert_oauth_error(api.refresh(again.json()["refresh_token"]), 400, "invalid_grant")


def test_a_refresh_whose_answer_was_lost_can_be_retried_within_30_seconds(api: Api, alice: User) -> None:
    # GIVEN a refresh whose answer never reached alice (issue 20, finding 4)
    lost = api.refresh(alice.refresh_token).json()["refresh_token"]

    # WHEN her client retries with the same refresh token
    retried = api.refresh(alice.refresh_token)

    # THEN it gets a new pair that works; the lost one does not, and the login lives on
    assert retried.status_code == 200, retried.text
    assert_oauth_error(api.refresh(lost), 400, "invalid_grant")
    assert api.refresh(retried.json()["refresh_token"]).status_code == 200


def test_a_revoked_refresh_token_no_longer_refreshes(api: Api, alice: User) -> None:
    revoked = api.post("auth", "/token/revoke", body={"refresh_token": alice.refresh_token})

    assert revoked.status_code == 200
    assert_oauth_error(api.refresh(alice.refresh_token), 400, "invalid_grant")
    # Unknown tokens get 200 too (RFC 7009): nothing to learn by probing.
    assert api.post("auth", "/token/revoke", body={"refresh_token": "not-a-token"}).status_code == 200


def test_the_jwks_publishes_public_keys_only(api: Api) -> None:
    keys = api.get("auth", "/.well-known/jwks.json").json()["keys"]

    assert keys
    for key in keys:
        assert key["use"] == "sig" and key["kid"] and key["alg"]
        assert "d" not in key  # the private part


def test_a_profile_without_a_location_says_none(api: Api, alice: User) -> None:
    api.put("profile", f"/profiles/{alice.user_id}", body={"display_name": "Alice"}, headers=alice.auth)

    body = api.get("profile", f"/profiles/{alice.user_id}").json()

    assert body["location"] is None
    assert body["location_status"] == "none"
    assert body["bio"] is None


def test_if_match_guards_profile_updates(api: Api, alice: User) -> None:
    first = api.put("profile", f"/profiles/{alice.user_id}", body={"display_name": "One"}, headers=alice.auth)
    etag = first.headers["ETag"]

    second = api.put(
        "profile", f"/profiles/{alice.user_id}", body={"display_name": "Two"}, headers={**alice.auth, "If-Match": etag}
    )
    stale = api.put(
        "profile",
        f"/profiles/{alice.user_id}",
        body={"display_name": "Three"},
        headers={**alice.auth, "If-Match": etag},
    )

    assert second.status_code == 200
    assert second.json()["version"] == first.json()["version"] + 1
    assert_error(stale, 412)
    assert api.get("profile", f"/profiles/{alice.user_id}").json()["display_name"] == "Two"


def test_deleting_the_location_and_the_profile(api: Api, alice: User) -> None:
    api.put("location", f"/locations/{alice.user_id}", body=BERLIN, headers=alice.auth)
    api.put("profile", f"/profiles/{alice.user_id}", body={"display_name": "Alice"}, headers=alice.auth)

    assert api.delete("location", f"/locations/{alice.user_id}", headers=alice.auth).status_code == 204
    assert_error(api.get("location", f"/locations/{alice.user_id}", headers=alice.auth), 404)
    assert_error(api.delete("location", f"/locations/{alice.user_id}", headers=alice.auth), 404)
    assert api.get("profile", f"/profiles/{alice.user_id}").json()["location_status"] == "none"

    assert api.delete("profile", f"/profiles/{alice.user_id}", headers=alice.auth).status_code == 204
    assert_error(api.get("profile", f"/profiles/{alice.user_id}"), 404)
    page = api.get("profile", f"/pages/{alice.user_id}")
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")


def test_unknown_users_have_no_profile_and_no_page(api: Api) -> None:
    nobody = str(uuid.uuid4())

    assert_error(api.get("profile", f"/profiles/{nobody}"), 404)
    assert api.get("profile", f"/pages/{nobody}").status_code == 404


def test_the_page_shows_what_the_user_wrote_as_text(api: Api, alice: User) -> None:
    name = "<script>alert(1)</script>"
    body = {"display_name": name, "bio": "<b>bold</b>"}
    assert api.put("profile", f"/profiles/{alice.user_id}", body=body, headers=alice.auth).status_code == 200

    page = api.get("profile", f"/pages/{alice.user_id}").text

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page
