from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.i18n import chosen_or_telegram, compile_catalogs, create_i18n, locale_from_telegram, person_locale
from bot.storage.db import connect
from bot.storage.users import UserRepo


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


@pytest.mark.parametrize(
    ("saved", "code", "expected"),
    [("ru", "en", "ru"), ("en", "ru-RU", "en"), (None, "ru", "ru"), (None, "de", "en"), ("xx", "ru", "ru"),
     (None, None, "en")],
)
def test_a_saved_choice_beats_telegrams_language_which_beats_the_default(
    saved: str | None, code: str | None, expected: str
) -> None:
    assert chosen_or_telegram(saved, code, "en") == expected


async def test_a_person_never_seen_gets_the_default_and_one_seen_gets_the_same_rule(tmp_path) -> None:
    db = await connect(tmp_path / "most.db")
    try:
        users = UserRepo(db)
        assert await person_locale(users, 1, "en") == "en"
        await users.touch(1, "ru", datetime(2026, 12, 4, tzinfo=UTC))
        assert await person_locale(users, 1, "en") == "ru"  # Telegram's language, nothing chosen yet
        await users.set_locale(1, "en")
        assert await person_locale(users, 1, "ru") == "en"
    finally:
        await db.close()
