"""The README's session with curl, run as printed, prints what the README says it prints.

The session runs in bash against a stack of its own on free ports, addressed the way
`make run` addresses the copy it prints (``tools.localstack.addressed``); what it prints
is compared line by line with the README's "What it prints", after masking what differs
each time: ids, times, tokens, the date and Python's patch version in the headers.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.e2e.conftest import StackFactory
from tools.localstack import addressed, readme_session

pytestmark = [pytest.mark.e2e]

SESSION_TIMEOUT_S = 120
# What differs from one run to the next, and what stands for it in the comparison; in this order.
VARYING = [
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "<access token>"),
    (re.compile(r'"refresh_token":"[\w-]+"'), '"refresh_token":"<refresh token>"'),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"), "<time>"),
    (re.compile(r"^Date: .*$", re.MULTILINE), "Date: <date>"),
    (re.compile(r"Python/3\.13\.\d+"), "Python/3.13.<patch>"),
]


def masked(text: str) -> list[str]:
    for pattern, stand_in in VARYING:
        text = pattern.sub(stand_in, text)
    return text.rstrip("\n").splitlines()


def test_the_readme_session_prints_what_the_readme_says(own_stack: StackFactory) -> None:
    # GIVEN a stack on free ports, and the README's session addressed to it as `make run` prints it
    stack = own_stack()
    session, printed = readme_session()

    # WHEN the session runs in bash as printed
    result = subprocess.run(
        ["bash", "-c", addressed(session, stack.urls)],
        capture_output=True,
        text=True,
        timeout=SESSION_TIMEOUT_S,
        env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"},
    )

    # THEN it prints, line by line, what the README says
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert masked(result.stdout) == masked(addressed(printed, stack.urls))
