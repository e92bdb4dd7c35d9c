"""``servicekit.service``: a service's app in one call, with what every service answers."""

from __future__ import annotations

from chalice.test import Client

from servicekit.openapi import documented
from servicekit.service import service
from tests.support.services import json_body


def test_a_service_answers_health_and_documents_itself_and_its_own_routes() -> None:
    # GIVEN a service made by the one call, and a protected route of its own
    app, jwt_auth = service("example", version="3.1.0", description="An example.")

    @app.route("/things/{thing}", methods=["PUT"], authorizer=jwt_auth)
    @documented("Replace a thing", responses={200: None})
    def put_thing(thing: str) -> dict:
        return {}

    # WHEN its common routes are called
    with Client(app) as client:
        health = client.http.get("/health")
        document = json_body(client.http.get("/openapi.json"))

    # THEN they name it, and the document has its route beside them
    assert json_body(health) == {"status": "ok", "service": "example"}
    assert (document["info"]["title"], document["info"]["version"]) == ("example-service", "3.1.0")
    assert document["info"]["description"] == "An example."
    assert set(document["paths"]) == {"/health", "/openapi.json", "/things/{thing}"}
    assert health.headers["X-Content-Type-Options"] == "nosniff" and "X-Correlation-Id" in health.headers


def test_its_authorizer_is_the_function_chalice_deploys_as_app_jwt_auth() -> None:
    app, jwt_auth = service("example", version="1.0.0")

    assert [a.handler_string for a in app.builtin_auth_handlers] == ["app.jwt_auth"]
    assert jwt_auth.name == "jwt_auth"


def test_a_protected_path_gets_its_preflight_with_no_call_after_the_last_route() -> None:
    app, jwt_auth = service("example", version="1.0.0")

    @app.route("/things/{thing}", methods=["GET"], authorizer=jwt_auth)
    def get_thing(thing: str) -> dict:
        return {}

    assert "OPTIONS" in app.routes["/things/{thing}"]
    assert "OPTIONS" not in app.routes["/health"]  # Chalice's own CORS: API Gateway answers its preflights
