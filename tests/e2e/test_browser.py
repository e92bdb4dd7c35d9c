"""The APIs in a real browser, headless Chromium.

- The public page renders, and no user input runs as script.
- A browser app served from another local origin calls the APIs across origins (CORS):
  it reads a public profile, logs in, and writes the profile with its token.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import subprocess
import tempfile
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.e2e.api import PASSWORD, Api, User
from tests.e2e.conftest import register_public_client
from tests.support import devtools, toolchain
from tools.localstack import LocalStack
from tools.stages import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("e2e")]

ARTIFACTS = ROOT / "test-artifacts"
SCRIPT_NAME = "<script>document.title='pwned'</script>"
IMG_BIO = "<img src=x onerror=\"document.title='pwned-img'\"> likes maps"
CHROMIUM_FLAGS = [
    *devtools.HEADLESS,
    "--hide-scrollbars",
    # Let the page's load, error and timer tasks run before the DOM is dumped.
    "--virtual-time-budget=3000",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a headless-capable Chromium."""
    return shutil.which("chromium-browser") or toolchain.debian_program("chromium", "chromium")


def _run_chromium(chromium: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        result = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class _Text(HTMLParser):
    """The page as a reader sees it: its text, its title, and which elements it has."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.title = ""
        self.tags: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            while self._in.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "title" in self._in:
            self.title += data
        elif not {"style", "script"} & set(self._in):
            self.text.append(data)

    @classmethod
    def of(cls, html: str) -> _Text:
        parser = cls()
        parser.feed(html)
        return parser

    @property
    def body(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture
def page_owner(api: Api, alice: User) -> User:
    """Alice, whose display name and bio are attacks on her page's readers."""
    location = {"latitude": 59.33, "longitude": 18.07, "city": "Stockholm", "country": "SE"}
    assert api.put("location", f"/locations/{alice.user_id}", body=location, headers=alice.auth).status_code == 200
    body = {"display_name": SCRIPT_NAME, "bio": IMG_BIO}
    assert api.put("profile", f"/profiles/{alice.user_id}", body=body, headers=alice.auth).status_code == 200
    return alice


@pytest.mark.timeout(toolchain.APT_TIMEOUT_S * 2 + 120)
def test_the_public_page_renders_user_input_as_text_and_runs_none_of_it(
    api: Api, page_owner: User, chromium: str
) -> None:
    address = f"{api.urls['profile']}/pages/{page_owner.user_id}"
    served = _Text.of(api.get("profile", f"/pages/{page_owner.user_id}").text)

    # WHEN a real browser loads the page and runs whatever it would run
    rendered = _Text.of(_run_chromium(chromium, "--dump-dom", address))
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "profile-page.png"
    screenshot.unlink(missing_ok=True)
    _run_chromium(chromium, f"--screenshot={screenshot}", address)

    # THEN the reader sees the name, the bio and the place, as the user typed them
    assert SCRIPT_NAME in rendered.body
    assert IMG_BIO in rendered.body
    assert "Stockholm" in rendered.body
    # AND none of it became markup, and no script changed the page
    assert "script" not in rendered.tags
    assert "img" not in rendered.tags
    assert "pwned" not in rendered.title.replace(SCRIPT_NAME, "")
    assert rendered.title == served.title
    assert screenshot.stat().st_size > 5_000


@pytest.mark.timeout(toolchain.APT_TIMEOUT_S * 2 + 120)
def test_an_unknown_profile_shows_a_not_found_page(api: Api, chromium: str) -> None:
    address = f"{api.urls['profile']}/pages/00000000-0000-4000-8000-000000000000"

    rendered = _Text.of(_run_chromium(chromium, "--dump-dom", address))

    assert "not found" in rendered.body.lower()


BROWSER_APP = Path(__file__).with_name("clients") / "browser_app.html"


@contextlib.contextmanager
def _served(folder: Path) -> Iterator[str]:
    """``folder`` served over HTTP on a free port, at ``http://localhost:<port>``: an origin of its own."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.timeout(toolchain.APT_TIMEOUT_S * 2 + 120)
def test_a_browser_app_on_another_origin_reads_a_profile_and_writes_it_with_a_token(
    api: Api, alice: User, chromium: str, tmp_path: Path
) -> None:
    # GIVEN Alice's public profile, and an app served from an origin that is not the APIs'
    assert api.put("profile", f"/profiles/{alice.user_id}", body={"display_name": "Alice"}, headers=alice.auth).ok
    shutil.copy(BROWSER_APP, tmp_path / "app.html")
    query = urllib.parse.urlencode(
        {
            "auth": api.urls["auth"],
            "profile": api.urls["profile"],
            "user": alice.user_id,
            "username": alice.username,
            "password": PASSWORD,
        }
    )

    # WHEN the browser runs the app
    with _served(tmp_path) as origin:
        assert urllib.parse.urlsplit(origin).netloc != urllib.parse.urlsplit(api.urls["profile"]).netloc
        rendered = _Text.of(_run_chromium(chromium, "--dump-dom", f"{origin}/app.html?{query}"))

    # THEN every call went through, its answers readable by the app (ETag included), a refusal too
    assert rendered.body == 'read=200:Alice:"1" login=200 write=200:Written from another origin:"2" refused=403'
    assert api.get("profile", f"/profiles/{alice.user_id}").json()["display_name"] == "Written from another origin"


CODE_FLOW_APP = Path(__file__).with_name("clients") / "code_flow_app.html"


@pytest.mark.timeout(toolchain.APT_TIMEOUT_S * 2 + 120)
def test_a_browser_app_logs_its_user_in_with_a_code_and_pkce_and_calls_the_apis(
    api: Api, stack: LocalStack, alice: User, chromium: str, tmp_path: Path
) -> None:
    # GIVEN an app on an origin of its own, registered with its exact redirect URI by the admin command
    shutil.copy(CODE_FLOW_APP, tmp_path / "app.html")
    with _served(tmp_path) as origin, devtools.chromium(chromium) as browser:
        client_id = f"browser-app-{uuid.uuid4().hex[:8]}"
        register_public_client(stack, client_id, f"{origin}/app.html")
        query = urllib.parse.urlencode({"auth": api.urls["auth"], "profile": api.urls["profile"], "client": client_id})
        tab = browser.new_tab()

        # WHEN the user opens the app, which sends them to the login page (PKCE made by WebCrypto)
        tab.open(f"{origin}/app.html?{query}")
        tab.wait_for(
            "the login page", lambda: tab.url.startswith(api.urls["auth"] + "/authorize?") and tab.node("#password")
        )
        assert tab.text("h1") == "Log in" and client_id in (tab.text("main") or "")

        # AND types a wrong password first, then the right one, pressing Enter each time
        tab.type_into("#username", alice.username)
        tab.type_into("#password", "not the password at all")
        tab.press_enter()
        error = tab.wait_for("the page's error", lambda: tab.text("#error"))
        assert error == "The username or password is wrong."
        assert tab.url.startswith(api.urls["auth"])  # no redirect on a failed login
        tab.type_into("#password", PASSWORD)
        tab.press_enter()

        # THEN the app got a code on its redirect URI, exchanged it with its verifier from JavaScript,
        # and called the APIs with the token; the same code used again is refused
        outcome = tab.wait_for(
            "the app's outcome", lambda: (tab.text("#outcome") or "running") != "running" and tab.text("#outcome")
        )
        assert tab.url.startswith(f"{origin}/app.html?code=")
    assert outcome == (
        "state=true iss=true token=200:profile:write:true me=200 write=200 "
        "read=200:Logged in by code again=400:invalid_grant"
    )
    assert api.get("profile", f"/profiles/{alice.user_id}").json()["display_name"] == "Logged in by code"
