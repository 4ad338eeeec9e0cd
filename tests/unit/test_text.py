"""The shared text cleaner (bot/domain/text.py): bidi controls removed, invisible-only text refused."""

from __future__ import annotations

import pytest

from bot.domain.partners import NameProblem, validate_partner_name, validate_url
from bot.domain.text import BIDI_CONTROLS, clean_block, clean_line, clean_typed, is_blank, safe_name, strip_bidi
from bot.views.formatting import button_label, user_text

INVISIBLE_ONLY = (
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u3164", "\u115f", "\u1160", "\u180e", "\ufe0f",
    "\U000e0100", "\u2800", "\u00a0", "\u3000", " \u200b \u200b ", "\u202e", "\u200f\u200e", "\u2066\u2069",
    "\u061c", "\t\n", "\u3164\u3164", "\u200b\u200d\ufe0f", "",
)


@pytest.mark.parametrize("text", INVISIBLE_ONLY)
def test_invisible_only_text_is_no_text(text: str) -> None:
    assert is_blank(text)
    assert clean_typed(text) is None
    assert clean_line(text, 100) is None
    assert clean_block(text, 100) is None
    assert validate_partner_name(text) is NameProblem.EMPTY
    assert safe_name(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nord Creators", "Nord Creators"),
        ("  Агентство «Север»  ", "Агентство «Север»"),
        ("漢字 한글", "漢字 한글"),
        ("مرحبا بالعالم", "مرحبا بالعالم"),
        ("👩\u200d💻 Dev team", "👩\u200d💻 Dev team"),  # the ZWJ inside an emoji sequence stays
        ("👨\u200d👩\u200d👧\u200d👦", "👨\u200d👩\u200d👧\u200d👦"),
        ("❤\ufe0f", "❤\ufe0f"),  # a variation selector after a visible character stays
        ("co\u00adoperation", "co\u00adoperation"),
        ("Evil\u202eoC", "EviloC"),
        ("\u202eZ\u202c", "Z"),
        ("a\u2066b\u2069c\u200e\u200f\u061cd", "abcd"),
        ("\u200fשלום", "שלום"),
        ("line1\r\nline2", "line1\nline2"),
    ],
)
def test_visible_text_is_kept_without_bidi_controls(text: str, expected: str) -> None:
    assert clean_typed(text) == expected
    assert not set(clean_typed(text) or "") & BIDI_CONTROLS


def test_every_bidi_control_is_listed() -> None:
    expected = {*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\u200e", "\u200f", "\u061c"}
    assert expected == BIDI_CONTROLS
    assert strip_bidi("".join(sorted(expected)) + "x") == "x"


def test_partner_names_lose_bidi_controls() -> None:
    assert validate_partner_name("Nord \u202eCreators") == "Nord Creators"
    assert validate_partner_name("👩\u200d💻") == "👩\u200d💻"


def test_names_already_stored_are_shown_without_bidi_controls() -> None:
    assert user_text("<b>Evil\u202eoC</b>") == "&lt;b&gt;EviloC&lt;/b&gt;"
    assert button_label("Evil\u202eoC" + "x" * 100, 10) == "EviloCxxxx"


@pytest.mark.parametrize(
    "url", ["https://example.com/\u202egpj.exe", "https://exa\u200bmple.com", "example.com/\u2066x"]
)
def test_links_with_invisible_characters_are_refused(url: str) -> None:
    assert validate_url(url) is None


def test_clean_line_still_refuses_newlines_and_overlong_text() -> None:
    assert clean_line("a\nb", 10) is None
    assert clean_line("x" * 11, 10) is None
    assert clean_block("a\nb", 10) == "a\nb"
