from __future__ import annotations

import pytest

from bot.i18n import compile_catalogs, create_i18n, locale_from_telegram


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ru", "ru"),
        ("uk", "ru"),
        ("be", "ru"),
        ("kk", "ru"),
        ("ru-RU", "ru"),
        ("en", "en"),
        ("en-US", "en"),
        ("de", "en"),
        ("es", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_locale_from_telegram(code: str | None, expected: str) -> None:
    assert locale_from_telegram(code, "en") == expected


def test_unknown_language_falls_back_to_the_configured_default() -> None:
    assert locale_from_telegram(None, "ru") == "ru"


def test_compiled_catalogs_translate() -> None:
    compile_catalogs()
    i18n = create_i18n("en")
    assert set(i18n.available_locales) >= {"en", "ru"}
    assert i18n.gettext("There is nothing to cancel.", locale="ru") == "Отменять нечего."
    assert i18n.gettext("There is nothing to cancel.", locale="en") == "There is nothing to cancel."
