"""What the API document says of the service beyond its title, where that takes a paragraph.

``app.py`` names each route and its answers; the longer texts are kept here so that it
reads as the service's table of contents.
"""

DESCRIPTION = """\
Public profiles. A profile embeds the user's location, read from the location service
within about one second: `location_status` is `ok`, `none` (the user has no location)
or `unavailable` (the location service failed or was too slow; the profile is still 200).

Optimistic concurrency: every profile answer carries `ETag: "<version>"`. `PUT` takes an
optional `If-Match`: `*` (any existing profile) or a list of entity tags, compared
strongly (a weak tag `W/"3"` never matches). A mismatch, or any `If-Match` on a profile
that does not exist, is 412 and writes nothing; a malformed header is 400. Without
`If-Match` a `PUT` creates or replaces the profile, still adding exactly one to its
version. `PUT` replaces the whole profile: an omitted `bio` clears it. `DELETE` needs
the owner's token with scope `profile:write`.
"""
