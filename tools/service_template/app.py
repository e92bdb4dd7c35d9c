"""The scaffold service: each user's note, written and read only by that user.

Made by ``python -m tools.new_service scaffold``: the note is an example route to replace
with the service's own (README.md, "Adding a service").
"""

from chalice import Chalice
from chalice.app import SQSEvent

from chalicelib import notes
from chalicelib.models import Health, Note, NoteChange
from servicekit import events
from servicekit.authorizer import Caller, jwt_authorizer
from servicekit.bodies import parse, to_builtins
from servicekit.cors import PUBLIC_READ, answer_preflights
from servicekit.deadline import limit_request_time
from servicekit.headers import secure_headers
from servicekit.observability import log_requests
from servicekit.openapi import Error, document, documented

app = Chalice(app_name="scaffold-service")
log_requests(app)
secure_headers(app)
limit_request_time(app)
jwt_auth = jwt_authorizer(app)


@app.route("/notes/{user_id}", methods=["PUT"], authorizer=jwt_auth)
@documented(
    "Replace the user's note (the user themself)",
    request=NoteChange,
    responses={200: Note, 400: Error, 403: Error, 413: Error, 503: Error},
)
def put_note(user_id: str) -> dict:
    request = app.current_request
    Caller.from_request(request).require_owner(user_id)
    return to_builtins(notes.put(user_id, parse(request, NoteChange)))


@app.route("/notes/{user_id}", methods=["GET"], authorizer=jwt_auth)
@documented("The user's note (the user themself)", responses={200: Note, 403: Error, 404: Error, 503: Error})
def get_note(user_id: str) -> dict:
    Caller.from_request(app.current_request).require_owner(user_id)
    return to_builtins(notes.get(user_id))


# This service's queue of UserErased events (services.toml: subscribes): a user who erases
# their account loses everything this service keeps about them, within the minute.
@app.on_sqs_message(queue_arn=events.queue_arn("scaffold-service"), batch_size=events.BATCH_SIZE)
def erase_user(event: SQSEvent) -> None:
    events.each_user_erased(event, notes.erase)


@app.route("/health", methods=["GET"], cors=PUBLIC_READ)
@documented("Liveness", responses={200: Health})
def health() -> dict:
    return {"status": "ok", "service": "scaffold"}


@app.route("/openapi.json", methods=["GET"], cors=PUBLIC_READ)
@documented("This document", responses={200: dict})
def openapi() -> dict:
    return document(app, title="scaffold-service", version="1.0.0")


# Last: the preflights of the routes above that Chalice's own CORS cannot answer (servicekit.cors).
answer_preflights(app)
