"""The weekly check-in: /checkin set-up in a group (admins only), answers by reply or in private
(/start ci_<token>), edits of answers, /away and /digest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReactionTypeEmoji, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.checkins import (
    DEEP_LINK_PREFIX,
    CheckinService,
    day_name,
    hours_text,
    token_in,
    weekly_time_lines,
    zone_label,
)
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
    next_occurrence,
    parse_answer,
    parse_away_weeks,
    parse_digest_hours,
    parse_time,
    resolve_timezone,
    says_yes,
)
from bot.domain.partners import validate_url
from bot.handlers.basics import user_is_admin
from bot.handlers.drafts import FsmDraft
from bot.handlers.filters import GROUP, PRIVATE
from bot.handlers.replies import typed_text
from bot.keyboards.checkin_callbacks import (
    AnswerCallback,
    AnswerStep,
    AwayCallback,
    ManageAction,
    SetupCallback,
    SetupStep,
)
from bot.keyboards.grid import ButtonGrid
from bot.storage.checkins import CheckinRepo, NewSchedule, Round, Schedule
from bot.storage.partners import PartnerRepo
from bot.storage.workspaces import WorkspaceRepo
from bot.views.formatting import short_date, user_text

log = logging.getLogger(__name__)

PARTNERS_PER_PAGE = 8
TIME_CHOICES = ("09:00", "10:00", "11:00", "12:00", "15:00", "16:00", "17:00", "18:00")
HOURS_CHOICES = (12, 24, 48)
AWAY_CHOICES = (1, 2, 3, 4)
ANSWER_TEXT_MAX = 3000  # one reply in the group
ANSWER_FIELD_MAX = 1000  # one step of the private answer
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
TOKEN_LINK = rf"^{DEEP_LINK_PREFIX}[A-Za-z0-9_-]{{8,64}}$"


class CheckinSetup(StatesGroup):
    """/checkin in a group, per admin."""

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


@dataclass
class SetupDraft(FsmDraft):
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


@dataclass
class AnswerDraft(FsmDraft):
    round_id: int = 0
    shipped: str = ""
    next: str = ""
    blockers: str | None = None

    KEY = "checkin_answer"


def router() -> Router:
    r = Router(name="checkins")
    # Private: the deep link and the answer conversation.
    r.message.register(open_private_answer, PRIVATE, CommandStart(deep_link=True, magic=F.args.regexp(TOKEN_LINK)))
    answering = StateFilter(*CheckinAnswer.__states__)
    r.message.register(answer_step_is_command, PRIVATE, answering, F.text.startswith("/"))
    r.message.register(shipped_given, PRIVATE, StateFilter(CheckinAnswer.waiting_for_shipped), F.text)
    r.message.register(next_given, PRIVATE, StateFilter(CheckinAnswer.waiting_for_next), F.text)
    r.message.register(blockers_given, PRIVATE, StateFilter(CheckinAnswer.waiting_for_blockers), F.text)
    r.message.register(call_typed, PRIVATE, StateFilter(CheckinAnswer.waiting_for_call), F.text)
    r.message.register(answer_step_not_text, PRIVATE, answering)
    r.callback_query.register(
        no_blockers_pressed,
        PRIVATE,
        StateFilter(CheckinAnswer.waiting_for_blockers),
        AnswerCallback.filter(F.step == AnswerStep.BLOCKERS),
    )
    r.callback_query.register(
        call_pressed,
        PRIVATE,
        StateFilter(CheckinAnswer.waiting_for_call),
        AnswerCallback.filter(F.step == AnswerStep.CALL),
    )
    r.callback_query.register(stale_answer_button, AnswerCallback.filter())

    # Groups: commands, answers by reply, edits of answers, set-up steps.
    r.message.register(checkin_command, GROUP, Command("checkin"))
    r.message.register(away_command, GROUP, Command("away"))
    r.message.register(digest_command, GROUP, Command("digest"))
    r.message.register(answer_by_reply, GROUP, reply_to_round)
    r.edited_message.register(answer_edited, GROUP)
    setup_text = {
        CheckinSetup.waiting_for_time: time_typed,
        CheckinSetup.waiting_for_zone: zone_typed,
        CheckinSetup.waiting_for_hours: hours_typed,
        CheckinSetup.waiting_for_doc: doc_typed,
    }
    for step_state, handler in setup_text.items():
        r.message.register(handler, GROUP, StateFilter(step_state), F.text, ~F.text.startswith("/"))
    r.message.register(
        setup_needs_text,
        GROUP,
        StateFilter(*setup_text),
        F.reply_to_message.from_user.is_bot,
        ~F.text.startswith("/"),
    )
    buttons = {
        (CheckinSetup.waiting_for_manage_choice, SetupStep.MANAGE): manage_chosen,
        (CheckinSetup.waiting_for_partner, SetupStep.PAGE): partner_page,
        (CheckinSetup.waiting_for_partner, SetupStep.PARTNER): partner_chosen,
        (CheckinSetup.waiting_for_weekday, SetupStep.WEEKDAY): weekday_chosen,
        (CheckinSetup.waiting_for_time, SetupStep.TIME): time_chosen,
        (CheckinSetup.waiting_for_zone, SetupStep.ZONE): zone_chosen,
        (CheckinSetup.waiting_for_hours, SetupStep.HOURS): hours_chosen,
        (CheckinSetup.waiting_for_doc, SetupStep.DOC): doc_skipped,
    }
    for (step_state, step), handler in buttons.items():
        r.callback_query.register(
            handler, GROUP, StateFilter(step_state), SetupCallback.filter(F.step == step)
        )
    r.callback_query.register(setup_button_not_yours, SetupCallback.filter())
    r.callback_query.register(away_pressed, GROUP, AwayCallback.filter())
    return r


# ---- shared helpers ------------------------------------------------------------------------------------


def person_name(user: User) -> str:
    return user.full_name or (f"@{user.username}" if user.username else str(user.id))


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
    workspaces: WorkspaceRepo,
    partners: PartnerRepo,
    clock: Clock,
    i18n: I18n,
) -> None:
    """/checkin in a group: admins only, from their own account; shows the current one or starts the set-up."""
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
    schedule = await checkins.schedule_for_chat(message.chat.id)
    if schedule is not None and schedule.active:
        partner = await partners.get(schedule.workspace_id, schedule.partner_id)
        text = "\n".join(
            [_("<b>This group's weekly check-in</b>"), *summary_lines(schedule, partner.name if partner else "—",
                                                                       i18n.current_locale, clock.now()),
             "", _("Change it, or stop it?")]
        )
        await state.set_state(CheckinSetup.waiting_for_manage_choice)
        await message.reply(text, reply_markup=manage_keyboard())
        return
    await _start_setup(message, message.from_user, state, workspaces, partners, bot, checkins, clock, edit=False)


async def _start_setup(
    message: Message,
    user: User,
    state: FSMContext,
    workspaces: WorkspaceRepo,
    partners: PartnerRepo,
    bot: Bot,
    checkins: CheckinRepo,
    clock: Clock,
    edit: bool,
) -> None:
    """Step 1: which of the admin's partners this group is for."""
    workspace = await workspaces.current_for(user.id)
    if workspace is None:
        me = await bot.me()
        await state.clear()
        await message.answer(
            _(
                "To link this group I need your workspace, and you have none yet. Open a private chat with "
                "@{bot}, send /start and add the partner; then send /checkin here again."
            ).format(bot=me.username)
        )
        return
    await _seed_admins(bot, checkins, message.chat.id, clock)
    draft = SetupDraft(workspace_id=workspace.id)
    await draft.save(state)
    await state.set_state(CheckinSetup.waiting_for_partner)
    text, markup = await partner_step(partners, workspace.id, user.id, 0)
    if markup is None:
        await state.clear()
    await _show_step(message, text, markup, edit=edit)


