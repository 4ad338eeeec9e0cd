"""Debrief reminders: on a campaign's due date its manager is reminded in private, once.

Derived from the database every time it runs (at start-up and every few minutes), so a restart across the due
date still reminds, and the claim written before sending makes sure nobody is reminded twice.
"""

from __future__ import annotations

import logging

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.i18n import person_locale
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.grid import ButtonGrid
from bot.plumbing.outbound import Outbound
from bot.storage.campaigns import CampaignRepo, DueReminder
from bot.storage.users import UserRepo
from bot.views.formatting import short_date, user_text

log = logging.getLogger(__name__)

# How often the scheduler looks for campaigns that became due (the first look is at start-up).
REMINDER_INTERVAL_MINUTES = 15


def reminder_message(due: DueReminder, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    """The reminder's text and its Debrief button, in the current i18n locale."""
    text = _(
        "🏁 The campaign with <b>{name}</b> was due on {date} — time to debrief it: what worked, what didn't, and "
        "whether to expand, re-run or walk."
    ).format(name=user_text(due.partner_name), date=short_date(due.due_date, locale))
    b = ButtonGrid()
    b.button(
        text=_("🏁 Debrief now"), callback_data=PartnerCallback(action=PartnerAction.DEBRIEF, partner_id=due.partner_id)
    )
    return text, b.as_markup()


async def send_due_reminders(
    outbound: Outbound, campaigns: CampaignRepo, users: UserRepo, i18n: I18n, clock: Clock
) -> int:
    """Remind the manager of every running campaign due by today, once each; returns how many were sent.

    Through the outbound lane like every other push, so Telegram's limits, 429s and 403s are handled in one place.
    """
    sent = 0
    for due in await campaigns.due_reminders(clock.now().date()):
        # Claim first: a crash after this line loses one reminder, but none is ever sent twice.
        if not await campaigns.claim_reminder(due.campaign_id, clock.now()):
            continue
        locale = await person_locale(users, due.manager_id, i18n.default_locale)
        with i18n.context(), i18n.use_locale(locale):
            text, markup = reminder_message(due, locale)
        delivery = await outbound.send(due.manager_id, text, reply_markup=markup)
        if delivery.ok:
            sent += 1
        elif delivery.forbidden:
            log.info("debrief reminder for campaign %s not delivered: the manager blocked the bot", due.campaign_id)
        else:
            log.warning("debrief reminder for campaign %s not delivered: %s", due.campaign_id, delivery.error)
    return sent
