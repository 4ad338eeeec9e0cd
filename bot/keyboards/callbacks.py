"""Every CallbackData factory: short versioned prefixes, enum fields, nothing raw."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class LanguageChoice(CallbackData, prefix="lg1"):
    locale: str


class MenuAction(StrEnum):
    HELP = "help"
    LANGUAGE = "lang"


class MenuCallback(CallbackData, prefix="mn1"):
    action: MenuAction
