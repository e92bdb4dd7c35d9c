"""The profile service: public profiles and pages, each with the user's location."""

# First of all, in Lambda's Init of the API function: the first read's service token and its
# cold peers are started before the rest of this module is imported (chalicelib.early).
from chalicelib import early

early.start()

from chalice import Response
from chalice.app import SQSEvent

from chalicelib import access, etags, pages, profiles
from chalicelib.descriptions import DESCRIPTION
from chalicelib.errors import ProfileNotFoundError
from chalicelib.models import Profile, ProfileChange
from servicekit import events
from servicekit.authorizer import Caller
from servicekit.bodies import parse, to_builtins
from servicekit.cors import PUBLIC_READ
from servicekit.openapi import Answer, Error, documented
from servicekit.service import service

app, jwt_auth = service("profile", version="1.0.0", description=DESCRIPTION)


@app.route("/profiles/{user_id}", methods=["GET"])
@documented(
    "A profile, with the user's location", responses={200: Answer(Profile, (etags.ETAG,)), 404: Error, 503: Error}
)
def get_profile(user_id: str) -> Response:
    return _with_etag(profiles.read(user_id))


@app.route("/profiles/{user_id}", methods=["PUT"], authorizer=jwt_auth)
@documented(
    "Create or replace your profile (optionally If-Match)",
    request=ProfileChange,
    headers=(etags.IF_MATCH,),
    responses={200: Answer(Profile, (etags.ETAG,)), 400: Error, 403: Error, 412: Error, 413: Error, 503: Error},
)
def put_profile(user_id: str) -> Response:
    request = app.current_request
    access.authorize_put(Caller.from_request(request), user_id)
    change = parse(request, ProfileChange)
    precondition = etags.parse_if_match(request.headers.get(etags.HEADER))
    return _with_etag(profiles.write(user_id, change, precondition))


@app.route("/profiles/{user_id}", methods=["DELETE"], authorizer=jwt_auth)
@documented("Delete your profile", responses={204: None, 403: Error, 404: Error, 503: Error})
def delete_profile(user_id: str) -> Response:
    access.authorize_delete(Caller.from_request(app.current_request), user_id)
    profiles.delete(user_id)
    return Response(body="", status_code=204)


@app.route("/pages/{user_id}", methods=["GET"], cors=PUBLIC_READ)
@documented("The public profile page", responses={200: "text/html", 404: "text/html", 503: Error})
def profile_page(user_id: str) -> Response:
    try:
        return Response(body=pages.page(user_id), headers=pages.headers())
    except ProfileNotFoundError:
        return Response(body=pages.not_found(), status_code=404, headers=pages.headers())


# This service's queue of UserErased events (services.toml: subscribes).
@app.on_sqs_message(queue_arn=events.queue_arn("profile-service"), batch_size=events.BATCH_SIZE)
def erase_user(event: SQSEvent) -> None:
    events.each_user_erased(event, profiles.erase)


def _with_etag(profile: Profile) -> Response:
    """A profile as the API answers it: JSON, with its version as ``ETag``."""
    headers = {"Content-Type": "application/json", **etags.etag(profile.version)}
    return Response(body=to_builtins(profile), headers=headers)
