"""Linking a group to a partnership: `/start@bot gs_<token>` sent by Telegram after the manager's `startgroup`
link, and the answer of the linked team's owner when another team asks for the group.

What a group sees here names only the partner being linked; a refusal names none."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.checkins import CheckinService
from bot.clock import Clock
from bot.deep_links import DeepLinkGuard
from bot.domain.checkins import next_occurrence
from bot.domain.group_links import (
    LINK_PREFIX,
    PAYLOAD_PATTERN,
    LinkAttempt,
    LinkDecision,
    LinkState,
    decide_link,
    may_answer_relink,
)
from bot.handlers.basics import user_is_admin
from bot.handlers.checkins import person_name, seed_admins
from bot.handlers.filters import GROUP, PRIVATE, PressOf
from bot.handlers.notices import in_their_language, tell_privately
from bot.handlers.replies import say_stale
from bot.i18n import person_locale
from bot.keyboards.checkin_callbacks import RelinkCallback
from bot.keyboards.grid import ButtonGrid
from bot.storage.chats import ChatRepo
from bot.storage.checkins import CheckinRepo, NewSchedule, Schedule
from bot.storage.group_links import GroupLink, GroupLinkRepo, RelinkRequest
from bot.storage.partners import PartnerRepo
from bot.storage.users import UserRepo
from bot.storage.workspaces import WorkspaceRepo
from bot.views.checkin_texts import summary_lines
from bot.views.formatting import short_date, user_text

log = logging.getLogger(__name__)


# The kinds of button data this feature's handlers take.
PRESSES = (RelinkCallback,)


def router() -> Router:
    r = Router(name="checkin_links")
    r.callback_query.filter(PressOf(*PRESSES))
    r.message.register(link_in_group, GROUP, CommandStart(deep_link=True, magic=F.args.startswith(LINK_PREFIX)))
    r.callback_query.register(relink_answered, PRIVATE, RelinkCallback.filter())
    return r


class Linking:
    """What linking a group needs beyond the handler's own checks; built once at start-up (bot/app.py) and passed to
    the handlers as `linking`."""

    def __init__(self, bot: Bot, checkins: CheckinRepo, group_links: GroupLinkRepo, workspaces: WorkspaceRepo,
                 partners: PartnerRepo, users: UserRepo, chats: ChatRepo, checkin_service: CheckinService,
                 clock: Clock, i18n: I18n) -> None:
        self.bot, self.checkins, self.group_links, self.workspaces = bot, checkins, group_links, workspaces
        self.partners, self.users, self.chats, self.service = partners, users, chats, checkin_service
        self.clock, self.i18n = clock, i18n

    async def partner_name(self, schedule: NewSchedule) -> str:
        partner = await self.partners.get(schedule.workspace_id, schedule.partner_id)
        return partner.name if partner else "—"

    async def in_locale_of(self, user_id: int, render: Callable[..., str], *args: Any) -> str:
        return await in_their_language(self.users, self.i18n, user_id, render, *args)

    async def tell(self, chat_id: int, render: Callable[..., str], *args: Any,
                   markup: InlineKeyboardMarkup | None = None) -> None:
        await tell_privately(self.bot, self.users, self.i18n, chat_id, render, *args, markup=markup)



    async def edit_wizard(self, link: GroupLink, render: Callable[..., str], *args: Any) -> None:
        """The manager's live wizard message becomes the outcome (its button is spent), in their language."""
        if link.private_message_id is None:
            return
        text = await self.in_locale_of(link.created_by, render, *args)
        try:
            await self.bot.edit_message_text(text, chat_id=link.created_by, message_id=link.private_message_id)
        except TelegramAPIError as error:
            log.info("wizard message of %s not edited: %s", link.created_by, error)

    async def apply(self, chat_id: int, chat_title: str | None, link: GroupLink, by: int) -> None:
        """Save the schedule, (re)start its job, announce it in the group in the group's language."""
        now = self.clock.now()
        schedule = await self.checkins.save_schedule(chat_id, link.schedule, by, now)
        await self.service.save(schedule)
        await seed_admins(self.bot, self.checkins, chat_id, self.clock)
        name = await self.partner_name(link.schedule)
        record = await self.chats.get(chat_id)
        locale = record.locale if record and record.locale else self.i18n.default_locale
        with self.i18n.use_locale(locale):
            text = linked_text(schedule, name, locale, now)  # as saved: a skipped doc keeps the earlier one
        try:
            await self.bot.send_message(chat_id, text)
        except TelegramAPIError as error:
            log.info("link confirmation in %s not sent: %s", chat_id, error)
        manager = await person_locale(self.users, link.created_by, self.i18n.default_locale)
        await self.edit_wizard(link, linked_notice, chat_title, schedule, name, manager, now)


