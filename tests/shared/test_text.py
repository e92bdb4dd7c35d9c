"""The one rule for user text: no controls, no bidi formatting, something visible where required."""

from __future__ import annotations

import pytest

from servicekit import text

CONTROLS = ["\x00", "\x1b", "\x07", "\r", "\n", "\x7f", "\x85"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
INVISIBLE = ["\u200b", "\u3164", "\ufeff", "\u00ad", "\u2800", "\u200d", "\ufe0f", " ", "\u3000", "\u2028"]


@pytest.mark.parametrize("char", CONTROLS, ids=repr)
def test_a_single_line_field_refuses_every_control_character(char: str) -> None:
    assert "control characters" in (text.problem(f"Par{char}is") or "")


@pytest.mark.parametrize("char", ["\n", "\r", "\t"], ids=repr)
def test_a_multi_line_field_takes_line_breaks_and_tabs(char: str) -> None:
    assert text.problem(f"line one{char}line two", multiline=True) is None


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07"], ids=repr)
def test_a_multi_line_field_refuses_other_control_characters(char: str) -> None:
    assert "control characters other than line breaks" in (text.problem(f"bio{char}", multiline=True) or "")


@pytest.mark.parametrize("char", BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_bidirectional_formatting_is_refused_in_every_field(char: str) -> None:
    for multiline in (False, True):
        assert "bidirectional" in (text.problem(f"evil{char}txt.exe", multiline=multiline) or "")


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_a_name_of_invisible_characters_only_is_blank(char: str) -> None:
    assert "blank" in (text.problem(char * 3, visible=True) or "")


@pytest.mark.parametrize("name", ["Alice", "张伟", "محمد", "🙂", "ß", "O'Brien", "\u3164A"])
def test_a_name_with_something_visible_passes(name: str) -> None:
    assert text.problem(name, visible=True) is None


def test_check_names_the_field_as_msgspec_reports_it() -> None:
    with pytest.raises(ValueError, match=r"Invalid display name: .*blank.* - at `\$\.display_name`"):
        text.check("display_name", "\u200b", visible=True)
