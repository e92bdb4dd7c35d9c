"""GET /health and GET /openapi.json of the location service."""

from __future__ import annotations

from typing import Any

from tests.support.services import json_body


def test_health(location: Any) -> None:
    response = location.http.get("/health")

    assert response.status_code == 200
    assert json_body(response) == {"status": "ok", "service": "location"}


def test_openapi_documents_every_route(location: Any) -> None:
    document = json_body(location.http.get("/openapi.json"))

    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/locations/{user_id}", "/health", "/openapi.json"}
    assert set(document["paths"]["/locations/{user_id}"]) == {"put", "get", "delete"}
    for operation in document["paths"]["/locations/{user_id}"].values():
        assert operation["security"] == [{"bearer": []}]
        assert operation["parameters"][0]["name"] == "user_id"
    assert document["paths"]["/health"]["get"]["security"] == []


def test_openapi_documents_the_location_bodies_as_the_code_validates_them(location: Any) -> None:
    document = json_body(location.http.get("/openapi.json"))
    schemas = document["components"]["schemas"]
    locations = document["paths"]["/locations/{user_id}"]

    change = schemas["LocationChange"]
    assert change["required"] == ["latitude", "longitude"]
    assert change["additionalProperties"] is False
    assert (change["properties"]["latitude"]["minimum"], change["properties"]["latitude"]["maximum"]) == (-90, 90)
    assert (change["properties"]["longitude"]["minimum"], change["properties"]["longitude"]["maximum"]) == (-180, 180)
    city, _ = change["properties"]["city"]["anyOf"]
    assert city["maxLength"] == 100
    country, _ = change["properties"]["country"]["anyOf"]
    assert "US" in country["enum"]
    assert "XX" not in country["enum"]
    assert len(country["enum"]) == 249
    assert set(schemas["Location"]["properties"]) == {
        "user_id",
        "latitude",
        "longitude",
        "city",
        "country",
        "updated_at",
        "version",
    }
    put = locations["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LocationChange"
    }
    assert put["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Location"}
    assert {"400", "401", "403", "413"} <= set(put["responses"])
    assert {"200", "401", "403", "404"} <= set(locations["get"]["responses"])
    assert {"204", "401", "403", "404"} <= set(locations["delete"]["responses"])