def linked_notice(group: str | None, schedule: Schedule | NewSchedule, partner: str, locale: str, now: datetime) -> str:
    return "\n".join([_("✅ <b>Linked to “{group}”.</b>").format(group=user_text(group or "—")),
                      *summary_lines(schedule, partner, locale, now)])


def linked_text(schedule: Schedule | NewSchedule, partner_name: str, locale: str, now: datetime) -> str:
    first = next_occurrence(schedule.when, now).astimezone(schedule.when.zone)
    return "\n".join(
        [
            _("✅ <b>Weekly check-in is set.</b>"),
            *summary_lines(schedule, partner_name, locale, now),
            "",
            _("📆 The first one: {date}").format(date=short_date(first, locale)),
            _("Anyone away can say so with /away; /digest shows the answers so far."),
        ]
    )


async def invalid_group_link(message: Message, state: LinkState, deep_links: DeepLinkGuard) -> None:
    """A wrong, expired or spent group link: counted against the sender's deep links, one reply naming no partner."""
    await deep_links.failed(message)
    if state is LinkState.EXPIRED:
        text = _("This set-up link has expired. Send /checkin to me in private for a new one.")
    elif state is LinkState.USED:
        text = _("This set-up link was already used. Send /checkin to me in private for a new one.")
    else:
        text = _("This set-up link is not valid. Send /checkin to me in private to set up the check-in.")
    await message.reply(text)


async def link_in_group(
    message: Message,
    command: CommandObject,
    bot: Bot,
    checkins: CheckinRepo,
    group_links: GroupLinkRepo,
    workspaces: WorkspaceRepo,
    linking: Linking,
    clock: Clock,
    deep_links: DeepLinkGuard,
) -> None:
    """`/start@bot gs_<token>` in a group: the manager's link, checked, then linked, or the other team asked."""
    payload = command.args or ""
    if message.from_user is None or message.sender_chat is not None:
        await message.reply(_("Please use the set-up link from your own account, not anonymously."))
        return
    claim = await group_links.lookup(payload, clock.now()) if re.fullmatch(PAYLOAD_PATTERN, payload) else None
    if claim is None or claim.link is None:
        await invalid_group_link(message, claim.state if claim else LinkState.UNKNOWN, deep_links)
        return
    link, user, chat = claim.link, message.from_user, message.chat
    current = await checkins.schedule_for_chat(chat.id)
    linked = current.workspace_id if current is not None and current.active else None
    owner = await workspaces.owner_id(linked) if linked is not None else None
    # A team whose check-in here was stopped is not asked, but it is told when another team takes the group.
    stopped_team = (current.workspace_id if current is not None and not current.active
                    and current.workspace_id != link.schedule.workspace_id else None)
    decision = decide_link(LinkAttempt(
        link_workspace_id=link.schedule.workspace_id,
        linked_workspace_id=linked,
        actor_is_group_admin=await user_is_admin(bot, chat.id, user.id),
        actor_in_link_workspace=await checkins.is_workspace_member(link.schedule.workspace_id, user.id),
        actor_owns_linked_workspace=owner == user.id,
    ))
    if decision is LinkDecision.NOT_ALLOWED:
        await message.reply(_("Only a group admin from the team that made this link can use it. The link still "
                              "works for them."))
        return
    if not await group_links.use(link.id, chat.id, clock.now()):
        await invalid_group_link(message, LinkState.USED, deep_links)
        return
    ctx = linking
    if decision is LinkDecision.ASK_OWNER:
        await _ask_owner(message, user, link, linked, owner, ctx)
        return
    await ctx.apply(chat.id, chat.title, link, user.id)
    if decision is LinkDecision.LINK_AND_TELL_OWNER and owner is not None:
        name = await ctx.partner_name(link.schedule)
        await ctx.tell(owner, changed_notice, chat.title, person_name(user), name)
    stopped_owner = await workspaces.owner_id(stopped_team) if stopped_team is not None else None
    if stopped_owner is not None:
        await ctx.tell(stopped_owner, taken_notice, chat.title)


def taken_notice(group: str | None) -> str:
    return _("ℹ️ “{group}”, where your weekly check-in was stopped, now has another team's weekly check-in.").format(
        group=user_text(group or "—"))


def changed_notice(group: str | None, person: str, partner: str) -> str:
    return _("ℹ️ {person} changed the weekly check-in of “{group}”: it is now for “{partner}”.").format(
        person=user_text(person), group=user_text(group or "—"), partner=user_text(partner)
    )


