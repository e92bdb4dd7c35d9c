"""The one rule for user text: no controls, no bidi formatting, something visible where required."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# The rule as the documents' pattern: never wider than the rule (a text the pattern allows is
# a text the service takes), and exact about controls and bidirectional formatting.
PATTERN_OPTIONS = [{"visible": True}, {"multiline": True}, {}]


def test_every_character_the_visible_pattern_asks_for_is_visible() -> None:
    one_of = re.compile(f"[{text.SURELY_VISIBLE}]")

    hidden = [
        f"U+{code:04X}" for code in range(0x10000) if one_of.fullmatch(chr(code)) and not text.is_visible(chr(code))
    ]

    assert hidden == []


@pytest.mark.parametrize("options", PATTERN_OPTIONS, ids=str)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_text_the_pattern_allows_is_a_text_the_rule_takes(options: dict[str, bool], data: st.DataObject) -> None:
    sample = data.draw(st.from_regex(text.pattern(**options), fullmatch=True))

    assert text.problem(sample, **options) is None


@pytest.mark.parametrize("options", PATTERN_OPTIONS, ids=str)
@pytest.mark.parametrize("char", CONTROLS + BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_the_pattern_refuses_what_the_rule_refuses_for_controls_and_bidi(options: dict[str, bool], char: str) -> None:
    sample = f"Paris{char}"

    if text.problem(sample, **options) is not None:
        assert not re.fullmatch(text.pattern(**options), sample)


def test_the_visible_pattern_takes_names_of_many_scripts() -> None:
    names = ["Zoë", "Łódź", "Αθήνα", "Москва", "תל אביב", "القاهرة", "मुंबई", "กรุงเทพ", "東京", "서울", "Ñandú"]

    assert [name for name in names if not re.fullmatch(text.pattern(visible=True), name)] == []
