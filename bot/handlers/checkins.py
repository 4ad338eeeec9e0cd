"""The weekly check-in: /checkin set-up in a group (admins only), answers by reply or in private
(/start ci_<token>), edits of answers, /away and /digest.

The two private conversations are declared as data, as aiogram-dialog Dialogs whose windows are their steps
(bot/handlers/dialog_steps.py has what every step does with what it cannot take): the set-up (partner, weekday,
time, time zone, digest, shared doc; it ends in a startgroup link that takes the bot into the group) and the answer
to a group's check-in in private. What happens in a group stays hand-written: several people answer one prompt
there, and the manage menu under /checkin is one press, refused as a pop-up to anyone but the admin who asked."""

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
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import Button, Column, Group, Select
from aiogram_dialog.widgets.text import Format

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
from bot.domain.numbers import ID_MAX, PAGE_MAX, spelt_by_bot
from bot.domain.partners import validate_url
from bot.domain.text import clean_typed, safe_name
from bot.handlers.basics import user_is_admin
from bot.handlers.dialog_steps import (
    NOT_A_COMMAND,
    buttons_expected,
    note,
    refused,
    screen,
    stale,
    text_expected,
    typed_answer,
)
from bot.handlers.drafts import DraftModel
from bot.handlers.filters import COMMAND, GROUP, PRIVATE, PressOf
from bot.handlers.notices import tell_privately
from bot.handlers.replies import answer_stale, reply_here, say_stale
from bot.keyboards.checkin_callbacks import (
    AwayCallback,
    CheckinPartnerCallback,
    ManageAction,
    SetupCallback,
    SetupStep,
)
from bot.keyboards.grid import ButtonGrid
from bot.plumbing.dialogs import presses_of_its_own
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


class CheckinManage(StatesGroup):
    """The manage menu under /checkin in a group, per admin (FSM state of that admin in that group)."""

    waiting_for_manage_choice = State()


# A manage menu shown by the version before the set-up became a dialog kept this state name.
MANAGE_CHOICE = StateFilter(CheckinManage.waiting_for_manage_choice, "CheckinSetup:waiting_for_manage_choice")


class CheckinSetup(StatesGroup):
    """The set-up in private: the steps of its dialog."""

    waiting_for_partner = State()
    waiting_for_weekday = State()
    waiting_for_time = State()
    waiting_for_zone = State()
    waiting_for_hours = State()
    waiting_for_doc = State()


class CheckinAnswer(StatesGroup):
    """Answering a round in private, opened by /start ci_<token>: the steps of its dialog."""

    waiting_for_shipped = State()
    waiting_for_next = State()
    waiting_for_blockers = State()
    waiting_for_call = State()


class SetupDraft(DraftModel):
    """What the set-up has collected so far (the dialog's data, plain JSON)."""

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
    """An answer to a round being typed in private (the dialog's data, plain JSON)."""

    round_id: int = 0
    shipped: str = ""
    next: str = ""
    blockers: str | None = None

    KEY = "checkin_answer"


# Before the conversations were dialogs, their steps were these FSM states (the same names): one left halfway.
LEFT_BY_FSM_VERSION = StateFilter(*CheckinSetup.__states__, *CheckinAnswer.__states__)

# The kinds of button data this feature's handlers take (the private conversations' own buttons are the dialogs').
PRESSES = (CheckinPartnerCallback, SetupCallback, AwayCallback)


def router() -> Router:
    r = Router(name="checkins")
    r.callback_query.filter(PressOf(*PRESSES))
    # Private: the starts of the two conversations (the group only ever sees the partner it is linked to).
    r.message.register(open_private_answer, PRIVATE, CommandStart(deep_link=True, magic=F.args.regexp(TOKEN_LINK)))
    r.message.register(private_checkin_command, PRIVATE, Command("checkin"))
    r.message.register(private_checkin_command, PRIVATE, CommandStart(deep_link=True, magic=F.args == SETUP_PAYLOAD))
    r.callback_query.register(setup_for_partner, PRIVATE, CheckinPartnerCallback.filter())
    r.message.register(resume_left_by_an_earlier_version, PRIVATE, LEFT_BY_FSM_VERSION, ~COMMAND)

    # Groups: commands, answers by reply, edits of answers, the manage menu.
    r.message.register(checkin_command, GROUP, Command("checkin"))
    r.message.register(away_command, GROUP, Command("away"))
    r.message.register(digest_command, GROUP, Command("digest"))
    r.message.register(answer_by_reply, GROUP, reply_to_round)
    r.edited_message.register(answer_edited, GROUP)
    r.callback_query.register(manage_chosen, GROUP, SetupCallback.filter(F.step == SetupStep.MANAGE), MANAGE_CHOICE)
    r.callback_query.register(setup_button_not_yours, SetupCallback.filter())
    r.callback_query.register(away_pressed, GROUP, AwayCallback.filter())
    return r


