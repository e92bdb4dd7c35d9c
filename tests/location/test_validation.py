"""PUT /locations/{user_id} bodies the contract rejects: 400 naming the field, 413, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.location.conftest import ALICE, SAN_FRANCISCO, get, put, stored
from tests.support.services import json_body

VALID = {"latitude": 37.7749, "longitude": -122.4194, "city": "San Francisco", "country": "US"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({**VALID, "latitude": True}, "latitude", id="bool latitude"),
        pytest.param({**VALID, "longitude": False}, "longitude", id="bool longitude"),
        pytest.param({**VALID, "latitude": "37.7749"}, "latitude", id="string latitude"),
        pytest.param({**VALID, "longitude": "-122"}, "longitude", id="string longitude"),
        pytest.param({**VALID, "latitude": None}, "latitude", id="null latitude"),
        pytest.param({**VALID, "latitude": [1]}, "latitude", id="list latitude"),
        pytest.param({**VALID, "latitude": 90.000001}, "latitude", id="latitude above 90"),
        pytest.param({**VALID, "latitude": -91}, "latitude", id="latitude below -90"),
        pytest.param({**VALID, "longitude": 180.5}, "longitude", id="longitude above 180"),
        pytest.param({**VALID, "longitude": -181}, "longitude", id="longitude below -180"),
        pytest.param({**VALID, "city": "x" * 101}, "city", id="city of 101 characters"),
        pytest.param({**VALID, "city": ""}, "city", id="empty city"),
        pytest.param({**VALID, "city": "   "}, "city", id="blank city"),
        pytest.param({**VALID, "city": "\u200b\ufeff"}, "city", id="city of invisible characters"),
        pytest.param({**VALID, "city": "Par\x00is"}, "city", id="city with NUL"),
        pytest.param({**VALID, "city": "Par\x1b[2Jis"}, "city", id="city with ESC"),
        pytest.param({**VALID, "city": "Paris\x07"}, "city", id="city with BEL"),
        pytest.param({**VALID, "city": "Paris\r\nSet-Cookie: x"}, "city", id="city with CR/LF"),
        pytest.param({**VALID, "city": "Paris\u202e"}, "city", id="city with a bidi override"),
        pytest.param({**VALID, "city": 42}, "city", id="number city"),
        pytest.param({**VALID, "country": "us"}, "country", id="lower-case country"),
        pytest.param({**VALID, "country": "Us"}, "country", id="mixed-case country"),
        pytest.param({**VALID, "country": "XX"}, "country", id="unassigned country XX"),
        pytest.param({**VALID, "country": "XK"}, "country", id="user-assigned country XK"),
        pytest.param({**VALID, "country": "UK"}, "country", id="reserved country UK"),
        pytest.param({**VALID, "country": "USA"}, "country", id="alpha-3 country"),
        pytest.param({**VALID, "country": "U"}, "country", id="one-letter country"),
        pytest.param({**VALID, "country": "US\n"}, "country", id="country with a newline"),
        pytest.param({**VALID, "country": 840}, "country", id="numeric country"),
        pytest.param({**VALID, "altitude": 12}, "altitude", id="unknown field"),
        pytest.param({**VALID, "user_id": ALICE}, "user_id", id="user_id in the body"),
        pytest.param({**VALID, "version": 7}, "version", id="version in the body"),
        pytest.param({"longitude": 1}, "latitude", id="missing latitude"),
        pytest.param({"latitude": 1}, "longitude", id="missing longitude"),
    ],
)
def test_an_invalid_body_is_a_400_naming_the_field(
    location: Any, alice: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = put(location, ALICE, body, alice)

    assert response.status_code == 400
    assert json_body(response)["Code"] == "BadRequestError"
    assert f"{field}`" in json_body(response)["Message"]
    assert get(location, ALICE, alice).status_code == 404


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{", id="truncated"),
        pytest.param(b"[]", id="array"),
        pytest.param(b"null", id="null"),
        pytest.param(b'"San Francisco"', id="string"),
        pytest.param(b'{"latitude": NaN, "longitude": 0}', id="NaN"),
        pytest.param(b'{"latitude": Infinity, "longitude": 0}', id="Infinity"),
        pytest.param(b'{"latitude": 1e400, "longitude": 0}', id="overflowing number"),
        pytest.param(b'{"latitude": 1, "longitude": 2,}', id="trailing comma"),
        pytest.param(b"\xff\xfe", id="not utf-8"),
    ],
)
def test_a_body_that_is_not_a_valid_json_location_is_a_400(location: Any, alice: dict[str, str], raw: bytes) -> None:
    response = put(location, ALICE, raw, alice)

    assert response.status_code == 400
    assert json_body(response)["Code"] == "BadRequestError"
    assert get(location, ALICE, alice).status_code == 404


def test_a_body_over_16_kib_is_a_413(location: Any, alice: dict[str, str]) -> None:
    response = put(location, ALICE, {**VALID, "city": "x" * 16384}, alice)

    assert response.status_code == 413
    assert json_body(response)["Code"] == "PayloadTooLargeError"
    assert get(location, ALICE, alice).status_code == 404


def test_a_rejected_put_leaves_the_stored_location_as_it_was(location: Any, alice: dict[str, str]) -> None:
    before = stored(location, ALICE, alice)

    assert put(location, ALICE, {**SAN_FRANCISCO, "latitude": 100}, alice).status_code == 400

    assert json_body(get(location, ALICE, alice)) == before
