"""What the API document says of a route beyond its summary, where that takes a paragraph.

``app.py`` names each route and its answers; the longer texts are kept here so that it
reads as the service's table of contents.
"""

# The token endpoints are documented in RFC 6749's form encoding only: openapi-python-client
# cannot generate a working client for one body in two media types (its issues #1451, #1276).
JSON_TOO = (
    "JSON bodies with the same parameter names are accepted too (`Content-Type: application/json`). "
    "A client authenticates with HTTP Basic or with `client_id` and `client_secret`, never both."
)
AUTHORIZE = (
    "For a browser: an unknown `client_id`, or a `redirect_uri` not registered for it exactly, is a 400 page, "
    "never a redirect. Any other problem is sent back with a 302 to the `redirect_uri`, with RFC 6749 section "
    "4.1.2.1's `error` and `error_description`, the `state` and `iss` (RFC 9207). A good request gets the login "
    "page, and a cookie that binds its form to this browser."
)
LOGIN_FORM = (
    "Posted by the login page with the cookie it set. A successful login: 302 to the client's `redirect_uri` "
    "with `code` (usable once, within 60 seconds), `state` and `iss`. A wrong password or unknown user: the "
    "page again with the error (200), counted like any failed login. Locked out: a 429 page. An unknown or "
    "expired request: a 400 page; a form without the page's cookie, or posted from another site: a 403 page."
)
REVOCATION = JSON_TOO + ' Revision 1\'s JSON body `{"refresh_token": ...}` is read as `token`.'
