"""`make run` as its users run it: ``python -m tools.localstack`` in a subprocess, on free ports.

Shared by the tests of the runner itself; every wait is bounded.
"""

from __future__ import annotations

import itertools
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.e2e.api import Api
from tools.localstack import Ports, port_is_free
from tools.stages import ROOT

READY_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 15.0


class Cli:
    """``python -m tools.localstack`` in a subprocess, its output read line by line."""

    def __init__(self, env: Mapping[str, str], *args: str, root: Path = ROOT) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.localstack", *args],
            cwd=root,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = READY_TIMEOUT_S) -> str:
        """The first line containing ``text``; fails with the output so far if it does not come."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return line
        pytest.fail(f"no line with {text!r}; output:\n" + "\n".join(self.lines))

    def finish(self, timeout: float = EXIT_TIMEOUT_S) -> int:
        """Its exit code, once it has exited and its output is read."""
        code = self.process.wait(timeout=timeout)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        """Stop it if it still runs, as SIGTERM does (it stops its services first); SIGKILL if it hangs.

        SIGKILL alone would leave its services running: each is in a process group of its own.
        """
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def cli_env(ports: Ports, state_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.as_dict().items()},
        "LOCAL_STATE_DIR": str(state_dir),
        **extra,
    }


def processes_on(*ports: int) -> dict[int, str]:
    """Live processes started for any of ``ports`` (``--port N`` or ``-p N``), by pid."""
    wanted = {str(port) for port in ports}
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(a in ("--port", "-p") and b in wanted for a, b in itertools.pairwise(args)):
            found[int(entry.name)] = " ".join(args)
    return found


def assert_nothing_left(ports: Ports) -> None:
    ours = ports.as_dict().values()
    deadline = time.monotonic() + EXIT_TIMEOUT_S
    while processes_on(*ours) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_on(*ours) == {}
    assert all(port_is_free(port) for port in ports.as_dict().values())


def wait_healthy(api: Api, service: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if api.get(service, "/health", timeout=1).status_code == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the {service} service did not become healthy within {timeout} s")
