"""Profiles: read one (with the user's location, fetched meanwhile), write one, delete one."""

from __future__ import annotations

from servicekit.authorizer import is_user_id
from servicekit.clock import clock
from servicekit.events import UserErased

from . import metrics
from .errors import ProfileNotFoundError, VersionMismatchError
from .etags import IfMatch
from .locations import LocationLookup, lookup
from .models import Profile, ProfileChange
from .store import ProfileItem, VersionNotMatchedError, profile_store

NOT_FOUND = "There is no profile for this user."


def read(user_id: str) -> Profile:
    """The profile with the user's location; 404 when there is none."""
    if not is_user_id(user_id):
        raise ProfileNotFoundError(NOT_FOUND)
    # The store (its DynamoDB client, on a cold start) before the lookup: the location's
    # budget is for the location service's answer, not for this process's own set-up.
    # The lookup gets its token meanwhile, but calls the location service only for a
    # profile that exists: reads of unknown ids cost it nothing.
    store = profile_store()
    pending = lookup(user_id, gated=True)
    try:
        item = store.get(user_id)
    except BaseException:
        pending.cancel()
        raise
    if item is None:
        pending.cancel()
        raise ProfileNotFoundError(NOT_FOUND)
    pending.proceed()
    location = pending.result()
    metrics.count(metrics.PROFILE_READS, location_status=location.status)
    return _profile(item, location)


def write(user_id: str, change: ProfileChange, precondition: IfMatch | None) -> Profile:
    """Create or replace the profile (version + 1), if ``precondition`` holds; the profile as ``read`` shows it."""
    pending = lookup(user_id)
    fields = {"display_name": change.display_name, "bio": change.bio, "updated_at": clock().iso()}
    try:
        item = profile_store().write(user_id, fields, precondition)
    except VersionNotMatchedError:
        pending.cancel()
        raise VersionMismatchError("The profile is not at a version If-Match names; nothing was written.") from None
    except BaseException:
        pending.cancel()
        raise
    return _profile(item, pending.result())


def delete(user_id: str) -> None:
    """Delete the profile; 404 when there is none."""
    if not profile_store().delete(user_id):
        raise ProfileNotFoundError(NOT_FOUND)


def erase(event: UserErased) -> bool:
    """Erase the user's profile (and so their page) for good (a ``UserErased`` event); False if erased already."""
    return profile_store().erase(event.user_id, event.erasure_id, clock().timestamp())


def _profile(item: ProfileItem, location: LocationLookup) -> Profile:
    return Profile(
        user_id=item["user_id"],
        display_name=item["display_name"],
        bio=item.get("bio"),
        location=location.location,
        location_status=location.status,
        updated_at=item["updated_at"],
        version=item["version"],
    )
