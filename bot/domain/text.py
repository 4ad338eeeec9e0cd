"""Shared checks for short free-text inputs (names, brands, notes)."""

from __future__ import annotations

import unicodedata

# Unicode categories treated as control characters (Cc = C0/C1 controls, Zl/Zp = line/paragraph separators).
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
# Whitespace allowed inside a multi-line text block.
_BLOCK_ALLOWED = frozenset({"\n", "\t"})


def has_control_chars(text: str, *, allow_newlines: bool = False) -> bool:
    """Whether text contains control characters (newlines and tabs allowed only if allow_newlines)."""
    for char in text:
        if allow_newlines and char in _BLOCK_ALLOWED:
            continue
        if unicodedata.category(char) in _CONTROL_CATEGORIES:
            return True
    return False


def clean_line(text: str | None, max_len: int) -> str | None:
    """Stripped single-line text of 1..max_len characters, or None when it does not fit."""
    if text is None:
        return None
    value = text.strip()
    if not value or len(value) > max_len or has_control_chars(value):
        return None
    return value


def clean_block(text: str | None, max_len: int) -> str | None:
    """Stripped multi-line text of 1..max_len characters, or None when it does not fit."""
    if text is None:
        return None
    value = text.replace("\r\n", "\n").strip()
    if not value or len(value) > max_len or has_control_chars(value, allow_newlines=True):
        return None
    return value
