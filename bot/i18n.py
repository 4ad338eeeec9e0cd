"""Languages: compiling the catalogs, choosing a locale, and the middleware that applies it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from aiogram.types import Chat, TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.middleware import I18nMiddleware
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.config import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
# Telegram language codes whose speakers read Russian more readily than English.
RUSSIAN_READERS = frozenset({"ru", "uk", "be", "kk"})


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Build every .mo from its .po when missing or older; returns what was written."""
    written = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


def create_i18n(default_locale: str) -> I18n:
    compile_catalogs()
    load_locale_data()
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


def load_locale_data() -> None:
    """Babel reads its CLDR data on first use (a quarter of a second); at start-up, not in someone's update."""
    for locale in SUPPORTED_LOCALES:
        format_date(date(2026, 1, 1), format="medium", locale=locale)
        format_decimal(1.5, locale=locale)


def locale_from_telegram(language_code: str | None, default: str) -> str:
    """Telegram's language_code → one of our locales (ru, uk, be, kk read Russian)."""
    if not language_code:
        return default
    base = language_code.split("-")[0].lower()
    return "ru" if base in RUSSIAN_READERS else "en"


def event_chat_and_user(update: Update) -> tuple[Chat | None, User | None]:
    """The chat and the person an update comes from, whatever its kind."""
    event = update.event
    chat = getattr(event, "chat", None)
    if chat is None and update.callback_query and update.callback_query.message:
        chat = update.callback_query.message.chat
    user = getattr(event, "from_user", None)
    return chat, user


def chosen_or_telegram(saved: str | None, language_code: str | None, default: str) -> str:
    """The one rule for every text the bot sends: the language the person (or group) chose with /language, else
    their Telegram language, else the default."""
    if saved in SUPPORTED_LOCALES:
        assert saved is not None
        return saved
    return locale_from_telegram(language_code, default)


async def person_locale(users: Any, user_id: int, default: str) -> str:
    """A person's language for a message sent outside their own update (a reminder, a notice, a digest)."""
    record = await users.get(user_id)
    if record is None:
        return default
    return chosen_or_telegram(record.locale, record.telegram_language, default)


class LocaleResolver:
    """Decides the locale of an update from what is saved in the database."""

    def __init__(self, users: Any, chats: Any, default_locale: str) -> None:
        self._users = users
        self._chats = chats
        self._default = default_locale

    async def for_update(self, update: Update, user_record: Any = None, chat_record: Any = None) -> str:
        """`user_record` / `chat_record`: the rows as read for this update already, if they were."""
        chat, user = event_chat_and_user(update)
        if chat is not None and chat.type != "private":
            record = chat_record if chat_record is not None else await self._chats.get(chat.id)
            saved = record.locale if record is not None else None
            return chosen_or_telegram(saved, user.language_code if user else None, self._default)
        if user is None:
            return self._default
        record = user_record if user_record is not None else await self._users.get(user.id)
        return chosen_or_telegram(record.locale if record is not None else None, user.language_code, self._default)


class DatabaseI18nMiddleware(I18nMiddleware):
    """Sets the locale for each update: saved choice first, then Telegram's language_code."""

    def __init__(self, i18n: I18n, resolver: LocaleResolver) -> None:
        super().__init__(i18n)
        self._resolver = resolver

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        update = data.get("event_update")
        if isinstance(event, Update):
            update = event
        if update is None:
            return self.i18n.default_locale
        return await self._resolver.for_update(update, data.get("user_record"), data.get("chat_record"))
