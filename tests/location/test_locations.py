"""PUT, GET and DELETE /locations/{user_id} by the owner: bodies, versions, 404s."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from servicekit.clock import clock
from tests.location.conftest import ALICE, SAN_FRANCISCO, delete, get, put, stored
from tests.support.clocks import ManualClock
from tests.support.services import json_body

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_put_creates_the_location_at_version_1(location: Any, alice: dict[str, str]) -> None:
    response = put(location, ALICE, SAN_FRANCISCO, alice)

    assert response.status_code == 200
    body = json_body(response)
    assert body == {**SAN_FRANCISCO, "user_id": ALICE, "updated_at": body["updated_at"], "version": 1}
    assert ISO_UTC.match(body["updated_at"])


@pytest.fixture
def local_time_ahead_of_utc() -> Iterator[None]:
    """The machine's local time is five and a half hours ahead of UTC (India's time zone)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "IST-05:30"  # POSIX form: needs no time zone database
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_updated_at_is_the_time_of_the_write_in_utc(
    location: Any, alice: dict[str, str], local_time_ahead_of_utc: None
) -> None:
    # GIVEN a write at 05:00:00.123 UTC on the service's clock, on a machine whose local
    # time is then 10:30:00.123
    clock.override(ManualClock(datetime(2026, 11, 27, 5, 0, 0, 123000, tzinfo=UTC)))

    body = json_body(put(location, ALICE, SAN_FRANCISCO, alice))

    # THEN updated_at is that instant in UTC, not in the machine's time zone
    assert body["updated_at"] == "2026-11-27T05:00:00.123Z"


def test_city_and_country_are_null_when_not_given(location: Any, alice: dict[str, str]) -> None:
    response = put(location, ALICE, {"latitude": 0, "longitude": 0}, alice)

    assert response.status_code == 200
    body = json_body(response)
    assert (body["city"], body["country"]) == (None, None)
    assert (body["latitude"], body["longitude"]) == (0, 0)


def test_explicit_nulls_mean_no_city_and_no_country(location: Any, alice: dict[str, str]) -> None:
    response = put(location, ALICE, {"latitude": 1, "longitude": 2, "city": None, "country": None}, alice)

    assert response.status_code == 200
    assert (json_body(response)["city"], json_body(response)["country"]) == (None, None)


def test_a_put_replaces_the_whole_location(location: Any, alice: dict[str, str]) -> None:
    # GIVEN a location with a city and a country
    stored(location, ALICE, alice)

    # WHEN the next PUT leaves them out
    response = put(location, ALICE, {"latitude": 48.8566, "longitude": 2.3522}, alice)

    # THEN they are gone, not kept from before
    assert json_body(response)["city"] is None
    assert json_body(response)["country"] is None
    assert json_body(get(location, ALICE, alice)) == json_body(response)


def test_each_write_adds_one_to_the_version(location: Any, alice: dict[str, str]) -> None:
    versions = [json_body(put(location, ALICE, SAN_FRANCISCO, alice))["version"] for _ in range(3)]

    assert versions == [1, 2, 3]
    assert json_body(get(location, ALICE, alice))["version"] == 3


def test_get_returns_what_the_last_put_stored(location: Any, alice: dict[str, str]) -> None:
    written = stored(location, ALICE, alice)

    response = get(location, ALICE, alice)

    assert response.status_code == 200
    assert json_body(response) == written


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(-90, -180), (90, 180), (-90.0, 180.0), (0.000001, -0.000001), (51.477928, -0.001545)],
)
def test_coordinates_round_trip_exactly_including_the_bounds(
    location: Any, alice: dict[str, str], latitude: float, longitude: float
) -> None:
    put(location, ALICE, {"latitude": latitude, "longitude": longitude}, alice)

    body = json_body(get(location, ALICE, alice))

    assert (body["latitude"], body["longitude"]) == (latitude, longitude)


@pytest.mark.parametrize(("given", "kept"), [(1e-200, 0), (-0.0, 0), (-1e-300, 0)])
def test_a_coordinate_too_small_to_store_is_kept_as_zero(
    location: Any, alice: dict[str, str], given: float, kept: float
) -> None:
    response = put(location, ALICE, {"latitude": given, "longitude": given}, alice)

    assert response.status_code == 200
    assert (json_body(response)["latitude"], json_body(get(location, ALICE, alice))["longitude"]) == (kept, kept)


@pytest.mark.parametrize("city", ["x" * 100, "é" * 100, "Saint-Jean-de-Luz", " Trailing spaces kept "])
def test_a_city_of_up_to_100_characters_is_stored_as_given(location: Any, alice: dict[str, str], city: str) -> None:
    response = put(location, ALICE, {"latitude": 1, "longitude": 1, "city": city}, alice)

    assert response.status_code == 200
    assert json_body(get(location, ALICE, alice))["city"] == city


@pytest.mark.parametrize("country", ["US", "GB", "AQ", "BQ", "SS", "ZW"])
def test_assigned_country_codes_are_accepted(location: Any, alice: dict[str, str], country: str) -> None:
    response = put(location, ALICE, {"latitude": 1, "longitude": 1, "country": country}, alice)

    assert response.status_code == 200
    assert json_body(response)["country"] == country


def test_get_of_a_user_without_a_location_is_a_404(location: Any, alice: dict[str, str]) -> None:
    response = get(location, ALICE, alice)

    assert response.status_code == 404
    assert json_body(response)["Code"] == "LocationNotFoundError"


def test_delete_removes_the_location(location: Any, alice: dict[str, str]) -> None:
    stored(location, ALICE, alice)

    response = delete(location, ALICE, alice)

    assert response.status_code == 204
    assert response.body in (b"", None)
    assert get(location, ALICE, alice).status_code == 404


def test_delete_of_a_user_without_a_location_is_a_404(location: Any, alice: dict[str, str]) -> None:
    response = delete(location, ALICE, alice)

    assert response.status_code == 404
    assert json_body(response)["Code"] == "LocationNotFoundError"


def test_a_put_after_a_delete_starts_again_at_version_1(location: Any, alice: dict[str, str]) -> None:
    stored(location, ALICE, alice)
    stored(location, ALICE, alice)
    delete(location, ALICE, alice)

    assert stored(location, ALICE, alice)["version"] == 1


def test_the_location_is_kept_in_the_services_own_table_by_user_id(
    location: Any, alice: dict[str, str], aws: Any
) -> None:
    stored(location, ALICE, alice)

    item = aws.get_item(TableName="location-local", Key={"user_id": {"S": ALICE}})["Item"]

    assert set(item) == {"user_id", "latitude", "longitude", "city", "country", "updated_at", "version", "write_id"}
    assert item["version"] == {"N": "1"}
