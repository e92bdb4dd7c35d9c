"""The scaffold service's consumer of UserErased: the user's note goes, and no write of theirs brings it back."""

from __future__ import annotations

import json
import time
from typing import Any

from servicekit import events
from tests.scaffold.conftest import ALICE
from tests.support.services import json_body


def _user_erased() -> str:
    return events.encode(
        events.UserErased(user_id=ALICE, erasure_id="e1", correlation_id="erasure-1", requested_at=time.time())
    )


def test_the_note_is_erased_once_even_when_the_event_comes_twice(
    scaffold: Any, alice: dict[str, str], plumbing: Any
) -> None:
    scaffold.http.put(f"/notes/{ALICE}", headers=alice, body=json.dumps({"text": "Hello"}))
    plumbing.send("scaffold", _user_erased())
    plumbing.send("scaffold", _user_erased())
    source = plumbing.source("scaffold", scaffold)

    assert source.deliver() == 1 and source.deliver() == 1
    assert scaffold.http.get(f"/notes/{ALICE}", headers=alice).status_code == 404
    assert plumbing.bodies("scaffold") == [] and plumbing.bodies("scaffold", dead=True) == []


def test_a_write_with_the_erased_users_token_after_the_event_is_refused(
    scaffold: Any, alice: dict[str, str], plumbing: Any
) -> None:
    plumbing.send("scaffold", _user_erased())
    plumbing.source("scaffold", scaffold).deliver()

    response = scaffold.http.put(f"/notes/{ALICE}", headers=alice, body=json.dumps({"text": "again"}))

    assert response.status_code == 403 and json_body(response)["Code"] == "UserErasedError"
    assert scaffold.http.get(f"/notes/{ALICE}", headers=alice).status_code == 404
