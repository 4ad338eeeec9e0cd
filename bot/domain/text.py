"""Shared checks for free text a person types and another person reads (names, brands, notes, answers).

Two tricks are refused or removed here, for every such text:
- bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) reorder what follows them when shown, so a
  name can be made to read as something else: they are removed from anything stored or shown;
- text made only of invisible characters (zero-width space and joiners, word joiner, BOM, soft hyphen, Hangul
  fillers, Mongolian vowel separator, variation selectors, Braille blank, whitespace of any kind) would be saved
  as a blank name or answer: it counts as no text at all.
Legitimate text keeps its joiners: 👩‍💻 is one emoji only thanks to the ZWJ inside it.
"""

from __future__ import annotations

import unicodedata

# Unicode categories treated as control characters (Cc = C0/C1 controls, Zl/Zp = line/paragraph separators).
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
# Whitespace allowed inside a multi-line text block.
_BLOCK_ALLOWED = frozenset({"\n", "\t"})

# Embeddings and overrides, isolates, the directional marks and the Arabic letter mark.
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)] + ["\u200e", "\u200f", "\u061c"]
)
_BIDI_TABLE = dict.fromkeys(map(ord, BIDI_CONTROLS))
# Shown as nothing although Unicode calls them letters or marks: Hangul fillers, the Braille blank, the combining
# grapheme joiner. (Format characters, category Cf, and whitespace are invisible by category.)
_INVISIBLE_EXTRA = frozenset({"\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\u034f"})


def strip_bidi(text: str) -> str:
    """text without bidi control characters."""
    return text.translate(_BIDI_TABLE)


def _is_variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def is_invisible(char: str) -> bool:
    """Whether a character shows nothing on its own."""
    return (
        char.isspace()
        or unicodedata.category(char) == "Cf"
        or char in _INVISIBLE_EXTRA
        or _is_variation_selector(char)
    )


def is_blank(text: str | None) -> bool:
    """Whether there is nothing visible in text (None, empty, or only invisible characters)."""
    return not text or all(is_invisible(char) for char in text)


def clean_typed(text: str | None) -> str | None:
    """What a person typed, ready to store and show: bidi controls removed, ordinary whitespace trimmed, Windows
    line ends unified; None when nothing visible is left."""
    if text is None:
        return None
    value = strip_bidi(text).replace("\r\n", "\n").strip()
    return None if is_blank(value) else value


def safe_name(text: str | None) -> str | None:
    """A name someone else wrote (a Telegram name, a record saved before this check) as it may be shown: bidi
    controls removed; None when nothing visible is left."""
    return clean_typed(text)


def has_control_chars(text: str, *, allow_newlines: bool = False) -> bool:
    """Whether text contains control characters (newlines and tabs allowed only if allow_newlines)."""
    for char in text:
        if allow_newlines and char in _BLOCK_ALLOWED:
            continue
        if unicodedata.category(char) in _CONTROL_CATEGORIES:
            return True
    return False


def clean_line(text: str | None, max_len: int) -> str | None:
    """Cleaned single-line text (see clean_typed) of 1..max_len characters, or None when it does not fit."""
    value = clean_typed(text)
    if value is None or len(value) > max_len or has_control_chars(value):
        return None
    return value


def clean_block(text: str | None, max_len: int) -> str | None:
    """Cleaned multi-line text (see clean_typed) of 1..max_len characters, or None when it does not fit."""
    value = clean_typed(text)
    if value is None or len(value) > max_len or has_control_chars(value, allow_newlines=True):
        return None
    return value
