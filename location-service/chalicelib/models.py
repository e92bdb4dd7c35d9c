"""Request and response bodies of the location service (the OpenAPI document is built from them).

No ``from __future__ import annotations`` here: msgspec resolves string annotations
through ``sys.modules``, and the tests load three ``chalicelib`` packages side by side.
"""

from typing import Annotated

import msgspec

from servicekit import text
from servicekit.bodies import Model

from .countries import ASSIGNED_CODES

# msgspec rejects booleans and strings where a float is expected, and JSON has no NaN or
# Infinity; a literal too large for a float (1e400) is "out of range", never infinite.
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90, description="Degrees north (WGS 84).")]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180, description="Degrees east (WGS 84).")]
City = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=100,
        description=(
            "1 to 100 characters with something visible, no control or bidirectional formatting "
            "characters; omit it or send null when there is none. The pattern is narrower than the "
            "service: it asks for one letter, digit or sign of the common scripts."
        ),
        extra_json_schema={"pattern": text.pattern(visible=True)},
    ),
]
Country = Annotated[
    str,
    msgspec.Meta(
        pattern="^[A-Z]{2}$",
        description="An officially assigned ISO 3166-1 alpha-2 code; omit it or send null when there is none.",
        extra_json_schema={"enum": sorted(ASSIGNED_CODES)},
    ),
]


class LocationChange(Model):
    """``PUT /locations/{user_id}``: the whole new location (it replaces the old one)."""

    latitude: Latitude
    longitude: Longitude
    city: City | None = None
    country: Country | None = None

    def __post_init__(self) -> None:
        if self.city is not None:
            text.check("city", self.city, visible=True)
        if self.country is not None and self.country not in ASSIGNED_CODES:
            raise ValueError(
                f"Invalid country: {self.country} is not an assigned ISO 3166-1 alpha-2 code - at `$.country`"
            )


class Location(Model):
    """A user's location, as the API shows it."""

    user_id: str
    latitude: float
    longitude: float
    city: str | None
    country: str | None
    updated_at: Annotated[str, msgspec.Meta(description="ISO 8601, UTC, with milliseconds.")]
    version: Annotated[int, msgspec.Meta(ge=1, description="Grows by one with each write.")]
