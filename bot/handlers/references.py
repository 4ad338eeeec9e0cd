"""References: the team requests a link per creator; the creator answers a short questionnaire by deep link.

Two audiences, two routers under one: the creator's side has no workspace (never WorkspaceRequired) and sees
only the workspace's and the partner's names; the team's side works inside the caller's workspace.

The questionnaire is declared as data: an aiogram-dialog Dialog with a window per question (bot/handlers/
dialog_steps.py has what every step does with what it cannot take). A question's buttons and its typed answer
are one window, and both end in `_record`. The draft is kept in the dialog's records in the FSM storage, so a
questionnaire stopped halfway — or across a restart — resumes at its question when the link is opened again.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Annotated, Any, Self

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import CommandObject, CommandStart, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.api.internal import CONTEXT_KEY
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import Button, Group, Row, Select
from aiogram_dialog.widgets.text import Format
from babel.dates import format_date
from pydantic import Field

from bot import labels, texts
from bot.clock import Clock
from bot.commands import publish_for_chat
from bot.config import SUPPORTED_LOCALES, Settings
from bot.deep_links import DeepLinkGuard
from bot.domain.numbers import spelt_by_bot
from bot.domain.partners import MarketCoverage
from bot.domain.references import (
    ANCHOR_RATINGS,
    ANYTHING_ELSE_MAX_LEN,
    COMMENT_MAX_LEN,
    DIMENSIONS,
    EDITABLE_STEPS,
    LABEL_MAX_LEN,
    MONTHS_MAX,
    RATING_MAX,
    RATING_MIN,
    START_PREFIX,
    STEPS,
    Again,
    Dimension,
    Duration,
    LinkStatus,
    Step,
    count_links,
    duration_of,
    is_bare_number,
    is_red_flag,
    is_too_fast,
    is_valid_rating,
    looks_like_token,
    next_step,
    parse_months,
    parse_rating,
    previous_step,
)
from bot.domain.text import clean_block, clean_line
from bot.handlers.cancel_notes import on_cancel
from bot.handlers.dialog_steps import NOT_A_COMMAND, note, refused, screen, text_expected
from bot.handlers.drafts import DraftModel, Entry, holds, one_of
from bot.handlers.filters import PRIVATE, PressOf
from bot.handlers.partners import partner_or_say, show_partner_card
from bot.handlers.replies import drop_keyboard, edit_or_send, say_stale
from bot.handlers.workspace_guard import private_workspace_router
from bot.i18n import person_locale
from bot.keyboards.builders import LANGUAGE_NAMES
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.grid import ButtonGrid
from bot.keyboards.reference_callbacks import ReferenceAction, ReferenceCallback, ReferenceLanguage
from bot.plumbing.dialogs import EarlierStepPress, close_dialogs, presses_of_its_own
from bot.plumbing.log_context import AnonymousInLogs
from bot.plumbing.logging_setup import ANONYMOUS_IN_LOGS
from bot.plumbing.middlewares import notify_press
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.personal_data import forget_if_unattached
from bot.storage.references import NewAnswer, ReferenceLink, ReferenceRepo, Submitted
from bot.storage.respondents import RespondentKeys
from bot.storage.users import UserRepo
from bot.storage.workspaces import Workspace, WorkspaceRepo
from bot.views.formatting import user_text
from bot.views.partner_card import PartnerCards, again_label, dimension_label, duration_label, link_counts_text

log = logging.getLogger(__name__)

REF_LINK = F.args.regexp(r"^ref_")  # any ref_ payload, so a mangled one still gets the clear message
LINKS_SHOWN = 12  # newest links listed on the references screen
# A questionnaire nobody touched for this long is deleted (with it the tie between the creator's chat and the
# draft): twice a link's lifetime, so one opened on its last day still has two weeks to be finished.
ABANDONED_AFTER = timedelta(days=28)
BUTTON_LABEL_MAX = 30  # keeps "Revoke: <name>" readable on a phone
# Questions the creator is told about ("question 3 of 8"); a comment belongs to its rating's question.
QUESTION_OF_STEP = {
    Step.MONTHS: 1,
    Step.MARKET: 2,
    Step.CONSISTENCY: 3,
    Step.CONSISTENCY_NOTE: 3,
    Step.RESPECT: 4,
    Step.RESPECT_NOTE: 4,
    Step.RELIABILITY: 5,
    Step.RELIABILITY_NOTE: 5,
    Step.GROWTH: 6,
    Step.GROWTH_NOTE: 6,
    Step.AGAIN: 7,
    Step.ANYTHING_ELSE: 8,
}
QUESTIONS = max(QUESTION_OF_STEP.values())


class ReferenceForm(StatesGroup):
    """The creator's questionnaire: a state (a window of the dialog) per step, named after the step; then the list
    of answers to change. (The version before the dialog kept a state per kind of question, with the step in
    its FSM data: `_left_by_an_earlier_version` reads those.)"""

    months = State()
    market = State()
    consistency = State()
    consistency_note = State()
    respect = State()
    respect_note = State()
    reliability = State()
    reliability_note = State()
    growth = State()
    growth_note = State()
    again = State()
    anything_else = State()
    summary = State()
    edit_choice = State()


STATE_OF: dict[Step, State] = {step: getattr(ReferenceForm, step.name.lower()) for step in STEPS}
STEP_OF: dict[str, Step] = {state.state: step for step, state in STATE_OF.items()}


class ReferenceRequestForm(StatesGroup):
    """The manager's "Request a reference" (a dialog of one window): the optional name of the creator the link is
    for."""

    waiting_for_label = State()


FORM_STATE_PREFIX = f"{ReferenceForm.__full_group_name__}:"  # the dialog's states, and the earlier version's
ANONYMOUS = {ANONYMOUS_IN_LOGS: True}  # handler flags of the creator's side

# The keys of ratings and comments: a dimension's value; an entry under any other key is dropped.
DimensionKey = Annotated[str, one_of(DIMENSIONS), Entry]


class ReferenceDraft(DraftModel):
    """A questionnaire in progress (the dialog's data, plain JSON). No names: they are re-read through the link.
    Which question it is at is the dialog's state."""

    link_hash: str = ""
    partner_id: int = 0
    editing: bool = False  # answering one question again from the summary
    duration: Annotated[str, one_of(Duration)] | None = None  # the range tapped, or the one a typed number falls in
    months: int | None = None  # only when typed
    market: Annotated[str, one_of(MarketCoverage)] | None = None
    ratings: dict[DimensionKey, Annotated[int, holds(is_valid_rating), Entry]] = Field(default_factory=dict)
    comments: dict[DimensionKey, Annotated[str, Entry]] = Field(default_factory=dict)
    again: Annotated[str, one_of(Again)] | None = None
    anything_else: str | None = None
    started_at: str = ""

    KEY = "reference"

    @classmethod
    def from_stored(cls, raw: object) -> Self:
        """A draft saved before ranges were kept has only months: its range is the one they fall in (as migration
        014 reads them)."""
        if isinstance(raw, dict) and raw.get("duration") not in tuple(Duration):  # a tuple: the value may be a list
            months = raw.get("months")
            raw = {**raw, "duration": duration_of(months).value if type(months) is int and months >= 0 else None}
        return super().from_stored(raw)

    def first_missing(self) -> Step | None:
        """The first question without an answer (the summary is reached only when there is none)."""
        if self.duration is None:
            return Step.MONTHS
        if self.market is None:
            return Step.MARKET
        for dimension in DIMENSIONS:
            if dimension.value not in self.ratings:
                return next(s for s in STEPS if s.is_rating and s.dimension is dimension)
        if self.again is None:
            return Step.AGAIN
        return None


class ReferenceRequestDraft(DraftModel):
    """The partner a reference link is being made for, while the creator's name is asked (the dialog's data)."""

    partner_id: int | None = None

    KEY = "reference_request"


def _questionnaire_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled — nothing was sent. If you change your mind, open the same link again.")


on_cancel(ReferenceForm, _questionnaire_cancelled)


# The kinds of button data the two sides' handlers take (the questionnaire's own buttons are the dialog's).
CREATOR_PRESSES = (ReferenceLanguage,)
TEAM_PRESSES = (ReferenceCallback,)
PRESSES = CREATOR_PRESSES + TEAM_PRESSES


class InQuestionnaire(Filter):
    """The person's open dialog is a questionnaire (for a press: the dialog its button names)."""

    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        context = data.get(CONTEXT_KEY)
        return context is not None and context.state.group is ReferenceForm


def router() -> Router:
    r = Router(name="references")
    r.message.filter(PRIVATE)
    r.callback_query.filter(PressOf(*PRESSES))
    r.callback_query.filter(PRIVATE)
    r.include_router(_creator_router())
    r.include_router(_team_router())
    return r


def _creator_router() -> Router:
    """Whoever opened a link: no workspace needed, none shown; their chat id stays out of the log lines."""
    r = Router(name="references-creator")
    r.message.filter(PRIVATE)
    r.callback_query.filter(PressOf(*CREATOR_PRESSES))
    r.callback_query.filter(PRIVATE)
    r.message.register(open_link, CommandStart(deep_link=True, magic=REF_LINK), flags=ANONYMOUS)
    r.message.register(start_mid_questionnaire, CommandStart(), InQuestionnaire(), flags=ANONYMOUS)
    r.callback_query.register(language_switched, ReferenceLanguage.filter(), flags=ANONYMOUS)
    return r


def conversations() -> Router:
    """The two conversations as dialogs, apart from `router()`: their presses carry the dialogs' own data.

    The creator's questionnaire needs no workspace (the creator is an outsider), and their chat id stays out of
    the log lines here too; a press of the questionnaire that its current step does not have comes after it. The
    team's "Request a reference" works inside the caller's workspace."""
    questionnaire = Router(name="references-questionnaire")
    for observer in (questionnaire.message, questionnaire.callback_query):
        observer.filter(PRIVATE)
        observer.middleware(AnonymousInLogs())
    questionnaire.include_router(dialog())
    earlier = Router(name="references-questionnaire-earlier")  # a router's own handlers come before its children's
    earlier.callback_query.filter(EarlierStepPress(ReferenceForm))
    earlier.callback_query.register(earlier_question)
    questionnaire.include_router(earlier)
    request = private_workspace_router("references-request")
    request.include_router(request_dialog())
    r = Router(name="references-conversations")
    r.include_routers(questionnaire, request)
    return r


def _team_router() -> Router:
    """The workspace's side: links per partner, revoking them."""
    r = private_workspace_router("references-team", TEAM_PRESSES)
    r.callback_query.register(show_links, ReferenceCallback.filter(F.action == ReferenceAction.LIST))
    r.callback_query.register(request_reference, ReferenceCallback.filter(F.action == ReferenceAction.NEW))
    r.callback_query.register(revoke_link, ReferenceCallback.filter(F.action == ReferenceAction.REVOKE))
    r.callback_query.register(open_card, ReferenceCallback.filter(F.action == ReferenceAction.CARD))
    return r


# ---- shared helpers -----------------------------------------------------------------------------------------


def _date(moment: datetime, locale: str) -> str:
    return format_date(moment.date(), format="long", locale=locale)


# ---- creator: texts -----------------------------------------------------------------------------------------


def _invalid_text() -> str:
    return _(
        "This reference link is not valid. Please check that it was copied whole, or ask whoever sent it for a new one."
    )


def _expired_text() -> str:
    return _(
        "This reference link has expired. If you would still like to share your experience, ask whoever "
        "sent it for a new link."
    )


def _revoked_text() -> str:
    return _(
        "This reference link was withdrawn by whoever sent it. If you think it is a mistake, ask them for a new one."
    )


def _used_text() -> str:
    return _(
        "This reference link has already been used. Each link works once, for one person — ask whoever "
        "sent it for a link of your own."
    )


def _closed_text() -> str:
    return _("This questionnaire is closed. To answer, open the link you were sent once more.")


def _greeting(link: ReferenceLink) -> str:
    return _(
        "Hello! 👋 The team of <b>{workspace}</b> is thinking about working with <b>{partner}</b> and would "
        "love to hear from creators who have worked with them.\n\n"
        "It takes about three minutes: {questions}, mostly taps, and a comment only if you want to. Your "
        "answers go to the {workspace} team only — they are <b>not shown to {partner}</b>.\n\n"
        "You can stop at any moment and come back later through the same link; /cancel stops the "
        "questionnaire."
    ).format(
        workspace=user_text(link.workspace_name),
        partner=user_text(link.partner_name),
        questions=ngettext("{count} short question", "{count} short questions", QUESTIONS).format(count=QUESTIONS),
    )


def _language_keyboard(current: str) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    for locale, name in LANGUAGE_NAMES.items():
        b.button(text=("✓ " if locale == current else "") + name, callback_data=ReferenceLanguage(locale=locale))
    b.adjust(2)
    return b.as_markup()


def _dimension_question(dimension: Dimension) -> str:
    return {
        Dimension.CONSISTENCY: _("Do they come back with clear briefs — or is it “we'll figure it out later”?"),
        Dimension.RESPECT: _("Do they ask what you do well — or just “can you do this thing I saw once”?"),
        Dimension.RELIABILITY: _("Are payments on time, feedback clear, and the scope free of surprises?"),
        Dimension.GROWTH: _("Do they actually help you grow your audience or platform?"),
    }[dimension]


def _anchors(dimension: Dimension) -> tuple[str, str, str]:
    """What 1, 3 and 5 mean for a dimension."""
    return {
        Dimension.CONSISTENCY: (
            _("briefs are vague or missing, plans change on the fly"),
            _("briefs come, but often late or half-done"),
            _("a clear brief every time, on schedule"),
        ),
        Dimension.RESPECT: (
            _("they dictate; what I am good at does not matter"),
            _("sometimes they ask, sometimes they just copy trends"),
            _("they ask about my strengths and build the brief around them"),
        ),
        Dimension.RELIABILITY: (
            _("late payments, vague feedback, the work keeps growing"),
            _("mostly fine, with a hiccup or two"),
            _("paid on time, clear feedback, scope as agreed"),
        ),
        Dimension.GROWTH: (
            _("only the deliverable matters to them"),
            _("some support, when it suits them"),
            _("they actively help me grow: advice, exposure, new formats"),
        ),
    }[dimension]


def _note_question(dimension: Dimension) -> str:
    return {
        Dimension.CONSISTENCY: _("Would you add a word about their briefs? Type a comment, or tap Skip."),
        Dimension.RESPECT: _("Would you add a word about how they treat your strengths? Type a comment, or tap Skip."),
        Dimension.RELIABILITY: _(
            "Would you add a word about payments, feedback or scope? Type a comment, or tap Skip."
        ),
        Dimension.GROWTH: _("Would you add a word about how they help you grow? Type a comment, or tap Skip."),
    }[dimension]


def _progress(step: Step) -> str:
    return _("Question {number} of {total}").format(number=QUESTION_OF_STEP[step], total=QUESTIONS)


def _step_text(step: Step, draft: ReferenceDraft, link: ReferenceLink) -> str:
    """The question of a step (or the summary)."""
    partner = user_text(link.partner_name)
    if step is Step.SUMMARY:
        return _summary(draft, link)
    lines = [f"<i>{_progress(step)}</i>"]
    dimension = step.dimension
    if step is Step.MONTHS:
        lines.append(
            _("How long did you work with <b>{partner}</b>? Tap an option, or type the number of months.").format(
                partner=partner
            )
        )
    elif step is Step.MARKET:
        lines.append(_("In which market did you work together?"))
    elif step.is_rating and dimension is not None:
        lines += [f"<b>{dimension_label(dimension)}</b>", _dimension_question(dimension), ""]
        lines += [f"{rating} — {text}" for rating, text in zip(ANCHOR_RATINGS, _anchors(dimension), strict=True)]
        lines += ["", _("Tap a number from {min} to {max}, or type it.").format(min=RATING_MIN, max=RATING_MAX)]
    elif step.is_note and dimension is not None:
        rating = draft.ratings.get(dimension.value)
        lines.append(
            _("<b>{dimension}</b>: {rating} of {max} ✓").format(
                dimension=dimension_label(dimension), rating=rating, max=RATING_MAX
            )
        )
        lines += ["", _note_question(dimension)]
        earlier = draft.comments.get(dimension.value)
        if earlier:
            lines.append(_("Your comment so far: {comment}").format(comment=user_text(earlier, 300)))
    elif step is Step.AGAIN:
        lines.append(_("Would you work with <b>{partner}</b> again?").format(partner=partner))
    elif step is Step.ANYTHING_ELSE:
        lines.append(_("Anything else the team should know about working with them? Type it, or tap Skip."))
        if draft.anything_else:
            lines.append(_("Your comment so far: {comment}").format(comment=user_text(draft.anything_else, 300)))
    return "\n".join(lines)


def _summary(draft: ReferenceDraft, link: ReferenceLink) -> str:
    lines = [_("<b>Your reference about {partner}</b>").format(partner=user_text(link.partner_name)), ""]
    if draft.duration is not None and draft.market is not None:
        lines.append(
            _("Worked together: {duration} · {market}").format(
                duration=_worked_for(draft), market=labels.coverage(MarketCoverage(draft.market))
            )
        )
    for dimension in DIMENSIONS:
        line = f"{dimension_label(dimension)}: {draft.ratings.get(dimension.value, '—')}"
        comment = draft.comments.get(dimension.value)
        if comment:
            line += f" — {user_text(comment, 200)}"
        lines.append(line)
    if draft.again is not None:
        lines.append(_("Would work with them again: {answer}").format(answer=again_label(Again(draft.again))))
    if draft.anything_else:
        lines.append(_("Anything else: {text}").format(text=user_text(draft.anything_else, 300)))
    lines += [
        "",
        _("Send it to the {workspace} team? {partner} will not see it.").format(
            workspace=user_text(link.workspace_name), partner=user_text(link.partner_name)
        ),
    ]
    return "\n".join(lines)


def _worked_for(draft: ReferenceDraft) -> str:
    """A typed number as typed; a tapped range as the range."""
    if draft.months is not None:
        return ngettext("{count} month", "{count} months", draft.months).format(count=draft.months)
    return duration_label(Duration(draft.duration or Duration.UNDER_3.value))


def _mark(chosen: bool, text: str) -> str:
    return ("✓ " + text) if chosen else text



def _choices(step: Step, draft: ReferenceDraft) -> list[tuple[str, str]]:
    """A question's buttons as (label, value), the answer given so far ticked."""
    if step is Step.MONTHS:
        return [(_mark(draft.duration == d.value, duration_label(d)), d.value) for d in Duration]
    if step is Step.MARKET:
        return [(_mark(draft.market == m.value, labels.coverage(m)), m.value) for m in MarketCoverage]
    if step.is_rating and step.dimension is not None:
        current = draft.ratings.get(step.dimension.value)
        return [(_mark(r == current, str(r)), str(r)) for r in range(RATING_MIN, RATING_MAX + 1)]
    if step is Step.AGAIN:
        answers = ((Again.YES, _("👍 Yes")), (Again.MAYBE, _("🤔 Maybe")), (Again.NO, _("👎 No")))
        return [(_mark(draft.again == choice.value, text), choice.value) for choice, text in answers]
    return []


def _edit_choices() -> list[tuple[str, str]]:
    names = {
        Step.MONTHS: _("How long"),
        Step.MARKET: _("Market"),
        Step.AGAIN: _("Work again?"),
        Step.ANYTHING_ELSE: _("Anything else"),
    }
    return [(dimension_label(s.dimension) if s.dimension is not None else names[s], s.value) for s in EDITABLE_STEPS]


def _rating_hint() -> str:
    return _("Please rate from {min} to {max}: tap a number or type one digit.").format(min=RATING_MIN, max=RATING_MAX)


def _buttons_hint() -> str:
    return _("Please choose one of the buttons below.")


def _text_hint() -> str:
    return _("Please answer with text (or a button below).")


def _comment_hint(text: str | None, limit: int) -> str:
    length = len((text or "").strip())
    if length > limit:
        return texts.text_too_long(limit, length)
    return _("Please type your comment as text, or tap Skip.")


# ---- creator: opening the link ------------------------------------------------------------------------------


async def open_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    dialog_manager: DialogManager,
    references: ReferenceRepo,
    workspaces: WorkspaceRepo,
    respondents: RespondentKeys,
    clock: Clock,
    i18n: I18n,
    deep_links: DeepLinkGuard,
) -> None:
    """/start ref_<token>: greet the creator and start (or resume) the questionnaire, or say why not."""
    assert message.from_user is not None and command.args is not None
    user_id = message.from_user.id
    token = command.args.removeprefix(START_PREFIX)
    link = await references.find(token) if looks_like_token(token) else None
    if link is None:
        await deep_links.failed(message)
        await message.answer(_invalid_text())
        return
    if await workspaces.role_of(link.workspace_id, user_id) is not None:
        await message.answer(
            _(
                "This is your own team's reference link for <b>{partner}</b>. Forward it to a creator who has "
                "worked with them; opening it yourself does not use it up."
            ).format(partner=user_text(link.partner_name))
        )
        return
    key = respondents.of(link.partner_id, user_id)
    open_draft = _open_questionnaire(dialog_manager)
    resuming = open_draft is not None and open_draft.link_hash == link.token_hash
    earlier = None if resuming else await _left_by_an_earlier_version(state, link.token_hash)
    status = link.status(clock.now(), started=resuming or earlier is not None)
    if status is LinkStatus.ANSWERED:
        if await references.answered_through(link.token_hash, key):
            await message.answer(_("You have already sent your reference through this link. Thank you again!"))
        else:
            await deep_links.failed(message)
            await message.answer(_used_text())
        return
    if not status.usable:
        if resuming:
            await _end(dialog_manager)
        if earlier is not None:
            await state.clear()
        await deep_links.failed(message)
        await message.answer(_revoked_text() if status is LinkStatus.REVOKED else _expired_text())
        return
    if link.opened_by_key not in (None, key):
        await deep_links.failed(message)
        await message.answer(_used_text())
        return
    if await references.has_answered(link.partner_id, key):
        await message.answer(
            _(
                "You have already shared a reference about <b>{partner}</b> — one per person is enough. Thank you!"
            ).format(partner=user_text(link.partner_name))
        )
        return
    welcome = _("Welcome back! Let's continue where you left off.")
    if resuming:
        await _show_again(dialog_manager, welcome)
        return
    if earlier is not None:
        step, draft, message_id = earlier
        await state.clear()
        await drop_keyboard(dialog_manager.middleware_data["bot"], message.chat.id, message_id)
        await _start(dialog_manager, step, draft, welcome)
        return
    if not await references.open(link.id, key, clock.now()):
        await message.answer(_used_text())
        return
    if dialog_manager.has_context():  # another conversation was open: its buttons go
        await drop_keyboard(dialog_manager.middleware_data["bot"], message.chat.id,
                            dialog_manager.current_stack().last_message_id)
    await state.clear()
    draft = ReferenceDraft(link_hash=link.token_hash, partner_id=link.partner_id, started_at=clock.now().isoformat())
    await message.answer(_greeting(link), reply_markup=_language_keyboard(i18n.current_locale))
    await _start(dialog_manager, Step.MONTHS, draft)


