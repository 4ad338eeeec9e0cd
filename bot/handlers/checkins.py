"""The weekly check-in: /checkin set-up in a group (admins only), answers by reply or in private
(/start ci_<token>), edits of answers, /away and /digest."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReactionTypeEmoji, User
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.checkins import CheckinService
from bot.clock import Clock
from bot.deep_links import DeepLinkGuard
from bot.domain.checkins import (
    AWAY_WEEKS_MAX,
    DEFAULT_DIGEST_HOURS,
    DIGEST_HOURS_MAX,
    DIGEST_HOURS_MIN,
    ZONE_CHOICES,
    Answer,
    WeeklyTime,
    blocker_or_none,
    parse_answer,
    parse_away_weeks,
    parse_digest_hours,
    parse_time,
    resolve_timezone,
    says_yes,
)
from bot.domain.group_links import LINK_TTL
from bot.domain.numbers import PAGE_MAX, spelt_by_bot
from bot.domain.partners import validate_url
from bot.domain.text import clean_typed, safe_name
from bot.handlers.basics import user_is_admin
from bot.handlers.drafts import DraftModel
from bot.handlers.filters import COMMAND, GROUP, HAS_TEXT, NO_TEXT, PRIVATE, TYPED, PressOf
from bot.handlers.notices import tell_privately
from bot.handlers.replies import answer_stale, say_stale, typed_text
from bot.keyboards.checkin_callbacks import (
    AnswerCallback,
    AnswerStep,
    AwayCallback,
    CheckinPartnerCallback,
    ManageAction,
    SetupCallback,
    SetupStep,
)
from bot.keyboards.grid import ButtonGrid
from bot.plumbing.middlewares import notify_press
from bot.storage.checkins import CheckinRepo, NewSchedule, Round
from bot.storage.group_links import GroupLinkRepo
from bot.storage.partners import PartnerRepo
from bot.storage.users import UserRepo
from bot.storage.workspaces import WorkspaceRepo
from bot.views.checkin_texts import (
    DEEP_LINK_PREFIX,
    day_name,
    hours_text,
    summary_lines,
    token_in,
    zone_label,
)
from bot.views.formatting import button_label, short_date, user_text

log = logging.getLogger(__name__)

PARTNERS_PER_PAGE = 8
TIME_CHOICES = ("09:00", "10:00", "11:00", "12:00", "15:00", "16:00", "17:00", "18:00")
HOURS_CHOICES = (12, 24, 48)
AWAY_CHOICES = (1, 2, 3, 4)
ANSWER_TEXT_MAX = 3000  # one reply in the group
ANSWER_FIELD_MAX = 1000  # one step of the private answer
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
TOKEN_LINK = rf"^{DEEP_LINK_PREFIX}[A-Za-z0-9_-]{{8,64}}$"
SETUP_PAYLOAD = "checkin"  # /start checkin: the button a group shows instead of a partner list
# The bot posts, reads replies to its own messages and edits nothing of others: it needs no admin rights, and as an
# admin it would receive every message of the group (admins are exempt from privacy mode). So the startgroup link
# asks for none; a right added here (ChatAdministratorRights names without `can_`) is requested from the user.
GROUP_ADMIN_RIGHTS: tuple[str, ...] = ()
LINK_HOURS = int(LINK_TTL.total_seconds() // 3600)


class CheckinSetup(StatesGroup):
    """The set-up wizard in private (and the manage menu in a group, per admin)."""

    waiting_for_manage_choice = State()
    waiting_for_partner = State()
    waiting_for_weekday = State()
    waiting_for_time = State()
    waiting_for_zone = State()
    waiting_for_hours = State()
    waiting_for_doc = State()


class CheckinAnswer(StatesGroup):
    """Answering a round in private, opened by /start ci_<token>."""

    waiting_for_shipped = State()
    waiting_for_next = State()
    waiting_for_blockers = State()
    waiting_for_call = State()


class SetupDraft(DraftModel):
    """What /checkin has collected so far (FSM data, plain JSON)."""

    workspace_id: int = 0
    partner_id: int = 0
    partner_name: str = ""
    weekday: int = 0
    hour: int = 0
    minute: int = 0
    timezone: str = ""
    digest_hours: int = DEFAULT_DIGEST_HOURS

    KEY = "checkin_setup"


class AnswerDraft(DraftModel):
    """An answer to a round being typed in private (FSM data, plain JSON)."""

    round_id: int = 0
    shipped: str = ""
    next: str = ""
    blockers: str | None = None

    KEY = "checkin_answer"


# The kinds of button data this feature's handlers take.
PRESSES = (AnswerCallback, CheckinPartnerCallback, SetupCallback, AwayCallback)


def router() -> Router:
    r = Router(name="checkins")
    r.callback_query.filter(PressOf(*PRESSES))
    # Private: the deep link and the answer conversation.
    r.message.register(open_private_answer, PRIVATE, CommandStart(deep_link=True, magic=F.args.regexp(TOKEN_LINK)))
    answering = StateFilter(*CheckinAnswer.__states__)
    r.message.register(answer_step_is_command, PRIVATE, answering, COMMAND)
    r.message.register(shipped_given, PRIVATE, StateFilter(CheckinAnswer.waiting_for_shipped), HAS_TEXT)
    r.message.register(next_given, PRIVATE, StateFilter(CheckinAnswer.waiting_for_next), HAS_TEXT)
    r.message.register(blockers_given, PRIVATE, StateFilter(CheckinAnswer.waiting_for_blockers), HAS_TEXT)
    r.message.register(call_typed, PRIVATE, StateFilter(CheckinAnswer.waiting_for_call), HAS_TEXT)
    r.message.register(answer_step_not_text, PRIVATE, answering)
    r.callback_query.register(
        no_blockers_pressed,
        PRIVATE,
        AnswerCallback.filter(F.step == AnswerStep.BLOCKERS),
        StateFilter(CheckinAnswer.waiting_for_blockers),
    )
    r.callback_query.register(
        call_pressed,
        PRIVATE,
        AnswerCallback.filter(F.step == AnswerStep.CALL),
        StateFilter(CheckinAnswer.waiting_for_call),
    )
    r.callback_query.register(stale_answer_button, AnswerCallback.filter())

    # Private: the set-up wizard (the group only ever sees the partner it is linked to; see checkin_links).
    r.message.register(private_checkin_command, PRIVATE, Command("checkin"))
    r.message.register(private_checkin_command, PRIVATE, CommandStart(deep_link=True, magic=F.args == SETUP_PAYLOAD))
    r.callback_query.register(partner_chosen, PRIVATE, CheckinPartnerCallback.filter())
    setup_text = {
        CheckinSetup.waiting_for_time: time_typed,
        CheckinSetup.waiting_for_zone: zone_typed,
        CheckinSetup.waiting_for_hours: hours_typed,
        CheckinSetup.waiting_for_doc: doc_typed,
    }
    for step_state, handler in setup_text.items():
        r.message.register(handler, PRIVATE, StateFilter(step_state), TYPED)
    r.message.register(setup_needs_text, PRIVATE, StateFilter(*setup_text), NO_TEXT)
    buttons = {
        (CheckinSetup.waiting_for_partner, SetupStep.PAGE): partner_page,
        (CheckinSetup.waiting_for_weekday, SetupStep.WEEKDAY): weekday_chosen,
        (CheckinSetup.waiting_for_time, SetupStep.TIME): time_chosen,
        (CheckinSetup.waiting_for_zone, SetupStep.ZONE): zone_chosen,
        (CheckinSetup.waiting_for_hours, SetupStep.HOURS): hours_chosen,
        (CheckinSetup.waiting_for_doc, SetupStep.DOC): doc_skipped,
    }
    for (step_state, step), handler in buttons.items():
        r.callback_query.register(
            handler, PRIVATE, SetupCallback.filter(F.step == step), StateFilter(step_state)
        )

    # Groups: commands, answers by reply, edits of answers, the manage menu.
    r.message.register(checkin_command, GROUP, Command("checkin"))
    r.message.register(away_command, GROUP, Command("away"))
    r.message.register(digest_command, GROUP, Command("digest"))
    r.message.register(answer_by_reply, GROUP, reply_to_round)
    r.edited_message.register(answer_edited, GROUP)
    r.callback_query.register(
        manage_chosen,
        GROUP,
        SetupCallback.filter(F.step == SetupStep.MANAGE),
        StateFilter(CheckinSetup.waiting_for_manage_choice),
    )
    r.callback_query.register(setup_button_not_yours, SetupCallback.filter())
    r.callback_query.register(away_pressed, GROUP, AwayCallback.filter())
    return r


# ---- shared helpers ------------------------------------------------------------------------------------


def person_name(user: User) -> str:
    """How a member is named to the group (digests, /away): the Telegram name without bidi controls, else the
    username or the id when nothing visible is left of it."""
    return safe_name(user.full_name) or (f"@{user.username}" if user.username else str(user.id))


async def _remember(checkins: CheckinRepo, message: Message, clock: Clock) -> None:
    if message.from_user is not None and not message.from_user.is_bot:
        await checkins.touch_person(message.chat.id, message.from_user.id, person_name(message.from_user), clock.now())


def _is_anonymous_admin(message: Message) -> bool:
    return message.sender_chat is not None and message.sender_chat.id == message.chat.id


def closed_text() -> str:
    return _("This check-in is already closed and its digest is out. The next one will come as usual.")


# ---- /checkin: set-up, change, stop --------------------------------------------------------------------


async def checkin_command(
    message: Message,
    bot: Bot,
    state: FSMContext,
    checkins: CheckinRepo,
    partners: PartnerRepo,
    clock: Clock,
    i18n: I18n,
) -> None:
    """/checkin in a group: admins only; the linked team's admins get the manage menu, nobody gets a partner list."""
    if _is_anonymous_admin(message):
        await message.reply(
            _(
                "You are posting anonymously as the group, so I can't tell whose workspace to link. "
                "Please send /checkin again from your own account."
            )
        )
        return
    assert message.from_user is not None
    if not await user_is_admin(bot, message.chat.id, message.from_user.id):
        await message.reply(_("Sorry, only the group's admins can set up or change the weekly check-in."))
        return
    await _remember(checkins, message, clock)
    await state.clear()
    private = await private_link(bot, SETUP_PAYLOAD)
    schedule = await checkins.schedule_for_chat(message.chat.id)
    if schedule is None or not schedule.active:
        await message.reply(
            _(
                "The weekly check-in is set up in a private chat with me, so that no other partnership is ever "
                "shown here. Tap the button, choose the partner and the schedule, then add me back here from there."
            ),
            reply_markup=url_keyboard(_("Set up in private"), private),
        )
        return
    if not await checkins.is_workspace_member(schedule.workspace_id, message.from_user.id):
        await message.reply(
            _(
                "This group's weekly check-in belongs to another team, so only its members can change it. To link "
                "the group to your partnership, start in a private chat with me: the other team's owner will be asked."
            ),
            reply_markup=url_keyboard(_("Open the private chat"), private),
        )
        return
    partner = await partners.get(schedule.workspace_id, schedule.partner_id)
    text = "\n".join(
        [_("<b>This group's weekly check-in</b>"),
         *summary_lines(schedule, partner.name if partner else "—", i18n.current_locale, clock.now()),
         "", _("Change it, or stop it? A change is made in a private chat with me.")]
    )
    await state.set_state(CheckinSetup.waiting_for_manage_choice)
    await message.reply(text, reply_markup=manage_keyboard(private))


