"""The public profile page: a small HTML page, rendered by Jinja2 with autoescaping.

Everything the user wrote is escaped by the template engine (``autoescape=True``), and
the page is served with a Content-Security-Policy that allows no scripts at all, no
frames, no forms and only the page's own inline style (by its hash). Jinja2 costs about
40 ms of import, so it is loaded on the first page, not at cold start.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from servicekit.lazy import Lazy

from . import profiles
from .models import Location

if TYPE_CHECKING:
    import jinja2

TEMPLATES = os.path.join(os.path.dirname(os.path.realpath(__file__)), "templates")
MAP_ZOOM = 12
STYLESHEET = "page.css"


def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )


environment = Lazy(_environment)
"""The template environment, built on the first page served."""


def _style_source() -> str:
    # The stylesheet is inlined by `{% include "page.css" %}`: hash exactly what that renders.
    css = environment().get_template(STYLESHEET).render()
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


style_source = Lazy(_style_source)
"""The CSP source expression that allows the page's one inline stylesheet and nothing else."""


def headers() -> dict[str, str | list[str]]:
    """The headers of every page: HTML, no scripts, no framing, no sniffing."""
    policy = "; ".join(
        [
            "default-src 'none'",
            f"style-src {style_source()}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }


def page(user_id: str) -> str:
    """The user's public profile page; ``ProfileNotFoundError`` when there is no profile."""
    profile = profiles.read(user_id)
    shown = _shown_location(profile.location) if profile.location else None
    return _render("profile.html", profile=profile, location=shown)


def not_found() -> str:
    """The page shown for a profile that does not exist."""
    return _render("not_found.html")


def _render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


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