async def _seed_admins(bot: Bot, checkins: CheckinRepo, chat_id: int, clock: Clock) -> None:
    """The group's admins are the first people the digest expects answers from (privacy mode hides the rest)."""
    try:
        admins = await bot.get_chat_administrators(chat_id)
    except TelegramAPIError as error:
        log.info("admins of chat %s not read: %s", chat_id, error)
        return
    for admin in admins:
        if not admin.user.is_bot:
            await checkins.touch_person(chat_id, admin.user.id, person_name(admin.user), clock.now())


def manage_keyboard() -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(text=_("✏️ Change"), callback_data=SetupCallback(step=SetupStep.MANAGE, value=ManageAction.CHANGE))
    b.button(text=_("⏹ Stop"), callback_data=SetupCallback(step=SetupStep.MANAGE, value=ManageAction.STOP))
    b.button(text=_("Keep as is"), callback_data=SetupCallback(step=SetupStep.MANAGE, value=ManageAction.KEEP))
    b.adjust(2, 1)
    return b.as_markup()


def summary_lines(schedule: Schedule, partner_name: str, locale: str, now: datetime) -> list[str]:
    lines = [_("🤝 Partner: <b>{partner}</b>").format(partner=user_text(partner_name))]
    lines += weekly_time_lines(schedule.when, locale, now)
    lines.append(_("📋 Digest: {hours} after the prompt").format(hours=hours_text(schedule.digest_hours)))
    if schedule.shared_doc:
        lines.append(_("📄 Shared doc: {url}").format(url=user_text(schedule.shared_doc)))
    return lines


