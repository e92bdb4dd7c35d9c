"""The host's single-thread speed: a fixed reference workload, timed in fresh processes.

The workload is the one a published benchmark ran on Lambda (``aws.toml``,
``reference_speed``): a million chained SHA-256 digests of 32 bytes, in CPython. The
ratio of its time on Lambda's vCPU to its time here turns a figure measured here into
one at Lambda's speed (``aws.normalised``), and lets figures from different hosts compare.
It is CPU-bound and single-threaded, like an import; it does not weigh memory and cache
effects as an import does, so the normalisation is an approximation, stated as such.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

WORKLOAD = """
import hashlib, json, sys, time
iterations = int(sys.argv[1])
sha256 = hashlib.sha256
data = b"benchmark data for Lambda ARM vs x86 performance testing"
started = time.perf_counter()
for _ in range(iterations):
    data = sha256(data).digest()
print(json.dumps({"ms": (time.perf_counter() - started) * 1000, "digest": data.hex()}))
"""


def run(iterations: int) -> float:
    """The workload's milliseconds in one fresh process (run free: the host's whole speed)."""
    out = subprocess.run(
        [sys.executable, "-c", WORKLOAD, str(iterations)], capture_output=True, text=True, check=True
    ).stdout
    return float(json.loads(out)["ms"])


def measure(iterations: int, runs: int = 5) -> float:
    """The median of ``runs`` fresh processes, in ms."""
    return statistics.median(run(iterations) for _ in range(runs))


def interpreter(join: Callable[[], None] | None, runs: int = 5) -> float:
    """Starting and stopping Python with nothing to do (``python -c pass``), ms, median; ``join`` holds it."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, preexec_fn=join)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
