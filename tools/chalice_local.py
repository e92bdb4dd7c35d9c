"""``chalice local`` with a listen queue that takes a burst of clients: what `make run` runs for each service.

    cd location-service && ../.venv/bin/python ../tools/chalice_local.py local --stage local --port 8002

It is Chalice's own command line, unchanged (same routing, same authorizer emulation),
with one setting changed first: chalice's ``ThreadedHTTPServer`` keeps socketserver's
default ``request_queue_size`` of 5, so a sixth client connecting while the server thread
is busy accepting gets its connection refused or reset, which API Gateway never does.
Run it by path, not with ``-m``: like the ``chalice`` script it then puts nothing of this
repository on ``sys.path`` (chalice adds the project folder and its ``vendor/`` itself).
"""

import sys
from pathlib import Path

from chalice import local
from chalice.cli import main

# At least what a developer's load test or concurrent client opens at once; the kernel caps
# it at net.core.somaxconn (4096 on current Linux, 128 on older kernels).
LISTEN_QUEUE = 128


def configure() -> None:
    """Give every server ``chalice local`` creates the deeper listen queue."""
    local.ThreadedHTTPServer.request_queue_size = LISTEN_QUEUE


if __name__ == "__main__":
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # this folder (tools/), which the chalice script would not have either
    configure()
    sys.argv[0] = "chalice"
    sys.exit(main())