def _open_questionnaire(manager: DialogManager) -> ReferenceDraft | None:
    """The draft of the person's open questionnaire, if their open dialog is one."""
    if not manager.has_context() or manager.current_context().state.group is not ReferenceForm:
        return None
    return ReferenceDraft.in_dialog(manager)


async def _left_by_an_earlier_version(
    state: FSMContext, link_hash: str
) -> tuple[Step, ReferenceDraft, int | None] | None:
    """A questionnaire for this link that the version before the dialog kept in FSM state and data: its step, its
    draft and the message whose buttons were live."""
    current = await state.get_state()
    if current is None or not current.startswith(FORM_STATE_PREFIX):
        return None
    raw = (await state.get_data()).get(ReferenceDraft.KEY)
    draft = ReferenceDraft.from_stored(raw)
    if not isinstance(raw, dict) or not draft.link_hash or draft.link_hash != link_hash:
        return None
    step = next((s for s in STEPS if s.value == raw.get("step")), None) or draft.first_missing() or Step.SUMMARY
    message_id = raw.get("message_id")
    return step, draft, message_id if type(message_id) is int else None


async def _start(manager: DialogManager, step: Step, draft: ReferenceDraft, intro: str = "") -> None:
    await manager.start(
        STATE_OF[step], data={ReferenceDraft.KEY: draft.model_dump(mode="json"), "intro": intro},
        mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND,
    )


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    ReferenceDraft.from_stored(data.get(ReferenceDraft.KEY)).keep_in_dialog(manager)
    if data.get("intro"):
        note(manager, str(data["intro"]))


