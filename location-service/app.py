"""The location service: each user's one location, written only by that user."""

from chalice import Response
from chalice.app import SQSEvent

from chalicelib import access, locations
from chalicelib.models import Location, LocationChange
from servicekit import events
from servicekit.authorizer import Caller
from servicekit.bodies import parse, to_builtins
from servicekit.openapi import Error, documented
from servicekit.service import service

app, jwt_auth = service("location", version="1.0.0")


@app.route("/locations/{user_id}", methods=["PUT"], authorizer=jwt_auth)
@documented(
    "Replace the user's location (the user themself, scope location:write)",
    request=LocationChange,
    responses={200: Location, 400: Error, 403: Error, 413: Error, 503: Error},
)
def put_location(user_id: str) -> dict:
    request = app.current_request
    access.authorize_put(Caller.from_request(request), user_id)
    return to_builtins(locations.put(user_id, parse(request, LocationChange)))


@app.route("/locations/{user_id}", methods=["GET"], authorizer=jwt_auth)
@documented(
    "The user's location (the user themself, or a service with scope location:read)",
    responses={200: Location, 403: Error, 404: Error, 503: Error},
)
def get_location(user_id: str) -> dict:
    access.authorize_get(Caller.from_request(app.current_request), user_id)
    return to_builtins(locations.get(user_id))


@app.route("/locations/{user_id}", methods=["DELETE"], authorizer=jwt_auth)
@documented(
    "Delete the user's location (the user themself, scope location:write)",
    responses={204: None, 403: Error, 404: Error, 503: Error},
)
def delete_location(user_id: str) -> Response:
    access.authorize_delete(Caller.from_request(app.current_request), user_id)
    locations.delete(user_id)
    return Response(body="", status_code=204)


# This service's queue of UserErased events (services.toml: subscribes).
@app.on_sqs_message(queue_arn=events.queue_arn("location-service"), batch_size=events.BATCH_SIZE)
def erase_user(event: SQSEvent) -> None:
    events.each_user_erased(event, locations.erase)
