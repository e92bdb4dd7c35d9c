"""The auth service: users, tokens and the keys that verify them."""

from chalice import Response
from chalice.app import DynamoDBEvent

from chalicelib import authorize, discovery, erasure, keys, token_requests, tokens, users
from chalicelib.descriptions import AUTHORIZE, JSON_TOO, LOGIN_FORM, REVOCATION
from chalicelib.errors import NO_STORE, OAuthError, TooManyRequestsError
from chalicelib.models import (
    CACHE_CONTROL,
    CLIENT_BASIC,
    LOCATION,
    RETRY_AFTER,
    SET_COOKIE,
    WWW_AUTHENTICATE,
    AuthorizationRequest,
    Grant,
    Jwks,
    LoginForm,
    Metadata,
    OAuthErrorBody,
    Registration,
    Revocation,
    TokenResponse,
    User,
)
from servicekit import events
from servicekit.authorizer import Caller
from servicekit.bodies import parse, to_builtins
from servicekit.cors import PUBLIC_READ, navigated
from servicekit.openapi import Answer, Error, documented
from servicekit.service import service

# The issuer's authorizer verifies with its own key ring, not with a JWKS fetched from itself.
app, jwt_auth = service("auth", version="2.0.0", verifier=keys.verifier_for)

PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}
# RFC 6749 section 5.2 errors of the two token endpoints, and their headers.
OAUTH_ERRORS = {
    400: Answer(OAuthErrorBody, (CACHE_CONTROL,)),
    401: Answer(OAuthErrorBody, (CACHE_CONTROL, WWW_AUTHENTICATE)),
    413: Answer(OAuthErrorBody, (CACHE_CONTROL,)),
}


@app.route("/users", methods=["POST"])
@documented(
    "Register a user",
    description="At most 30 registrations and logins a minute from one address (429 with Retry-After beyond).",
    request=Registration,
    responses={201: User, 400: Error, 409: Error, 413: Error, 429: Answer(Error, (RETRY_AFTER,)), 503: Error},
)
def register_user() -> Response:
    request = app.current_request
    try:
        user = users.register(parse(request, Registration), token_requests.caller_address(request))
    except TooManyRequestsError as refused:
        return Response(body=refused.body(), status_code=refused.STATUS_CODE, headers=refused.headers())
    return Response(body=to_builtins(user), status_code=201)


@app.route("/authorize", methods=["GET"])
@navigated
@documented(
    "The login page of the authorization code flow with PKCE: RFC 6749 section 4.1, RFC 7636",
    description=AUTHORIZE,
    query=AuthorizationRequest,
    responses={
        200: Answer("text/html", (SET_COOKIE,)),
        302: Answer(None, (LOCATION,)),
        400: "text/html",
        503: Error,
    },
)
def authorization_page() -> Response:
    return authorize.start(app.current_request)


@app.route("/authorize", methods=["POST"], content_types=[token_requests.FORM])
@navigated
@documented(
    "The login page's form: a redirect to the client with a code, or the page again",
    description=LOGIN_FORM,
    request=LoginForm,
    request_media_types=(token_requests.FORM,),
    responses={
        200: "text/html",
        302: Answer(None, (LOCATION,)),
        400: "text/html",
        403: "text/html",
        413: "text/html",
        429: Answer("text/html", (RETRY_AFTER,)),
        503: Error,
    },
)
def authorization_login() -> Response:
    return authorize.log_in(app.current_request)


@app.route("/token", methods=["POST"], content_types=token_requests.CONTENT_TYPES)
@documented(
    "Log in (authorization code, password), rotate a refresh token, or log a service in (client credentials): RFC 6749",
    description=JSON_TOO,
    request=Grant,  # type: ignore[arg-type]
    request_media_types=(token_requests.FORM,),
    security=(CLIENT_BASIC,),
    responses={
        200: Answer(TokenResponse, (CACHE_CONTROL,)),
        **OAUTH_ERRORS,
        429: Answer(OAuthErrorBody, (CACHE_CONTROL, RETRY_AFTER)),
        503: Error,
    },
)
def token() -> Response:
    try:
        request = app.current_request
        issued = tokens.issue(*token_requests.grant(request), token_requests.caller_address(request))
    except OAuthError as error:
        return _oauth_error(error)
    return Response(body=to_builtins(issued), headers=NO_STORE)


