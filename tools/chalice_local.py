"""``chalice local`` as API Gateway behaves in two more ways: what `make run` runs for each service.

    cd location-service && ../.venv/bin/python ../tools/chalice_local.py local --stage local --port 8002

It is Chalice's own command line, unchanged (same routing, same authorizer emulation),
with four things changed first:

- chalice's ``ThreadedHTTPServer`` keeps socketserver's default ``request_queue_size`` of 5,
  so a sixth client connecting while the server thread is busy accepting gets its
  connection refused or reset, which API Gateway never does;
- the answers it makes itself (the authorizer's 401 and 403) carry
  ``Access-Control-Allow-Origin: *``, as the stacks' gateway responses do on API Gateway;
- chalice puts a constant ``127.0.0.1`` (``LambdaEventConverter.LOCAL_SOURCE_IP``) in every
  event's ``requestContext.identity.sourceIp``, where API Gateway puts the caller's address:
  here it is the connecting address, so the auth service's per-address limits work locally
  as deployed (a test connecting from 127.0.0.2 is another caller than one from 127.0.0.3);
- chalice runs every request the moment it arrives, a hundred at once if a hundred come, where
  each Lambda environment runs one at a time: here a service runs at most ``CONCURRENCY`` at
  once and the others wait their turn before their time budget (``servicekit.deadline``)
  starts, as callers on AWS wait for a new environment. Otherwise a burst shares the
  machine's cores a hundred ways and every request of it runs out of its budget.
Run it by path, not with ``-m``: like the ``chalice`` script it then puts nothing of this
repository on ``sys.path`` (chalice adds the project folder and its ``vendor/`` itself).
"""

import sys
import threading
from pathlib import Path
from typing import Any

from chalice import local
from chalice.cli import main

# At least what a developer's load test or concurrent client opens at once; the kernel caps
# it at net.core.somaxconn (4096 on current Linux, 128 on older kernels).
LISTEN_QUEUE = 128
# Requests one service runs at once: enough to keep a developer machine's cores and the local
# DynamoDB busy (a request mostly waits on DynamoDB or another service), few enough that each
# gets its share.
CONCURRENCY = 4


_accept_connection = local.ChaliceRequestHandler.setup


def _setup_with_caller_address(handler: local.ChaliceRequestHandler) -> None:
    _accept_connection(handler)
    # Each connection has its own handler, gateway and event converter (made before setup
    # runs), so the converter's constant can be this connection's address.
    handler.local_gateway.event_converter.LOCAL_SOURCE_IP = handler.client_address[0]


def configure() -> None:
    """Give every server ``chalice local`` creates the deeper listen queue, its own errors CORS's header, and
    events the caller's address."""
    local.ThreadedHTTPServer.request_queue_size = LISTEN_QUEUE
    local.ChaliceRequestHandler.setup = _setup_with_caller_address  # type: ignore[method-assign]
    send_error_response = local.ChaliceRequestHandler._send_error_response

    def with_any_origin(handler: local.ChaliceRequestHandler, error: local.LocalGatewayException) -> None:
        # The authorizer's 401 and 403, made before any route runs, as each stack's gateway
        # responses answer them on API Gateway (tools/infra.py): readable from any origin.
        error.headers = {**error.headers, "Access-Control-Allow-Origin": "*"}
        send_error_response(handler, error)

    local.ChaliceRequestHandler._send_error_response = with_any_origin  # type: ignore[method-assign]
    turns = threading.BoundedSemaphore(CONCURRENCY)
    handle_request = local.LocalGateway.handle_request

    def one_at_a_time_per_environment(gateway: local.LocalGateway, *args: Any, **kwargs: Any) -> Any:
        with turns:
            return handle_request(gateway, *args, **kwargs)

    local.LocalGateway.handle_request = one_at_a_time_per_environment  # type: ignore[method-assign]


if __name__ == "__main__":
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # this folder (tools/), which the chalice script would not have either
    configure()
    sys.argv[0] = "chalice"
    sys.exit(main())
