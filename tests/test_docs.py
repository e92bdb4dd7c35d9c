"""What the README and the docs say of the project itself holds: its licence, one session, no hand-kept counts."""

from __future__ import annotations

import configparser
import re

from tools.registry import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_licence_setup_cfg_names_is_the_file_at_the_top() -> None:
    metadata = configparser.ConfigParser()
    metadata.read(ROOT / "setup.cfg")
    licence = (ROOT / "LICENSE").read_text()

    assert metadata["metadata"]["license"] == "Apache-2.0"
    assert metadata["metadata"]["license_files"] == "LICENSE"
    assert licence.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    assert "END OF TERMS AND CONDITIONS" in licence
    assert "[LICENSE](LICENSE)" in (ROOT / "README.md").read_text()


def test_no_doc_keeps_a_test_count_or_a_start_time_by_hand() -> None:
    # pytest prints the count and the time of every run, and `make run` its start time.
    hand_kept = re.compile(r"~?\d[\d,]* tests\b|\d+ min \d+ s in all|starts in about \d|about \d+ to \d+ s on a")
    for doc in DOCS:
        found = hand_kept.findall(doc.read_text())
        assert not found, f"{doc.name}: {found}"


def test_the_local_development_guide_points_to_the_one_tested_session() -> None:
    guide = (ROOT / "docs" / "local-development.md").read_text()

    assert "curl -s -X POST" not in guide  # no second session to drift from the README's
    assert '"A session with curl"' in guide and "tests/e2e/test_readme_session.py" in guide