async def start_mid_questionnaire(message: Message, dialog_manager: DialogManager) -> None:
    """/start while the questionnaire is open: carry on with it rather than start something else."""
    found = await _live(dialog_manager)
    if found is None:
        return
    hint = _("You are in the middle of the reference about <b>{partner}</b>. Let's continue — or send /cancel to stop.")
    await _show_again(dialog_manager, hint.format(partner=user_text(found[1].partner_name)))


async def _live(manager: DialogManager) -> tuple[ReferenceDraft, ReferenceLink] | None:
    """The draft and its link while the link still takes an answer; otherwise close the questionnaire, say why."""
    draft = _open_questionnaire(manager)
    if draft is None or not draft.link_hash:
        if not notify_press(_closed_text()):  # a button of a closed questionnaire: a pop-up notice, no message
            await _say(manager, _closed_text())
        return None
    data = manager.middleware_data
    link = await data["references"].by_hash(draft.link_hash)
    status = link.status(data["clock"].now(), started=True) if link is not None else LinkStatus.UNKNOWN
    if link is None or not status.usable:
        await _end(manager)
        texts_by_status = {LinkStatus.REVOKED: _revoked_text(), LinkStatus.ANSWERED: _used_text()}
        await _say(manager, texts_by_status.get(status, _invalid_text()))
        return None
    return draft, link


