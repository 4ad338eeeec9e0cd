"""Every CallbackData factory: short versioned prefixes, enum fields, nothing raw."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.domain.evidence import ConversationSignal
from bot.keyboards.numbers import CallbackId, CallbackPage


class LanguageChoice(CallbackData, prefix="lg1"):
    locale: str


class MenuAction(StrEnum):
    HELP = "help"
    LANGUAGE = "lang"
    NEW_PARTNER = "new"
    PARTNERS = "list"
    TEAM = "team"
    STATS = "stats"
    PORTFOLIO = "port"
    EXPORT = "exp"
    MY_DATA = "me"


class MenuCallback(CallbackData, prefix="mn1"):
    action: MenuAction


class PartnerAction(StrEnum):
    LIST = "l"
    OPEN = "o"
    ARCHIVE = "a"
    UNARCHIVE = "u"
    EVIDENCE = "e"
    SIGNALS = "s"
    GUT_CHECK = "g"
    SCORECARD = "c"
    NEW = "n"
    SCOPE = "p"
    LOG = "lg"
    DEBRIEF = "db"
    REPORT = "rp"


class PartnerCallback(CallbackData, prefix="pt1"):
    """Navigation around partners: the list (page, archived or not) and the card's actions."""

    action: PartnerAction
    partner_id: CallbackId = 0
    page: CallbackPage = 0
    archived: bool = False


class EvidenceAction(StrEnum):
    VIEW = "v"
    ADD_CASE = "c"
    ADD_TESTIMONIAL = "t"
    ADD_COMMUNITY = "m"
    DELETE_MODE = "d"
    DELETE = "x"


class EvidenceCallback(CallbackData, prefix="ev1"):
    """The evidence screen of a partner; DELETE names the item by its kind and id."""

    action: EvidenceAction
    partner_id: CallbackId
    kind: str = ""
    item_id: CallbackId = 0


class SignalCallback(CallbackData, prefix="sg1"):
    """Ticks or unticks one conversation signal of a partner."""

    partner_id: CallbackId
    signal: ConversationSignal
