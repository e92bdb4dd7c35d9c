"""GET /pages/{user_id}: the public profile page, escaped, with a strict Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest

from tests.profile.conftest import put
from tests.profile.upstream import FakeUpstream

XSS = "<script>alert(1)</script>"


def _page(client: Any, user_id: str) -> Any:
    return client.http.get(f"/pages/{user_id}")


def _text(response: Any) -> str:
    return response.body.decode("utf-8")  # type: ignore[no-any-return]


def test_the_page_shows_name_bio_and_location_with_a_map_link(
    profile: Any, upstream: FakeUpstream, user_id: str, token: str
) -> None:
    upstream.location(user_id, latitude=52.52, longitude=13.405, city="Berlin", country="DE")
    put(profile, user_id, {"display_name": "Alice", "bio": "Likes maps."}, token)

    response = _page(profile, user_id)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = _text(response)
    assert page.startswith("<!doctype html>")
    assert '<h1 dir="auto">Alice</h1>' in page
    assert "Likes maps." in page
    assert "<bdi>Berlin, DE</bdi>" in page
    assert "52.5200° N, 13.4050° E" in page
    assert 'href="https://www.openstreetmap.org/?mlat=52.52000&amp;mlon=13.40500#map=12/52.52000/13.40500"' in page


def test_southern_and_western_coordinates_read_as_such(
    profile: Any, upstream: FakeUpstream, user_id: str, token: str
) -> None:
    upstream.location(user_id, latitude=-22.9068, longitude=-43.1729, city=None, country=None)
    put(profile, user_id, {"display_name": "Bea"}, token)

    page = _text(_page(profile, user_id))

    assert "22.9068° S, 43.1729° W" in page
    assert "mlat=-22.90680&amp;mlon=-43.17290#map=12/-22.90680/-43.17290" in page


@pytest.mark.parametrize(
    ("mode", "text"),
    [("normal", "No location shared."), ("error", "The location is unavailable right now.")],
)
def test_a_page_without_a_location_says_why_and_links_no_map(
    profile: Any, upstream: FakeUpstream, user_id: str, token: str, mode: str, text: str
) -> None:
    put(profile, user_id, {"display_name": "Alice"}, token)
    upstream.location_mode = mode

    response = _page(profile, user_id)

    assert response.status_code == 200
    assert text in _text(response)
    assert "openstreetmap" not in _text(response)


@pytest.mark.parametrize(
    ("display_name", "bio"),
    [
        (XSS, None),
        ("Alice", XSS),
        ('"><img src=x onerror=alert(1)>', "</p><script src=//evil.example/x.js></script>"),
        ("{{ 7 * 7 }}", "{% raw %}&amp;"),
        ("Ali'ce", "<style>body{display:none}</style>"),
    ],
)
def test_everything_the_user_wrote_is_shown_as_text(
    profile: Any, user_id: str, token: str, display_name: str, bio: str | None
) -> None:
    put(profile, user_id, {"display_name": display_name, "bio": bio}, token)

    page = _text(_page(profile, user_id))

    assert "<script" not in page
    assert "<img" not in page
    assert page.count("<style>") == 1
    for written in (display_name, bio or ""):
        escaped = (
            written.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&#34;")
            .replace("'", "&#39;")
        )
        assert escaped in page


def test_a_script_as_display_name_shows_as_text(profile: Any, user_id: str, token: str) -> None:
    put(profile, user_id, {"display_name": XSS}, token)

    page = _text(_page(profile, user_id))

    assert '<h1 dir="auto">&lt;script&gt;alert(1)&lt;/script&gt;</h1>' in page


def test_the_page_allows_no_scripts_and_only_its_own_style(profile: Any, user_id: str, token: str) -> None:
    put(profile, user_id, {"display_name": "Alice"}, token)

    response = _page(profile, user_id)

    policy = dict(
        directive.strip().split(" ", 1) for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert "script-src" not in policy  # falls back to default-src 'none': no scripts at all
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    (css,) = re.findall(r"<style>(.*?)</style>", _text(response), flags=re.S)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert policy["style-src"] == f"'sha256-{digest}'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "user_id", ["5f0c4a4e-8a4e-4f55-9c3b-1f7e2d9a6b10", "not-a-uuid", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"]
)
def test_a_page_of_nobody_is_a_404_html_page(profile: Any, user_id: str) -> None:
    response = _page(profile, user_id)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = _text(response)
    assert "<h1>Profile not found</h1>" in page
    assert "script" not in page