async def _say(manager: DialogManager, text: str) -> None:
    """A new message in the person's chat."""
    bot: Bot = manager.middleware_data["bot"]
    await bot.send_message(manager.middleware_data["event_chat"].id, text)


async def _end(manager: DialogManager) -> None:
    """The questionnaire is over without an answer: its message loses its buttons, its records go."""
    bot: Bot = manager.middleware_data["bot"]
    await drop_keyboard(bot, manager.middleware_data["event_chat"].id, manager.current_stack().last_message_id)
    await close_dialogs(manager)


async def _show_again(manager: DialogManager, hint: str | None = None) -> None:
    """The current step as a new message, under `hint`; the previous message's buttons go, so one set is live."""
    bot: Bot = manager.middleware_data["bot"]
    await drop_keyboard(bot, manager.middleware_data["event_chat"].id, manager.current_stack().last_message_id)
    if hint:
        note(manager, hint)
    await manager.show(ShowMode.SEND)


async def language_switched(
    callback: CallbackQuery,
    callback_data: ReferenceLanguage,
    dialog_manager: DialogManager,
    bot: Bot,
    users: UserRepo,
    i18n: I18n,
) -> None:
    """Русский / English under the greeting: saved like /language; the greeting and the question follow."""
    message = callback.message
    if not isinstance(message, Message):
        return
    if callback_data.locale not in SUPPORTED_LOCALES:
        await say_stale(message)
        return
    await users.set_locale(callback.from_user.id, callback_data.locale)
    await publish_for_chat(bot, i18n, message.chat.id, callback_data.locale, private=True)  # even if the link expired
    with i18n.use_locale(callback_data.locale):
        found = await _live(dialog_manager)
        if found is None:
            return
        with suppress(TelegramBadRequest):  # the same language again: nothing to change
            await message.edit_text(_greeting(found[1]), reply_markup=_language_keyboard(callback_data.locale))
        await _show_again(dialog_manager)


