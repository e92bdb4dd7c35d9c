"""The location service: each user's one location, written only by that user."""

from chalice import Chalice, Response
from chalice.app import SQSEvent

from chalicelib import access, locations
from chalicelib.models import Health, Location, LocationChange
from servicekit import events
from servicekit.authorizer import Caller, jwt_authorizer
from servicekit.bodies import parse, to_builtins
from servicekit.cors import PUBLIC_READ, answer_preflights
from servicekit.deadline import limit_request_time
from servicekit.headers import secure_headers
from servicekit.observability import log_requests
from servicekit.openapi import Error, document, documented

app = Chalice(app_name="location-service")
log_requests(app)
secure_headers(app)
limit_request_time(app)
jwt_auth = jwt_authorizer(app)


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


@app.route("/health", methods=["GET"], cors=PUBLIC_READ)
@documented("Liveness", responses={200: Health})
def health() -> dict:
    return {"status": "ok", "service": "location"}


@app.route("/openapi.json", methods=["GET"], cors=PUBLIC_READ)
@documented("This document", responses={200: dict})
def openapi() -> dict:
    return document(app, title="location-service", version="1.0.0")


# Last: the preflights of the routes above that Chalice's own CORS cannot answer (servicekit.cors).
answer_preflights(app)