async def private_link(bot: Bot, payload: str) -> str:
    """https://t.me/<bot>?start=<payload>: opens the private chat with the bot from a group."""
    me = await bot.me()
    return f"https://t.me/{me.username}?start={payload}"


def url_keyboard(text: str, url: str) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(text=text, url=url)
    return b.as_markup()


async def private_checkin_command(
    message: Message, state: FSMContext, workspaces: WorkspaceRepo, partners: PartnerRepo
) -> None:
    """/checkin (or /start checkin from a group's button) in private: step 1, the workspace's partners."""
    assert message.from_user is not None
    await state.clear()
    workspace = await workspaces.current_for(message.from_user.id)
    if workspace is None:
        await message.answer(
            _("To set up a weekly check-in you need a workspace with a partner. Send /start to create one.")
        )
        return
    draft = SetupDraft(workspace_id=workspace.id)
    await draft.save(state)
    await state.set_state(CheckinSetup.waiting_for_partner)
    text, markup = await partner_step(partners, workspace.id, message.from_user.id, 0)
    if markup is None:
        await state.clear()
    await message.answer(text, reply_markup=markup)


async def seed_admins(bot: Bot, checkins: CheckinRepo, chat_id: int, clock: Clock) -> None:
    """The group's admins are the first people the digest expects answers from (privacy mode hides the rest)."""
    try:
        admins = await bot.get_chat_administrators(chat_id)
    except TelegramAPIError as error:
        log.info("admins of chat %s not read: %s", chat_id, error)
        return
    for admin in admins:
        if not admin.user.is_bot:
            await checkins.touch_person(chat_id, admin.user.id, person_name(admin.user), clock.now())


