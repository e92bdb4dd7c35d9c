"""Request and response bodies of the scaffold service (the OpenAPI document is built from them).

No ``from __future__ import annotations`` here: msgspec resolves string annotations
through ``sys.modules``, and the tests load every service's ``chalicelib`` side by side.
"""

from typing import Annotated

import msgspec

from servicekit import text
from servicekit.bodies import Model

NoteText = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=1000,
        description="1 to 1,000 characters with something visible; line breaks and tabs allowed.",
    ),
]


class NoteChange(Model):
    """``PUT /notes/{user_id}``: the whole new note."""

    text: NoteText

    def __post_init__(self) -> None:
        text.check("text", self.text, visible=True, multiline=True)


class Note(Model):
    """A user's note, as the API shows it."""

    user_id: str
    text: str
    updated_at: Annotated[str, msgspec.Meta(description="ISO 8601, UTC, with milliseconds.")]
    version: Annotated[int, msgspec.Meta(ge=1, description="Grows by one with each write.")]
