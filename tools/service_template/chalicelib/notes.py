"""Users' notes: replace and read, each in one request to the table."""

from __future__ import annotations

from servicekit.clock import clock
from servicekit.events import UserErased

from .errors import NoteNotFoundError
from .models import Note, NoteChange
from .store import NoteItem, note_store


def put(user_id: str, change: NoteChange) -> Note:
    """Replace the user's note (creating it at version 1); ``version`` grows by one."""
    return _public(note_store().write(user_id, {"text": change.text, "updated_at": clock().iso()}))


def get(user_id: str) -> Note:
    """The user's note; 404 when there is none."""
    item = note_store().get(user_id)
    if item is None:
        raise NoteNotFoundError(f"User {user_id} has no note.")
    return _public(item)


def erase(event: UserErased) -> bool:
    """Erase everything kept about the user (a ``UserErased`` event); False if it was erased already."""
    return note_store().erase(event.user_id, event.erasure_id, clock().timestamp())


def _public(item: NoteItem) -> Note:
    return Note(user_id=item["user_id"], text=item["text"], updated_at=item["updated_at"], version=int(item["version"]))
