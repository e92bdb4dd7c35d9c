"""moto's server, answering one request at a time: the DynamoDB of `make run`.

    .venv/bin/python tools/moto_local.py -H 127.0.0.1 -p 8000    # the options of moto_server

It is moto's own server and command line, with one change first: requests are handled
one at a time. moto's backends are not thread-safe, while its server runs a thread per
request: with 100 concurrent writers, two ``ADD #version :one`` updates of one item read
the same version and one increment was lost (the profile's version grew by 99), and
concurrent transactions failed with moto's own 500 ("dictionary changed size during
iteration"). DynamoDB applies each request atomically; one request at a time is how moto
does too. moto answers a request in milliseconds, so the queue stays short.

And a table's stream is not copied with the table: moto copies every table a transaction
writes, so that it can put them back should the transaction fail, and the copy took the
stream's every record with it: with the auth table's stream on, each registration got
slower as the stream grew (100 concurrent registrations got 503s), and a failed
transaction replaced the stream, stranding its readers' iterators. A record of a write
that a failed transaction rolls back can therefore stay in the stream; the publisher acts
only on erasure records, which their transaction writes last.
Run it by path, not with ``-m``, for the reason given in ``tools/chalice_local.py``.
"""

import sys
import threading
from pathlib import Path
from typing import Any

from moto import server
from moto.dynamodb.models.table import StreamShard
from moto.moto_server.werkzeug_app import DomainDispatcherApplication


def configure() -> None:
    """Make every moto application handle its requests one at a time, and keep streams out of table copies."""
    lock = threading.Lock()
    handle = DomainDispatcherApplication.__call__

    def one_at_a_time(self: DomainDispatcherApplication, environ: Any, start_response: Any) -> Any:
        with lock:
            # moto's responses are built in full inside the call: nothing runs after the lock.
            return handle(self, environ, start_response)

    DomainDispatcherApplication.__call__ = one_at_a_time  # type: ignore[method-assign]
    StreamShard.__deepcopy__ = lambda self, memo: self  # type: ignore[attr-defined]


if __name__ == "__main__":
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # this folder (tools/): nothing of the repository on sys.path
    configure()
    server.main(sys.argv[1:])
