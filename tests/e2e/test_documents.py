"""The services' OpenAPI documents, and the check every end-to-end response goes through."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from tests.e2e.api import Api, User, check_against_document
from tools.stages import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.mark.parametrize("service", SERVICES)
def test_each_served_document_is_valid_openapi_naming_the_services_configured_url(api: Api, service: str) -> None:
    document = api.get(service, "/openapi.json").json()

    validate(document)
    assert document["servers"] == [{"url": api.urls[service]}]


def test_a_response_its_document_does_not_describe_fails_the_test_that_saw_it(api: Api, alice: User) -> None:
    response = api.get("auth", "/users/me", headers=alice.auth)
    response._content = b'{"user_id": 7}'  # what a drift between code and document looks like

    with pytest.raises(AssertionError, match="does not describe"):
        check_against_document(response)


def test_the_authorizers_own_answers_are_described(api: Api, alice: User) -> None:
    # Checked by the hook on the way: these would fail here if the documents lied.
    assert api.get("location", f"/locations/{alice.user_id}").status_code == 401
    assert api.get("location", f"/locations/{alice.user_id}", headers={"Authorization": "Bearer x"}).status_code == 403
    assert api.get("profile", "/health", headers={"Content-Type": "text/plain"}).status_code == 415
