"""The rules `make run` restarts services by, without starting any: what counts as a code change, the backoff."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from tools import chalice_local
from tools.localstack import (
    BACKOFF_MAX_S,
    CONTROL_SOCKET,
    LocalStack,
    Ports,
    SourceWatcher,
    StackError,
    auto_restart_from_env,
    is_healthy,
    is_running,
    listening,
    request_restart,
    restart_command,
    restart_delay,
)
from tools.stages import ROOT


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """A service folder shaped like ours: code, config, and the shared library through a symlink."""
    shared = tmp_path / "shared" / "kit"
    shared.mkdir(parents=True)
    (shared / "tables.py").write_text("A = 1\n")
    folder = tmp_path / "some-service"
    (folder / "chalicelib").mkdir(parents=True)
    (folder / ".chalice").mkdir()
    (folder / "vendor").mkdir()
    (folder / "vendor" / "kit").symlink_to(shared)
    (folder / "app.py").write_text("app = None\n")
    (folder / "chalicelib" / "store.py").write_text("B = 1\n")
    (folder / ".chalice" / "config.json").write_text("{}\n")
    return folder


def _touch_later(path: Path, text: str) -> None:
    # A new mtime even on a file system with a coarse clock.
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_nothing_changed_is_no_change(service: Path) -> None:
    watcher = SourceWatcher(service)

    assert watcher.changed() == []


def test_edits_additions_and_removals_of_code_and_config_are_changes(service: Path) -> None:
    watcher = SourceWatcher(service)

    _touch_later(service / "chalicelib" / "store.py", "B = 2\n")
    (service / "chalicelib" / "new.py").write_text("C = 1\n")
    (service / "app.py").unlink()
    _touch_later(service / ".chalice" / "config.json", '{"stages": {}}\n')

    assert watcher.changed() == [".chalice/config.json", "app.py", "chalicelib/new.py", "chalicelib/store.py"]
    assert watcher.changed() == []  # each change is reported once


def test_the_shared_library_through_vendor_is_watched(service: Path) -> None:
    watcher = SourceWatcher(service)

    _touch_later(service.parent / "shared" / "kit" / "tables.py", "A = 2\n")

    assert watcher.changed() == ["vendor/kit/tables.py"]


def test_caches_and_editors_files_are_not_changes(service: Path) -> None:
    watcher = SourceWatcher(service)

    (service / "chalicelib" / "__pycache__").mkdir()
    (service / "chalicelib" / "__pycache__" / "store.cpython-311.pyc").write_bytes(b"\0")
    (service / "chalicelib" / ".store.py.swp").write_bytes(b"\0")
    (service / "chalicelib" / "store.py~").write_text("B = 1\n")
    (service / ".chalice" / "deployments").mkdir()
    (service / ".chalice" / "deployments" / "package.zip").write_bytes(b"\0")

    assert watcher.changed() == []


def test_auto_restart_waits_longer_after_each_crash_in_a_row_up_to_a_limit() -> None:
    delays = [restart_delay(crashes) for crashes in range(1, 10)]

    assert delays[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert delays[5:] == [BACKOFF_MAX_S] * 4


@pytest.mark.parametrize(("value", "expected"), [("", False), ("0", False), ("no", False), ("1", True), ("true", True)])
def test_auto_restart_is_off_unless_asked_for(value: str, expected: bool) -> None:
    assert auto_restart_from_env({"AUTO_RESTART": value}) is expected
    assert auto_restart_from_env({}) is False


def test_a_bad_auto_restart_value_is_named() -> None:
    with pytest.raises(StackError, match="AUTO_RESTART must be 1 or 0, got 'sometimes'"):
        auto_restart_from_env({"AUTO_RESTART": "sometimes"})


def test_the_restart_command_names_the_state_folder_only_when_it_is_not_the_default(tmp_path: Path) -> None:
    assert restart_command(ROOT / ".local", "location") == ".venv/bin/python -m tools.localstack restart location"
    assert restart_command(tmp_path / "my state", "auth") == (
        f"LOCAL_STATE_DIR='{tmp_path}/my state' .venv/bin/python -m tools.localstack restart auth"
    )


def test_restarting_without_a_running_stack_says_so(tmp_path: Path) -> None:
    ok, message = request_restart(tmp_path, "location", timeout=5)

    assert not ok
    assert f"no `make run` is running with its state in {tmp_path}" in message


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """``chalice_local.configure()`` in this process, undone after the test (chalice.test uses these classes)."""
    from chalice import local

    for owner, name in (
        (local.ThreadedHTTPServer, "request_queue_size"),
        (local.ChaliceRequestHandler, "setup"),
        (local.ChaliceRequestHandler, "_send_error_response"),
        (local.LocalGateway, "handle_request"),
    ):
        monkeypatch.setattr(owner, name, getattr(owner, name))
    chalice_local.configure()


def test_chalice_local_is_given_a_listen_queue_of_at_least_128(configured: None) -> None:
    from chalice.local import ThreadedHTTPServer

    assert ThreadedHTTPServer.request_queue_size >= 128


def test_chalice_local_runs_at_most_its_concurrency_of_requests_at_once(
    monkeypatch: pytest.MonkeyPatch, configured: None
) -> None:
    from chalice.local import LocalGateway

    limit, callers = chalice_local.CONCURRENCY, 3 * chalice_local.CONCURRENCY
    inside, most, done = 0, 0, []
    turn = threading.Condition()

    def handle(*_: object) -> None:  # stands in for the request: holds its turn until a full round is in
        nonlocal inside, most
        with turn:
            inside += 1
            most = max(most, inside)
            turn.notify_all()
            turn.wait_for(lambda: inside >= limit, timeout=2)
        with turn:
            inside -= 1
        done.append(1)

    monkeypatch.setattr(LocalGateway, "handle_request", handle)
    chalice_local.configure()  # wraps the stand-in as it wraps chalice's own
    threads = [threading.Thread(target=LocalGateway.handle_request, args=(None,)) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(done) == callers
    assert most == limit


@pytest.mark.parametrize(
    ("body", "healthy"),
    [
        ({"status": "ok", "service": "location"}, True),
        ({"status": "ok", "service": "location", "version": "1.2.3", "region": "local"}, True),
        ({"status": "degraded", "service": "location"}, False),
        ({"status": "ok", "service": "profile"}, False),
        ({"status": "ok"}, False),
        (["status", "ok"], False),
    ],
)
def test_health_needs_the_contracts_two_fields_and_welcomes_others(body: object, healthy: bool) -> None:
    assert is_healthy(body, "location") is healthy


def test_a_running_make_run_is_found_by_its_control_socket(tmp_path: Path) -> None:
    # GIVEN no `make run` for this state folder, then one listening on its control socket
    assert not is_running(tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / CONTROL_SOCKET))
        server.listen()

        # THEN it is found while it listens
        assert is_running(tmp_path)


@pytest.mark.parametrize(
    ("service", "answer"),
    [
        ("nosuch", "unknown service 'nosuch': this `make run` runs auth, location, profile"),
        ("location now", "unknown request 'restart location now': expected 'restart <service>'"),
    ],
)
def test_a_restart_request_the_stack_cannot_serve_is_answered_with_why(
    tmp_path: Path, service: str, answer: str
) -> None:
    # GIVEN a stack's control socket (nothing started: the answer needs no service)
    stack = LocalStack(Ports.free(), tmp_path)
    with listening(stack) as control:
        assert control is not None
        asked = threading.Thread(target=lambda: answers.append(request_restart(tmp_path, service, timeout=5)))
        answers: list[tuple[bool, str]] = []
        asked.start()

        # WHEN the supervising loop takes the request
        taken = stack.answer_request(control)
        asked.join(timeout=5)

    # THEN it restarted nothing and the command says why
    assert taken == ""
    assert answers == [(False, answer)]
    assert not (tmp_path / CONTROL_SOCKET).exists()
