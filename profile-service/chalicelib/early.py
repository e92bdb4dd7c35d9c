"""Lambda's Init phase: start what the first profile read will wait for while the runtime finishes.

After a quiet night every function on a profile read's path is cold: the auth service
(for this service's client-credentials token), then the location service's authorizer
and API function, one after the other. Begun on the first read, they take longer than
its one-second budget for the location (docs/performance.md, "The first profile read
after a quiet night"). Begun here, at the import of the API function's ``app.py``, the
token fetch and the location service's two cold starts run side by side, and while this
process still starts itself: the token request leaves before the rest of ``app.py`` is
even imported (``app.py`` starts this first). Only in the API function a Lambda runtime
starts (``_HANDLER`` is ``app.app``): never in the authorizer, which imports the same
module, nor locally or in tests. Provisioned concurrency and SnapStart run Init long before any request; there
the early token is simply the first read's, as long as it is valid.
"""

from __future__ import annotations

import logging
import os
import threading

from servicekit.clock import clock

from .credentials import client_secret
from .locations import LocationReader, location_reader, wake_up

logger = logging.getLogger(__name__)

# What Lambda sets _HANDLER to for Chalice's API function (the authorizer's is app.jwt_auth).
API_HANDLER = "app.app"
# How long the early work may take in all: past it, the first read does what is left itself.
EARLY_BUDGET_S = 5.0
# How long the import waits for the token request to leave (the client secret read first).
DEPARTURE_WAIT_S = 2.0


def start() -> None:
    """In the API function's Init, fetch the service token and wake the location service, on a thread.

    Returns once the token request is about to leave (at most ``DEPARTURE_WAIT_S``): what it
    needs first (the client secret, read from SSM) is the CPU the whole read waits for, so
    it runs before the rest of ``app.py`` is imported, not beside it.
    """
    if os.environ.get("_HANDLER") != API_HANDLER:
        return
    wake_up.begin()
    departing = threading.Event()
    threading.Thread(target=_run, args=(departing,), name="early", daemon=True).start()
    departing.wait(DEPARTURE_WAIT_S)


def _run(departing: threading.Event) -> None:
    deadline = clock().monotonic() + EARLY_BUDGET_S
    try:
        reader = location_reader()
    except Exception:  # the first read will do it itself: never fail the process for this
        logger.exception("starting early failed")
        wake_up.end()
        departing.set()
        return
    threading.Thread(target=_wake, args=(reader, deadline), name="early-wake", daemon=True).start()
    try:
        client_secret()
    except Exception:  # the token fetch reads it again, and says why it failed
        logger.warning("the client secret could not be read early", exc_info=True)
    finally:
        departing.set()
    reader.fetch_token(deadline)


def _wake(reader: LocationReader, deadline: float) -> None:
    try:
        reader.wake(deadline)
    except Exception:
        logger.exception("waking the location service failed")
    finally:
        wake_up.end()
