"""The public profile page: a small HTML page, rendered by Jinja2 with autoescaping (servicekit.pages).

Everything the user wrote is escaped by the template engine, and the page is served with
a Content-Security-Policy that allows no scripts at all, no frames, no forms and only the
page's own inline style (by its hash). Jinja2 is loaded on the first page, not at cold start.
"""

from __future__ import annotations

import os
from urllib.parse import urlencode

from servicekit.pages import Pages

from . import profiles
from .models import Location

MAP_ZOOM = 12
pages = Pages(os.path.join(os.path.dirname(os.path.realpath(__file__)), "templates"))
"""The service's templates."""


def headers() -> dict[str, str | list[str]]:
    """The headers of every page: HTML, no scripts, no framing, no forms, no sniffing."""
    return {**pages.headers()}


def page(user_id: str) -> str:
    """The user's public profile page; ``ProfileNotFoundError`` when there is no profile."""
    profile = profiles.read(user_id)
    shown = _shown_location(profile.location) if profile.location else None
    return pages.render("profile.html", profile=profile, location=shown)


def not_found() -> str:
    """The page shown for a profile that does not exist."""
    return pages.render("not_found.html")


def _shown_location(location: Location) -> dict[str, str]:
    lat, lon = location.latitude, location.longitude
    place = ", ".join(part for part in (location.city, location.country) if part)
    coordinates = f"{abs(lat):.4f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.4f}° {'E' if lon >= 0 else 'W'}"
    query = urlencode({"mlat": f"{lat:.5f}", "mlon": f"{lon:.5f}"})
    return {
        "place": place,
        "coordinates": coordinates,
        "map_url": f"https://www.openstreetmap.org/?{query}#map={MAP_ZOOM}/{lat:.5f}/{lon:.5f}",
    }
