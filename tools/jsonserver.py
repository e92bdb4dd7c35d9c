"""Stand-ins for the services on 127.0.0.1: an HTTP server answering JSON, quietly.

The bench's peers (``tools.bench.world``) and the tests' fake auth and location
services build on it; each subclass only decides what to answer.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
# How often the serving thread looks for a stop request: ``stop`` waits up to this long
# (socketserver's default, 0.5 s, made each of the hundreds of tests with a fake peer wait that).
POLL_S = 0.01


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler with ``send_json``; it logs nothing."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the services' pools expect
    # Headers and body leave in two writes: with Nagle's algorithm on, the body would wait
    # for the client's delayed ACK (~40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True

    def send_json(self, status: int, body: Any) -> None:
        """Answer ``body`` (JSON, or bytes sent as they are) with ``status``."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting (a timeout, a spent budget): nothing to answer

    def read_body(self) -> bytes:
        """The request's body."""
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QueueingServer(ThreadingHTTPServer):
    # socketserver's listen queue is 5: concurrent connections beyond it wait for the
    # accepting thread, which a busy machine may not run for longer than a connect timeout.
    request_queue_size = 64


class Server:
    """A threading HTTP server on a free port of 127.0.0.1, serving ``handler`` on a thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self._http = _QueueingServer((HOST, 0), handler)
        self._http.daemon_threads = True
        self.url = f"http://{HOST}:{self._http.server_address[1]}"
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": POLL_S}, name=name, daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)