# ---- creator: what each step shows --------------------------------------------------------------------------


def _step(manager: DialogManager) -> Step:
    return STEP_OF.get(manager.current_context().state.state, Step.SUMMARY)


async def question_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    step = _step(dialog_manager)
    draft = ReferenceDraft.in_dialog(dialog_manager)
    references: ReferenceRepo = dialog_manager.middleware_data["references"]
    link = await references.by_hash(draft.link_hash) if draft.link_hash else None
    can_go_back = step is not Step.SUMMARY and not draft.editing and previous_step(step) is not None
    return {
        **screen(dialog_manager, _closed_text() if link is None else _step_text(step, draft, link)),
        "choices": _choices(step, draft),
        "back": _("◀ Back") if can_go_back else "",
        "skip": _("Skip ⏭"),
        "send": _("✅ Send"),
        "change": _("✏️ Change an answer"),
        "cancel": _("✖️ Cancel"),
    }


async def edit_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {
        **screen(dialog_manager, _("Which answer would you like to change?")),
        "choices": _edit_choices(),
        "to_summary": _("« Back to the summary"),
    }


# ---- creator: what each step takes --------------------------------------------------------------------------


def parse_months_typed(typed: str) -> int:
    months = parse_months(typed)
    if months is None:
        raise ValueError(
            _("Please type a whole number of months from 0 to {max}, like 8 — or tap an option.").format(max=MONTHS_MAX)
        )
    return months


def parse_rating_typed(typed: str) -> int:
    rating = parse_rating(typed)
    if rating is None:
        raise ValueError(_rating_hint())
    return rating


def parse_comment(typed: str) -> str:
    comment = clean_block(typed, COMMENT_MAX_LEN)
    if comment is None:
        raise ValueError(_comment_hint(typed, COMMENT_MAX_LEN))
    if is_bare_number(comment):
        raise ValueError(
            _(
                "“{text}” looks like a rating rather than a comment, so I did not keep it. Type a comment in words, "
                "or tap Skip to go on."
            ).format(text=user_text(comment, 20))
        )
    return comment


def parse_anything_else(typed: str) -> str:
    text = clean_block(typed, ANYTHING_ELSE_MAX_LEN)
    if text is None:
        raise ValueError(_comment_hint(typed, ANYTHING_ELSE_MAX_LEN))
    return text


def _pressed_rating(value: str) -> int | None:
    """A rating button's value, exactly as the bot writes it ("²" or " 4" is forged data, not a rating)."""
    return spelt_by_bot(value, RATING_MIN, RATING_MAX)


def _record(draft: ReferenceDraft, step: Step, answer: int | str | None) -> bool:
    """Record an answer to `step` in the draft, tapped (a button's value, None for Skip) or typed (as its parser
    read it: a number of months or a rating as an int, a comment as text); False when it makes no sense there."""
    dimension = step.dimension
    typed_number = isinstance(answer, int)
    if step is Step.MONTHS and typed_number:
        draft.duration, draft.months = duration_of(answer).value, answer
    elif step is Step.MONTHS and answer in {d.value for d in Duration}:
        draft.duration, draft.months = answer, None
    elif step is Step.MARKET and answer in {m.value for m in MarketCoverage}:
        draft.market = answer
    elif step.is_rating and dimension is not None and answer is not None:
        rating = answer if isinstance(answer, int) else _pressed_rating(answer)
        if rating is None:
            return False
        draft.ratings[dimension.value] = rating
    elif step.is_note and dimension is not None and not typed_number:
        if answer is None:
            draft.comments.pop(dimension.value, None)
        else:
            draft.comments[dimension.value] = answer
    elif step is Step.AGAIN and answer in {a.value for a in Again}:
        draft.again = answer
    elif step is Step.ANYTHING_ELSE and not isinstance(answer, int):
        draft.anything_else = answer
    else:
        return False
    return True


def _following(draft: ReferenceDraft, step: Step) -> Step:
    """The step after `step`; after an edit (or if something is still missing) the summary needs every answer."""
    upcoming = next_step(step, editing=draft.editing)
    if upcoming is Step.SUMMARY:
        draft.editing = False
        upcoming = draft.first_missing() or Step.SUMMARY
    return upcoming


