"""A write whose answer was lost, retried by botocore, tells the truth (issue 20, finding 5).

Real pieces only: moto's DynamoDB server on 127.0.0.1 behind a loopback HTTP proxy that
lets the first ``UpdateItem`` reach the database and then holds its answer back past the
client's read timeout. botocore gives up on the answer and sends the same request again,
as it does in AWS when a response is lost on the way back.
"""

from __future__ import annotations

import http.client
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config

from servicekit.dynamo import Table
from tests.support import services
from tools import tables

READ_TIMEOUT_S = 0.5
HELD_S = 1.5  # longer than the read timeout: the client stops waiting for this answer


class LosingProxy(http.server.ThreadingHTTPServer):
    """Forwards every request to DynamoDB; the answer to the first ``UpdateItem`` is never sent."""

    daemon_threads = True

    def __init__(self, upstream_port: int) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream_port = upstream_port
        self.lost: list[str] = []  # the operations whose answers were held back
        self.updates = 0


class _Forward(http.server.BaseHTTPRequestHandler):
    server: LosingProxy

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=10)
        upstream.request("POST", self.path, body=body, headers=dict(self.headers))
        answer = upstream.getresponse()
        payload = answer.read()
        target = self.headers.get("X-Amz-Target", "")
        if target.endswith(".UpdateItem"):
            self.server.updates += 1
            if self.server.updates == 1:
                # The write is applied; its answer is lost on the way back.
                self.server.lost.append(target)
                time.sleep(HELD_S)
                self.close_connection = True
                return
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the test reads what it needs from the proxy itself


@pytest.fixture
def database() -> Iterator[int]:
    """moto's DynamoDB server on a free port of 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield port
    finally:
        server.stop()


@pytest.fixture
def proxy(database: int) -> Iterator[LosingProxy]:
    server = LosingProxy(database)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _client(boto_session: Any, port: int, read_timeout: float = 10.0) -> Any:
    return boto_session.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=read_timeout, connect_timeout=1),
    )


def _table(boto_session: Any, port: int, read_timeout: float = 10.0) -> Table:
    return Table(_client(boto_session, port, read_timeout), services.table_name("profile"))


@pytest.fixture
def direct(boto_session: Any, database: int) -> Table:
    """The profile table, reached without the proxy (to set up and to look)."""
    client = _client(boto_session, database)
    tables.create(client, services.table_name("profile"), services.ROOT / "profile-service" / "resources.json")
    return Table(client, services.table_name("profile"))


def test_a_conditional_write_whose_answer_was_lost_succeeds_as_if_written_once(
    direct: Table, proxy: LosingProxy, boto_session: Any
) -> None:
    # GIVEN a profile at version 1, and a client whose first update's answer will be lost
    key = {"user_id": "u-1"}
    direct.update(key, {"display_name": "Alice"})
    lossy = _table(boto_session, proxy.server_address[1], read_timeout=READ_TIMEOUT_S)

    # WHEN the If-Match write (version 1) lands, its answer is lost and botocore retries it
    written = lossy.update(key, {"display_name": "Alicia"}, expected_versions={1})

    # THEN the retry was needed, and the client is told the truth: written, once
    assert proxy.lost == ["DynamoDB_20120810.UpdateItem"] and proxy.updates == 2
    assert written["display_name"] == "Alicia" and written["version"] == 2
    assert direct.get(key)["version"] == 2


def test_an_unconditional_write_whose_answer_was_lost_counts_once(
    direct: Table, proxy: LosingProxy, boto_session: Any
) -> None:
    key = {"user_id": "u-2"}
    lossy = _table(boto_session, proxy.server_address[1], read_timeout=READ_TIMEOUT_S)

    written = lossy.update(key, {"display_name": "Bob"})

    assert proxy.updates == 2
    assert written["version"] == 1
    assert direct.get(key)["version"] == 1


def test_a_write_over_another_writers_version_still_fails(direct: Table, boto_session: Any) -> None:
    from servicekit.errors import ConditionFailedError

    key = {"user_id": "u-3"}
    direct.update(key, {"display_name": "Carol"})
    direct.update(key, {"display_name": "Someone else"})

    with pytest.raises(ConditionFailedError):
        direct.update(key, {"display_name": "Carol again"}, expected_versions={1})
