"""The scaffold service: each user's note, written and read only by that user.

Made by ``python -m tools.new_service scaffold``: the note is an example route to replace
with the service's own (docs/architecture.md, "One list of the services").
"""

from chalice.app import SQSEvent

from chalicelib import access, notes
from chalicelib.models import Note, NoteChange
from servicekit import events
from servicekit.authorizer import Caller
from servicekit.bodies import parse, to_builtins
from servicekit.openapi import Error, documented
from servicekit.service import service

app, jwt_auth = service("scaffold", version="1.0.0")


@app.route("/notes/{user_id}", methods=["PUT"], authorizer=jwt_auth)
@documented(
    "Replace the user's note (the user themself)",
    request=NoteChange,
    responses={200: Note, 400: Error, 403: Error, 413: Error, 503: Error},
)
def put_note(user_id: str) -> dict:
    request = app.current_request
    access.authorize_put(Caller.from_request(request), user_id)
    return to_builtins(notes.put(user_id, parse(request, NoteChange)))


@app.route("/notes/{user_id}", methods=["GET"], authorizer=jwt_auth)
@documented("The user's note (the user themself)", responses={200: Note, 403: Error, 404: Error, 503: Error})
def get_note(user_id: str) -> dict:
    access.authorize_get(Caller.from_request(app.current_request), user_id)
    return to_builtins(notes.get(user_id))


# This service's queue of UserErased events (services.toml: subscribes): a user who erases
# their account loses everything this service keeps about them, within the minute.
@app.on_sqs_message(queue_arn=events.queue_arn("scaffold-service"), batch_size=events.BATCH_SIZE)
def erase_user(event: SQSEvent) -> None:
    events.each_user_erased(event, notes.erase)
