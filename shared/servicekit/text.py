"""The one rule for text a user writes (names, cities, bios), shown to others on pages.

- No control characters: they corrupt logs and pages (NUL, ESC, BEL, CR/LF in a city).
  Only a multi-line field (a bio) may hold line breaks and tabs.
- No bidirectional embeddings, overrides or isolates (U+202A-U+202E, U+2066-U+2069):
  text in a name could otherwise reorder the page around it ("Trojan Source").
  They are refused, not stripped: what is stored is what the user sent.
- A field that must not be blank must hold something visible: white space, format
  characters (U+200B, U+FEFF, U+00AD) and Unicode's other default-ignorable code
  points (the Hangul fillers U+3164 and U+FFA0) do not count.

Each check returns the problem as text, or None; models raise it as a ``ValueError``
(msgspec turns that into a 400 naming the field).
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_CONTROLS = frozenset("\n\r\t")

# Unicode's Default_Ignorable_Code_Point ranges outside the format (Cf) category, which is
# checked by category: they render as nothing (DerivedCoreProperties.txt, Unicode 15.1).
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x2800, 0x2800),  # braille pattern blank: not ignorable, but it renders as a space
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
)


def is_visible(char: str) -> bool:
    """Whether ``char`` shows as something on a page."""
    code = ord(char)
    if char.isspace() or unicodedata.category(char)[0] in "CZ":
        return False
    return not any(low <= code <= high for low, high in _IGNORABLE_RANGES)


def problem(text: str, *, multiline: bool = False, visible: bool = False) -> str | None:
    """What is wrong with ``text`` as user text, or None when nothing is."""
    allowed = LINE_CONTROLS if multiline else frozenset()
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in text):
        return "it contains control characters" + (" other than line breaks and tabs" if multiline else "")
    if any(c in BIDI_CONTROLS for c in text):
        return "it contains bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)"
    if visible and not any(is_visible(c) for c in text):
        return "it is blank: it has no visible character"
    return None


# The rule as a JSON Schema ``pattern``, for the OpenAPI documents (written with \\u escapes
# only, which ECMA-262 and Python's ``re`` read alike). "No control or bidirectional
# characters" is said exactly. "Something visible" depends on Unicode's categories, which a
# portable pattern cannot name: the pattern asks for one character of these ranges, every one
# of them visible (tests/shared/test_text.py checks each), which is most of the world's
# letters, digits and signs; a name of only other visible characters (an emoji, a rare
# script) is accepted by the service but not by the pattern. A narrower document, never a
# wider one: a request the document allows is a request the service accepts.
_CONTROLS = "\\u0000-\\u001f\\u007f-\\u009f"
_CONTROLS_BUT_LINES = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
_BIDI = "\\u202a-\\u202e\\u2066-\\u2069"
SURELY_VISIBLE = (
    "!-~"  # ASCII
    "\\u00a1-\\u00ac\\u00ae-\\u02ff"  # Latin-1, Latin Extended, IPA, modifier letters
    "\\u0386\\u0388-\\u038a\\u038c\\u038e-\\u03a1\\u03a3-\\u03ff"  # Greek and Coptic
    "\\u0400-\\u052f"  # Cyrillic
    "\\u05d0-\\u05ea"  # Hebrew letters
    "\\u0620-\\u064a\\u0660-\\u0669"  # Arabic letters and digits
    "\\u0904-\\u0939\\u0966-\\u096f"  # Devanagari letters and digits
    "\\u0e01-\\u0e30"  # Thai letters
    "\\u1e00-\\u1eff"  # Latin Extended Additional
    "\\u2010-\\u2027\\u2030-\\u205e"  # general punctuation
    "\\u20a0-\\u20c0\\u2100-\\u218b\\u2190-\\u2426"  # currency, letterlike, arrows, math, technical
    "\\u2460-\\u24ff\\u2500-\\u27ff"  # enclosed, boxes, shapes, dingbats
    "\\u3001-\\u303f\\u3041-\\u3096\\u30a1-\\u30fa"  # CJK punctuation, kana
    "\\u3400-\\u4dbf\\u4e00-\\u9fff"  # CJK ideographs
    "\\uac00-\\ud7a3"  # Hangul syllables
    "\\uff01-\\uff5e"  # full-width forms
)


def pattern(*, multiline: bool = False, visible: bool = False) -> str:
    """The JSON Schema ``pattern`` of text that passes ``problem`` with these options (narrower, see above)."""
    allowed = f"[^{_CONTROLS_BUT_LINES if multiline else _CONTROLS}{_BIDI}]*"
    if visible:
        return f"^{allowed}[{SURELY_VISIBLE}]{allowed}$"
    return f"^{allowed}$"


def check(field: str, text: str, *, multiline: bool = False, visible: bool = False) -> None:
    """``ValueError`` naming ``field`` (a model's field) when ``text`` breaks the rule."""
    found = problem(text, multiline=multiline, visible=visible)
    if found is not None:
        raise ValueError(f"Invalid {field.replace('_', ' ')}: {found} - at `$.{field}`")


LOG_VALUE_LIMIT = 80


def clip(value: object, limit: int = LOG_VALUE_LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters: any value an attacker chose, before it is logged.

    A 10 KB ``kid`` must not become a 10 KB log line (cost, and noise that hides attacks).
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...({len(text) - limit} more characters)"
