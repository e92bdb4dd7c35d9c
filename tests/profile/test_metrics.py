"""The profile service's metrics, read from the EMF lines it writes while serving each scenario."""

from __future__ import annotations

from typing import Any

import pytest

from tests.profile.conftest import cold_start, get, put
from tests.profile.upstream import FakeUpstream, closed_port
from tests.support.output import counted

PROFILE = {"service": "profile", "stage": "local"}


@pytest.fixture
def stored(profile: Any, upstream: FakeUpstream, user_id: str, existing: dict[str, Any]) -> str:
    """A user with a profile and a location; the output of making them is discarded."""
    upstream.location(user_id)
    return user_id


def _read(profile: Any, user_id: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The output of one profile read (what was written before it is discarded)."""
    capsys.readouterr()
    assert get(profile, user_id).status_code == 200
    return capsys.readouterr().out


def test_a_read_with_a_location_is_counted_ok(profile: Any, stored: str, capsys: pytest.CaptureFixture[str]) -> None:
    output = _read(profile, stored, capsys)

    assert counted(output, "ProfileReads") == [{**PROFILE, "location_status": "ok"}]
    assert counted(output, "LocationCallFailures") == []


def test_a_read_without_a_location_is_counted_none(
    profile: Any, user_id: str, existing: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    output = _read(profile, user_id, capsys)

    assert counted(output, "ProfileReads") == [{**PROFILE, "location_status": "none"}]
    assert counted(output, "LocationCallFailures") == []


def test_a_write_is_not_counted_as_a_read(
    profile: Any, user_id: str, existing: dict[str, Any], token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert put(profile, user_id, {"display_name": "Alice"}, token).status_code == 200

    assert counted(capsys.readouterr().out, "ProfileReads") == []


@pytest.mark.parametrize(
    ("mode", "cause"),
    [
        pytest.param("error", "5xx", id="answering 500"),
        pytest.param("malformed", "malformed", id="answering a body that is not JSON"),
        pytest.param("wrong-shape", "malformed", id="answering JSON that is not a location"),
        pytest.param("slow", "timeout", id="not answering in time"),
        pytest.param("forbidden", "rejected", id="refusing the service's token"),
    ],
)
def test_a_failing_location_service_is_counted_by_cause(
    profile: Any, upstream: FakeUpstream, stored: str, capsys: pytest.CaptureFixture[str], mode: str, cause: str
) -> None:
    upstream.location_mode = mode

    output = _read(profile, stored, capsys)

    assert counted(output, "LocationCallFailures") == [{**PROFILE, "cause": cause}]
    assert counted(output, "ProfileReads") == [{**PROFILE, "location_status": "unavailable"}]


def test_a_location_service_refusing_connections_is_counted_refused(
    profile: Any, stored: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCATION_URL", f"http://127.0.0.1:{closed_port()}")
    cold_start()

    output = _read(profile, stored, capsys)

    assert counted(output, "LocationCallFailures") == [{**PROFILE, "cause": "refused"}]


def test_a_token_fetch_is_counted_once_and_a_cached_token_not_at_all(
    profile: Any, stored: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cold_start()

    first = _read(profile, stored, capsys)
    second = _read(profile, stored, capsys)

    assert counted(first, "TokenFetches") == [{**PROFILE, "outcome": "ok"}]
    assert counted(second, "TokenFetches") == []


def test_a_refused_token_fetch_is_counted_failed_and_the_location_call_as_no_token(
    profile: Any, stored: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "profile-client-secret").write_text("not-the-secret")
    cold_start()

    output = _read(profile, stored, capsys)

    assert counted(output, "TokenFetches") == [{**PROFILE, "outcome": "failed"}]
    assert counted(output, "LocationCallFailures") == [{**PROFILE, "cause": "no_token"}]
