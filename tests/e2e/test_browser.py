"""The public page in a real browser: headless Chromium renders it, and no user input runs as script."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import pytest

from tests.e2e.api import Api, User
from tools.stages import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("e2e")]

ARTIFACTS = ROOT / "test-artifacts"
SCRIPT_NAME = "<script>document.title='pwned'</script>"
IMG_BIO = "<img src=x onerror=\"document.title='pwned-img'\"> likes maps"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
    "--hide-scrollbars",
    "--window-size=1024,768",
    # Let the page's load, error and timer tasks run before the DOM is dumped.
    "--virtual-time-budget=3000",
]
APT_TIMEOUT_S = 600


def _install_chromium() -> str | None:
    """Debian's chromium, installed with apt-get when missing; None with the reason skipped."""
    if shutil.which("apt-get") is None:
        pytest.skip("chromium is not installed, and this system has no apt-get to install Debian's chromium with")
    if os.geteuid() != 0:
        pytest.skip("chromium is not installed, and installing it needs root (apt-get install -y chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "-o", "DPkg::Lock::Timeout=120", "chromium"],
    ):
        try:
            subprocess.run(command, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S, check=True)
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"chromium is missing and `{' '.join(command)}` failed: {exc.stderr.strip()[-500:]}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"chromium is missing and `{' '.join(command)}` failed: {exc}")
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a headless-capable Chromium."""
    found = shutil.which("chromium") or shutil.which("chromium-browser") or _install_chromium()
    if not found:
        pytest.skip("apt-get installed chromium, but no chromium command is on the PATH")
    return found


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


@pytest.mark.timeout(APT_TIMEOUT_S * 2 + 120)
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


@pytest.mark.timeout(APT_TIMEOUT_S * 2 + 120)
def test_an_unknown_profile_shows_a_not_found_page(api: Api, chromium: str) -> None:
    address = f"{api.urls['profile']}/pages/00000000-0000-4000-8000-000000000000"

    rendered = _Text.of(_run_chromium(chromium, "--dump-dom", address))

    assert "not found" in rendered.body.lower()
