"""The auth service: users, tokens and the keys that verify them."""

from chalice import Chalice, Response

from chalicelib import keys, tokens, users
from chalicelib.errors import LoginLockedError
from chalicelib.models import Grant, Health, Jwks, Registration, Revocation, TokenResponse, User
from servicekit.authorizer import Caller, jwt_authorizer
from servicekit.bodies import parse, to_builtins
from servicekit.deadline import limit_request_time
from servicekit.headers import secure_headers
from servicekit.observability import log_requests
from servicekit.openapi import Error, document, documented

app = Chalice(app_name="auth-service")
log_requests(app)
secure_headers(app)
limit_request_time(app)
jwt_auth = jwt_authorizer(app, keys.verifier)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@app.route("/users", methods=["POST"])
@documented("Register a user", request=Registration, responses={201: User, 400: Error, 409: Error, 413: Error})
def register_user() -> Response:
    user = users.register(parse(app.current_request, Registration))
    return Response(body=to_builtins(user), status_code=201)


@app.route("/token", methods=["POST"])
@documented(
    "Log in (password), rotate a refresh token, or log a service in (client credentials)",
    request=Grant,  # type: ignore[arg-type]
    responses={200: TokenResponse, 400: Error, 401: Error, 413: Error, 429: Error},
)
def token() -> Response:
    try:
        issued = tokens.issue(parse(app.current_request, Grant))  # type: ignore[arg-type]
    except LoginLockedError as locked:
        return locked.to_response()
    return Response(body=to_builtins(issued), headers=NO_STORE)


@app.route("/token/revoke", methods=["POST"])
@documented(
    "Revoke a refresh token and its whole login (RFC 7009)", request=Revocation, responses={204: None, 400: Error}
)
def revoke_token() -> Response:
    tokens.revoke(parse(app.current_request, Revocation).refresh_token)
    return Response(body="", status_code=204)


@app.route("/.well-known/jwks.json", methods=["GET"])
@documented("The public keys that verify access tokens", responses={200: Jwks})
def jwks() -> Response:
    return Response(body=keys.key_ring().jwks(), headers={"Cache-Control": "public, max-age=300"})


@app.route("/users/me", methods=["GET"], authorizer=jwt_auth)
@documented("The calling user", responses={200: User, 401: Error, 403: Error, 404: Error})
def me() -> dict:
    return to_builtins(users.current_user(Caller.from_request(app.current_request)))


@app.route("/health", methods=["GET"])
@documented("Liveness", responses={200: Health})
def health() -> dict:
    return {"status": "ok", "service": "auth"}


@app.route("/openapi.json", methods=["GET"])
@documented("This document", responses={200: "application/json"})
def openapi() -> dict:
    return document(app, title="auth-service", version="1.0.0")