async def partner_step(
    partners: PartnerRepo, workspace_id: int, viewer_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    items, total = await partners.page(workspace_id, False, page * PARTNERS_PER_PAGE, PARTNERS_PER_PAGE, viewer_id)
    if total == 0:
        return (
            _("Your workspace has no partners yet. Add one in a private chat with me (/newpartner), then send "
              "/checkin here again."),
            None,
        )
    b = ButtonGrid()
    for partner, _score in items:
        b.button(text=partner.name[:60], callback_data=SetupCallback(step=SetupStep.PARTNER, value=str(partner.id)))
    sizes = [1] * len(items)
    nav = 0
    if page > 0:
        b.button(text="‹", callback_data=SetupCallback(step=SetupStep.PAGE, value=str(page - 1)))
        nav += 1
    if (page + 1) * PARTNERS_PER_PAGE < total:
        b.button(text="›", callback_data=SetupCallback(step=SetupStep.PAGE, value=str(page + 1)))
        nav += 1
    b.adjust(*sizes, *([nav] if nav else []))
    return _("Weekly check-in, step 1 of 6: which partner is this group for?"), b.as_markup()


async def manage_chosen(
    callback: CallbackQuery,
    callback_data: SetupCallback,
    state: FSMContext,
    bot: Bot,
    checkins: CheckinRepo,
    workspaces: WorkspaceRepo,
    partners: PartnerRepo,
    checkin_service: CheckinService,
    clock: Clock,
) -> None:
    """Change, stop or keep the check-in the group already has."""
    message = callback.message
    if not isinstance(message, Message):
        return
    if not await user_is_admin(bot, message.chat.id, callback.from_user.id):
        await state.clear()
        await message.answer(_("Sorry, only the group's admins can set up or change the weekly check-in."))
        return
    if callback_data.value == ManageAction.CHANGE:
        await _start_setup(message, callback.from_user, state, workspaces, partners, bot, checkins, clock, edit=True)
        return
    await state.clear()
    if callback_data.value == ManageAction.STOP:
        for schedule in await checkins.stop_chat(message.chat.id, clock.now()):
            checkin_service.stop(schedule.id)
        await message.edit_text(_("⏹ The weekly check-in is stopped. Send /checkin to set it up again."))
        return
    await message.edit_text(_("Nothing changed: the weekly check-in stays as it is."))


async def partner_page(
    callback: CallbackQuery, callback_data: SetupCallback, state: FSMContext, partners: PartnerRepo
) -> None:
    """‹ › under the partner list."""
    if not isinstance(callback.message, Message) or not callback_data.value.isdigit():
        return
    draft = await SetupDraft.load(state)
    text, markup = await partner_step(partners, draft.workspace_id, callback.from_user.id, int(callback_data.value))
    await callback.message.edit_text(text, reply_markup=markup)


async def partner_chosen(
    callback: CallbackQuery,
    callback_data: SetupCallback,
    state: FSMContext,
    workspaces: WorkspaceRepo,
    partners: PartnerRepo,
    i18n: I18n,
) -> None:
    """Step 1 done: the partner, re-read through the admin's current workspace."""
    if not isinstance(callback.message, Message):
        return
    workspace = await workspaces.current_for(callback.from_user.id)
    partner = (
        await partners.get(workspace.id, int(callback_data.value))
        if workspace is not None and callback_data.value.isdigit()
        else None
    )
    if workspace is None or partner is None:
        await state.clear()
        await callback.message.answer(_("I can't find that partner in your workspace. Send /checkin to start again."))
        return
    draft = await SetupDraft.load(state)
    draft.workspace_id, draft.partner_id, draft.partner_name = workspace.id, partner.id, partner.name
    await draft.save(state)
    await state.set_state(CheckinSetup.waiting_for_weekday)
    b = ButtonGrid()
    for weekday in range(7):
        b.button(
            text=day_name(weekday, i18n.current_locale, capitalized=True),
            callback_data=SetupCallback(step=SetupStep.WEEKDAY, value=str(weekday)),
        )
    b.adjust(4, 3)
    await callback.message.edit_text(
        _("Step 2 of 6: on which day of the week should I post the check-in for <b>{partner}</b>?").format(
            partner=user_text(partner.name)
        ),
        reply_markup=b.as_markup(),
    )


async def weekday_chosen(callback: CallbackQuery, callback_data: SetupCallback, state: FSMContext) -> None:
    """Step 2 done: the weekday."""
    if not isinstance(callback.message, Message):
        return
    if not callback_data.value.isdigit() or not 0 <= int(callback_data.value) <= 6:
        await callback.message.answer(texts.stale_button())
        return
    draft = await SetupDraft.load(state)
    draft.weekday = int(callback_data.value)
    await draft.save(state)
    await state.set_state(CheckinSetup.waiting_for_time)
    b = ButtonGrid()
    for choice in TIME_CHOICES:
        b.button(text=choice, callback_data=SetupCallback(step=SetupStep.TIME, value=choice.replace(":", "")))
    b.adjust(4, 4)
    await callback.message.edit_text(
        _("Step 3 of 6: at what time? Tap one, or reply to this message with another time, like 09:30."),
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
        "Step 4 of 6: in which time zone? Tap a city, or reply to this message with a time zone name such as "
        "Europe/Berlin or Asia/Almaty."
    )
    await _show_step(message, text, b.as_markup(), edit=edit)


async def time_chosen(callback: CallbackQuery, callback_data: SetupCallback, state: FSMContext) -> None:
    """Step 3 by button."""
    if not isinstance(callback.message, Message):
        return
    value = callback_data.value
    parsed = parse_time(f"{value[:2]}:{value[2:]}") if len(value) == 4 and value.isdigit() else None
    if parsed is None:
        await callback.message.answer(texts.stale_button())
        return
    await _time_set(callback.message, state, *parsed, edit=True)


async def time_typed(message: Message, state: FSMContext) -> None:
    """Step 3 typed as a reply: HH:MM."""
    parsed = parse_time(message.text or "")
    if parsed is None:
        await message.reply(_("I need a time like 09:30 or 18:00 (24-hour clock). Please reply with it again."))
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
        "Step 5 of 6: how many hours after the prompt should I post the digest? Usually 24. Tap one, or reply "
        "with a number from {min} to {max}."
    ).format(min=DIGEST_HOURS_MIN, max=DIGEST_HOURS_MAX)
    await _show_step(message, text, b.as_markup(), edit=edit)