async def chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """A question's button: its answer."""
    await _answer(manager, value)


async def typed(_message: Message, _widget: Any, manager: DialogManager, value: int | str) -> None:
    """A question's typed answer, as its parser read it."""
    await _answer(manager, value)


async def skipped(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """Skip on a comment: none."""
    await _answer(manager, None)


async def _answer(manager: DialogManager, answer: int | str | None) -> None:
    """Tapped or typed, the same: recorded, and on to the next step (a press edits the step's message in place, a
    typed answer gets a new one)."""
    if (found := await _live(manager)) is None:
        return
    draft, step = found[0], _step(manager)
    if not _record(draft, step, answer):
        _not_this_question(manager)
        return
    upcoming = _following(draft, step)
    draft.keep_in_dialog(manager)
    await manager.switch_to(STATE_OF[upcoming])


def _not_this_question(manager: DialogManager) -> None:
    """A press the step cannot take (a forged value, Back while answering again): a pop-up; the step stays."""
    notify_press(_earlier_text())
    manager.show_mode = ShowMode.NO_UPDATE


async def earlier_question(_callback: CallbackQuery) -> None:
    """A button of the questionnaire that its current step does not have (one kept from an earlier step)."""
    notify_press(_earlier_text())


def _earlier_text() -> str:
    return _("This button belongs to an earlier question. Please answer the latest one below.")


async def went_back(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """◀ Back: the question before (not while answering one again from the summary)."""
    if (found := await _live(manager)) is None:
        return
    previous = previous_step(_step(manager))
    if previous is None or found[0].editing:
        _not_this_question(manager)
        return
    await manager.switch_to(STATE_OF[previous])


async def change_pressed(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """"Change an answer" on the summary: which one."""
    if await _live(manager) is not None:
        await manager.switch_to(ReferenceForm.edit_choice)


async def edit_chosen(_callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """A question picked from "Change an answer": answered again, then back to the summary."""
    if (found := await _live(manager)) is None:
        return
    step = next((s for s in EDITABLE_STEPS if s.value == value), None)
    if step is None:
        _not_this_question(manager)
        return
    draft = found[0]
    draft.editing = True
    draft.keep_in_dialog(manager)
    await manager.switch_to(STATE_OF[step])


async def back_to_summary(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    if (found := await _live(manager)) is None:
        return
    draft = found[0]
    draft.editing = False
    draft.keep_in_dialog(manager)
    await manager.switch_to(ReferenceForm.summary)


async def cancel_pressed(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """✖️ Cancel on the summary: nothing is sent; the summary says so."""
    await close_dialogs(manager)
    await _instead_of_summary(callback, _questionnaire_cancelled({}))


async def _instead_of_summary(callback: CallbackQuery, text: str) -> None:
    if isinstance(callback.message, Message):
        await edit_or_send(callback.message, text, None)


# ---- creator: sending ---------------------------------------------------------------------------------------


async def send_pressed(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """Send: store the answer without the Telegram id, use up the link, forget the creator's profile if nothing else
    needs it, thank, and tell the manager."""
    if (found := await _live(manager)) is None:
        return
    draft, link = found
    missing = draft.first_missing()
    if missing is not None or draft.duration is None or draft.market is None or draft.again is None:
        await manager.switch_to(STATE_OF[missing or Step.MONTHS])
        return
    data = manager.middleware_data
    references: ReferenceRepo = data["references"]
    now = data["clock"].now()
    try:
        started = datetime.fromisoformat(draft.started_at)
    except ValueError:
        started = now
    user_id = callback.from_user.id
    answer = NewAnswer(
        partner_id=link.partner_id,
        link_hash=link.token_hash,
        respondent_key=data["respondents"].of(link.partner_id, user_id),
        duration=Duration(draft.duration),
        months=draft.months,
        market=MarketCoverage(draft.market),
        ratings={Dimension(k): v for k, v in draft.ratings.items()},
        comments={Dimension(k): v for k, v in draft.comments.items()},
        again=Again(draft.again),
        anything_else=draft.anything_else,
        locale=data["i18n"].current_locale,
        started_at=started,
        finished_at=now,
    )
    result = await references.submit(answer)
    await close_dialogs(manager)  # leaves no record: the creator's chat is not kept beside the moment they sent
    if result is Submitted.ALREADY_ANSWERED:
        await _instead_of_summary(callback, _("You have already shared a reference about this partner — thank you!"))
        return
    if result is Submitted.LINK_GONE:
        await _instead_of_summary(callback, _used_text() if link.answered_at else _revoked_text())
        return
    bot: Bot = data["bot"]
    chat_id = data["event_chat"].id
    await forget_if_unattached(data["db"], user_id)
    if callback.message is not None:
        await drop_keyboard(bot, chat_id, callback.message.message_id)
    await bot.send_message(
        chat_id,
        _(
            "Thank you! 🙏 Your reference is on its way to the {workspace} team. {partner} will not see it.\n\n"
            "There is nothing else you need to do."
        ).format(workspace=user_text(link.workspace_name), partner=user_text(link.partner_name)),
    )
    await _notify_manager(bot, link, answer, references, data["users"], data["workspaces"], data["settings"],
                          data["i18n"])


# ---- the questionnaire, as data -----------------------------------------------------------------------------


CHOICE = Format("{item[0]}")


def _item_value(item: tuple[str, str]) -> str:
    return item[1]


def _choice(widget_id: str, width: int) -> Group:
    return Group(
        Select(CHOICE, id=widget_id, item_id_getter=_item_value, items="choices", on_click=chosen), width=width
    )


def _typed(widget_id: str, parse: Any) -> TextInput:
    return TextInput(widget_id, type_factory=parse, on_success=typed, on_error=refused, filter=NOT_A_COMMAND)


def _skip(step_value: str) -> Button:
    return Button(Format("{skip}"), id=f"skip_{step_value}", on_click=skipped)


def _question(step: Step) -> Window:
    """One step's window. Widget ids name the step, so a button kept from another step is not taken for this one's
    (it gets `earlier_question`)."""
    v = step.value
    if step is Step.MONTHS:
        takes: list[Any] = [_choice("duration", 2), _typed("months", parse_months_typed)]
        hint = _text_hint
    elif step is Step.MARKET:
        takes, hint = [_choice("market", 2)], _buttons_hint
    elif step.is_rating:
        takes = [_choice(f"rate_{v}", RATING_MAX - RATING_MIN + 1), _typed(f"typed_{v}", parse_rating_typed)]
        hint = _rating_hint
    elif step.is_note:
        takes = [_typed(f"typed_{v}", parse_comment), _skip(v)]
        hint = _text_hint
    elif step is Step.AGAIN:
        takes, hint = [_choice("again", 3)], _buttons_hint
    elif step is Step.ANYTHING_ELSE:
        takes = [_typed("anything_else", parse_anything_else), _skip(v)]
        hint = _text_hint
    else:
        takes = [
            Button(Format("{send}"), id="send", on_click=send_pressed),
            Row(
                Button(Format("{change}"), id="change", on_click=change_pressed),
                Button(Format("{cancel}"), id="cancel", on_click=cancel_pressed),
            ),
        ]
        hint = _buttons_hint
    return Window(
        Format("{text}"),
        *takes,
        Button(Format("{back}"), id=f"back_{v}", on_click=went_back, when="back"),
        MessageInput(text_expected(hint)),
        state=STATE_OF[step],
        getter=question_view,
    )


def dialog() -> Dialog:
    form = Dialog(
        *(_question(step) for step in STEPS),
        Window(
            Format("{text}"),
            Group(
                Select(CHOICE, id="edit", item_id_getter=_item_value, items="choices", on_click=edit_chosen),
                Button(Format("{to_summary}"), id="to_summary", on_click=back_to_summary),
                width=2,
            ),
            MessageInput(text_expected(_buttons_hint)),
            state=ReferenceForm.edit_choice,
            getter=edit_view,
        ),
        on_start=_on_start,
    )
    return presses_of_its_own(form)


async def _notify_manager(
    bot: Bot,
    link: ReferenceLink,
    answer: NewAnswer,
    references: ReferenceRepo,
    users: UserRepo,
    workspaces: WorkspaceRepo,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The manager who made the link hears about it in private, in their own language, with the card a tap away."""
    manager = link.created_by
    if manager is None or await workspaces.role_of(link.workspace_id, manager) is None:
        return  # they left the team: the answer waits on the card
    number = len(await references.answers(link.workspace_id, link.partner_id))
    with i18n.use_locale(await person_locale(users, manager, settings.default_locale)):
        ratings = " · ".join(f"{dimension_label(d)} {answer.ratings[d]}" for d in DIMENSIONS)
        lines = [
            _("🗣 A new reference about <b>{partner}</b> has arrived — creator {number}.").format(
                partner=user_text(link.partner_name), number=number
            ),
            ratings,
            _("Would work with them again: {answer}").format(answer=again_label(answer.again)),
        ]
        if is_red_flag(answer.ratings, answer.again):
            lines.append("🚩 " + _("Red flag: reliability 2 or lower, or “no” to working with them again."))
        if is_too_fast(answer.seconds_taken):
            lines.append("⚡ " + _("Answered implausibly fast (under 30 seconds)."))
        b = ButtonGrid()
        b.button(
            text=_("Open the card"),
            callback_data=ReferenceCallback(action=ReferenceAction.CARD, partner_id=link.partner_id),
        )
        text, markup = "\n".join(lines), b.as_markup()
    try:
        await bot.send_message(manager, text, reply_markup=markup)
    except TelegramForbiddenError:
        log.info("manager %s blocked the bot; reference notice not delivered", manager)
    except TelegramBadRequest as error:
        log.info("reference notice to %s not delivered: %s", manager, error.message)


# ---- team: links --------------------------------------------------------------------------------------------


def _link_name(link: ReferenceLink, number: int) -> str:
    return link.label or _("link {number}").format(number=number)


def _links_text(partner: Partner, links: list[ReferenceLink], now: datetime, locale: str) -> str:
    counts = count_links((link.status(now) for link in links), (link.opened_at is not None for link in links))
    lines = [_("<b>References: {partner}</b>").format(partner=user_text(partner.name))]
    if not links:
        lines += [
            "",
            _(
                "Ask creators who have worked with them: they can tell you more than the partner can about "
                "themselves. Each creator gets a personal link, valid for 14 days, and answers in Russian or "
                "English; the partner never sees the answers."
            ),
        ]
        return "\n".join(lines)
    lines.append(link_counts_text(counts))
    lines.append("")
    shown = list(enumerate(links, 1))[-LINKS_SHOWN:]
    for number, link in reversed(shown):
        status = link.status(now)
        name = user_text(_link_name(link, number))
        if status is LinkStatus.ANSWERED and link.answered_at is not None:
            state = _("answered {date}").format(date=_date(link.answered_at, locale))
        elif status is LinkStatus.OPENED:
            state = _("opened, not answered yet; works until {date}").format(date=_date(link.expires_at, locale))
        elif status is LinkStatus.SENT:
            state = _("not opened yet; works until {date}").format(date=_date(link.expires_at, locale))
        elif status is LinkStatus.EXPIRED:
            state = _("expired {date}").format(date=_date(link.expires_at, locale))
        else:
            state = _("revoked")
        lines.append(f"{number}. {name} — {state}")
    hidden = len(links) - len(shown)
    if hidden > 0:
        lines.append(ngettext("…and {count} older link", "…and {count} older links", hidden).format(count=hidden))
    lines += ["", _("Each link works once, for one creator. On the card, answers appear as “creator 1, 2, …”.")]
    return "\n".join(lines)


def _links_keyboard(partner_id: int, links: list[ReferenceLink], now: datetime) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(
        text=_("➕ Request a reference"),
        callback_data=ReferenceCallback(action=ReferenceAction.NEW, partner_id=partner_id),
    )
    live = [(number, link) for number, link in enumerate(links, 1) if link.status(now).usable][-LINKS_SHOWN:]
    for number, link in reversed(live):
        b.button(
            text=_("🚫 Revoke: {name}").format(name=_link_name(link, number)[:BUTTON_LABEL_MAX]),
            callback_data=ReferenceCallback(action=ReferenceAction.REVOKE, partner_id=partner_id, link_id=link.id),
        )
    b.button(text=_("« Card"), callback_data=PartnerCallback(action=PartnerAction.OPEN, partner_id=partner_id))
    b.adjust(1)
    return b.as_markup()



async def show_links(
    callback: CallbackQuery,
    callback_data: ReferenceCallback,
    partners: PartnerRepo,
    references: ReferenceRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """The card's "🗣 References" button: the partner's links with their status, and what can be done."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    await _send_links(message, partner, references, workspace, clock, i18n, edit=not callback_data.fresh)


async def _send_links(
    message: Message,
    partner: Partner,
    references: ReferenceRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
    *,
    edit: bool,
    hint: str | None = None,
) -> None:
    now = clock.now()
    links = await references.links(workspace.id, partner.id)
    text = _links_text(partner, links, now, i18n.current_locale)
    if hint:
        text = hint + "\n\n" + text
    markup = _links_keyboard(partner.id, links, now)
    if edit:
        await edit_or_send(message, text, markup)
    else:
        await message.answer(text, reply_markup=markup)


async def request_reference(
    callback: CallbackQuery,
    callback_data: ReferenceCallback,
    state: FSMContext,
    dialog_manager: DialogManager,
    partners: PartnerRepo,
    workspace: Workspace,
) -> None:
    """ "Request a reference": first, who the link is for (optional), as a new message."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    await state.clear()
    await dialog_manager.start(
        ReferenceRequestForm.waiting_for_label, data={ReferenceRequestDraft.KEY: {"partner_id": partner.id}},
        mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND,
    )


async def _on_request_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    ReferenceRequestDraft.from_stored(data.get(ReferenceRequestDraft.KEY)).keep_in_dialog(manager)


async def label_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    question = _(
        "Who is this link for? Send the creator's name (up to {max} characters) so you can tell the links "
        "apart — only your team sees it. Or tap Skip."
    ).format(max=LABEL_MAX_LEN)
    return {**screen(dialog_manager, question), "skip": _("Skip ⏭")}


def parse_label(typed: str) -> str:
    label = clean_line(" ".join(typed.split()), LABEL_MAX_LEN)
    if label is None:
        length = len(typed.strip())
        raise ValueError(
            texts.text_too_long(LABEL_MAX_LEN, length) if length > LABEL_MAX_LEN else texts.text_expected(LABEL_MAX_LEN)
        )
    return label


async def label_entered(message: Message, _widget: Any, manager: DialogManager, label: str) -> None:
    """The creator's name for the link; then the link and the two invitations."""
    await _link_requested(message, message.from_user.id if message.from_user else 0, manager, label)


async def label_skipped(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """Skip on the name: the link without one; the question keeps its text and loses its button."""
    if isinstance(callback.message, Message):
        await drop_keyboard(manager.middleware_data["bot"], callback.message.chat.id, callback.message.message_id)
        await _link_requested(callback.message, callback.from_user.id, manager, None)


async def _link_requested(message: Message, manager_id: int, manager: DialogManager, label: str | None) -> None:
    partner_id = ReferenceRequestDraft.in_dialog(manager).partner_id
    data = manager.middleware_data
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    workspace: Workspace = data["workspace"]
    partner = await partner_or_say(message, data["partners"], workspace, partner_id or 0)
    if partner is not None:
        await _create_link(
            message, manager_id, partner, label, data["bot"], data["references"], workspace, data["clock"], data["i18n"]
        )


def request_dialog() -> Dialog:
    """ "Request a reference" as data: one window, the name typed or skipped."""
    form = Dialog(
        Window(
            Format("{text}"),
            TextInput("label", type_factory=parse_label, on_success=label_entered, on_error=refused,
                      filter=NOT_A_COMMAND),
            Button(Format("{skip}"), id="skip_label", on_click=label_skipped),
            MessageInput(text_expected(lambda: texts.text_expected(LABEL_MAX_LEN))),
            state=ReferenceRequestForm.waiting_for_label,
            getter=label_view,
        ),
        on_start=_on_request_start,
    )
    return presses_of_its_own(form)


def _invitation(workspace: Workspace, partner: Partner, link: str, expires: datetime, locale: str) -> str:
    """The message the manager forwards to the creator, in the current locale."""
    return _(
        "Hi! We at {workspace} are thinking about working with {partner}, and you have worked with them. "
        "Would you share how it went? It is a short questionnaire in Telegram — about three minutes, in Russian "
        "or English. Your answers go only to our team; {partner} will not see them.\n\n"
        "{link}\n\n"
        "The link is just for you and works until {date}. Thank you!"
    ).format(
        workspace=user_text(workspace.name), partner=user_text(partner.name), link=link, date=_date(expires, locale)
    )


async def _create_link(
    message: Message,
    manager_id: int,
    partner: Partner,
    label: str | None,
    bot: Bot,
    references: ReferenceRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    token, expires = await references.create(partner.id, manager_id, label, clock.now())
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={START_PREFIX}{token}"
    date = _date(expires, i18n.current_locale)
    if label:
        head = _("🔗 Reference link for <b>{partner}</b>, for {label}, valid until {date}:").format(
            partner=user_text(partner.name), label=user_text(label), date=date
        )
    else:
        head = _("🔗 Reference link for <b>{partner}</b>, valid until {date}:").format(
            partner=user_text(partner.name), date=date
        )
    b = ButtonGrid()
    b.button(
        text=_("🗣 All reference links"),
        callback_data=ReferenceCallback(action=ReferenceAction.LIST, partner_id=partner.id, fresh=True),
    )
    b.button(text=_("« Card"), callback_data=ReferenceCallback(action=ReferenceAction.CARD, partner_id=partner.id))
    b.adjust(1)
    await message.answer(
        "\n".join(
            [
                head,
                link,
                "",
                _(
                    "It works once, for one creator. Forward them one of the two invitations below — in Russian "
                    "or in English, whichever they read. You will get a message here when the answer arrives."
                ),
            ]
        ),
        reply_markup=b.as_markup(),
    )
    for locale in ("ru", "en"):
        with i18n.use_locale(locale):
            await message.answer(_invitation(workspace, partner, link, expires, locale))


async def revoke_link(
    callback: CallbackQuery,
    callback_data: ReferenceCallback,
    partners: PartnerRepo,
    references: ReferenceRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """A "🚫 Revoke" button: that link stops working; the list is refreshed."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    if await references.revoke(workspace.id, partner.id, callback_data.link_id, clock.now()):
        hint = _("🚫 Revoked: that link no longer works.")
    else:
        hint = _("That link was already answered, expired or revoked.")
    await _send_links(message, partner, references, workspace, clock, i18n, edit=True, hint=hint)


async def open_card(
    callback: CallbackQuery, callback_data: ReferenceCallback, cards: PartnerCards, workspace: Workspace, i18n: I18n
) -> None:
    """ "Open the card" under a reference notice: the card as a new message, so the notice stays readable."""
    if isinstance(callback.message, Message):
        await show_partner_card(
            callback.message, callback.from_user.id, callback_data.partner_id, cards, workspace, i18n, edit=False
        )
