"""Holding a process to the CPU share Lambda gives a memory size: memory / 1769 of one vCPU.

Linux's CPU controller does it exactly: a cgroup whose quota is that share of each
period (cgroup v1 ``cpu.cfs_quota_us``, or v2 ``cpu.max``). The group also gets the
highest weight (``cpu.shares`` / ``cpu.weight``), and so do the bench and moto's server
(``prioritized``): on a machine busy with other work, a held process still gets its
whole share, as a Lambda function does, and the services it calls answer as promptly.
Making a cgroup needs root and a writable controller; where there is none, the process
runs free and its CPU time is scaled instead (CPU time x 1769 / memory, plus the time it
spent waiting), which ignores how a throttled process's waits and threads interleave
and counts a busy machine's delays as waits.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

FULL_VCPU_MB = 1769
PERIOD_US = 100_000
V1_ROOT = Path("/sys/fs/cgroup/cpu")
V2_ROOT = Path("/sys/fs/cgroup")
_numbers = itertools.count()


def share(memory_mb: int) -> float:
    """The vCPUs Lambda gives ``memory_mb`` (more than one above 1,769 MB)."""
    return memory_mb / FULL_VCPU_MB


@dataclass(frozen=True)
class Limit:
    """How a process at ``memory_mb`` is held: ``join`` runs in the child before exec."""

    memory_mb: int
    method: str
    join: Callable[[], None] | None
    speed: float = 1.0  # the share's scale (``limited``)

    @property
    def cpus(self) -> float:
        """The CPUs the process may use."""
        return share(self.memory_mb) * self.speed

    @property
    def scaled(self) -> bool:
        """Whether the figures must be scaled from CPU time (no controller)."""
        return self.join is None


def _v1_writable() -> bool:
    return (V1_ROOT / "cpu.cfs_quota_us").exists() and os.access(V1_ROOT, os.W_OK)


def _v2_writable() -> bool:
    controllers = V2_ROOT / "cgroup.controllers"
    return controllers.exists() and "cpu" in controllers.read_text().split() and os.access(V2_ROOT, os.W_OK)


def method() -> str:
    """Which way this machine holds a process: ``cgroup v1``, ``cgroup v2`` or ``scaled CPU time``."""
    if _v1_writable():
        return "cgroup v1 cpu.cfs_quota_us"
    if _v2_writable():
        return "cgroup v2 cpu.max"
    return "scaled CPU time"


@contextlib.contextmanager
def _group(quota_us: int | None) -> Iterator[Path | None]:
    """A new cgroup with the highest weight and, if given, a quota per period; removed afterwards."""
    how = method()
    if how.startswith("scaled"):
        yield None
        return
    root = V1_ROOT if how.startswith("cgroup v1") else V2_ROOT
    group = root / f"bench-{os.getpid()}-{next(_numbers)}"
    group.mkdir()
    try:
        if root == V1_ROOT:
            (group / "cpu.shares").write_text("262144")
            (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(quota_us or -1))
        else:
            (group / "cpu.weight").write_text("10000")
            (group / "cpu.max").write_text(f"{quota_us or 'max'} {PERIOD_US}")
        yield group
    finally:
        # Its processes have exited (or moved back): an empty group can be removed.
        with contextlib.suppress(OSError):
            group.rmdir()


def _joiner(group: Path) -> Callable[[], None]:
    procs = str(group / "cgroup.procs")

    def join() -> None:
        with open(procs, "w") as f:
            f.write(str(os.getpid()))

    return join


@contextlib.contextmanager
def limited(memory_mb: int, speed: float = 1.0) -> Iterator[Limit]:
    """A CPU limit for one process at ``memory_mb``.

    ``speed`` scales the share: a host whose single thread is faster than Lambda's vCPU
    runs a process at Lambda's speed with ``speed`` = host's time / Lambda's time for the
    reference workload (``tools.bench.speed``). A share above one CPU cannot make one thread
    faster: a slower host cannot be normalised this way (the bench says so).
    """
    with _group(max(1000, round(PERIOD_US * share(memory_mb) * speed))) as group:
        yield Limit(memory_mb, method(), _joiner(group) if group else None, speed)


@contextlib.contextmanager
def prioritized() -> Iterator[None]:
    """This process (and what it starts) at the highest CPU weight, without a quota."""
    with _group(None) as group:
        if group is None:
            yield
            return
        _joiner(group)()
        try:
            yield
        finally:
            _joiner(group.parent)()