def conversations() -> Router:
    """The set-up and the private answer, apart from `router()`: their presses carry the dialogs' own data."""
    r = Router(name="checkin_conversations")
    for observer in (r.message, r.callback_query):
        observer.filter(PRIVATE)
    r.include_router(setup_dialog())
    r.include_router(answer_dialog())
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
    await state.set_state(CheckinManage.waiting_for_manage_choice)
    await message.reply(text, reply_markup=manage_keyboard(private))


async def private_link(bot: Bot, payload: str) -> str:
    """https://t.me/<bot>?start=<payload>: opens the private chat with the bot from a group."""
    me = await bot.me()
    return f"https://t.me/{me.username}?start={payload}"


def url_keyboard(text: str, url: str) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(text=text, url=url)
    return b.as_markup()


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


# ---- the set-up in private: starts --------------------------------------------------------------------


async def private_checkin_command(
    message: Message, state: FSMContext, dialog_manager: DialogManager, workspaces: WorkspaceRepo,
    partners: PartnerRepo,
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
    _items, total = await partners.page(workspace.id, False, 0, 1, message.from_user.id)
    if total == 0:
        await message.answer(
            _("Your workspace has no partners yet. Add one with /newpartner, then send /checkin again.")
        )
        return
    await _start_setup(dialog_manager, CheckinSetup.waiting_for_partner, SetupDraft(workspace_id=workspace.id))


async def setup_for_partner(
    callback: CallbackQuery, callback_data: CheckinPartnerCallback, state: FSMContext, dialog_manager: DialogManager,
    workspaces: WorkspaceRepo, partners: PartnerRepo,
) -> None:
    """The partner card's "Weekly check-in": the set-up from step 2, as a new message (the card stays)."""
    draft = await _draft_for(callback.from_user.id, callback_data.partner_id, workspaces, partners)
    if draft is None:
        await state.clear()
        await _partner_not_found(callback)
        return
    await state.clear()
    await _start_setup(dialog_manager, CheckinSetup.waiting_for_weekday, draft)


async def _start_setup(manager: DialogManager, step: State, draft: SetupDraft) -> None:
    await manager.start(step, data={SetupDraft.KEY: draft.model_dump(mode="json")}, mode=StartMode.RESET_STACK,
                        show_mode=ShowMode.SEND)


async def _on_setup_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    SetupDraft.from_stored(data.get(SetupDraft.KEY)).keep_in_dialog(manager)
    note(manager, str(data.get("intro", "")))


async def resume_left_by_an_earlier_version(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    """A set-up or an answer that the version before the dialogs left halfway in FSM state and data: it resumes at
    its step with what was entered; the step is asked again (this message was sent to the old step's question)."""
    current = await state.get_state()
    step = next(s for s in (*CheckinSetup.__states__, *CheckinAnswer.__states__) if s.state == current)
    draft_type: type[SetupDraft] | type[AnswerDraft] = SetupDraft if step.group is CheckinSetup else AnswerDraft
    draft = await draft_type.load(state)
    await state.clear()
    data = {draft_type.KEY: draft.model_dump(mode="json"), "intro": _("Let's continue where you left off.")}
    await dialog_manager.start(step, data=data, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


async def _draft_for(
    user_id: int, partner_id: int, workspaces: WorkspaceRepo, partners: PartnerRepo
) -> SetupDraft | None:
    """The partner, re-read through the user's current workspace; None when it is not there (or archived)."""
    workspace = await workspaces.current_for(user_id)
    partner = await partners.get(workspace.id, partner_id) if workspace is not None else None
    if workspace is None or partner is None or partner.archived:
        return None
    return SetupDraft(workspace_id=workspace.id, partner_id=partner.id, partner_name=partner.name)


async def _partner_not_found(callback: CallbackQuery) -> None:
    if isinstance(callback.message, Message):
        await callback.message.answer(_("I can't find that partner in your workspace. Send /checkin to start again."))


# ---- the set-up: what each step shows ------------------------------------------------------------------


async def partner_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    """Step 1: the workspace's partners, a page at a time (never shown in a group)."""
    data = dialog_manager.middleware_data
    draft = SetupDraft.in_dialog(dialog_manager)
    page = dialog_manager.dialog_data.get("page", 0)
    page = page if isinstance(page, int) and not isinstance(page, bool) and 0 <= page <= PAGE_MAX else 0
    partners: PartnerRepo = data["partners"]
    items, total = await partners.page(draft.workspace_id, False, page * PARTNERS_PER_PAGE, PARTNERS_PER_PAGE,
                                       data["event_from_user"].id)
    nav = [("‹", page - 1)] if page > 0 else []
    if (page + 1) * PARTNERS_PER_PAGE < total:
        nav.append(("›", page + 1))
    question = _("Weekly check-in, step 1 of 6: which partnership is it for?")
    return {
        **screen(dialog_manager, question),
        "partners": [(button_label(partner.name, 60), partner.id) for partner, _score in items],
        "pages": nav,
    }


async def weekday_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    locale = dialog_manager.middleware_data["i18n"].current_locale
    question = _("Step 2 of 6: on which day of the week should I post the check-in for <b>{partner}</b>?").format(
        partner=user_text(SetupDraft.in_dialog(dialog_manager).partner_name)
    )
    days = [(day_name(weekday, locale, capitalized=True), weekday) for weekday in range(7)]
    return {**screen(dialog_manager, question), "days": days}


async def time_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    question = _("Step 3 of 6: at what time? Tap one, or send another time, like 09:30.")
    return {**screen(dialog_manager, question), "times": [(choice, choice.replace(":", "")) for choice in TIME_CHOICES]}


async def zone_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    question = _(
        "Step 4 of 6: in which time zone? Tap a city, or send a time zone name such as "
        "Europe/Berlin or Asia/Almaty."
    )
    zones = [(zone_label(zone), index) for index, zone in enumerate(ZONE_CHOICES)]
    return {**screen(dialog_manager, question), "zones": zones}


async def hours_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    question = _(
        "Step 5 of 6: how many hours after the prompt should I post the digest? Usually 24. Tap one, or send "
        "a number from {min} to {max}."
    ).format(min=DIGEST_HOURS_MIN, max=DIGEST_HOURS_MAX)
    choices = [(hours_text(hours) + (" ✓" if hours == DEFAULT_DIGEST_HOURS else ""), hours) for hours in HOURS_CHOICES]
    return {**screen(dialog_manager, question), "hours": choices}


async def doc_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    question = _(
        "Step 6 of 6: the partnership's shared doc, where decisions are written down. Send its link, or tap "
        "Skip."
    )
    return {**screen(dialog_manager, question), "skip": _("Skip")}


# ---- the set-up: what each step takes ------------------------------------------------------------------


async def page_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """‹ › under the partner list."""
    page = spelt_by_bot(value, 0, PAGE_MAX)
    if page is None:
        await stale(callback, manager)
        return
    manager.dialog_data["page"] = page


async def partner_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """Step 1 done: the partner, re-read through the user's workspace."""
    partner_id = spelt_by_bot(value, 1, ID_MAX)
    if partner_id is None:
        await stale(callback, manager)
        return
    data = manager.middleware_data
    draft = await _draft_for(callback.from_user.id, partner_id, data["workspaces"], data["partners"])
    if draft is None:
        await manager.done(show_mode=ShowMode.NO_UPDATE)
        await _partner_not_found(callback)
        return
    draft.keep_in_dialog(manager)
    await manager.switch_to(CheckinSetup.waiting_for_weekday)


async def weekday_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    weekday = spelt_by_bot(value, 0, 6)
    if weekday is None:
        await stale(callback, manager)
        return
    draft = SetupDraft.in_dialog(manager)
    draft.weekday = weekday
    draft.keep_in_dialog(manager)
    await manager.switch_to(CheckinSetup.waiting_for_time)


def parse_typed_time(typed: str) -> tuple[int, int]:
    parsed = parse_time(typed)
    if parsed is None:
        raise ValueError(_("I need a time like 09:30 or 18:00 (24-hour clock). Please send it again."))
    return parsed


async def time_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """Step 3 by button: the time as four digits."""
    digits = len(value) == 4 and spelt_by_bot(value, 0, 2359) is not None
    parsed = parse_time(f"{value[:2]}:{value[2:]}") if digits else None
    if parsed is None:
        await stale(callback, manager)
        return
    await _time_set(manager, parsed)


async def time_typed(_message: Message, _widget: Any, manager: DialogManager, parsed: tuple[int, int]) -> None:
    await _time_set(manager, parsed)


async def _time_set(manager: DialogManager, parsed: tuple[int, int]) -> None:
    draft = SetupDraft.in_dialog(manager)
    draft.hour, draft.minute = parsed
    draft.keep_in_dialog(manager)
    await manager.switch_to(CheckinSetup.waiting_for_zone)


def parse_zone(typed: str) -> str:
    """An IANA name, checked against the time zone database."""
    timezone = resolve_timezone(typed)
    if timezone is None:
        raise ValueError(
            _(
                "I don't know the time zone \"{name}\". Use a name from the time zone database, like "
                "Europe/Moscow, America/New_York or Asia/Dubai, or tap a city above."
            ).format(name=user_text(typed, 64))
        )
    return timezone


async def zone_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """Step 4 by button: Moscow, New York or Los Angeles."""
    index = spelt_by_bot(value, 0, len(ZONE_CHOICES) - 1)
    if index is None:
        await stale(callback, manager)
        return
    await _zone_set(manager, ZONE_CHOICES[index])


async def zone_typed(_message: Message, _widget: Any, manager: DialogManager, timezone: str) -> None:
    await _zone_set(manager, timezone)


async def _zone_set(manager: DialogManager, timezone: str) -> None:
    draft = SetupDraft.in_dialog(manager)
    draft.timezone = timezone
    draft.keep_in_dialog(manager)
    await manager.switch_to(CheckinSetup.waiting_for_hours)


def parse_hours(typed: str) -> int:
    hours = parse_digest_hours(typed)
    if hours is None:
        raise ValueError(
            _("I need a whole number of hours from {min} to {max}, like 24.").format(
                min=DIGEST_HOURS_MIN, max=DIGEST_HOURS_MAX
            )
        )
    return hours


async def hours_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    hours = spelt_by_bot(value, DIGEST_HOURS_MIN, DIGEST_HOURS_MAX)
    if hours is None:
        await stale(callback, manager)
        return
    await _hours_set(manager, hours)


async def hours_typed(_message: Message, _widget: Any, manager: DialogManager, hours: int) -> None:
    await _hours_set(manager, hours)


async def _hours_set(manager: DialogManager, hours: int) -> None:
    draft = SetupDraft.in_dialog(manager)
    draft.digest_hours = hours
    draft.keep_in_dialog(manager)
    await manager.switch_to(CheckinSetup.waiting_for_doc)


def parse_doc(typed: str) -> str:
    url = validate_url(typed)
    if url is None:
        raise ValueError(_("That doesn't look like a link. Send one like https://docs.google.com/…, or tap Skip."))
    return url


async def doc_typed(message: Message, _widget: Any, manager: DialogManager, url: str) -> None:
    """Step 6 typed: the shared doc's link; the link to the group follows as a new message."""
    if message.from_user is not None:
        await _finish_setup(message, message.from_user.id, manager, url)


async def doc_skipped(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """Step 6 skipped (a schedule saved before for the same partnership keeps its doc); the step's message becomes
    the link to the group."""
    if isinstance(callback.message, Message):
        await _finish_setup(callback.message, callback.from_user.id, manager, None)


async def _finish_setup(message: Message, user_id: int, manager: DialogManager, shared_doc: str | None) -> None:
    """The schedule is chosen: a single-use `startgroup` link takes the bot into the group and links it there."""
    draft, data = SetupDraft.in_dialog(manager), manager.middleware_data
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    if not draft.partner_id or not draft.timezone:
        await say_stale(message)
        return
    checkins: CheckinRepo = data["checkins"]
    if not await checkins.is_workspace_member(draft.workspace_id, user_id):
        await message.answer(_("I can't find that partner in your workspace. Send /checkin to start again."))
        return
    when = WeeklyTime(draft.weekday, draft.hour, draft.minute, draft.timezone)
    schedule = NewSchedule(draft.workspace_id, draft.partner_id, when, draft.digest_hours, shared_doc)
    now = data["clock"].now()
    group_links: GroupLinkRepo = data["group_links"]
    payload, link_id = await group_links.create(schedule, user_id, now)
    me = await data["bot"].me()
    text = "\n".join(
        [
            _("<b>Almost done.</b> The weekly check-in:"),
            *summary_lines(schedule, draft.partner_name, data["i18n"].current_locale, now),
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
    # In place of the step after a press, as a new message after a typed link; the link's outcome edits it later.
    shown = await reply_here(message, text, markup)
    await group_links.set_message(link_id, shown)


def startgroup_url(bot_username: str, payload: str) -> str:
    """Telegram's deep link that lets the user pick a group, adds the bot, then sends /start <payload> there."""
    url = f"https://t.me/{bot_username}?startgroup={payload}"
    return f"{url}&admin={'+'.join(GROUP_ADMIN_RIGHTS)}" if GROUP_ADMIN_RIGHTS else url


async def setup_button_not_yours(callback: CallbackQuery) -> None:
    """A manage-menu button pressed by someone but the admin who sent /checkin, or one from an older wizard."""
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
    dialog_manager: DialogManager,
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
    existing = [a for a in await checkins.answers(round_.id) if a.user_id == message.from_user.id]
    intro = [_("<b>Weekly check-in</b>: four short questions; your answer goes into the group's digest.")]
    if existing:
        intro.append(_("You have answered already; this answer will replace it."))
    data = {AnswerDraft.KEY: AnswerDraft(round_id=round_.id).model_dump(mode="json"), "intro": "\n".join(intro)}
    await dialog_manager.start(CheckinAnswer.waiting_for_shipped, data=data, mode=StartMode.RESET_STACK,
                               show_mode=ShowMode.SEND)


async def _on_answer_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    AnswerDraft.from_stored(data.get(AnswerDraft.KEY)).keep_in_dialog(manager)
    note(manager, str(data.get("intro", "")))


async def shipped_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return screen(dialog_manager, _("1/4. What shipped since the last check-in?"))


async def next_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return screen(dialog_manager, _("2/4. What's next?"))


async def blockers_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    question = _("3/4. Any blockers? Describe them, or tap the button.")
    return {**screen(dialog_manager, question), "none": _("No blockers")}


async def call_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {
        **screen(dialog_manager, _("4/4. Do we need a call this week?")),
        "yes": _("📞 Yes, we need a call"),
        "no": _("No, async is fine"),
    }


async def shipped_given(_message: Message, _widget: Any, manager: DialogManager, text: str) -> None:
    """1/4: what shipped."""
    draft = AnswerDraft.in_dialog(manager)
    draft.shipped = text
    draft.keep_in_dialog(manager)
    await manager.switch_to(CheckinAnswer.waiting_for_next)


async def next_given(_message: Message, _widget: Any, manager: DialogManager, text: str) -> None:
    """2/4: what's next."""
    draft = AnswerDraft.in_dialog(manager)
    draft.next = text
    draft.keep_in_dialog(manager)
    await manager.switch_to(CheckinAnswer.waiting_for_blockers)


async def blockers_given(_message: Message, _widget: Any, manager: DialogManager, text: str) -> None:
    """3/4: blockers typed ("no" counts as none)."""
    await _blockers_set(manager, blocker_or_none(text))


async def no_blockers_pressed(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """3/4: the "No blockers" button; the question after it in place, under what was chosen."""
    note(manager, _("Blockers: none"))
    await _blockers_set(manager, None)


async def _blockers_set(manager: DialogManager, blockers: str | None) -> None:
    draft = AnswerDraft.in_dialog(manager)
    draft.blockers = blockers
    draft.keep_in_dialog(manager)
    await manager.switch_to(CheckinAnswer.waiting_for_call)


async def call_pressed(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    """4/4 by button: the answer is stored; the step's message becomes the thanks."""
    if isinstance(callback.message, Message):
        await _save_private(callback.message, callback.from_user, manager, widget.widget_id == "call_yes")


async def call_typed(message: Message, _widget: Any, manager: DialogManager, needs_call: bool) -> None:
    """4/4 typed: yes / no in words."""
    if message.from_user is not None:
        await _save_private(message, message.from_user, manager, needs_call)


async def _save_private(message: Message, user: User, manager: DialogManager, needs_call: bool) -> None:
    draft, data = AnswerDraft.in_dialog(manager), manager.middleware_data
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    checkins: CheckinRepo = data["checkins"]
    now = data["clock"].now()
    answer = Answer(draft.shipped or None, draft.next or None, draft.blockers, needs_call)
    outcome = await checkins.save_answer(draft.round_id, user.id, person_name(user), answer, None, now)
    if outcome == "closed":
        await reply_here(message, _("Sorry, the check-in closed before you finished, so this answer was not added."))
        return
    round_ = await checkins.round(draft.round_id)
    if round_ is not None:
        await checkins.touch_person(round_.chat_id, user.id, person_name(user), now)
    await reply_here(
        message, _("Thanks! Your answer is in. Until the digest you can change it with the same button in the group.")
    )


# ---- the two conversations, as data --------------------------------------------------------------------


def _choices(widget_id: str, items: str, on_click: Any, width: int | None = None) -> Any:
    """The step's choices: (label, value) items from its getter, `width` to a row (one to a row without)."""
    select = Select(Format("{item[0]}"), id=widget_id, item_id_getter=lambda item: str(item[1]), items=items,
                    on_click=on_click)
    return Column(select) if width is None else Group(select, width=width)


def _typed(widget_id: str, parse: Any, on_success: Any) -> TextInput[Any]:
    return TextInput(widget_id, type_factory=parse, on_success=on_success, on_error=refused, filter=NOT_A_COMMAND)


def _text_or_tap() -> str:
    return _("Please send text, or tap one of the buttons above.")


def setup_dialog() -> Dialog:
    screen_text = Format("{text}")
    tap_above = buttons_expected(lambda: _("Please choose one of the buttons above."))
    form = Dialog(
        Window(
            screen_text,
            _choices("partner", "partners", partner_chosen),
            Group(Select(Format("{item[0]}"), id="page", item_id_getter=lambda item: str(item[1]), items="pages",
                         on_click=page_chosen), width=2),
            MessageInput(tap_above),
            state=CheckinSetup.waiting_for_partner,
            getter=partner_view,
        ),
        Window(
            screen_text,
            _choices("day", "days", weekday_chosen, width=4),
            MessageInput(tap_above),
            state=CheckinSetup.waiting_for_weekday,
            getter=weekday_view,
        ),
        Window(
            screen_text,
            _choices("time", "times", time_chosen, width=4),
            _typed("time_typed", parse_typed_time, time_typed),
            MessageInput(text_expected(_text_or_tap)),
            state=CheckinSetup.waiting_for_time,
            getter=time_view,
        ),
        Window(
            screen_text,
            _choices("zone", "zones", zone_chosen, width=3),
            _typed("zone_typed", parse_zone, zone_typed),
            MessageInput(text_expected(_text_or_tap)),
            state=CheckinSetup.waiting_for_zone,
            getter=zone_view,
        ),
        Window(
            screen_text,
            _choices("hours", "hours", hours_chosen, width=3),
            _typed("hours_typed", parse_hours, hours_typed),
            MessageInput(text_expected(_text_or_tap)),
            state=CheckinSetup.waiting_for_hours,
            getter=hours_view,
        ),
        Window(
            screen_text,
            Button(Format("{skip}"), id="skip", on_click=doc_skipped),
            _typed("doc", parse_doc, doc_typed),
            MessageInput(text_expected(_text_or_tap)),
            state=CheckinSetup.waiting_for_doc,
            getter=doc_view,
        ),
        on_start=_on_setup_start,
    )
    return presses_of_its_own(form)


def answer_dialog() -> Dialog:
    screen_text = Format("{text}")
    field = typed_answer(ANSWER_FIELD_MAX)

    def not_text() -> MessageInput:
        return MessageInput(text_expected(lambda: texts.text_expected(ANSWER_FIELD_MAX)))

    form = Dialog(
        Window(screen_text, _typed("shipped", field, shipped_given), not_text(),
               state=CheckinAnswer.waiting_for_shipped, getter=shipped_view),
        Window(screen_text, _typed("next", field, next_given), not_text(),
               state=CheckinAnswer.waiting_for_next, getter=next_view),
        Window(
            screen_text,
            Button(Format("{none}"), id="no_blockers", on_click=no_blockers_pressed),
            _typed("blockers", field, blockers_given),
            not_text(),
            state=CheckinAnswer.waiting_for_blockers,
            getter=blockers_view,
        ),
        Window(
            screen_text,
            Column(
                Button(Format("{yes}"), id="call_yes", on_click=call_pressed),
                Button(Format("{no}"), id="call_no", on_click=call_pressed),
            ),
            _typed("call", says_yes, call_typed),
            not_text(),
            state=CheckinAnswer.waiting_for_call,
            getter=call_view,
        ),
        on_start=_on_answer_start,
    )
    return presses_of_its_own(form)