@app.route("/token/revoke", methods=["POST"], content_types=token_requests.CONTENT_TYPES)
@documented(
    "Revoke a refresh token and its whole login: RFC 7009",
    description=REVOCATION,
    request=Revocation,
    request_media_types=(token_requests.FORM,),
    security=(CLIENT_BASIC,),
    responses={
        200: None,
        **OAUTH_ERRORS,
        429: Answer(OAuthErrorBody, (CACHE_CONTROL, RETRY_AFTER)),
        503: Error,
    },
)
def revoke_token() -> Response:
    try:
        request = app.current_request
        tokens.revoke(*token_requests.revocation(request), token_requests.caller_address(request))
    except OAuthError as error:
        return _oauth_error(error)
    return Response(body="", status_code=200, headers=NO_STORE)


@app.route("/.well-known/jwks.json", methods=["GET"], cors=PUBLIC_READ)
@documented("The public keys that verify access tokens", responses={200: Jwks})
def jwks() -> Response:
    return Response(body=keys.key_ring().jwks(), headers=PUBLIC_CACHE)


@app.route("/.well-known/oauth-authorization-server", methods=["GET"], cors=PUBLIC_READ)
@documented("Authorization server metadata: RFC 8414", responses={200: Metadata})
def authorization_server_metadata() -> Response:
    return Response(body=to_builtins(discovery.metadata()), headers=PUBLIC_CACHE)


@app.route("/.well-known/openid-configuration", methods=["GET"], cors=PUBLIC_READ)
@documented("The same metadata where OpenID Connect libraries look for it", responses={200: Metadata})
def openid_configuration() -> Response:
    return Response(body=to_builtins(discovery.metadata()), headers=PUBLIC_CACHE)


@app.route("/users/me", methods=["GET"], authorizer=jwt_auth)
@documented("The calling user", responses={200: User, 403: Error, 404: Error, 503: Error})
def me() -> dict:
    return to_builtins(users.current_user(Caller.from_request(app.current_request)))


@app.route("/users/me/erasure", methods=["POST"], authorizer=jwt_auth)
@documented(
    "Erase your account, here at once and in every service within a minute",
    description="Confirmed with the password, checked as a login: a wrong one counts as a failed login.",
    request=erasure.ErasureRequest,
    responses={
        202: erasure.Erasure,
        400: Error,
        403: Error,
        413: Error,
        429: Answer(Error, (RETRY_AFTER,)),
        503: Error,
    },
)
def erase_me() -> Response:
    request = app.current_request
    try:
        erased = erasure.erase(
            Caller.from_request(request), parse(request, erasure.ErasureRequest), token_requests.caller_address(request)
        )
    except TooManyRequestsError as refused:
        return Response(body=refused.body(), status_code=refused.STATUS_CODE, headers=refused.headers())
    return Response(body=to_builtins(erased), status_code=202)


# The auth table's stream: each erasure's record becomes its UserErased event (chalicelib.erasure).
@app.on_dynamodb_record(stream_arn=events.stream_arn("auth"), batch_size=10, starting_position="TRIM_HORIZON")
def publish_erasures(event: DynamoDBEvent) -> None:
    erasure.publish(event)


def _oauth_error(error: OAuthError) -> Response:
    """An error of the token endpoints as RFC 6749 section 5.2 shapes it, never cached."""
    headers = {"Content-Type": "application/json", **NO_STORE, **error.headers()}
    return Response(body=error.body(), status_code=error.STATUS_CODE, headers=headers)
