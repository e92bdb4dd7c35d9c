"""tools.memory_peak, which measured the build's memory for docs/deployment.md: it counts the command's children."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tools import memory_peak
from tools.registry import ROOT

pytestmark = [pytest.mark.deploy]

HELD_MIB = 300
# A child of a child holds HELD_MIB for a moment: the peak is of the whole group, not of the command alone.
CHILD = f"import time; held = bytearray({HELD_MIB} << 20); time.sleep(1)"
HOLDER = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {CHILD!r}])"


def _can_make_a_cgroup() -> bool:
    root = memory_peak.ROOT_V2 if (memory_peak.ROOT_V2 / "cgroup.controllers").exists() else memory_peak.ROOT_V1
    return os.geteuid() == 0 and os.access(root, os.W_OK)


@pytest.mark.skipif(not _can_make_a_cgroup(), reason="making a cgroup needs root and a writable cgroup folder")
def test_the_peak_counts_the_memory_of_the_commands_children() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.memory_peak", "--", sys.executable, "-c", HOLDER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    (resident, with_cache) = (int(n.replace(",", "")) for n in re.findall(r"([\d,]+) MiB", result.stderr))
    assert HELD_MIB <= resident < HELD_MIB + 200
    assert with_cache >= resident


def test_a_command_is_required() -> None:
    with pytest.raises(SystemExit):
        memory_peak.main([])
