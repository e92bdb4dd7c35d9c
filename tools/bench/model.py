"""Running functions' cold paths in fresh processes held to a memory size's CPU share."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import cpu

COLDPATH = Path(__file__).with_name("coldpath.py")
TIMEOUT_S = 180
MARK = "@bench "  # what coldpath.py puts before its results


@dataclass(frozen=True)
class Function:
    """One Lambda function of a service and the invocations the bench sends it."""

    service: str
    kind: str  # "api" or "authorizer"
    handler: str  # the attribute of app.py Lambda calls
    events: list[dict[str, Any]]  # [{"name": route, "event": {...}}], the first one cold
    package: Path  # the folder laid out as the deployment package

    @property
    def name(self) -> str:
        return f"{self.service} {self.kind}"


@dataclass
class Run:
    """One fresh process: its cold figure and its warm invocations."""

    started_at: float  # time.perf_counter() when the process was started
    cold_s: float
    import_s: float
    answer: dict[str, Any]
    warm: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    marks: dict[str, float] = field(default_factory=dict)  # perf_counter() of marked calls (coldpath.py)


def run_once(
    function: Function,
    limit: cpu.Limit,
    env: dict[str, str],
    warm: int,
    *,
    marks: dict[str, str] | None = None,
    lambda_handler: bool = True,
) -> Run:
    """Start the function's process, invoke it cold, then ``warm`` times per event.

    ``lambda_handler``: set ``_HANDLER`` as Lambda's runtime does (``app.app``, ``app.jwt_auth``).
    """
    spec = {
        "handler": function.handler,
        "events": function.events,
        "warm": warm,
        "memory_mb": limit.memory_mb,
        "marks": marks or {},
    }
    env = {**env, "PYTHONPATH": str(function.package)}
    if lambda_handler:
        env["_HANDLER"] = f"app.{function.handler}"
    with tempfile.TemporaryFile(mode="w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(COLDPATH), json.dumps(spec)],
            cwd=function.package,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            preexec_fn=limit.join,
        )
        watchdog = threading.Timer(TIMEOUT_S, process.kill)
        watchdog.start()
        try:
            assert process.stdout is not None
            first_line, logs = "", []  # the function's own log lines, for an error
            while line := process.stdout.readline():
                if line.startswith(MARK):
                    first_line = line.removeprefix(MARK)
                    break
                logs.append(line)
            answered = time.perf_counter()
            rest = process.stdout.read()
            process.wait()
        finally:
            watchdog.cancel()
        if process.returncode != 0 or not first_line:
            errors.seek(0)
            raise RuntimeError(f"{function.name} at {limit.memory_mb} MB failed:\n{errors.read()[-3000:]}")
    cold = json.loads(first_line)
    wall = answered - started
    if limit.scaled:
        # No controller: CPU time at the memory's share, plus the time spent waiting.
        wall = cold["cpu_s"] / limit.cpus + max(0.0, wall - cold["cpu_s"])
    marked = [line.removeprefix(MARK) for line in rest.splitlines() if line.startswith(MARK)]
    logs += [line for line in rest.splitlines(keepends=True) if not line.startswith(MARK)]
    later = json.loads(marked[0]) if marked else {}
    failed = [{"route": function.events[0]["name"], **cold["answer"]}] if not cold["answer"]["ok"] else []
    _refuse(function, limit, failed + later.get("failed", []), logs)
    warm_runs = later.get("warm", {})
    if limit.scaled:
        for runs in warm_runs.values():
            for r in runs:
                r["wall_s"] = r["cpu_s"] / limit.cpus + max(0.0, r["wall_s"] - r["cpu_s"])
    return Run(
        started_at=started,
        cold_s=wall,
        import_s=cold["import_s"],
        answer=cold["answer"],
        warm=warm_runs,
        marks=cold.get("marks", {}),
    )


def _refuse(function: Function, limit: cpu.Limit, failed: list[dict[str, Any]], logs: list[str]) -> None:
    """Stop the bench at an invocation that did not succeed: its time is not the path's.

    A 429 is fast and a timed-out, retried write slow; neither is the login a figure names.
    """
    if failed:
        first = failed[0]
        # What the function said beyond its access log and metrics: warnings, tracebacks.
        said = [line for line in logs if '"level":"INFO"' not in line and '{"_aws"' not in line]
        raise RuntimeError(
            f"{function.name} at {limit.memory_mb} MB: {first['route']} answered {first['status']}: "
            f"{first['body'] or first['policy']}\nwhat it logged:\n{''.join(said[-30:])}"
        )


@dataclass
class Figures:
    """The medians of several runs of one function at one memory size."""

    cold_ms: float
    cold_range_ms: tuple[float, float]
    colds_ms: list[float]  # each run's, in order
    warm_ms: dict[str, float]
    units: dict[str, dict[str, float]]
    answers: list[Any]


def summarize(runs: list[Run]) -> Figures:
    colds = [r.cold_s * 1000 for r in runs]
    warm_ms: dict[str, float] = {}
    units: dict[str, dict[str, float]] = {}
    for route in runs[0].warm:
        samples = [w for r in runs for w in r.warm.get(route, [])]
        warm_ms[route] = statistics.median(w["wall_s"] for w in samples) * 1000
        units[route] = {k: statistics.median(w[k] for w in samples) for k in ("read", "write")}
    return Figures(
        cold_ms=statistics.median(colds),
        cold_range_ms=(min(colds), max(colds)),
        colds_ms=colds,
        warm_ms=warm_ms,
        units=units,
        answers=[r.answer for r in runs],
    )