def manage_keyboard(private_url: str) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(text=_("✏️ Change in private"), url=private_url)
    b.button(text=_("⏹ Stop"), callback_data=SetupCallback(step=SetupStep.MANAGE, value=ManageAction.STOP))
    b.button(text=_("Keep as is"), callback_data=SetupCallback(step=SetupStep.MANAGE, value=ManageAction.KEEP))
    b.adjust(1, 2)
    return b.as_markup()


async def partner_step(
    partners: PartnerRepo, workspace_id: int, viewer_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Step 1 in private: the workspace's partners (never shown in a group)."""
    items, total = await partners.page(workspace_id, False, page * PARTNERS_PER_PAGE, PARTNERS_PER_PAGE, viewer_id)
    if total == 0:
        return _("Your workspace has no partners yet. Add one with /newpartner, then send /checkin again."), None
    b = ButtonGrid()
    for partner, _score in items:
        b.button(text=button_label(partner.name, 60), callback_data=CheckinPartnerCallback(partner_id=partner.id))
    sizes = [1] * len(items)
    nav = 0
    if page > 0:
        b.button(text="‹", callback_data=SetupCallback(step=SetupStep.PAGE, value=str(page - 1)))
        nav += 1
    if (page + 1) * PARTNERS_PER_PAGE < total:
        b.button(text="›", callback_data=SetupCallback(step=SetupStep.PAGE, value=str(page + 1)))
        nav += 1
    b.adjust(*sizes, *([nav] if nav else []))
    return _("Weekly check-in, step 1 of 6: which partnership is it for?"), b.as_markup()


async def manage_chosen(
    callback: CallbackQuery,
    callback_data: SetupCallback,
    state: FSMContext,
    bot: Bot,
    checkins: CheckinRepo,
    checkin_service: CheckinService,
    clock: Clock,
    workspaces: WorkspaceRepo,
    users: UserRepo,
    i18n: I18n,
) -> None:
    """Stop or keep the check-in the group has; only admins who are in the linked team (its owner is told)."""
    message = callback.message
    if not isinstance(message, Message):
        return
    schedule = await checkins.schedule_for_chat(message.chat.id)
    allowed = await user_is_admin(bot, message.chat.id, callback.from_user.id) and (
        schedule is None or await checkins.is_workspace_member(schedule.workspace_id, callback.from_user.id)
    )
    if not allowed:  # told on the press alone: the group need not read about it
        await state.clear()
        refusal = _("Sorry, only the group's admins can set up or change the weekly check-in.")
        if not notify_press(refusal, alert=True):
            await message.answer(refusal)
        return
    await state.clear()
    if callback_data.value == ManageAction.STOP:
        for stopped in await checkins.stop_chat(message.chat.id, clock.now()):
            checkin_service.stop(stopped.id)
        await message.edit_text(_("⏹ The weekly check-in is stopped. Send /checkin to set it up again."))
        owner = await workspaces.owner_id(schedule.workspace_id) if schedule is not None else None
        if owner is not None and owner != callback.from_user.id:
            await tell_privately(bot, users, i18n, owner, stopped_notice, message.chat.title,
                                 person_name(callback.from_user))
        return
    await message.edit_text(_("Nothing changed: the weekly check-in stays as it is."))


def stopped_notice(group: str | None, person: str) -> str:
    return _("⏹ {person} stopped the weekly check-in of “{group}”.").format(
        person=user_text(person), group=user_text(group or "—"))


async def partner_page(
    callback: CallbackQuery, callback_data: SetupCallback, state: FSMContext, partners: PartnerRepo
) -> None:
    """‹ › under the partner list."""
    if not isinstance(callback.message, Message):
        return
    page = spelt_by_bot(callback_data.value, 0, PAGE_MAX)
    if page is None:
        await answer_stale(callback)
        return
    draft = await SetupDraft.load(state)
    text, markup = await partner_step(partners, draft.workspace_id, callback.from_user.id, page)
    await callback.message.edit_text(text, reply_markup=markup)


async def partner_chosen(
    callback: CallbackQuery,
    callback_data: CheckinPartnerCallback,
    state: FSMContext,
    workspaces: WorkspaceRepo,
    partners: PartnerRepo,
    i18n: I18n,
) -> None:
    """Step 1 done, from the list or the partner card: the partner, re-read through the user's workspace."""
    if not isinstance(callback.message, Message):
        return
    workspace = await workspaces.current_for(callback.from_user.id)
    partner = await partners.get(workspace.id, callback_data.partner_id) if workspace is not None else None
    if workspace is None or partner is None or partner.archived:
        await state.clear()
        await callback.message.answer(_("I can't find that partner in your workspace. Send /checkin to start again."))
        return
    from_list = await state.get_state() == CheckinSetup.waiting_for_partner.state
    await state.clear()
    await SetupDraft(workspace_id=workspace.id, partner_id=partner.id, partner_name=partner.name).save(state)
    await state.set_state(CheckinSetup.waiting_for_weekday)
    b = ButtonGrid()
    for weekday in range(7):
        b.button(
            text=day_name(weekday, i18n.current_locale, capitalized=True),
            callback_data=SetupCallback(step=SetupStep.WEEKDAY, value=str(weekday)),
        )
    b.adjust(4, 3)
    text = _("Step 2 of 6: on which day of the week should I post the check-in for <b>{partner}</b>?").format(
        partner=user_text(partner.name)
    )
    # From the list the wizard's message is edited in place; from the partner card the card stays.
    await _show_step(callback.message, text, b.as_markup(), edit=from_list)


async def weekday_chosen(callback: CallbackQuery, callback_data: SetupCallback, state: FSMContext) -> None:
    """Step 2 done: the weekday."""
    if not isinstance(callback.message, Message):
        return
    weekday = spelt_by_bot(callback_data.value, 0, 6)
    if weekday is None:
        await answer_stale(callback)
        return
    draft = await SetupDraft.load(state)
    draft.weekday = weekday
    await draft.save(state)
    await state.set_state(CheckinSetup.waiting_for_time)
    b = ButtonGrid()
    for choice in TIME_CHOICES:
        b.button(text=choice, callback_data=SetupCallback(step=SetupStep.TIME, value=choice.replace(":", "")))
    b.adjust(4, 4)
    await callback.message.edit_text(
        _("Step 3 of 6: at what time? Tap one, or send another time, like 09:30."),
        reply_markup=b.as_markup(),
    )


async def _time_set(message: Message, state: FSMContext, hour: int, minute: int, edit: bool) -> None:
    draft = await SetupDraft.load(state)
    draft.hour, draft.minute = hour, minute
    await draft.save(state)
    await state.set_state(CheckinSetup.waiting_for_zone)
    b = ButtonGrid()
    for index, zone in enumerate(ZONE_CHOICES):
        b.button(text=zone_label(zone), callback_data=SetupCallback(step=SetupStep.ZONE, value=str(index)))
    b.adjust(3)
    text = _(
        "Step 4 of 6: in which time zone? Tap a city, or send a time zone name such as "
        "Europe/Berlin or Asia/Almaty."
    )
    await _show_step(message, text, b.as_markup(), edit=edit)


async def time_chosen(callback: CallbackQuery, callback_data: SetupCallback, state: FSMContext) -> None:
    """Step 3 by button."""
    if not isinstance(callback.message, Message):
        return
    value = callback_data.value
    digits = len(value) == 4 and spelt_by_bot(value, 0, 2359) is not None
    parsed = parse_time(f"{value[:2]}:{value[2:]}") if digits else None
    if parsed is None:
        await answer_stale(callback)
        return
    await _time_set(callback.message, state, *parsed, edit=True)


async def time_typed(message: Message, state: FSMContext) -> None:
    """Step 3 typed as a reply: HH:MM."""
    parsed = parse_time(message.text or "")
    if parsed is None:
        await message.reply(_("I need a time like 09:30 or 18:00 (24-hour clock). Please send it again."))
        return
    await _time_set(message, state, *parsed, edit=False)


async def _zone_set(message: Message, state: FSMContext, timezone: str, edit: bool) -> None:
    draft = await SetupDraft.load(state)
    draft.timezone = timezone
    await draft.save(state)
    await state.set_state(CheckinSetup.waiting_for_hours)
    b = ButtonGrid()
    for hours in HOURS_CHOICES:
        label = hours_text(hours) + (" ✓" if hours == DEFAULT_DIGEST_HOURS else "")
        b.button(text=label, callback_data=SetupCallback(step=SetupStep.HOURS, value=str(hours)))
    b.adjust(3)
    text = _(
        "Step 5 of 6: how many hours after the prompt should I post the digest? Usually 24. Tap one, or send "
        "a number from {min} to {max}."
    ).format(min=DIGEST_HOURS_MIN, max=DIGEST_HOURS_MAX)
    await _show_step(message, text, b.as_markup(), edit=edit)


async def zone_chosen(callback: CallbackQuery, callback_data: SetupCallback, state: FSMContext) -> None:
    """Step 4 by button: Moscow, New York or Los Angeles."""
    if not isinstance(callback.message, Message):
        return
    index = spelt_by_bot(callback_data.value, 0, len(ZONE_CHOICES) - 1)
    if index is None:
        await answer_stale(callback)
        return
    await _zone_set(callback.message, state, ZONE_CHOICES[index], edit=True)


async def zone_typed(message: Message, state: FSMContext) -> None:
    """Step 4 typed: an IANA name, checked against the time zone database."""
    timezone = resolve_timezone(message.text or "")
    if timezone is None:
        await message.reply(
            _(
                "I don't know the time zone \"{name}\". Use a name from the time zone database, like "
                "Europe/Moscow, America/New_York or Asia/Dubai, or tap a city above."
            ).format(name=user_text(message.text, 64))
        )
        return
    await _zone_set(message, state, timezone, edit=False)


async def _hours_set(message: Message, state: FSMContext, hours: int, edit: bool) -> None:
    draft = await SetupDraft.load(state)
    draft.digest_hours = hours
    await draft.save(state)
    await state.set_state(CheckinSetup.waiting_for_doc)
    b = ButtonGrid()
    b.button(text=_("Skip"), callback_data=SetupCallback(step=SetupStep.DOC, value="skip"))
    text = _(
        "Step 6 of 6: the partnership's shared doc, where decisions are written down. Send its link, or tap "
        "Skip."
    )
    await _show_step(message, text, b.as_markup(), edit=edit)


async def hours_chosen(callback: CallbackQuery, callback_data: SetupCallback, state: FSMContext) -> None:
    """Step 5 by button."""
    if not isinstance(callback.message, Message):
        return
    hours = spelt_by_bot(callback_data.value, DIGEST_HOURS_MIN, DIGEST_HOURS_MAX)
    if hours is None:
        await answer_stale(callback)
        return
    await _hours_set(callback.message, state, hours, edit=True)


async def hours_typed(message: Message, state: FSMContext) -> None:
    """Step 5 typed: whole hours."""
    hours = parse_digest_hours(message.text or "")
    if hours is None:
        await message.reply(
            _("I need a whole number of hours from {min} to {max}, like 24.").format(
                min=DIGEST_HOURS_MIN, max=DIGEST_HOURS_MAX
            )
        )
        return
    await _hours_set(message, state, hours, edit=False)


async def doc_typed(
    message: Message,
    bot: Bot,
    state: FSMContext,
    checkins: CheckinRepo,
    group_links: GroupLinkRepo,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Step 6 typed: the shared doc's link."""
    url = validate_url(message.text)
    if url is None:
        await message.reply(
            _("That doesn't look like a link. Send one like https://docs.google.com/…, or tap Skip.")
        )
        return
    await _finish_setup(message, message.from_user, bot, state, checkins, group_links, clock, i18n, url, edit=False)


async def doc_skipped(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    checkins: CheckinRepo,
    group_links: GroupLinkRepo,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Step 6 skipped."""
    if isinstance(callback.message, Message):
        await _finish_setup(
            callback.message, callback.from_user, bot, state, checkins, group_links, clock, i18n, None, edit=True
        )


async def _finish_setup(
    message: Message,
    user: User | None,
    bot: Bot,
    state: FSMContext,
    checkins: CheckinRepo,
    group_links: GroupLinkRepo,
    clock: Clock,
    i18n: I18n,
    shared_doc: str | None,
    edit: bool,
) -> None:
    """The schedule is chosen: a single-use `startgroup` link takes the bot into the group and links it there."""
    draft = await SetupDraft.load(state)
    await state.clear()
    if user is None or not draft.partner_id or not draft.timezone:
        await say_stale(message)
        return
    if not await checkins.is_workspace_member(draft.workspace_id, user.id):
        await message.answer(_("I can't find that partner in your workspace. Send /checkin to start again."))
        return
    when = WeeklyTime(draft.weekday, draft.hour, draft.minute, draft.timezone)
    schedule = NewSchedule(draft.workspace_id, draft.partner_id, when, draft.digest_hours, shared_doc)
    now = clock.now()
    payload, link_id = await group_links.create(schedule, user.id, now)
    me = await bot.me()
    text = "\n".join(
        [
            _("<b>Almost done.</b> The weekly check-in:"),
            *summary_lines(schedule, draft.partner_name, i18n.current_locale, now),
            "",
            ngettext(
                "Now tap the button, choose the partnership's group, and I will join it and link it. You must be "
                "an admin there. The button works once, for {hours} hour.",
                "Now tap the button, choose the partnership's group, and I will join it and link it. You must be "
                "an admin there. The button works once, for {hours} hours.",
                LINK_HOURS,
            ).format(hours=LINK_HOURS),
        ]
    )
    markup = url_keyboard(_("➕ Add me to the group"), startgroup_url(me.username or "", payload))
    shown = await _show_step(message, text, markup, edit=edit)
    if isinstance(shown, Message):
        await group_links.set_message(link_id, shown.message_id)


def startgroup_url(bot_username: str, payload: str) -> str:
    """Telegram's deep link that lets the user pick a group, adds the bot, then sends /start <payload> there."""
    url = f"https://t.me/{bot_username}?startgroup={payload}"
    return f"{url}&admin={'+'.join(GROUP_ADMIN_RIGHTS)}" if GROUP_ADMIN_RIGHTS else url


async def setup_needs_text(message: Message) -> None:
    """A sticker, photo… during a typed set-up step."""
    await message.answer(_("Please send text, or tap one of the buttons above."))


async def setup_button_not_yours(callback: CallbackQuery) -> None:
    """A set-up button pressed by someone else, or one from an earlier step."""
    refusal = _("These buttons belong to the admin who sent /checkin, or they are out of date. Send /checkin to start.")
    if not notify_press(refusal, alert=True) and isinstance(callback.message, Message):
        await callback.message.answer(refusal)


# ---- answers in the group ------------------------------------------------------------------------------


async def reply_to_round(message: Message, bot: Bot, checkins: CheckinRepo) -> bool | dict[str, Any]:
    """A reply to one of the bot's check-in prompts (or its reminder) — any copy of it, found by its token."""
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != bot.id or message.from_user is None:
        return False
    round_ = await checkins.round_for_reply(message.chat.id, target.message_id, token_in(target))
    return False if round_ is None else {"checkin_round": round_}


async def answer_by_reply(
    message: Message, bot: Bot, checkin_round: Round, checkins: CheckinRepo, clock: Clock
) -> None:
    """A member answers by replying to the prompt: stored for this round, acknowledged with a reaction."""
    assert message.from_user is not None
    text = clean_typed(message.text or message.caption)
    if not text:
        await message.reply(_("I can only read text answers. Please reply to the check-in with a few lines."))
        return
    if len(text) > ANSWER_TEXT_MAX:
        await message.reply(texts.text_too_long(ANSWER_TEXT_MAX, len(text)))
        return
    await _remember(checkins, message, clock)
    outcome = await checkins.save_answer(
        checkin_round.id, message.from_user.id, person_name(message.from_user), parse_answer(text),
        message.message_id, clock.now(),
    )
    if outcome == "closed":
        await message.reply(closed_text())
        return
    try:
        await bot.set_message_reaction(message.chat.id, message.message_id, [ReactionTypeEmoji(emoji="👍")])
    except TelegramBadRequest:  # reactions switched off in this group: say it in words
        await message.reply(_("✅ Got it, thanks."))


async def answer_edited(message: Message, checkins: CheckinRepo, clock: Clock) -> None:
    """An edited answer replaces the first one until the digest; later edits change nothing."""
    if message.from_user is None or not (message.text or message.caption):
        return
    round_ = await checkins.answer_by_message(message.chat.id, message.message_id, message.from_user.id)
    if round_ is None or not round_.is_open:
        return
    text = (clean_typed(message.text or message.caption) or "")[:ANSWER_TEXT_MAX]
    if not text:
        return
    await checkins.save_answer(
        round_.id, message.from_user.id, person_name(message.from_user), parse_answer(text), message.message_id,
        clock.now(),
    )


# ---- /away and /digest ---------------------------------------------------------------------------------


def away_keyboard() -> InlineKeyboardMarkup:
    b = ButtonGrid()
    for weeks in AWAY_CHOICES:
        b.button(text=_("{weeks} wk").format(weeks=weeks), callback_data=AwayCallback(weeks=weeks))
    b.button(text=_("I'm back"), callback_data=AwayCallback(weeks=0))
    b.adjust(4, 1)
    return b.as_markup()


async def _set_away(
    chat_id: int, user: User, weeks: int, checkins: CheckinRepo, clock: Clock, locale: str
) -> str:
    now = clock.now()
    if weeks == 0:
        await checkins.set_away(chat_id, user.id, person_name(user), now, None)
        return _("Welcome back, {name}! I count you in again.").format(name=user_text(person_name(user)))
    until = now + timedelta(weeks=weeks)
    await checkins.set_away(chat_id, user.id, person_name(user), now, until)
    return _("🌴 {name} is away until {date} — not counted as missing in the digest meanwhile.").format(
        name=user_text(person_name(user)), date=short_date(until, locale)
    )


async def away_command(
    message: Message, command: CommandObject, checkins: CheckinRepo, clock: Clock, i18n: I18n
) -> None:
    """/away N: not counted as missing for N weeks; /away 0 when back; /away alone offers buttons."""
    if message.from_user is None or _is_anonymous_admin(message):
        await message.reply(_("Please send /away from your own account, so I know who is away."))
        return
    if not command.args:
        await message.reply(
            _("Away for how long? Tap below, or send /away 2 for two weeks."), reply_markup=away_keyboard()
        )
        return
    weeks = parse_away_weeks(command.args)
    if weeks is None:
        await message.reply(
            _("Send /away followed by a number of weeks from 1 to {max}, like /away 2; /away 0 when you are back.")
            .format(max=AWAY_WEEKS_MAX)
        )
        return
    text = await _set_away(message.chat.id, message.from_user, weeks, checkins, clock, i18n.current_locale)
    await message.reply(text)


async def away_pressed(
    callback: CallbackQuery, callback_data: AwayCallback, checkins: CheckinRepo, clock: Clock, i18n: I18n
) -> None:
    """An /away button: applies to whoever pressed it."""
    if not isinstance(callback.message, Message):
        return
    if not 0 <= callback_data.weeks <= AWAY_WEEKS_MAX:
        await answer_stale(callback)
        return
    text = await _set_away(
        callback.message.chat.id, callback.from_user, callback_data.weeks, checkins, clock, i18n.current_locale
    )
    await callback.message.answer(text)


async def digest_command(
    message: Message, checkins: CheckinRepo, checkin_service: CheckinService, clock: Clock
) -> None:
    """/digest: the latest round's answers now (the scheduled digest still comes)."""
    await _remember(checkins, message, clock)
    schedule = await checkins.schedule_for_chat(message.chat.id)
    if schedule is None:
        await message.reply(_("There is no weekly check-in here yet. An admin can set one up with /checkin."))
        return
    sent = await checkin_service.post_digest_now(message.chat.id)
    if sent is None:
        await message.reply(_("No check-in has been posted here yet, so there is nothing to digest."))


# ---- answers in private --------------------------------------------------------------------------------


async def open_private_answer(
    message: Message,
    command: CommandObject,
    bot: Bot,
    state: FSMContext,
    checkins: CheckinRepo,
    deep_links: DeepLinkGuard,
) -> None:
    """/start ci_<token>: the button under a prompt; members of that group answer here, step by step."""
    assert message.from_user is not None and command.args is not None
    round_ = await checkins.round_by_token(command.args.removeprefix(DEEP_LINK_PREFIX))
    if round_ is None:  # a closed round's button is an old prompt, not a guess: only unknown tokens count
        await deep_links.failed(message)
        await message.answer(
            _("This check-in link is not valid. Use the button under the latest check-in in your group.")
        )
        return
    if not round_.is_open:
        await message.answer(closed_text())
        return
    try:
        member = await bot.get_chat_member(round_.chat_id, message.from_user.id)
        is_member = member.status in MEMBER_STATUSES
    except TelegramAPIError:
        is_member = False
    if not is_member:
        await message.answer(_("Only members of the group can answer its check-in."))
        return
    await state.clear()
    await AnswerDraft(round_id=round_.id).save(state)
    await state.set_state(CheckinAnswer.waiting_for_shipped)
    existing = [a for a in await checkins.answers(round_.id) if a.user_id == message.from_user.id]
    lines = [_("<b>Weekly check-in</b>: four short questions; your answer goes into the group's digest.")]
    if existing:
        lines.append(_("You have answered already; this answer will replace it."))
    lines += ["", _("1/4. What shipped since the last check-in?")]
    await message.answer("\n".join(lines))


async def answer_step_is_command(message: Message) -> None:
    """A command in the middle of the private answer (/cancel and /help are handled before)."""
    await message.answer(texts.mid_conversation_command())


async def answer_step_not_text(message: Message) -> None:
    """A sticker, photo… during the private answer."""
    await message.answer(texts.text_expected(ANSWER_FIELD_MAX))


async def _field(message: Message) -> str | None:
    return await typed_text(message, ANSWER_FIELD_MAX, when_empty=texts.text_expected(ANSWER_FIELD_MAX))


async def shipped_given(message: Message, state: FSMContext) -> None:
    """1/4: what shipped."""
    text = await _field(message)
    if text is None:
        return
    draft = await AnswerDraft.load(state)
    draft.shipped = text
    await draft.save(state)
    await state.set_state(CheckinAnswer.waiting_for_next)
    await message.answer(_("2/4. What's next?"))


async def next_given(message: Message, state: FSMContext) -> None:
    """2/4: what's next."""
    text = await _field(message)
    if text is None:
        return
    draft = await AnswerDraft.load(state)
    draft.next = text
    await draft.save(state)
    await state.set_state(CheckinAnswer.waiting_for_blockers)
    b = ButtonGrid()
    b.button(text=_("No blockers"), callback_data=AnswerCallback(step=AnswerStep.BLOCKERS, value="none"))
    await message.answer(_("3/4. Any blockers? Describe them, or tap the button."), reply_markup=b.as_markup())


async def _ask_call(message: Message, state: FSMContext, blockers: str | None) -> None:
    draft = await AnswerDraft.load(state)
    draft.blockers = blockers
    await draft.save(state)
    await state.set_state(CheckinAnswer.waiting_for_call)
    b = ButtonGrid()
    b.button(text=_("📞 Yes, we need a call"), callback_data=AnswerCallback(step=AnswerStep.CALL, value="yes"))
    b.button(text=_("No, async is fine"), callback_data=AnswerCallback(step=AnswerStep.CALL, value="no"))
    b.adjust(1)
    await message.answer(_("4/4. Do we need a call this week?"), reply_markup=b.as_markup())


async def blockers_given(message: Message, state: FSMContext) -> None:
    """3/4: blockers typed ("no" counts as none)."""
    text = await _field(message)
    if text is None:
        return
    await _ask_call(message, state, blocker_or_none(text))


async def no_blockers_pressed(callback: CallbackQuery, state: FSMContext) -> None:
    """3/4: the "No blockers" button."""
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await _ask_call(callback.message, state, None)


async def _save_private(
    message: Message, user: User, state: FSMContext, needs_call: bool, checkins: CheckinRepo, clock: Clock
) -> None:
    draft = await AnswerDraft.load(state)
    await state.clear()
    answer = Answer(draft.shipped or None, draft.next or None, draft.blockers, needs_call)
    outcome = await checkins.save_answer(draft.round_id, user.id, person_name(user), answer, None, clock.now())
    if outcome == "closed":
        await message.answer(_("Sorry, the check-in closed before you finished, so this answer was not added."))
        return
    round_ = await checkins.round(draft.round_id)
    if round_ is not None:
        await checkins.touch_person(round_.chat_id, user.id, person_name(user), clock.now())
    await message.answer(
        _("Thanks! Your answer is in. Until the digest you can change it with the same button in the group.")
    )


async def call_pressed(
    callback: CallbackQuery, callback_data: AnswerCallback, state: FSMContext, checkins: CheckinRepo, clock: Clock
) -> None:
    """4/4 by button: finish and store the answer."""
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await _save_private(callback.message, callback.from_user, state, callback_data.value == "yes", checkins, clock)


async def call_typed(message: Message, state: FSMContext, checkins: CheckinRepo, clock: Clock) -> None:
    """4/4 typed: yes / no in words."""
    assert message.from_user is not None
    await _save_private(message, message.from_user, state, says_yes(message.text), checkins, clock)


async def stale_answer_button(callback: CallbackQuery) -> None:
    """An answer button from a finished or abandoned answer."""
    if isinstance(callback.message, Message):
        await answer_stale(callback)


async def _show_step(
    message: Message, text: str, markup: InlineKeyboardMarkup | None, *, edit: bool
) -> Message | bool:
    """The set-up step in place of the last one (a pressed button), or as a new message (after typed text)."""
    if edit:
        return await message.edit_text(text, reply_markup=markup)
    return await message.answer(text, reply_markup=markup)
