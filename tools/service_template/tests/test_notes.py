"""The scaffold service's example route, through chalice.test.Client with moto's DynamoDB."""

from __future__ import annotations

import json
from typing import Any

from tests.scaffold.conftest import ALICE
from tests.support.services import json_body


def test_health_names_the_service(scaffold: Any) -> None:
    response = scaffold.http.get("/health")

    assert response.status_code == 200
    assert json_body(response) == {"status": "ok", "service": "scaffold"}


def test_a_note_is_stored_and_read_back_by_its_owner(scaffold: Any, alice: dict[str, str]) -> None:
    put = scaffold.http.put(f"/notes/{ALICE}", headers=alice, body=json.dumps({"text": "Hello"}))

    assert put.status_code == 200, put.body
    assert json_body(put)["version"] == 1
    got = scaffold.http.get(f"/notes/{ALICE}", headers=alice)
    assert got.status_code == 200
    assert json_body(got) == {**json_body(put), "text": "Hello"}


def test_each_write_adds_one_to_the_version(scaffold: Any, alice: dict[str, str]) -> None:
    for text in ("one", "two"):
        scaffold.http.put(f"/notes/{ALICE}", headers=alice, body=json.dumps({"text": text}))

    assert json_body(scaffold.http.get(f"/notes/{ALICE}", headers=alice))["version"] == 2


def test_no_note_is_a_404(scaffold: Any, alice: dict[str, str]) -> None:
    response = scaffold.http.get(f"/notes/{ALICE}", headers=alice)

    assert response.status_code == 404
    assert json_body(response)["Code"] == "NoteNotFoundError"


def test_another_user_may_neither_write_nor_read_the_note(
    scaffold: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    scaffold.http.put(f"/notes/{ALICE}", headers=alice, body=json.dumps({"text": "mine"}))

    assert scaffold.http.put(f"/notes/{ALICE}", headers=bob, body=json.dumps({"text": "x"})).status_code == 403
    assert scaffold.http.get(f"/notes/{ALICE}", headers=bob).status_code == 403


def test_a_request_without_a_token_is_refused(scaffold: Any) -> None:
    response = scaffold.http.get(f"/notes/{ALICE}")

    assert response.status_code == 401


def test_a_bad_body_is_a_400_naming_the_problem(scaffold: Any, alice: dict[str, str]) -> None:
    unknown = scaffold.http.put(f"/notes/{ALICE}", headers=alice, body=json.dumps({"text": "a", "colour": "red"}))
    empty = scaffold.http.put(f"/notes/{ALICE}", headers=alice, body=json.dumps({"text": "\u200b"}))
    wrong_type = scaffold.http.put(f"/notes/{ALICE}", headers=alice, body=json.dumps({"text": 1}))

    assert unknown.status_code == 400 and "colour" in json_body(unknown)["Message"]
    assert empty.status_code == 400 and "text" in json_body(empty)["Message"]
    assert wrong_type.status_code == 400 and "text" in json_body(wrong_type)["Message"]


def test_the_openapi_document_describes_the_route(scaffold: Any) -> None:
    document = json_body(scaffold.http.get("/openapi.json"))

    assert set(document["paths"]["/notes/{user_id}"]) == {"get", "put"}
