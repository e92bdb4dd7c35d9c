"""Users' locations: replace, read and delete, each in one request to the table."""

from __future__ import annotations

from servicekit.authorizer import is_user_id
from servicekit.clock import clock
from servicekit.events import UserErased

from .errors import LocationNotFoundError
from .models import Location, LocationChange
from .store import LocationItem, location_store


def put(user_id: str, change: LocationChange) -> Location:
    """Replace the user's location (creating it at version 1); ``version`` grows by one.

    Fields left out of the body are stored as null: a PUT replaces the whole location.
    """
    item = location_store().write(
        user_id,
        {
            "latitude": change.latitude,
            "longitude": change.longitude,
            "city": change.city,
            "country": change.country,
            "updated_at": clock().iso(),
        },
    )
    return _public(item)


def get(user_id: str) -> Location:
    """The user's location; 404 when there is none."""
    if not is_user_id(user_id):
        # Not a user id, so no location can exist; and the table is not asked about
        # keys it would refuse (over 2 KiB), which would otherwise be a 500.
        raise LocationNotFoundError("There is no location for this id.")
    item = location_store().get(user_id)
    if item is None:
        raise _not_found(user_id)
    return _public(item)


def delete(user_id: str) -> None:
    """Delete the user's location; 404 when there is none."""
    if not location_store().delete(user_id):
        raise _not_found(user_id)


def erase(event: UserErased) -> bool:
    """Erase the user's location for good (a ``UserErased`` event); False if it was erased already."""
    return location_store().erase(event.user_id, event.erasure_id, clock().timestamp())


def _not_found(user_id: str) -> LocationNotFoundError:
    return LocationNotFoundError(f"User {user_id} has no location.")


def _public(item: LocationItem) -> Location:
    return Location(
        user_id=item["user_id"],
        latitude=float(item["latitude"]),
        longitude=float(item["longitude"]),
        city=item.get("city"),
        country=item.get("country"),
        updated_at=item["updated_at"],
        version=int(item["version"]),
    )
