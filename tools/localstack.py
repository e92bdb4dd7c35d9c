"""The whole system on this machine, in one command: ``make run``.

    python -m tools.localstack                       # DynamoDB + every service (what `make run` does)
    python -m tools.localstack --without location    # everything but one service: run that one yourself
    python -m tools.localstack restart location      # from another terminal: restart one service of it

It starts moto's DynamoDB server (through ``tools/moto_local.py``, one request at a time),
creates the services' tables, the auth service's signing keys and the service clients
(``python -m tools.admin bootstrap``), and one ``chalice local`` per service of
``services.toml`` (through
``tools/chalice_local.py``, which only deepens its listen queue), each in its own process
group, wired together through environment variables.
It waits for every ``GET /health``, prints the addresses and an example session, then
streams the services' logs until Ctrl-C (or SIGTERM), which stops every process it started.

While it runs, a service that exits is reported in one line and left down; the others keep
running. A service restarts when a file of its folder changes (its code, its config, the
shared library), on ``restart <service>``, and, with ``AUTO_RESTART=1``, by itself after a
delay that grows with each crash in a row. DynamoDB exiting stops everything.

Environment variables (defaults are the contract's, docs/api.md):

| variable | default | what |
| --- | --- | --- |
| ``DYNAMODB_PORT`` | 8000 | port of the local DynamoDB (moto's server) |
| ``<NAME>_PORT`` (``AUTH_PORT``, ...) | ``services.toml``'s | each service's port |
| ``AWS_ENDPOINT_URL_DYNAMODB`` | unset | use this DynamoDB (e.g. DynamoDB Local) instead of starting moto |
| ``LOCAL_STATE_DIR`` | ``.local/`` | where the local secrets (``<service>-<secret>``) and the logs go |
| ``STARTUP_TIMEOUT`` | 30 | seconds each step may take before the start is given up |
| ``AUTO_RESTART`` | 0 | 1: restart a crashed service by itself, after 1, 2, 4 ... up to 30 s |

``LocalStack`` is the same runner as a class (a context manager), used by the end-to-end tests.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import functools
import json
import os
import random
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from servicekit.env import LOCAL_REGION
from servicekit.events import TOPIC_VARIABLE as EVENTS_TOPIC_VARIABLE
from tools import queues, registry, stages
from tools.stages import LOCAL_STAGE

# What moto's server carries besides DynamoDB: the events (boto3's AWS_ENDPOINT_URL_<SERVICE>).
EVENT_SERVICES = ("DYNAMODB_STREAMS", "SNS", "SQS")  # botocore: the service id, spaces as _

# Where `make run` keeps its secrets and logs unless LOCAL_STATE_DIR says otherwise.
LOCAL_STATE_DIR = stages.ROOT / ".local"

_IMPORTED_AT = time.monotonic()

CHALICE_LOCAL = Path(__file__).resolve().with_name("chalice_local.py")
MOTO_LOCAL = Path(__file__).resolve().with_name("moto_local.py")

HOST = "127.0.0.1"
README = stages.ROOT / "README.md"
# Where Ports.free() looks: below the kernel's ephemeral range, which outgoing connections use.
FREE_PORT_RANGE = (20000, 32768)
STARTUP_TIMEOUT_S = 30.0
STOP_GRACE_S = 3.0
POLL_INTERVAL_S = 0.05
LAST_LINES = 12  # of a process's output, in the message that says why it exited
WATCH_INTERVAL_S = 0.5  # how often the services' files are checked for changes
SUPERVISE_POLL_S = 0.2
# AUTO_RESTART's delays: 1 s after a crash, doubling with each crash in a row up to 30 s; a
# service that ran for STABLE_S before crashing starts again from 1 s.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
STABLE_S = 60.0
CONTROL_SOCKET = "control.sock"  # in the state folder: where `restart` finds the running `make run`

ProgressFn = Callable[[str], None]


class StackError(RuntimeError):
    """A step of the start failed; the message says which and why."""


class PortInUseError(StackError):
    """A port the stack needs is taken by another process."""


@dataclass(frozen=True)
class Ports:
    """The local stack's ports: DynamoDB's and each service's, by name."""

    by_name: Mapping[str, int] = dataclasses.field(default_factory=lambda: dict(_DEFAULT_PORTS))

    def __getitem__(self, name: str) -> int:
        return self.by_name[name]

    @property
    def dynamodb(self) -> int:
        return self.by_name["dynamodb"]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Ports:
        """``DYNAMODB_PORT`` and each service's ``<NAME>_PORT``, else services.toml's (the contract's)."""
        values = dict(_DEFAULT_PORTS)
        for name in values:
            variable = f"{name.upper()}_PORT"
            raw = environ.get(variable, "").strip()
            if not raw:
                continue
            if not raw.isdigit() or not 0 < int(raw) < 65536:
                raise StackError(f"{variable} must be a port number (1-65535), got {raw!r}")
            values[name] = int(raw)
        taken = list(values.values())
        if len(set(taken)) != len(taken):
            raise StackError(f"the ports must differ, got {values}")
        return cls(values)

    @classmethod
    def free(cls, names: Sequence[str] = ()) -> Ports:
        """Ports nobody listens on now, one for DynamoDB and each service (or each of ``names``).

        For tests running beside `make run`, or a stack of another copy of the repository.

        Chosen below Linux's ephemeral range (32768-60999), not by binding port 0: the
        kernel takes the local ports of outgoing connections from that range, so with
        another test run beside this one, a port chosen there was seen taken by a client
        connection before the stack could listen on it.
        """
        names = list(names or _DEFAULT_PORTS)
        chosen: list[int] = []
        while len(chosen) < len(names):
            port = random.randrange(*FREE_PORT_RANGE)  # noqa: S311 - a port, not a secret
            if port not in chosen and port_is_free(port):
                chosen.append(port)
        return cls(dict(zip(names, chosen, strict=True)))

    def as_dict(self) -> dict[str, int]:
        """Ports by component name."""
        return dict(self.by_name)


