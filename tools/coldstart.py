"""Measure what a cold start costs: importing each service's app.py in a fresh process.

    python -m tools.coldstart [--runs 5]

Importing app.py is the whole cold start of a service's authorizer function and the
import part of its API function's. Prints the median wall time per service, and the
floor (a bare interpreter) for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from tools import stages

IMPORT_APP = "import sys; sys.path[:0] = ['.', 'vendor']; import app"


def median_ms(code: str, cwd: str, runs: int) -> float:
    """The median wall time of ``python -c code`` over ``runs`` fresh processes."""
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.coldstart", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{'interpreter alone':<20} {median_ms('pass', str(stages.ROOT), args.runs):6.0f} ms")
    for service in stages.SERVICES:
        cost = median_ms(IMPORT_APP, str(stages.folder(service)), args.runs)
        print(f"{service + '-service':<20} {cost:6.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
