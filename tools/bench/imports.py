"""What importing each app.py costs, as a ratio to a floor app measured alternately in the same run.

The floor is the least any Chalice app that verifies JWTs imports: chalice and PyJWT
with its cryptography algorithms. The cost is the CPU time (user + system) of a fresh
process that imports and exits, with bytecode caches written beforehand for both: the
work the import does, not a busy machine's waits. Each run also checks that boto3 and
botocore's client machinery stayed out.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from tools import stages

FLOOR = "from chalice import Chalice\nimport jwt\napp = Chalice(app_name='floor')\n"
HEAVY = ("boto3", "botocore.session", "botocore.client")
IMPORT_APP = (
    "import sys\nsys.path[:0] = ['.', 'vendor']\nimport app\n"
    f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
    "sys.exit('loaded at import: ' + ', '.join(heavy) if heavy else 0)\n"
)


@dataclass(frozen=True)
class ImportCost:
    """Median CPU milliseconds of the floor and of one app, and the median of their pairs' ratios."""

    service: str
    floor_ms: float
    app_ms: float
    ratio: float


def _cpu_ms(code: str, cwd: str, env: dict[str, str]) -> float:
    process = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, env=env, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        assert process.stderr is not None
        raise RuntimeError(f"importing in {cwd} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()  # type: ignore[union-attr]
    return (usage.ru_utime + usage.ru_stime) * 1000


def measure(runs: int) -> list[ImportCost]:
    """The import cost of each service against the floor, ``runs`` alternating pairs each."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as floor_dir:
        with open(os.path.join(floor_dir, "floor.py"), "w") as f:
            f.write(FLOOR)
        floor_code = "import floor"
        results = []
        for service in stages.SERVICES:
            folder = str(stages.folder(service))
            for _ in range(2):  # write the bytecode caches first, for both
                _cpu_ms(floor_code, floor_dir, env)
                _cpu_ms(IMPORT_APP, folder, env)
            floors, apps = [], []
            for _ in range(runs):
                floors.append(_cpu_ms(floor_code, floor_dir, env))
                apps.append(_cpu_ms(IMPORT_APP, folder, env))
            ratios = [a / f for f, a in zip(floors, apps, strict=True)]
            results.append(
                ImportCost(service, statistics.median(floors), statistics.median(apps), statistics.median(ratios))
            )
    return results
