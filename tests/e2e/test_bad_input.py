"""Bad input on every route: a bad body is a 400 naming the field (413 when too big), a bad id
in the path or a malformed header a clear 4xx; never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.api import PASSWORD, Api, User, assert_error, assert_oauth_error

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

NOT_JSON = object()
TOO_BIG = 17 * 1024
VALID_LOCATION = {"latitude": 1.0, "longitude": 2.0}


@pytest.fixture(scope="module")
def carol(api: Api) -> User:
    """The user whose routes get the bad bodies (one login for the whole module)."""
    return api.new_user("carol")


def _send(api: Api, carol: User, service: str, path: str, body: Any, method: str = "PUT") -> Any:
    path = path.format(id=carol.user_id)
    if body is NOT_JSON:
        return api.request(service, method, path, data='{"latitude": 1,', headers=carol.auth)
    if isinstance(body, (str, bytes)):
        return api.request(service, method, path, data=body, headers=carol.auth)
    return api.request(service, method, path, body=body, headers=carol.auth)


BAD_BODIES = [
    # (service, method, path, body, a word the message must contain)
    ("auth", "POST", "/users", NOT_JSON, None),
    ("auth", "POST", "/users", "", None),
    ("auth", "POST", "/users", [], None),
    ("auth", "POST", "/users", {"username": "newcomer"}, "password"),
    ("auth", "POST", "/users", {"username": "ab", "password": PASSWORD}, "username"),
    ("auth", "POST", "/users", {"username": "no spaces", "password": PASSWORD}, "username"),
    ("auth", "POST", "/users", {"username": "x" * 33, "password": PASSWORD}, "username"),
    ("auth", "POST", "/users", {"username": "newcomer", "password": "short"}, "password"),
    ("auth", "POST", "/users", {"username": "newcomer", "password": "p" * 129}, "password"),
    ("auth", "POST", "/users", {"username": "newcomer-12345", "password": "newcomer-12345"}, "password"),
    ("auth", "POST", "/users", {"username": 7, "password": PASSWORD}, "username"),
    ("auth", "POST", "/users", {"username": "newcomer", "password": PASSWORD, "admin": True}, "admin"),
    ("location", "PUT", "/locations/{id}", NOT_JSON, None),
    ("location", "PUT", "/locations/{id}", "", None),
    ("location", "PUT", "/locations/{id}", "null", None),
    ("location", "PUT", "/locations/{id}", {"latitude": 1.0}, "longitude"),
    ("location", "PUT", "/locations/{id}", {"latitude": 90.5, "longitude": 0}, "latitude"),
    ("location", "PUT", "/locations/{id}", {"latitude": -91, "longitude": 0}, "latitude"),
    ("location", "PUT", "/locations/{id}", {"latitude": 0, "longitude": 180.01}, "longitude"),
    ("location", "PUT", "/locations/{id}", {"latitude": True, "longitude": 0}, "latitude"),
    ("location", "PUT", "/locations/{id}", {"latitude": "52.5", "longitude": 0}, "latitude"),
    ("location", "PUT", "/locations/{id}", {**VALID_LOCATION, "country": "de"}, "country"),
    ("location", "PUT", "/locations/{id}", {**VALID_LOCATION, "country": "DEU"}, "country"),
    ("location", "PUT", "/locations/{id}", {**VALID_LOCATION, "city": "c" * 101}, "city"),
    ("location", "PUT", "/locations/{id}", {**VALID_LOCATION, "altitude": 30}, "altitude"),
    ("profile", "PUT", "/profiles/{id}", NOT_JSON, None),
    ("profile", "PUT", "/profiles/{id}", "", None),
    ("profile", "PUT", "/profiles/{id}", {}, "display_name"),
    ("profile", "PUT", "/profiles/{id}", {"display_name": ""}, "display_name"),
    ("profile", "PUT", "/profiles/{id}", {"display_name": "n" * 65}, "display_name"),
    ("profile", "PUT", "/profiles/{id}", {"display_name": 42}, "display_name"),
    ("profile", "PUT", "/profiles/{id}", {"display_name": "Carol", "bio": "b" * 501}, "bio"),
    ("profile", "PUT", "/profiles/{id}", {"display_name": "Carol", "avatar": "x.png"}, "avatar"),
]


@pytest.mark.parametrize(
    ("service", "method", "path", "body", "field"),
    BAD_BODIES,
    ids=[f"{s}-{m}-{p}-{i}" for i, (s, m, p, _, _) in enumerate(BAD_BODIES)],
)
def test_a_bad_body_gets_a_400_that_names_the_problem(
    api: Api, carol: User, service: str, method: str, path: str, body: Any, field: str | None
) -> None:
    response = _send(api, carol, service, path, body, method)

    error = assert_error(response, 400)
    if field is not None:
        assert field in error["Message"], error


BAD_TOKEN_REQUESTS = [
    # (path, body, the RFC 6749 error, a word the description must contain)
    ("/token", NOT_JSON, "invalid_request", None),
    ("/token", {}, "invalid_request", "grant_type"),
    ("/token", {"grant_type": "magic"}, "unsupported_grant_type", "magic"),
    ("/token", {"grant_type": "password", "username": "carol"}, "invalid_request", "password"),
    ("/token", {"grant_type": "refresh_token"}, "invalid_request", "refresh_token"),
    ("/token/revoke", NOT_JSON, "invalid_request", None),
    ("/token/revoke", {}, "invalid_request", "token"),
    ("/token/revoke", {"refresh_token": 5}, "invalid_request", "refresh_token"),
]


@pytest.mark.parametrize(("path", "body", "error", "word"), BAD_TOKEN_REQUESTS)
def test_a_bad_token_request_gets_an_rfc6749_error_naming_the_problem(
    api: Api, path: str, body: Any, error: str, word: str | None
) -> None:
    response = (
        api.post("auth", path, data='{"grant_type": "pass') if body is NOT_JSON else api.post("auth", path, body=body)
    )

    answer = assert_oauth_error(response, 400, error)
    if word is not None:
        assert word in answer["error_description"], answer


BODY_ROUTES = [
    ("auth", "POST", "/users", {"username": "newcomer", "password": "p" * TOO_BIG}),
    ("auth", "POST", "/token", {"grant_type": "password", "username": "carol", "password": "p" * TOO_BIG}),
    ("auth", "POST", "/token/revoke", {"refresh_token": "r" * TOO_BIG}),
    ("location", "PUT", "/locations/{id}", {**VALID_LOCATION, "city": "c" * TOO_BIG}),
    ("profile", "PUT", "/profiles/{id}", {"display_name": "Carol", "bio": "b" * TOO_BIG}),
]


@pytest.mark.parametrize(("service", "method", "path", "body"), BODY_ROUTES, ids=[r[2] for r in BODY_ROUTES])
def test_a_body_over_16_kib_gets_a_413(api: Api, carol: User, service: str, method: str, path: str, body: Any) -> None:
    assert len(json.dumps(body)) > 16 * 1024

    response = _send(api, carol, service, path, body, method)

    if path.startswith("/token"):
        assert_oauth_error(response, 413, "invalid_request")
    else:
        assert_error(response, 413)


BAD_PATHS_AND_HEADERS = [
    # (service, method, path, If-Match, status): ids that are no user id, malformed If-Match headers
    ("profile", "GET", "/profiles/not-a-user-id", None, 404),
    ("profile", "GET", "/profiles/{ID}", None, 404),  # a user id is a lower-case UUID
    ("profile", "DELETE", "/profiles/not-a-user-id", None, 403),
    ("location", "GET", "/locations/not-a-user-id", None, 403),
    ("location", "PUT", "/locations/not-a-user-id", None, 403),
    ("location", "DELETE", "/locations/..%2F..%2Fusers", None, 403),
    ("profile", "PUT", "/profiles/{id}", "3", 400),
    ("profile", "PUT", "/profiles/{id}", '"3', 400),
    ("profile", "PUT", "/profiles/{id}", "", 400),
]


@pytest.mark.parametrize(
    ("service", "method", "path", "if_match", "status"),
    BAD_PATHS_AND_HEADERS,
    ids=[f"{s}-{m}-{p}-{i}" for i, (s, m, p, _, _) in enumerate(BAD_PATHS_AND_HEADERS)],
)
def test_a_bad_id_or_header_gets_the_contracts_error(
    api: Api, carol: User, service: str, method: str, path: str, if_match: str | None, status: int
) -> None:
    headers = {**carol.auth, **({"If-Match": if_match} if if_match is not None else {})}
    body = {"display_name": "Carol"} if service == "profile" else VALID_LOCATION
    path = path.format(id=carol.user_id, ID=carol.user_id.upper())

    response = api.request(service, method, path, body=body if method == "PUT" else None, headers=headers)

    assert_error(response, status)


def test_the_page_of_an_id_that_is_no_user_id_is_a_404_page_that_does_not_echo_it(api: Api) -> None:
    response = api.get("profile", "/pages/%3Cscript%3Ealert(1)%3C%2Fscript%3E")

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<script>alert(1)" not in response.text


def test_nothing_was_written_by_the_bad_bodies(api: Api, carol: User) -> None:
    # Runs after the tests above in this module (file order): none of them wrote anything.
    assert api.get("location", f"/locations/{carol.user_id}", headers=carol.auth).status_code == 404
    assert api.get("profile", f"/profiles/{carol.user_id}").status_code == 404