async def zone_chosen(callback: CallbackQuery, callback_data: SetupCallback, state: FSMContext) -> None:
    """Step 4 by button: Moscow, New York or Los Angeles."""
    if not isinstance(callback.message, Message):
        return
    if not callback_data.value.isdigit() or int(callback_data.value) >= len(ZONE_CHOICES):
        await callback.message.answer(texts.stale_button())
        return
    await _zone_set(callback.message, state, ZONE_CHOICES[int(callback_data.value)], edit=True)


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
        "Step 6 of 6: the partnership's shared doc, where decisions are written down. Reply to this message "
        "with its link, or tap Skip."
    )
    await _show_step(message, text, b.as_markup(), edit=edit)


async def hours_chosen(callback: CallbackQuery, callback_data: SetupCallback, state: FSMContext) -> None:
    """Step 5 by button."""
    if not isinstance(callback.message, Message):
        return
    hours = parse_digest_hours(callback_data.value)
    if hours is None:
        await callback.message.answer(texts.stale_button())
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
    checkin_service: CheckinService,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Step 6 typed: the shared doc's link."""
    url = validate_url(message.text)
    if url is None:
        await message.reply(
            _("That doesn't look like a link. Reply with one like https://docs.google.com/…, or tap Skip.")
        )
        return
    await _finish_setup(message, message.from_user, bot, state, checkins, checkin_service, clock, i18n, url, edit=False)


