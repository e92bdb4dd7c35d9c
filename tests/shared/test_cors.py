"""CORS as the contract says it: public reads from anywhere, the rest from the stage's origins."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice import AuthResponse, Chalice, Response
from chalice.test import Client

from servicekit import cors
from servicekit.cors import PUBLIC_READ, Origins
from servicekit.service import ServiceApp

APP_ORIGIN = "http://localhost:5173"
STRANGER = "https://evil.example"
CONSTANT_HEADERS = {"Cache-Control": "no-store"}
STAGE_ORIGINS = "http://localhost:*, http://127.0.0.1:*, https://app.example.com"


def _app() -> Chalice:
    """A service's shape: a public read and an authenticated write on one path, a public-only path."""
    app = ServiceApp("cors-example")
    cors.add_cors_headers(app)

    @app.authorizer()
    def anyone(auth_request: Any) -> AuthResponse:
        return AuthResponse(routes=["*"], principal_id="user")

    @app.route("/things/{thing}", methods=["GET"])
    def read(thing: str) -> dict:
        return {"thing": thing}

    @app.route("/things/{thing}", methods=["PUT"], authorizer=anyone)
    def write(thing: str) -> dict:
        return {"thing": thing}

    @app.route("/constant", methods=["POST"])
    def constant() -> Response:
        return Response(body="", headers=CONSTANT_HEADERS)  # as the token endpoints answer

    @app.route("/health", methods=["GET"], cors=PUBLIC_READ)
    def health() -> dict:
        return {}

    return app


@pytest.fixture
def client() -> Iterator[Client]:
    cors.allowed_origins.override(Origins.parse(STAGE_ORIGINS))
    try:
        with Client(_app()) as test_client:
            yield test_client
    finally:
        cors.allowed_origins.reset()


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:5173", "http://localhost:1", "http://127.0.0.1:65535", "https://app.example.com"],
)
def test_the_stages_origins_are_allowed(origin: str) -> None:
    assert Origins.parse(STAGE_ORIGINS).allows(origin)


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "",
        "null",
        "*",
        "https://localhost:5173",  # another scheme
        "http://localhost",  # no port, where the entry asks for one
        "http://localhost:5173.evil.example",
        "http://localhost:123456",
        "http://evil.localhost:5173",
        "https://app.example.com.evil.example",
        "https://app.example.com:8443",
    ],
)
def test_other_origins_are_not(origin: str | None) -> None:
    assert not Origins.parse(STAGE_ORIGINS).allows(origin)


def test_no_configured_origin_allows_none() -> None:
    assert not Origins.parse(None).allows(APP_ORIGIN)
    assert not Origins.parse("").allows(APP_ORIGIN)


def test_a_preflight_from_an_allowed_origin_gets_every_method_of_the_path(client: Client) -> None:
    answer = client.http.request(
        "OPTIONS", "/things/1", headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "PUT"}
    )

    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert answer.headers["Access-Control-Allow-Methods"] == "GET,PUT,OPTIONS"
    assert {"Authorization", "Content-Type", "If-Match"} <= set(
        answer.headers["Access-Control-Allow-Headers"].split(",")
    )
    assert "Origin" in answer.headers["Vary"]


def test_a_preflight_from_another_origin_gets_the_public_reads_only(client: Client) -> None:
    answer = client.http.request(
        "OPTIONS", "/things/1", headers={"Origin": STRANGER, "Access-Control-Request-Method": "PUT"}
    )

    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"


def test_a_public_read_is_readable_from_any_origin(client: Client) -> None:
    answer = client.http.get("/things/1", headers={"Origin": STRANGER})

    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in answer.headers["Access-Control-Expose-Headers"]


def test_an_authenticated_answer_names_the_allowed_origin_and_varies_by_it(client: Client) -> None:
    answer = client.http.put("/things/1", headers={"Origin": APP_ORIGIN, "Authorization": "x"})

    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert answer.headers["Vary"] == "Origin"


def test_an_authenticated_answer_to_another_origin_allows_nothing(client: Client) -> None:
    answer = client.http.put("/things/1", headers={"Origin": STRANGER, "Authorization": "x"})

    assert "Access-Control-Allow-Origin" not in answer.headers
    assert answer.headers["Vary"] == "Origin"


def test_a_path_of_public_reads_only_keeps_chalices_own_cors(client: Client) -> None:
    app = _app()

    assert "OPTIONS" not in app.routes["/health"]
    assert client.http.get("/health", headers={"Origin": STRANGER}).headers["Access-Control-Allow-Origin"] == "*"


def test_an_origin_allowed_once_is_not_left_in_an_answers_shared_headers(client: Client) -> None:
    client.http.post("/constant", headers={"Origin": APP_ORIGIN})

    later = client.http.post("/constant", headers={"Origin": STRANGER})

    assert "Access-Control-Allow-Origin" not in later.headers
    assert CONSTANT_HEADERS == {"Cache-Control": "no-store"}


def test_a_path_gets_its_preflight_as_its_routes_are_added_and_loses_it_to_chalices_own_cors() -> None:
    # GIVEN an app whose paths are still being written
    app = ServiceApp("cors-example")

    @app.route("/later", methods=["POST"])
    def post() -> dict:
        return {}

    # THEN a path of ours has its preflight at once, with no call after the last route
    assert "OPTIONS" in app.routes["/later"]

    # WHEN a later route of the path is a public read with Chalice's own CORS
    @app.route("/later", methods=["GET"], cors=PUBLIC_READ)
    def get() -> dict:
        return {}

    # THEN Chalice answers its preflights (API Gateway's mock), and ours is gone
    assert set(app.routes["/later"]) == {"POST", "GET"}


def test_a_paths_own_options_route_replaces_its_preflight() -> None:
    app = ServiceApp("cors-example")

    @app.route("/own", methods=["PUT"])
    def put() -> dict:
        return {}

    @app.route("/own", methods=["OPTIONS"])
    def options() -> dict:
        return {"own": True}

    assert app.routes["/own"]["OPTIONS"].view_function is options