_DEFAULT_PORTS = {
    "dynamodb": registry.load().dynamodb_port,
    **{name: service.port for name, service in registry.load().services.items()},
}


def url(port: int) -> str:
    """The local address of a port."""
    return f"http://{HOST}:{port}"


def port_is_free(port: int) -> bool:
    """Whether nothing listens on ``HOST:port`` (a socket in TIME_WAIT does not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# Health checks go straight to 127.0.0.1, whatever proxy the developer's environment names.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def is_healthy(body: Any, service: str) -> bool:
    """Whether a ``GET /health`` answer says ``service`` is up: the contract's two fields, anything beside them."""
    return isinstance(body, dict) and body.get("status") == "ok" and body.get("service") == service


def _health(base_url: str, timeout: float = 1.0) -> Any:
    with _opener.open(f"{base_url}/health", timeout=timeout) as response:
        return json.loads(response.read())


def with_correlation_id(line: str) -> str:
    """A service's JSON log line with its request's correlation id in front, to follow a request by eye."""
    if line.startswith("{") and '"correlation_id"' in line:
        with contextlib.suppress(ValueError, AttributeError):
            identifier = json.loads(line).get("correlation_id")
            if isinstance(identifier, str):
                return f"{identifier} | {line}"
    return line


class _Process:
    """One child process in its own process group, its output kept in a log file and a tail."""

    def __init__(
        self,
        name: str,
        label: str,
        command: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log: Path,
        echo: Callable[[str], None] | None = None,
        append: bool = False,
    ):
        self.name = name
        self.label = label
        self.log_path = log
        self.tail: collections.deque[str] = collections.deque(maxlen=LAST_LINES)
        self.echo = echo
        self.reported = False  # its exit has been told to the developer
        self._log: IO[str] = log.open("a" if append else "w", encoding="utf-8")
        try:
            self.popen = subprocess.Popen(
                list(command),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                bufsize=1,
                # Its own group: Ctrl-C in the terminal reaches only us, and stopping kills
                # the whole group, workers included.
                process_group=0,
            )
        except OSError:
            self._log.close()
            raise
        self.started_at = time.monotonic()
        self.stopped = False
        self._reader = threading.Thread(target=self._read, name=f"{name}-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:  # on its own thread, until the group's last writer is gone
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            line = line.rstrip("\n")
            self.tail.append(line)
            self._log.write(line + "\n")
            self._log.flush()
            echo = self.echo
            if echo is not None:
                echo(f"{self.name:<9}| {with_correlation_id(line)}")
        self._log.close()

    def exited(self) -> int | None:
        """The exit code, or None while it runs."""
        return self.popen.poll()

    def last_lines(self) -> str:
        """The end of its output, for error messages."""
        return "\n".join(f"    {line}" for line in self.tail) if self.tail else "    (no output)"

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the whole process group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signum)

    def terminate(self) -> None:
        """Ask the whole group to stop (a frozen one, SIGSTOPped by a test, too)."""
        self.signal_group(signal.SIGTERM)
        self.signal_group(signal.SIGCONT)

    def finish(self, deadline: float) -> None:
        """Wait for the group leader until ``deadline``, then kill what is left of the group."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        # Whatever survived (a worker, or a leader ignoring SIGTERM) goes now.
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=STOP_GRACE_S)
        self._reader.join(timeout=1.0)
        self.stopped = True

    def stop(self) -> None:
        """Stop the whole group: SIGTERM, then SIGKILL for what is left after ``STOP_GRACE_S``."""
        self.terminate()
        self.finish(time.monotonic() + STOP_GRACE_S)


class LocalStack:
    """DynamoDB and the three services on 127.0.0.1: ``start()``, ``stop()``, or ``with LocalStack() as stack``."""

    def __init__(
        self,
        ports: Ports | None = None,
        state_dir: Path | str | None = None,
        *,
        dynamodb_endpoint: str | None = None,
        without: Sequence[str] = (),
        progress: ProgressFn | None = None,
        startup_timeout: float = STARTUP_TIMEOUT_S,
        python: str = sys.executable,
    ) -> None:
        self.ports = ports or Ports()
        self.state_dir = Path(state_dir or LOCAL_STATE_DIR).resolve()
        self.dynamodb_endpoint = (dynamodb_endpoint or url(self.ports.dynamodb)).rstrip("/")
        self.starts_dynamodb = dynamodb_endpoint is None
        unknown = set(without) - set(stages.SERVICES)
        if unknown:
            choices = ", ".join(stages.SERVICES)
            raise StackError(f"unknown service(s) {', '.join(sorted(unknown))}: choose from {choices}")
        self.services = tuple(s for s in stages.SERVICES if s not in without)
        self.progress: ProgressFn = progress or (lambda line: None)
        self.startup_timeout = startup_timeout
        self.python = python
        self.processes: dict[str, _Process] = {}
        self._echo: Callable[[str], None] | None = None

    # -- addresses -------------------------------------------------------------------------

    @property
    def urls(self) -> dict[str, str]:
        """The base URL of DynamoDB and of each service (also of those run by hand, ``without``)."""
        return {"dynamodb": self.dynamodb_endpoint, **{name: url(self.ports[name]) for name in stages.SERVICES}}

    def secret(self, service: str, variable: str) -> str:
        """The reference to one of a service's secrets (services.toml's ``secrets``) in this stack's state folder."""
        parameter = dict(registry.service(service).secrets)[variable]
        return f"file:{self.state_dir / f'{service}-{parameter}'}"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    def environment(self, service: str | None = None) -> dict[str, str]:
        """The environment of a child process: this process's, without a real AWS account, plus ``wiring``."""
        env = {k: v for k, v in os.environ.items() if not _is_stage_variable(k)}
        # The local stack never talks to a real AWS account, whatever the developer's profile says.
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
            env.pop(name, None)
        env.update(
            NO_PROXY=",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"])),
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        return {**env, **self.wiring(service)}

    def wiring(self, service: str | None = None) -> dict[str, str]:
        """What a process of this stack is handed: local credentials, the addresses it needs, the state folder.

        A service gets its own URL, those of the services it calls (services.toml) and the
        references to its secrets in the state folder, as a deployed stage hands them over:
        nothing it runs needs to find the repository. The bootstrap (``service`` None) gets
        every URL. The one place that computes local addresses: `make run`, the admin
        command on the local stage and the command printed for a service run by hand use it.
        """
        wiring = {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts any credentials
            "AWS_DEFAULT_REGION": LOCAL_REGION,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint,
            "LOCAL_STATE_DIR": str(self.state_dir),
        }
        if self.starts_dynamodb:
            # The events ride on the same moto server: the table's stream, the topic, the queues
            # (tools/queues.py); each service's event functions poll them (tools/chalice_local.py).
            for kind in EVENT_SERVICES:
                wiring[f"AWS_ENDPOINT_URL_{kind}"] = self.dynamodb_endpoint
            if service is None or (service in registry.load().services and registry.service(service).publishes):
                wiring[EVENTS_TOPIC_VARIABLE] = queues.topic_arn(LOCAL_STAGE)
        if service is None:
            calls: Sequence[str] = stages.SERVICES
        else:
            # Its own too: the auth service's issuer is its URL (servicekit.parameters.token_issuer).
            calls = (*registry.service(service).calls, service) if service in stages.SERVICES else ()
        wiring.update({registry.service(callee).url_variable: self.urls[callee] for callee in calls})
        if service in stages.SERVICES:
            secrets = registry.service(service).secrets
            wiring.update({variable: self.secret(service, variable) for variable, _ in secrets})
        return wiring

    def hand_run_command(self, service: str) -> str:
        """The command that runs ``service`` by hand beside this stack, with what the stack would hand it.

        ``chalice local`` as the stack runs it (``tools/chalice_local.py``), where these
        settings win over the local stage's defaults in ``.chalice/config.json``.
        """
        settings = " ".join(f"{name}={shlex.quote(value)}" for name, value in self.wiring(service).items())
        return (
            f"cd {registry.service(service).app_name} && {settings} "
            f"../.venv/bin/python ../tools/chalice_local.py local --stage {LOCAL_STAGE} --no-autoreload "
            f"--port {self.ports[service]}"
        )

    # -- start -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start everything and wait until it is healthy; on any failure stop what was started."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self._check_ports()
        self.logs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.state_dir.chmod(0o700)
        if self.starts_dynamodb:
            self._spawn(
                "dynamodb",
                "DynamoDB (moto)",
                # moto's server, one request at a time: its backends are not thread-safe.
                [self.python, str(MOTO_LOCAL), "-H", HOST, "-p", str(self.ports.dynamodb)],
                cwd=stages.ROOT,
                env=self.environment("dynamodb"),
            )
        # The services import while DynamoDB comes up and the bootstrap runs: /health needs neither.
        for service in self.services:
            self._spawn_service(service)
        self._wait_for_dynamodb()
        self._bootstrap()
        for service in self.services:
            self._wait_until_healthy(service)

    def _check_ports(self) -> None:
        wanted = {name: port for name, port in self.ports.as_dict().items() if name in self.services}
        if self.starts_dynamodb:
            wanted["dynamodb"] = self.ports.dynamodb
        taken = {name: port for name, port in wanted.items() if not port_is_free(port)}
        if taken:
            details = ", ".join(f"{port} ({name}; set {name.upper()}_PORT to move it)" for name, port in taken.items())
            raise PortInUseError(
                f"step 'check ports': port{'s' if len(taken) > 1 else ''} {details} "
                f"already in use on {HOST}: is another `make run` still running? (`ss -ltnp` shows who listens)"
            )
        free = ", ".join(str(p) for p in sorted(wanted.values()))
        self.progress(f"[ok] port {free} is free" if len(wanted) == 1 else f"[ok] ports {free} are free")

    def _spawn(
        self, name: str, label: str, command: Sequence[str], *, cwd: Path, env: Mapping[str, str], append: bool = False
    ) -> None:
        echo = self._echo if name != "dynamodb" else None
        log = self.logs_dir / f"{name}.log"
        try:
            self.processes[name] = _Process(name, label, command, cwd=cwd, env=env, log=log, echo=echo, append=append)
        except OSError as exc:
            raise StackError(f"step 'start {label}': could not run {command[0]}: {exc}") from exc

    def _spawn_service(self, service: str, *, append: bool = False) -> None:
        # Chalice's own command line through a launcher that only deepens the listen queue.
        # --no-autoreload: one process per service (chalice's reloader forks a worker that
        # outlives its parent); this runner watches the code and restarts the service itself.
        port = str(self.ports[service])
        local = ["local", "--stage", LOCAL_STAGE, "--no-autoreload", "--host", HOST, "--port", port]
        self._spawn(
            service,
            f"{service} service",
            [self.python, str(CHALICE_LOCAL), *local],
            cwd=stages.folder(service),
            env=self.environment(service),
            append=append,
        )

    def _wait(self, step: str, process: _Process | None, ready: Callable[[], str | None]) -> None:
        """Poll ``ready()`` (None once ready, else what is missing) for at most ``startup_timeout`` seconds.

        Fails at once, with its last lines, when ``process`` (the one that should become ready) exits.
        """
        deadline = time.monotonic() + self.startup_timeout
        while (missing := ready()) is not None:
            if process is not None and process.exited() is not None:
                raise StackError(f"step '{step}': {self.exit_report(process)}")
            if time.monotonic() > deadline:
                last = f"; its last lines:\n{process.last_lines()}" if process else ""
                raise StackError(f"step '{step}': {missing} within {self.startup_timeout:.0f} s{last}")
            time.sleep(POLL_INTERVAL_S)

    def _wait_for_dynamodb(self) -> None:
        began = time.monotonic()
        endpoint = urllib.parse.urlsplit(self.dynamodb_endpoint)
        host, port_number = endpoint.hostname or HOST, endpoint.port or (443 if endpoint.scheme == "https" else 80)
        process = self.processes.get("dynamodb")
        missing = f"{self.dynamodb_endpoint} {'did not start listening' if process else 'is not reachable'}"
        self._wait("start DynamoDB", process, lambda: None if _reachable(host, port_number) else missing)
        source = "moto server" if process else "external"
        self.progress(f"[ok] DynamoDB ({source}) at {self.dynamodb_endpoint} ({time.monotonic() - began:.1f} s)")

    def _bootstrap(self) -> None:
        # tools.admin's own bootstrap, in a process of its own: it imports the auth service's
        # chalicelib and sets the stage's variables, which must not leak into this process.
        command = [self.python, "-m", "tools.admin", "bootstrap", "--stage", LOCAL_STAGE]
        try:
            result = subprocess.run(
                command,
                cwd=stages.ROOT,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=self.startup_timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise StackError(
                f"step 'bootstrap' (tables, signing keys, client): no answer within {self.startup_timeout:.0f} s"
            ) from exc
        (self.logs_dir / "bootstrap.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            last = "\n".join(f"    {line}" for line in (result.stderr or result.stdout).strip().splitlines()[-12:])
            raise StackError(f"step 'bootstrap' (tables, signing keys, client) failed:\n{last}")
        for line in result.stdout.splitlines():
            self.progress(f"[ok] {line}")

    def _wait_until_healthy(self, service: str, step: str = "") -> None:
        step = step or f"start the {service} service"
        process, base = self.processes[service], self.urls[service]

        def healthy() -> str | None:
            try:
                body = _health(base)
            except (OSError, ValueError) as exc:
                return f"{base}/health did not answer ({getattr(exc, 'reason', exc)})"
            if is_healthy(body, service):
                return None
            raise StackError(
                f"step '{step}': {base}/health answered {body!r}; "
                f'expected a JSON object with "status": "ok" and "service": "{service}" (other fields are welcome)'
            )

        self._wait(step, process, healthy)
        elapsed = time.monotonic() - process.started_at
        self.progress(f"[ok] {service} service healthy at {base} ({elapsed:.1f} s)")

    # -- running ---------------------------------------------------------------------------

    def echo_logs(self, echo: Callable[[str], None] | None) -> None:
        """Stream the services' output lines to ``echo`` from now on (None: stop).

        DynamoDB's lines (one ``POST /`` per call, nothing more) stay in its log file.
        """
        self._echo = echo
        for name, process in self.processes.items():
            process.echo = echo if name != "dynamodb" else None

    def restart(self, service: str) -> float:
        """Stop the service's process group (if it still runs), start it again; seconds until it was healthy.

        Raises ``StackError`` if it does not become healthy; it is then stopped again.
        """
        if service not in self.services:
            raise StackError(f"the {service} service is not run by this stack (started --without {service})")
        # Not stop_process: a Ctrl-C now must not be ignored; stop() still finds both processes.
        self.processes[service].stop()
        self._spawn_service(service, append=True)
        try:
            self._wait_until_healthy(service, step=f"restart the {service} service")
        except BaseException:
            self.processes[service].stop()
            raise
        return time.monotonic() - self.processes[service].started_at

    def supervise(self, control: socket.socket | None = None, *, auto_restart: bool = False) -> _Process:
        """Keep the services running until DynamoDB exits, and return its process.

        A service that exits is reported on ``progress`` (which, its exit code, its log, how to
        bring it back) and left down while the rest keep running. A service is (re)started
        when a file of its folder changes, on a ``restart <service>`` request to ``control``
        (``listening``), and, with ``auto_restart``, after a delay that doubles with each crash in a row.
        """
        watchers = {service: SourceWatcher(stages.folder(service)) for service in self.services}
        crashes: collections.Counter[str] = collections.Counter()
        due: dict[str, float] = {}  # when a crashed service restarts by itself
        next_scan = time.monotonic() + WATCH_INTERVAL_S
        while True:
            dynamodb = self.processes.get("dynamodb")
            if dynamodb is not None and dynamodb.exited() is not None:
                return dynamodb
            now = time.monotonic()
            for service in self.services:
                process = self.processes[service]
                if process.reported or process.exited() is None:
                    continue
                process.finish(now)  # whatever is left of its group goes; its last lines are read
                process.reported = True
                crashes[service] = crashes[service] + 1 if now - process.started_at < STABLE_S else 1
                delay = restart_delay(crashes[service]) if auto_restart else None
                if delay is not None:
                    due[service] = now + delay
                self.progress(self._exit_line(process, delay))
            wanted = {service: "auto-restart" for service, at in due.items() if now >= at}
            if now >= next_scan:
                next_scan = now + WATCH_INTERVAL_S
                for service, watcher in watchers.items():
                    changed = watcher.changed()
                    if changed:
                        more = f" and {len(changed) - 1} more" if changed[1:] else ""
                        wanted[service] = f"{changed[0]}{more} changed"
            for service, reason in wanted.items():
                due.pop(service, None)
                self._bring_back(service, reason)
            if control is None:
                time.sleep(SUPERVISE_POLL_S)
            elif select.select([control], [], [], SUPERVISE_POLL_S)[0]:
                due.pop(self.answer_request(control), None)

    def answer_request(self, control: socket.socket) -> str:
        """Take one request from ``control`` and answer it once done (JSON: ok, message); the service restarted."""
        connection, _ = control.accept()
        restarted = ""
        with connection, contextlib.suppress(OSError):  # a client that gave up waiting
            connection.settimeout(1.0)
            words = connection.makefile("rb").readline(200).decode(errors="replace").split()
            if len(words) != 2 or words[0] != "restart":
                ok, message = False, f"unknown request {' '.join(words)!r}: expected 'restart <service>'"
            elif words[1] not in self.services:
                ok, message = False, f"unknown service {words[1]!r}: this `make run` runs {', '.join(self.services)}"
            else:
                restarted = words[1]
                ok, message = self._bring_back(restarted, "restart requested")
            connection.sendall(json.dumps({"ok": ok, "message": message}).encode() + b"\n")
        return restarted

    def _bring_back(self, service: str, reason: str) -> tuple[bool, str]:
        self.progress(f"restarting the {service} service ({reason})")
        try:
            elapsed = self.restart(service)
        except StackError as exc:
            self.progress(str(exc))
            return False, str(exc)
        return True, f"the {service} service is healthy again at {self.urls[service]} ({elapsed:.1f} s)"

    def _exit_line(self, process: _Process, delay: float | None) -> str:
        by_itself = f"it restarts by itself in {delay:.0f} s (AUTO_RESTART), or " if delay is not None else ""
        return (
            f"{process.label} exited with code {process.exited()}; the rest keeps running. Log: {process.log_path}. "
            f"To bring it back: {by_itself}save a change to its code, or run "
            f"`{restart_command(self.state_dir, process.name)}`"
        )

    def exit_report(self, process: _Process) -> str:
        """Why ``process`` exited: its code, its last lines, where its whole log is."""
        process.finish(time.monotonic())  # let the reader drain its last lines
        return (
            f"{process.label} exited with code {process.exited()}; its last lines:\n"
            f"{process.last_lines()}\n    (whole log: {process.log_path})"
        )

    @property
    def control_path(self) -> Path:
        """The socket on which a running `make run` takes restart requests."""
        return self.state_dir / CONTROL_SOCKET

    def stop_process(self, name: str) -> None:
        """Stop one component (``dynamodb`` or a service) and its whole process group."""
        with _signals_deferred():
            self.processes[name].stop()

    def stop(self) -> None:
        """Stop everything this stack started (idempotent); nothing is left running."""
        with _signals_deferred():
            running = [p for p in reversed(list(self.processes.values())) if not p.stopped]
            for process in running:
                process.terminate()
            deadline = time.monotonic() + STOP_GRACE_S
            for process in running:
                process.finish(deadline)

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def restart_delay(crashes: int) -> float:
    """How long AUTO_RESTART waits before starting a service that crashed ``crashes`` times in a row."""
    return min(BACKOFF_FIRST_S * 2 ** max(0, crashes - 1), BACKOFF_MAX_S)


def restart_command(state_dir: Path, service: str) -> str:
    """The command that restarts ``service`` of the `make run` keeping its state in ``state_dir``."""
    prefix = "" if state_dir == Path(LOCAL_STATE_DIR).resolve() else f"LOCAL_STATE_DIR={shlex.quote(str(state_dir))} "
    return f"{prefix}.venv/bin/python -m tools.localstack restart {service}"


# Not the files of a service's code: caches, editors' swap and backup files, deployment output.
_NOT_WATCHED_DIRS = frozenset({"__pycache__", "deployments", "deployed"})


class SourceWatcher:
    """Notices changes to a service's files: its code, its config, and the shared library through ``vendor/``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seen = self._snapshot()

    def _snapshot(self) -> dict[Path, tuple[int, int]]:
        files = {}
        for directory, subdirectories, names in os.walk(self.folder, followlinks=True):
            subdirectories[:] = [
                d for d in subdirectories if d not in _NOT_WATCHED_DIRS and (d == ".chalice" or not d.startswith("."))
            ]
            for name in names:
                if name.startswith(".") or name.endswith(("~", ".pyc")):
                    continue
                path = Path(directory, name)
                with contextlib.suppress(OSError):  # removed since it was listed
                    stat = path.stat()
                    files[path] = (stat.st_mtime_ns, stat.st_size)
        return files

    def changed(self) -> list[str]:
        """The files added, changed or removed since the last call, relative to the folder."""
        now = self._snapshot()
        changed = sorted(path for path in now.keys() | self._seen.keys() if now.get(path) != self._seen.get(path))
        self._seen = now
        return [str(path.relative_to(self.folder)) for path in changed]


@contextlib.contextmanager
def listening(stack: LocalStack) -> Iterator[socket.socket | None]:
    """The socket on which `restart <service>` reaches this `make run` (None, with a note, if it cannot be made)."""
    path = stack.control_path
    path.unlink(missing_ok=True)  # left by a runner that was killed with SIGKILL
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as control:
        try:
            control.bind(str(path))
        except OSError as exc:  # e.g. a state folder whose path is too long for a Unix socket
            stack.progress(f"(the restart command is unavailable: {path}: {exc})")
            yield None
            return
        control.listen()
        try:
            yield control
        finally:
            path.unlink(missing_ok=True)


def is_running(state_dir: Path) -> bool:
    """Whether a `make run` keeping its state in ``state_dir`` answers on its control socket now."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(state_dir / CONTROL_SOCKET))
        except OSError:
            return False
    return True


def request_restart(state_dir: Path, service: str, timeout: float) -> tuple[bool, str]:
    """Ask the `make run` keeping its state in ``state_dir`` to restart ``service``: (ok, message)."""
    path = state_dir / CONTROL_SOCKET
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(f"restart {service}\n".encode())
            reply = sock.makefile("rb").readline()
    except (FileNotFoundError, ConnectionRefusedError):
        return False, (
            f"no `make run` is running with its state in {state_dir} ({path} does not answer); "
            "set LOCAL_STATE_DIR as for the `make run` you mean"
        )
    except TimeoutError:
        return False, f"`make run` did not answer within {timeout:.0f} s"
    if not reply:
        return False, "`make run` closed the connection without an answer (was it stopping?)"
    answer = json.loads(reply)
    return bool(answer["ok"]), str(answer["message"])


@functools.cache
def _stage_variables() -> frozenset[str]:
    """Every variable a stage of a service sets, each service's URL and secrets: never the shell's."""
    names = {"STAGE"}
    for service in registry.load().services.values():
        names |= {service.url_variable, *(variable for variable, _ in service.secrets)}
        config = json.loads((service.folder / ".chalice" / "config.json").read_text())
        for stage in config["stages"]:
            names |= set(stages.stage_env(service.name, stage))
    return frozenset(names)


def _is_stage_variable(name: str) -> bool:
    # The stage's own variables come from each service's .chalice/config.json, not from
    # whatever the developer's shell happens to export.
    return name in _stage_variables()


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM while stopping, so a second Ctrl-C cannot leave orphans."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


# -- the command line -------------------------------------------------------------------------


def readme_session() -> tuple[str, str]:
    """The README's curl session, and what the README says it prints, both for the default ports."""
    text = README.read_text()
    section = text.index("## A session with curl")
    start = text.index("```sh\n", section) + len("```sh\n")
    session = text[start : text.index("```", start)].rstrip()
    printed_at = text.index("```\n", text.index("What it prints", start)) + len("```\n")
    return session, text[printed_at : text.index("```", printed_at)]


def addressed(text: str, urls: Mapping[str, str]) -> str:
    """``text`` with the contract's default addresses replaced by a stack's, as the README tells its readers."""
    for name, port in _DEFAULT_PORTS.items():
        text = text.replace(url(port), urls[name].rstrip("/"))
    return text


def example_session(urls: Mapping[str, str]) -> str:
    """The README's curl session, addressed to the running stack's ports."""
    session = addressed(readme_session()[0], urls)
    return 'Try it (bash; python3 only reads JSON fields), as README.md\'s "A session with curl":\n' + "\n".join(
        f"  {line}" if line else "" for line in session.splitlines()
    )


def _print(line: str) -> None:
    print(line, flush=True)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.localstack",
        description="Run DynamoDB and every service of services.toml locally (`make run`).",
        epilog=(
            f"Ports: {', '.join(f'{name.upper()}_PORT' for name in _DEFAULT_PORTS)}. AUTO_RESTART=1 restarts a crashed "
            "service after a growing delay. See docs/local-development.md."
        ),
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="SERVICE",
        help=f"do not start this service ({', '.join(stages.SERVICES)}; repeat or comma-separate): run it yourself",
    )
    commands = parser.add_subparsers(dest="command", title="commands (without one: run the stack)")
    restart = commands.add_parser(
        "restart",
        help="restart one service of the running `make run` (found through LOCAL_STATE_DIR)",
        description="Restart one service of the `make run` running with the same LOCAL_STATE_DIR; "
        "wait until it is healthy.",
    )
    restart.add_argument("service", choices=stages.SERVICES)
    args = parser.parse_args(argv)
    args.without = [name.strip() for value in args.without for name in value.split(",") if name.strip()]
    return args


def state_dir_from_env(environ: Mapping[str, str]) -> Path:
    """The state folder of the `make run` that ``environ`` describes (``LOCAL_STATE_DIR``, else ``.local/``)."""
    return Path(environ.get("LOCAL_STATE_DIR") or LOCAL_STATE_DIR)


def _startup_timeout(environ: Mapping[str, str]) -> float:
    timeout = environ.get("STARTUP_TIMEOUT", "").strip()
    try:
        return float(timeout) if timeout else STARTUP_TIMEOUT_S
    except ValueError:
        raise StackError(f"STARTUP_TIMEOUT must be a number of seconds, got {timeout!r}") from None


def auto_restart_from_env(environ: Mapping[str, str]) -> bool:
    """``AUTO_RESTART``: 1 (or true, yes) restarts crashed services by themselves; off by default."""
    value = environ.get("AUTO_RESTART", "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise StackError(f"AUTO_RESTART must be 1 or 0, got {value!r}")


def stack_from_env(environ: Mapping[str, str], without: Sequence[str] = ()) -> LocalStack:
    """The stack `make run` starts, with the environment's overrides."""
    return LocalStack(
        Ports.from_env(environ),
        state_dir_from_env(environ),
        dynamodb_endpoint=environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
        without=without,
        progress=_print,
        startup_timeout=_startup_timeout(environ),
    )


def _restart(service: str) -> int:
    try:
        timeout = _startup_timeout(os.environ) + 2 * STOP_GRACE_S + 10
    except StackError as exc:
        print(exc, file=sys.stderr)
        return 1
    ok, message = request_restart(state_dir_from_env(os.environ).resolve(), service, timeout)
    print(message, file=sys.stdout if ok else sys.stderr, flush=True)
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.command == "restart":
        return _restart(args.service)
    # Explicitly: a shell starting us in the background would otherwise leave SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        auto_restart = auto_restart_from_env(os.environ)
        stack = stack_from_env(os.environ, args.without)
        _print(f"Starting the local stack (state and logs in {stack.state_dir})")
        stack.start()
    except StackError as exc:
        print(f"make run failed: {exc}\nEverything it had started is stopped.", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("Interrupted; everything started is stopped.", file=sys.stderr, flush=True)
        return 130
    try:
        _print("")
        for name, address in stack.urls.items():
            note = " (not started: run it yourself, below)" if name in args.without else ""
            _print(f"  {name:<9}{address}{note}")
        for name in args.without:
            _print(f"\nTo run the {name} service yourself, with the settings this stack would give it:")
            _print(f"  {stack.hand_run_command(name)}")
        _print("")
        _print(example_session(stack.urls))
        _print("")
        _print(f"Ready in {time.monotonic() - _IMPORTED_AT:.1f} s. Logs follow; Ctrl-C stops everything.")
        if stack.services:
            example = stack.services[-1]
            _print(
                f"A service restarts when its code changes, or with `{restart_command(stack.state_dir, example)}`"
                + ("; a crashed one restarts by itself (AUTO_RESTART)." if auto_restart else ".")
            )
        stack.echo_logs(_print)
        with listening(stack) as control:
            process = stack.supervise(control, auto_restart=auto_restart)
        report = stack.exit_report(process)
        print(f"{report}\nThe services cannot work without it: stopping everything.", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        _print("Stopping...")
        return 0
    finally:
        stack.echo_logs(None)
        stack.stop()
        _print("Stopped.")


if __name__ == "__main__":
    sys.exit(main())
