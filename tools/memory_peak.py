"""The peak memory of a command and everything it starts, as a build container's limit counts it.

    sudo .venv/bin/python -m tools.memory_peak -- make test

CodeBuild runs a build in a container whose memory limit (3 GB for ``BUILD_GENERAL1_SMALL``)
covers every process of the build together. This runs the command in a cgroup of its own
(v2, or v1's memory controller; creating one needs root) and prints the group's peak: its
resident memory (sampled every 0.2 s; what cannot be reclaimed) and the kernel's own peak,
which also counts the page cache the build filled (reclaimable under pressure). The figure
docs/deployment.md gives for the build was printed by this command.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT_V2 = Path("/sys/fs/cgroup")
ROOT_V1 = Path("/sys/fs/cgroup/memory")
SAMPLE_S = 0.2
MIB = 1024 * 1024


class MemoryGroup:
    """A new cgroup to run one command in, with its peak and current resident memory."""

    def __init__(self) -> None:
        name = f"memory-peak-{os.getpid()}"
        self.v2 = (ROOT_V2 / "cgroup.controllers").exists()
        self.path = (ROOT_V2 if self.v2 else ROOT_V1) / name
        try:
            self.path.mkdir()
        except OSError as exc:
            raise SystemExit(f"cannot create the cgroup {self.path} (run as root): {exc}") from None

    def enter(self) -> None:
        """Move the calling process into the group (run in the child before it execs)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def resident(self) -> int:
        """Bytes of anonymous (non-reclaimable) memory of the group now."""
        stat = dict(line.split() for line in (self.path / "memory.stat").read_text().splitlines())
        return int(stat["anon"] if self.v2 else stat["total_rss"])

    def kernel_peak(self) -> int:
        """The kernel's peak of the group's memory, page cache included."""
        return int((self.path / ("memory.peak" if self.v2 else "memory.max_usage_in_bytes")).read_text())

    def remove(self) -> None:
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)  # the last processes of the group are still exiting


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.memory_peak", description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to measure after --")
    group = MemoryGroup()
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(SAMPLE_S):
            peak = max(peak, group.resident())

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    try:
        process = subprocess.Popen(command, preexec_fn=group.enter)  # the child joins the group before it execs
        sampler.start()
        code = process.wait()
        done.set()
        sampler.join()
        peak = max(peak, group.resident())
        print(
            f"memory peak of `{' '.join(command)}` (exit {code}, {time.monotonic() - started:.0f} s): "
            f"{peak / MIB:,.0f} MiB resident, {group.kernel_peak() / MIB:,.0f} MiB with the page cache",
            file=sys.stderr,
        )
        return code
    finally:
        done.set()
        group.remove()


if __name__ == "__main__":
    sys.exit(main())
