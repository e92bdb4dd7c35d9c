"""The programs outside Python that some tests drive, found or installed, each pinned; skipped with the reason.

- Debian packages (Chromium, a Java runtime): installed with apt-get when missing, as root.
- Node packages (Redocly's CLI, openapi-typescript, TypeScript): installed with npm, at the
  versions pinned here, once per set of pins, into a cache folder outside the repository
  (``~/.cache/serverless-profiles``, or ``$XDG_CACHE_HOME``), so that a fresh clone or the
  next run reuses them. Several test processes may ask at once: a file lock lets one install.

A test that needs a program that cannot be had is skipped with a sentence saying which and
why, never silently.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

APT_TIMEOUT_S = 600
NPM_TIMEOUT_S = 600
# Pinned: a new version is a deliberate change (docs/api.md names the tested versions).
NODE_PACKAGES = {
    "@redocly/cli": "2.77.0",
    "openapi-typescript": "7.13.0",
    "typescript": "5.9.3",  # openapi-typescript 7 needs TypeScript 5
}
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "serverless-profiles"


def debian_program(command: str, package: str) -> str:
    """The path of ``command``, installing Debian's ``package`` with apt-get when it is missing."""
    found = shutil.which(command)
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip(f"{command} is not installed, and this system has no apt-get to install Debian's {package} with")
    if os.geteuid() != 0:
        pytest.skip(f"{command} is not installed, and installing it needs root (apt-get install -y {package})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "-o", "DPkg::Lock::Timeout=120", package],
    ):
        try:
            subprocess.run(step, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S, check=True)
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"{command} is missing and `{' '.join(step)}` failed: {exc.stderr.strip()[-500:]}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"{command} is missing and `{' '.join(step)}` failed: {exc}")
    found = shutil.which(command)
    if not found:
        pytest.skip(f"apt-get installed {package}, but no {command} command is on the PATH")
    return found


def java() -> str:
    """A Java runtime (openapi-generator is a Java program), Debian's when none is installed."""
    return debian_program("java", "default-jre-headless")


def node_bin() -> Path:
    """The ``node_modules/.bin`` folder holding ``NODE_PACKAGES`` at their pinned versions."""
    for program in ("node", "npm"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed: the Node tools (Redocly, openapi-typescript, tsc) cannot run")
    pins = json.dumps(NODE_PACKAGES, sort_keys=True)
    folder = CACHE / f"node-{hashlib.sha256(pins.encode()).hexdigest()[:12]}"
    installed = folder / ".installed"
    with _locked(CACHE / "node.lock"):
        if not installed.is_file():
            _npm_install(folder)
            installed.write_text(pins + "\n")
    return folder / "node_modules" / ".bin"


def _npm_install(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)  # what a broken install left
    folder.mkdir(parents=True)
    command = ["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--save-exact"]
    command += [f"{name}@{version}" for name, version in NODE_PACKAGES.items()]
    try:
        subprocess.run(command, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=True)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"`{' '.join(command)}` failed (is the npm registry reachable?): {exc.stderr.strip()[-500:]}")
    except subprocess.TimeoutExpired:
        pytest.skip(f"`{' '.join(command)}` took over {NPM_TIMEOUT_S} s")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run(command: list[str], *, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a tool; a failure fails the test with the tool's own output."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result