async def _ask_owner(message: Message, user: User, link: GroupLink, linked: int | None, owner: int | None,
                     ctx: Linking) -> None:
    """The group is another team's: nothing changes until that team's owner agrees."""
    assert linked is not None
    chat = message.chat
    if owner is None:
        await message.reply(_("This group's weekly check-in belongs to another team, so I did not change it."))
        await ctx.tell(user.id, no_owner_notice, chat.title)
        return
    await message.reply(_("This group's weekly check-in belongs to another team, so I did not change it. I asked "
                          "that team's owner; nothing changes unless they agree."))
    request_id = await ctx.group_links.request_relink(link.id, chat.id, chat.title, linked, user.id, ctx.clock.now())
    await ctx.edit_wizard(link, asked_notice, chat.title)
    if link.created_by != user.id or link.private_message_id is None:
        await ctx.tell(user.id, asked_notice, chat.title)
    locale = await person_locale(ctx.users, owner, ctx.i18n.default_locale)
    with ctx.i18n.use_locale(locale):
        markup = relink_keyboard(request_id)
    await ctx.tell(owner, relink_question, chat.title, person_name(user), markup=markup)


def no_owner_notice(group: str | None) -> str:
    return _("“{group}” belongs to another team, and it has no owner to ask. Nothing changed.").format(
        group=user_text(group or "—"))


def asked_notice(group: str | None) -> str:
    return _("⏳ “{group}” already has another team's weekly check-in. I asked that team's owner and will tell you "
             "their answer here.").format(group=user_text(group or "—"))


def relink_question(group: str | None, person: str) -> str:
    return _(
        "🔁 {person}, from another team, wants the group “{group}” for their own weekly check-in. Today the group "
        "has yours. If you agree, your check-in there stops and theirs starts. Agree?"
    ).format(person=user_text(person), group=user_text(group or "—"))


def relink_keyboard(request_id: int) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(text=_("Agree"), callback_data=RelinkCallback(request_id=request_id, agree=True))
    b.button(text=_("Refuse"), callback_data=RelinkCallback(request_id=request_id, agree=False))
    b.adjust(2)
    return b.as_markup()


async def relink_answered(
    callback: CallbackQuery,
    callback_data: RelinkCallback,
    bot: Bot,
    checkins: CheckinRepo,
    group_links: GroupLinkRepo,
    workspaces: WorkspaceRepo,
    linking: Linking,
    clock: Clock,
) -> None:
    """Agree / Refuse from the linked team's owner: re-checked here, since callback data can be forged."""
    message = callback.message
    if not isinstance(message, Message):
        return
    now = clock.now()
    request = await group_links.request(callback_data.request_id)
    current = await checkins.schedule_for_chat(request.chat_id) if request else None
    still_theirs = (request is not None and current is not None and current.active
                    and current.workspace_id == request.from_workspace_id)
    owner = await workspaces.owner_id(request.from_workspace_id) if request else None
    if request is None or not still_theirs or not may_answer_relink(
            callback.from_user.id, owner, request.decided, request.expires_at, now):
        await say_stale(message)
        return
    link = await group_links.link(request.link_id)
    if link is None:
        await say_stale(message)
        return
    # Days may have passed: whoever asked must still be able to link the group now.
    asker_can_link = (await checkins.is_workspace_member(link.schedule.workspace_id, request.requested_by)
                      and await user_is_admin(bot, request.chat_id, request.requested_by))
    agreed = callback_data.agree and asker_can_link
    if not await group_links.decide(request.id, "agreed" if agreed else "refused", now):
        await say_stale(message)
        return
    if callback_data.agree and not asker_can_link:
        await message.edit_text(_("Nothing changed: whoever asked for “{group}” can no longer link it — they left "
                                  "their team or are no longer a group admin.").format(
                                      group=user_text(request.chat_title or "—")))
        return
    ctx = linking
    await _settle(message, request, link, callback_data.agree, ctx)


async def _settle(message: Message, request: RelinkRequest, link: GroupLink, agreed: bool, ctx: Linking) -> None:
    """Both teams hear the outcome; the group hears only the new partner's name, and only if agreed."""
    group = user_text(request.chat_title or "—")
    if agreed:
        await ctx.apply(request.chat_id, request.chat_title, link, request.requested_by)
        await message.edit_text(_("✅ You agreed: “{group}” now has the other team's weekly check-in; yours there "
                                  "is stopped.").format(group=group))
        await ctx.tell(request.requested_by, agreed_notice, request.chat_title)
        return
    await message.edit_text(_("Refused: “{group}” keeps your weekly check-in.").format(group=group))
    await ctx.edit_wizard(link, refused_notice, request.chat_title)
    await ctx.tell(request.requested_by, refused_notice, request.chat_title)


def agreed_notice(group: str | None) -> str:
    return _("✅ The other team's owner agreed: “{group}” now has your weekly check-in.").format(
        group=user_text(group or "—"))


def refused_notice(group: str | None) -> str:
    return _("The other team's owner refused: “{group}” keeps their weekly check-in, and nothing changed.").format(
        group=user_text(group or "—")
    )