async def doc_skipped(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    checkins: CheckinRepo,
    checkin_service: CheckinService,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Step 6 skipped."""
    if isinstance(callback.message, Message):
        await _finish_setup(
            callback.message, callback.from_user, bot, state, checkins, checkin_service, clock, i18n, None, edit=True
        )


async def _finish_setup(
    message: Message,
    user: User | None,
    bot: Bot,
    state: FSMContext,
    checkins: CheckinRepo,
    checkin_service: CheckinService,
    clock: Clock,
    i18n: I18n,
    shared_doc: str | None,
    edit: bool,
) -> None:
    """Save the schedule, (re)start its job and confirm in the chosen zone, Moscow and New York."""
    draft = await SetupDraft.load(state)
    await state.clear()
    if user is None or not draft.partner_id or not draft.timezone:
        await message.answer(texts.stale_button())
        return
    if not await user_is_admin(bot, message.chat.id, user.id) or not await checkins.is_workspace_member(
        draft.workspace_id, user.id
    ):
        await message.answer(_("Sorry, only the group's admins can set up or change the weekly check-in."))
        return
    when = WeeklyTime(draft.weekday, draft.hour, draft.minute, draft.timezone)
    now = clock.now()
    schedule = await checkins.save_schedule(
        message.chat.id,
        NewSchedule(draft.workspace_id, draft.partner_id, when, draft.digest_hours, shared_doc),
        user.id,
        now,
    )
    await checkins.touch_person(message.chat.id, user.id, person_name(user), now)
    await checkin_service.save(schedule)
    locale = i18n.current_locale
    first = next_occurrence(when, now).astimezone(when.zone)
    text = "\n".join(
        [
            _("✅ <b>Weekly check-in is set.</b>"),
            *summary_lines(schedule, draft.partner_name, locale, now),
            "",
            _("📆 The first one: {date}").format(date=short_date(first, locale)),
            _("Anyone away can say so with /away; /digest shows the answers so far."),
        ]
    )
    await _show_step(message, text, None, edit=edit)


async def setup_needs_text(message: Message) -> None:
    """A sticker, photo… replied during a typed set-up step."""
    await message.reply(_("Please reply with text, or tap one of the buttons above."))


async def setup_button_not_yours(callback: CallbackQuery) -> None:
    """A set-up button pressed by someone else, or one from an earlier step."""
    if isinstance(callback.message, Message):
        await callback.message.answer(
            _("These buttons belong to the admin who sent /checkin, or they are out of date. Send /checkin to start.")
        )


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
    text = message.text or message.caption
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
    text = (message.text or message.caption or "")[:ANSWER_TEXT_MAX]
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
        await callback.message.answer(texts.stale_button())
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
    if round_ is None or not round_.is_open:
        await deep_links.failed(message)
    if round_ is None:
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
    return await typed_text(message, ANSWER_FIELD_MAX)


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
        await callback.message.answer(texts.stale_button())


async def _show_step(message: Message, text: str, markup: InlineKeyboardMarkup | None, *, edit: bool) -> None:
    """The set-up step in place of the last one, or as a reply (in a group the bot sees replies to itself)."""
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.reply(text, reply_markup=markup)
