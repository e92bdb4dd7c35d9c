"""Answers of a sick database: any 5xx is a 503 the client may retry, never our own 500."""

from __future__ import annotations

from typing import Any

import pytest

from servicekit.dynamo import Table
from servicekit.errors import StoreError, StoreUnavailableError


class SickClient:
    """A DynamoDB client whose every call gets the HTTP status and error code given."""

    def __init__(self, status: int, code: str) -> None:
        self.status, self.code = status, code

    def get_item(self, **_: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        raise ClientError(
            {
                "Error": {"Code": self.code, "Message": "<html>oops</html>"},
                "ResponseMetadata": {"HTTPStatusCode": self.status},
            },
            "GetItem",
        )


@pytest.mark.parametrize(("status", "code"), [(500, "500"), (502, "BadGateway"), (503, ""), (504, "GatewayTimeout")])
def test_any_server_error_of_the_database_is_unavailable(status: int, code: str) -> None:
    with pytest.raises(StoreUnavailableError):
        Table(SickClient(status, code), "things").get({"pk": "a"})


def test_a_client_error_with_an_unknown_code_stays_a_store_error() -> None:
    with pytest.raises(StoreError):
        Table(SickClient(400, "SomethingNew"), "things").get({"pk": "a"})
