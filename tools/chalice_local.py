"""``chalice local`` with a listen queue that takes a burst of clients: what `make run` runs for each service.

    cd location-service && ../.venv/bin/python ../tools/chalice_local.py local --stage local --port 8002

It is Chalice's own command line, unchanged (same routing, same authorizer emulation),
with two things changed first: chalice's ``ThreadedHTTPServer`` keeps socketserver's
default ``request_queue_size`` of 5, so a sixth client connecting while the server thread
is busy accepting gets its connection refused or reset, which API Gateway never does; and
the answers it makes itself (the authorizer's 401 and 403) carry
``Access-Control-Allow-Origin: *``, as the stacks' gateway responses do on API Gateway.
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
    """Give every server ``chalice local`` creates the deeper listen queue, and its own errors CORS's header."""
    local.ThreadedHTTPServer.request_queue_size = LISTEN_QUEUE
    send_error_response = local.ChaliceRequestHandler._send_error_response

    def with_any_origin(handler: local.ChaliceRequestHandler, error: local.LocalGatewayException) -> None:
        # The authorizer's 401 and 403, made before any route runs, as each stack's gateway
        # responses answer them on API Gateway (tools/infra.py): readable from any origin.
        error.headers = {**error.headers, "Access-Control-Allow-Origin": "*"}
        send_error_response(handler, error)

    local.ChaliceRequestHandler._send_error_response = with_any_origin  # type: ignore[method-assign]


if __name__ == "__main__":
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # this folder (tools/), which the chalice script would not have either
    configure()
    sys.argv[0] = "chalice"
    sys.exit(main())
