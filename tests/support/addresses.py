"""Clients that connect from their own loopback address, as different callers on the internet do.

The whole of 127.0.0.0/8 is this machine's loopback: a socket bound to 127.0.0.2 reaches a
server listening on 127.0.0.1, and the server sees 127.0.0.2 as the caller (the local
stack hands it to the services as API Gateway's ``sourceIp``). The auth service bounds
anonymous work and counts failed logins per address, so tests that are not about those
limits each act from an address of their own (``fresh``).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter

# 127.0.0.2, 127.0.0.3, ... are left to the tests that name their addresses.
_FIRST = (127 << 24) | (1 << 16)
_next = itertools.count(_FIRST)
_lock = threading.Lock()


def fresh() -> str:
    """A loopback address no other client of this test process has connected from."""
    with _lock:
        number = next(_next)
    return ".".join(str(number >> shift & 0xFF) for shift in (24, 16, 8, 0))


class SourceAddressAdapter(HTTPAdapter):
    """``requests``' adapter with every connection bound to one local address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str, session: requests.Session | None = None) -> requests.Session:
    """``session`` (or a new one) connecting from ``address`` only."""
    session = session or requests.Session()
    adapter = SourceAddressAdapter(address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
