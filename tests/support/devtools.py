"""A headless Chromium driven over its DevTools protocol (CDP), as a user drives a browser.

The browser listens on a free port of 127.0.0.1 (``--remote-debugging-port=0``; it writes
the port into ``DevToolsActivePort`` in its profile folder) and is spoken to over
WebSocket with ``websocket-client``. A ``Tab`` opens a page, types into focused fields
(``Input.insertText``) and presses keys (``Input.dispatchKeyEvent``): what a user does, so
the page's own Content-Security-Policy and forms work as they do for a user. Every wait is
bounded; the browser is stopped, its process group killed, whatever happens.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import websocket

START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 30.0
POLL_S = 0.05
# How the tests run Chromium: headless, on its own, talking to nothing but the tests' servers.
HEADLESS = [
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
    "--window-size=1024,768",
]


class DevToolsError(AssertionError):
    """The browser answered a command with an error, or did not do what was waited for in time."""


class Browser:
    """One connection to the browser; commands are answered in order, events are noted on the way."""

    def __init__(self, connection: websocket.WebSocket) -> None:
        self._connection = connection
        self._ids = itertools.count(1)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command (to ``session``, a page, or to the browser) and return its result."""
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self._connection.send(json.dumps(message))
        deadline = time.monotonic() + CALL_TIMEOUT_S
        while time.monotonic() < deadline:
            answer = json.loads(self._connection.recv())
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise DevToolsError(f"{method}: {answer['error']}")
                return answer.get("result", {})  # type: ignore[no-any-return]
        raise DevToolsError(f"{method}: no answer within {CALL_TIMEOUT_S} s")

    def new_tab(self) -> Tab:
        """A new page, attached to."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        return Tab(self, target, session)


class Tab:
    """A page of the browser."""

    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self._browser, self.target, self._session = browser, target, session

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self._browser.call(method, self._session, **params)

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    @property
    def url(self) -> str:
        return str(self._browser.call("Target.getTargetInfo", targetId=self.target)["targetInfo"]["url"])

    def node(self, selector: str) -> int:
        """The current document's element for ``selector`` (0 if none), read through the DOM domain, not a script."""
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        return int(self.call("DOM.querySelector", nodeId=root, selector=selector).get("nodeId", 0))

    def text(self, selector: str) -> str | None:
        """The text of the element for ``selector``, or None when there is none."""
        node = self.node(selector)
        if not node:
            return None
        html = self.call("DOM.getOuterHTML", nodeId=node)["outerHTML"]
        return _Text.of(html)

    def wait_for(self, what: str, condition: Any, timeout: float = CALL_TIMEOUT_S) -> Any:
        """Poll ``condition()`` until it is truthy (the page loading, a script finishing); its value."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            with contextlib.suppress(DevToolsError):  # a document replaced while it was read
                last = condition()
                if last:
                    return last
            time.sleep(POLL_S)
        raise DevToolsError(f"waited {timeout} s for {what}; last seen {last!r} at {self.url}")

    def type_into(self, selector: str, text: str) -> None:
        """Focus the field and type ``text`` into it, as a keyboard would."""
        self.call("DOM.focus", nodeId=self.node(selector))
        self.call("Input.insertText", text=text)

    def press_enter(self) -> None:
        """Press and release Enter in the focused field (which submits its form)."""
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}
        self.call("Input.dispatchKeyEvent", type="keyDown", text="\r", **key)
        self.call("Input.dispatchKeyEvent", type="keyUp", **key)


class _Text(HTMLParser):
    """The text of an element, its whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        return " ".join("".join(parser.parts).split())


@contextlib.contextmanager
def chromium(executable: str) -> Iterator[Browser]:
    """A headless Chromium of its own (a fresh profile), connected to; stopped on the way out."""
    with tempfile.TemporaryDirectory(prefix="chromium-devtools-") as profile:
        process = subprocess.Popen(
            [executable, *HEADLESS, "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: its helpers are stopped with it
        )
        connection = None
        try:
            connection = websocket.create_connection(
                _address(Path(profile), process), timeout=CALL_TIMEOUT_S, suppress_origin=True
            )
            yield Browser(connection)
        finally:
            if connection is not None:
                connection.close()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _address(profile: Path, process: subprocess.Popen[bytes]) -> str:
    """The browser's DevTools WebSocket address, once it has written it."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevToolsError(f"chromium exited with {process.returncode} before it listened")
        lines = active.read_text().splitlines() if active.is_file() else []
        if len(lines) >= 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(POLL_S)
    raise DevToolsError(f"chromium did not listen within {START_TIMEOUT_S} s")
