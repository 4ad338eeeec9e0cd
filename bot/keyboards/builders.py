"""Keyboards shown in more than one place."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.callbacks import LanguageChoice, MenuAction, MenuCallback, PartnerAction, PartnerCallback
from bot.keyboards.grid import ButtonGrid
from bot.keyboards.reference_callbacks import ReferenceLanguage

# Each language is named in itself, so a person who cannot read the current one still finds theirs.
LANGUAGE_NAMES = {"ru": "🇷🇺 Русский", "en": "🇬🇧 English"}


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    builder = ButtonGrid()
    for locale, name in LANGUAGE_NAMES.items():
        mark = "✓ " if locale == current else ""
        builder.button(text=mark + name, callback_data=LanguageChoice(locale=locale))
    builder.adjust(2)
    return builder.as_markup()


# Keyboards a person comes back to rather than steps of a flow: the main menu and the language pickers.
STANDING = (MenuCallback, LanguageChoice, ReferenceLanguage)


def is_standing(markup: InlineKeyboardMarkup) -> bool:
    """Every button of the markup opens a place or sets the language (bot/plumbing/live_keyboards.py keeps the
    latest such keyboard live beside the flow's)."""
    data = [button.callback_data for row in markup.inline_keyboard for button in row if button.callback_data]
    return bool(data) and all(_is_standing(item) for item in data)


def _is_standing(data: str) -> bool:
    for factory in STANDING:
        try:
            factory.unpack(data)
        except (TypeError, ValueError):
            continue
        return True
    return False


def card_button(partner_id: int) -> InlineKeyboardMarkup:
    """« Card: back to the partner's card, after a flow that started there."""
    builder = ButtonGrid()
    builder.button(text=_("« Card"), callback_data=PartnerCallback(action=PartnerAction.OPEN, partner_id=partner_id))
    return builder.as_markup()


def main_menu() -> InlineKeyboardMarkup:
    builder = ButtonGrid()
    builder.button(text=_("➕ New partner"), callback_data=MenuCallback(action=MenuAction.NEW_PARTNER))
    builder.button(text=_("📋 Partners"), callback_data=MenuCallback(action=MenuAction.PARTNERS))
    builder.button(text=_("👥 Team"), callback_data=MenuCallback(action=MenuAction.TEAM))
    builder.button(text=_("📈 Learning loop"), callback_data=MenuCallback(action=MenuAction.STATS))
    builder.button(text=_("🗺 Portfolio"), callback_data=MenuCallback(action=MenuAction.PORTFOLIO))
    builder.button(text=_("📦 Export"), callback_data=MenuCallback(action=MenuAction.EXPORT))
    builder.button(text=_("🔐 My data"), callback_data=MenuCallback(action=MenuAction.MY_DATA))
    builder.button(text=_("❓ Help"), callback_data=MenuCallback(action=MenuAction.HELP))
    builder.button(text=_("🌐 Language"), callback_data=MenuCallback(action=MenuAction.LANGUAGE))
    builder.adjust(2)
    return builder.as_markup()
