"""Files a tool makes and the repository commits (pipeline.json, resources.json, ...): written, or checked."""

from __future__ import annotations

import sys
from pathlib import Path

from tools.registry import ROOT


def write_or_check(files: dict[Path, str], *, check: bool, command: str) -> int:
    """Write each of ``files`` (path: text) that differs; with ``check``, only name them and return 1 if any."""
    stale = {path: text for path, text in files.items() if not path.is_file() or path.read_text() != text}
    names = [str(path.relative_to(ROOT)) for path in stale]
    if check:
        if stale:
            print(f"out of date: {', '.join(names)}; run {command}", file=sys.stderr)
            return 1
        return 0
    for (path, text), name in zip(stale.items(), names, strict=True):
        path.write_text(text)
        print(f"wrote {name}")
    return 0
