"""GET /health and GET /openapi.json of the profile service, and what importing it costs."""

from __future__ import annotations

from typing import Any

from tests.support import services
from tests.support.services import json_body


def test_health(profile: Any) -> None:
    response = profile.http.get("/health")

    assert response.status_code == 200
    assert json_body(response) == {"status": "ok", "service": "profile"}


def test_openapi_documents_every_route_with_its_schemas(profile: Any) -> None:
    document = json_body(profile.http.get("/openapi.json"))

    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/profiles/{user_id}", "/pages/{user_id}", "/health", "/openapi.json"}
    routes = document["paths"]["/profiles/{user_id}"]
    assert set(routes) == {"get", "put", "delete"}
    assert routes["get"]["security"] == []
    assert routes["put"]["security"] == routes["delete"]["security"] == [{"bearer": []}]
    assert set(routes["put"]["responses"]) >= {"200", "400", "401", "403", "412", "413", "503"}
    assert set(routes["get"]["responses"]) >= {"200", "404", "503"}
    assert set(routes["delete"]["responses"]) >= {"204", "401", "403", "404", "503"}
    change = document["components"]["schemas"]["ProfileChange"]
    assert change["properties"]["display_name"]["maxLength"] == 64
    assert change["properties"]["display_name"]["minLength"] == 1
    assert change["additionalProperties"] is False
    assert change["required"] == ["display_name"]
    profile_schema = document["components"]["schemas"]["Profile"]
    assert set(profile_schema["properties"]) == {
        "user_id",
        "display_name",
        "bio",
        "location",
        "location_status",
        "updated_at",
        "version",
    }
    assert "version" not in document["components"]["schemas"]["Location"]["properties"]
    assert "text/html" in document["paths"]["/pages/{user_id}"]["get"]["responses"]["404"]["content"]


def test_importing_the_app_loads_neither_jinja2_nor_urllib3() -> None:
    # Both are built on first use: importing app.py is the authorizer's whole cold start.
    assert services.imported_with_app("profile", ("jinja2", "urllib3", "concurrent.futures.thread")) == []
