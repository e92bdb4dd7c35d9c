"""The project's tools, run from the repository's root as ``python -m tools.<name>``.

Some of them use the shared library (``servicekit``), which lives in ``shared/`` and which
each service reaches as ``vendor/servicekit``: this is the one place that puts ``shared/``
on ``sys.path`` for them, as pytest's ``pythonpath`` (setup.cfg) does for the tests.
"""

import sys
from pathlib import Path

_SHARED = str(Path(__file__).resolve().parents[1] / "shared")
if _SHARED not in sys.path:
    sys.path.append(_SHARED)
