"""Entity tags of profiles and the ``If-Match`` precondition of ``PUT /profiles/{user_id}``.

A profile's ETag is its version as a strong entity tag: ``"3"``. ``If-Match`` is read as
RFC 9110 section 13.1.1 says:

- ``*`` matches any existing profile (and so fails, 412, when there is none);
- a comma-separated list of entity tags matches when one of them is the current one;
  comparison is strong, so a weak tag (``W/"3"``) never matches, and neither does a
  tag that is not a version (``"abc"``, ``"03"``): those give 412, not 400;
- a header that is empty or not a list of quoted tags (``3``, ``"3``, ``*, "3"``) is a
  400 ``InvalidIfMatchError`` naming the header;
- a condition on a profile that does not exist fails: 412.

Without ``If-Match`` a write is unconditional, but still atomic (version + 1).
"""

from __future__ import annotations

import re

import msgspec

from servicekit.openapi import Header

from .errors import InvalidIfMatchError

HEADER = "If-Match"
MAX_TAGS = 32

# The two headers as the OpenAPI document describes them.
ETAG = Header(
    "ETag",
    'The resource\'s version as a strong entity tag: `"<version>"`.',
    {"type": "string", "pattern": '^"[0-9]+"$'},
    required=True,
)
IF_MATCH = Header(
    HEADER,
    'Write only if the profile\'s version is one of these: `"3"`, `"7", "3"` or `*` (RFC 9110).',
    # RFC 9110's entity tags, at most MAX_TAGS of them: what the service reads without a 400.
    {"type": "string", "pattern": '^(\\*|(W/)?"[!#-~]*"(, *(W/)?"[!#-~]*"){0,' + str(MAX_TAGS - 1) + "})$"},
)
# Patterns, compiled (and cached by ``re``) on first use rather than during the cold start's import.
# RFC 9110: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"'
_SPACE = " \t"
# Versions are DynamoDB numbers; 18 digits is far beyond any real count of writes.
_VERSION = r"(?:0|[1-9][0-9]{0,17})"


class IfMatch(msgspec.Struct, frozen=True):
    """A parsed ``If-Match``: ``*`` (any existing profile) or the versions it accepts."""

    any_version: bool
    versions: frozenset[int]


def etag(version: int) -> dict[str, str]:
    """The ``ETag`` header of a profile at ``version``."""
    return {"ETag": f'"{version}"'}


def parse_if_match(value: str | None) -> IfMatch | None:
    """The precondition in an ``If-Match`` header value (None when absent); 400 if malformed."""
    if value is None:
        return None
    text = value.strip(_SPACE)
    if text == "*":
        return IfMatch(any_version=True, versions=frozenset())
    versions: set[int] = set()
    tags = 0
    position = 0
    while position < len(text):
        # Empty list elements (", ,") are allowed by RFC 9110's list syntax.
        if text[position] in _SPACE + ",":
            position += 1
            continue
        match = re.compile(_ENTITY_TAG).match(text, position)
        if match is None:
            raise InvalidIfMatchError(f'The {HEADER} header must be "*" or a list of quoted entity tags such as "3".')
        tags += 1
        weak, opaque = match.groups()
        if not weak and re.fullmatch(_VERSION, opaque):
            versions.add(int(opaque))
        position = match.end()
        while position < len(text) and text[position] in _SPACE:
            position += 1
        if position < len(text) and text[position] != ",":
            raise InvalidIfMatchError(f"The {HEADER} header's entity tags must be separated by commas.")
    if tags == 0:
        raise InvalidIfMatchError(f"The {HEADER} header is empty.")
    if tags > MAX_TAGS:
        raise InvalidIfMatchError(f"The {HEADER} header lists more than {MAX_TAGS} entity tags.")
    return IfMatch(any_version=False, versions=frozenset(versions))
