"""Request and response bodies of the profile service, and the answers of the services it calls.

No ``from __future__ import annotations`` here: msgspec resolves string annotations
through ``sys.modules``, and the tests load three ``chalicelib`` packages side by side.

The bodies this service answers with derive ``Model`` (unknown fields are errors). The
answers it *reads* from the auth and location services are tolerant readers instead:
fields the contract names are checked strictly (types, ranges, presence), fields it
does not name are ignored, so a peer adding a field never makes every location
"unavailable". What is embedded is rebuilt from the checked fields only.
"""

from typing import Annotated, Literal

import msgspec

from servicekit import text
from servicekit.bodies import Model

DisplayName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        description=(
            "Something visible; no control or bidirectional formatting characters. The pattern is "
            "narrower than the service: it asks for one letter, digit or sign of the common scripts."
        ),
        extra_json_schema={"pattern": text.pattern(visible=True)},
    ),
]
Bio = Annotated[
    str,
    msgspec.Meta(
        max_length=500,
        description="Line breaks and tabs allowed; no other control or bidirectional formatting characters.",
        extra_json_schema={"pattern": text.pattern(multiline=True)},
    ),
]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
City = Annotated[str, msgspec.Meta(max_length=100)]
Country = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")]
LocationStatus = Literal["ok", "none", "unavailable"]


class ProfileChange(Model):
    """``PUT /profiles/{user_id}``: the whole profile; an omitted ``bio`` clears it."""

    display_name: DisplayName
    bio: Bio | None = None

    def __post_init__(self) -> None:
        text.check("display_name", self.display_name, visible=True)
        if self.bio is not None:
            text.check("bio", self.bio, multiline=True)


class Location(Model):
    """A user's location as a profile shows it: the location service's object without ``version``."""

    user_id: str
    latitude: float
    longitude: float
    city: str | None
    country: str | None
    updated_at: str


class Profile(Model):
    """A profile, with the user's location when the location service could tell."""

    user_id: str
    display_name: str
    bio: str | None
    location: Location | None
    location_status: LocationStatus
    updated_at: str
    version: int


class LocationAnswer(msgspec.Struct, kw_only=True):
    """What ``GET /locations/{user_id}`` of the location service answers (checked before use)."""

    user_id: str
    latitude: Latitude
    longitude: Longitude
    city: City | None
    country: Country | None
    updated_at: str
    version: Annotated[int, msgspec.Meta(ge=0)]

    def public(self) -> Location:
        """The location without its version, as a profile embeds it."""
        return Location(
            user_id=self.user_id,
            latitude=self.latitude,
            longitude=self.longitude,
            city=self.city,
            country=self.country,
            updated_at=self.updated_at,
        )


class TokenAnswer(msgspec.Struct, kw_only=True):
    """What ``POST /token`` of the auth service answers to a client-credentials grant."""

    access_token: Annotated[str, msgspec.Meta(min_length=1)]
    token_type: str
    expires_in: Annotated[int, msgspec.Meta(ge=1)]
