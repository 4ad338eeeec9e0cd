"""References: the team requests a link per creator; the creator answers a short questionnaire by deep link.

Two audiences, two routers under one: the creator's side has no workspace (never WorkspaceRequired) and sees
only the workspace's and the partner's names; the team's side works inside the caller's workspace.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Annotated, Any, Self

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
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
from bot.handlers.drafts import DraftModel, Entry, holds, one_of
from bot.handlers.filters import PRIVATE, TYPED, PressOf
from bot.handlers.partners import partner_or_say, show_partner_card
from bot.handlers.replies import drop_keyboard, edit_or_send, say_stale
from bot.handlers.workspace_guard import private_workspace_router
from bot.i18n import person_locale
from bot.keyboards.builders import LANGUAGE_NAMES
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.grid import ButtonGrid
from bot.keyboards.reference_callbacks import (
    BACK,
    CANCEL,
    EDIT,
    SEND,
    SKIP,
    EditCallback,
    QuestionCallback,
    ReferenceAction,
    ReferenceCallback,
    ReferenceLanguage,
)
from bot.plumbing.logging_setup import ANONYMOUS_IN_LOGS
from bot.plumbing.middlewares import notify_press
from bot.storage.db import Database
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
    """The creator's questionnaire; which question exactly is in the draft's `step`."""

    waiting_for_months = State()
    waiting_for_market = State()
    waiting_for_rating = State()
    waiting_for_comment = State()
    waiting_for_again = State()
    waiting_for_anything_else = State()
    waiting_for_confirmation = State()
    waiting_for_edit_choice = State()


class ReferenceRequestForm(StatesGroup):
    """The manager's "Request a reference": the optional name of the creator the link is for."""

    waiting_for_label = State()


FORM_STATES = StateFilter(*ReferenceForm.__states__)
FORM_STATE_PREFIX = f"{ReferenceForm.__full_group_name__}:"
ANONYMOUS = {ANONYMOUS_IN_LOGS: True}  # handler flags of the creator's side


def _state_of(step: Step) -> State:
    if step is Step.MONTHS:
        return ReferenceForm.waiting_for_months
    if step is Step.MARKET:
        return ReferenceForm.waiting_for_market
    if step.is_rating:
        return ReferenceForm.waiting_for_rating
    if step.is_note:
        return ReferenceForm.waiting_for_comment
    if step is Step.AGAIN:
        return ReferenceForm.waiting_for_again
    if step is Step.ANYTHING_ELSE:
        return ReferenceForm.waiting_for_anything_else
    return ReferenceForm.waiting_for_confirmation


# The keys of ratings and comments: a dimension's value; an entry under any other key is dropped.
DimensionKey = Annotated[str, one_of(DIMENSIONS), Entry]


class ReferenceDraft(DraftModel):
    """A questionnaire in progress (FSM data, plain JSON). No names: they are re-read through the link."""

    link_hash: str = ""
    partner_id: int = 0
    step: Annotated[str, one_of(STEPS)] = Step.MONTHS.value
    editing: bool = False  # answering one question again from the summary
    duration: Annotated[str, one_of(Duration)] | None = None  # the range tapped, or the one a typed number falls in
    months: int | None = None  # only when typed
    market: Annotated[str, one_of(MarketCoverage)] | None = None
    ratings: dict[DimensionKey, Annotated[int, holds(is_valid_rating), Entry]] = Field(default_factory=dict)
    comments: dict[DimensionKey, Annotated[str, Entry]] = Field(default_factory=dict)
    again: Annotated[str, one_of(Again)] | None = None
    anything_else: str | None = None
    started_at: str = ""
    message_id: int | None = None  # the message whose buttons are live

    KEY = "reference"

    @classmethod
    def from_stored(cls, raw: object) -> Self:
        """A draft saved before ranges were kept has only months: its range is the one they fall in (as migration
        014 reads them)."""
        if isinstance(raw, dict) and raw.get("duration") not in tuple(Duration):  # a tuple: the value may be a list
            months = raw.get("months")
            raw = {**raw, "duration": duration_of(months).value if type(months) is int and months >= 0 else None}
        return super().from_stored(raw)

    @property
    def current(self) -> Step:
        return Step(self.step)

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
    """The partner a reference link is being made for, while the creator's name is asked (FSM data, plain JSON)."""

    partner_id: int | None = None

    KEY = "reference_request"


def _questionnaire_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled — nothing was sent. If you change your mind, open the same link again.")


on_cancel(ReferenceForm, _questionnaire_cancelled)


# The kinds of button data the two sides' handlers take.
CREATOR_PRESSES = (ReferenceLanguage, QuestionCallback, EditCallback)
TEAM_PRESSES = (ReferenceCallback,)
PRESSES = CREATOR_PRESSES + TEAM_PRESSES


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
    r.message.register(start_mid_questionnaire, CommandStart(), FORM_STATES, flags=ANONYMOUS)
    r.callback_query.register(language_switched, ReferenceLanguage.filter(), flags=ANONYMOUS)
    r.callback_query.register(question_pressed, QuestionCallback.filter(), flags=ANONYMOUS)
    r.callback_query.register(edit_chosen, EditCallback.filter(), flags=ANONYMOUS)
    r.message.register(months_typed, StateFilter(ReferenceForm.waiting_for_months), TYPED, flags=ANONYMOUS)
    r.message.register(rating_typed, StateFilter(ReferenceForm.waiting_for_rating), TYPED, flags=ANONYMOUS)
    r.message.register(comment_typed, StateFilter(ReferenceForm.waiting_for_comment), TYPED, flags=ANONYMOUS)
    r.message.register(
        anything_else_typed, StateFilter(ReferenceForm.waiting_for_anything_else), TYPED, flags=ANONYMOUS
    )
    r.message.register(step_repeated, FORM_STATES, flags=ANONYMOUS)
    return r


def _team_router() -> Router:
    """The workspace's side: links per partner, revoking them."""
    r = private_workspace_router("references-team", TEAM_PRESSES)
    r.callback_query.register(show_links, ReferenceCallback.filter(F.action == ReferenceAction.LIST))
    r.callback_query.register(request_reference, ReferenceCallback.filter(F.action == ReferenceAction.NEW))
    r.callback_query.register(label_skipped, ReferenceCallback.filter(F.action == ReferenceAction.SKIP_LABEL))
    r.callback_query.register(revoke_link, ReferenceCallback.filter(F.action == ReferenceAction.REVOKE))
    r.callback_query.register(open_card, ReferenceCallback.filter(F.action == ReferenceAction.CARD))
    waiting = StateFilter(ReferenceRequestForm.waiting_for_label)
    r.message.register(label_entered, waiting, TYPED)
    r.message.register(label_step_repeated, waiting)
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


def _step_text(step: Step, draft: ReferenceDraft, link: ReferenceLink, hint: str | None = None) -> str:
    """The question of a step (or the summary), with an optional hint on top."""
    partner = user_text(link.partner_name)
    lines = [hint, ""] if hint else []
    if step is Step.SUMMARY:
        return "\n".join([*lines, _summary(draft, link)])
    lines.append(f"<i>{_progress(step)}</i>")
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


def _step_keyboard(step: Step, draft: ReferenceDraft) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    sizes: list[int] = []
    if step is Step.MONTHS:
        chosen = Duration(draft.duration) if draft.duration is not None else None
        for duration in Duration:
            b.button(
                text=_mark(duration is chosen, duration_label(duration)),
                callback_data=QuestionCallback(step=step, value=duration.value),
            )
        sizes.append(2)
        sizes.append(2)
    elif step is Step.MARKET:
        for coverage in MarketCoverage:
            b.button(
                text=_mark(draft.market == coverage.value, labels.coverage(coverage)),
                callback_data=QuestionCallback(step=step, value=coverage.value),
            )
        sizes += [2, 1]
    elif step.is_rating and step.dimension is not None:
        current = draft.ratings.get(step.dimension.value)
        for rating in range(RATING_MIN, RATING_MAX + 1):
            b.button(
                text=_mark(rating == current, str(rating)), callback_data=QuestionCallback(step=step, value=str(rating))
            )
        sizes.append(RATING_MAX - RATING_MIN + 1)
    elif step.is_note or step is Step.ANYTHING_ELSE:
        b.button(text=_("Skip ⏭"), callback_data=QuestionCallback(step=step, value=SKIP))
        sizes.append(1)
    elif step is Step.AGAIN:
        for choice, text in ((Again.YES, _("👍 Yes")), (Again.MAYBE, _("🤔 Maybe")), (Again.NO, _("👎 No"))):
            b.button(
                text=_mark(draft.again == choice.value, text),
                callback_data=QuestionCallback(step=step, value=choice.value),
            )
        sizes.append(3)
    elif step is Step.SUMMARY:
        b.button(text=_("✅ Send"), callback_data=QuestionCallback(step=step, value=SEND))
        b.button(text=_("✏️ Change an answer"), callback_data=QuestionCallback(step=step, value=EDIT))
        b.button(text=_("✖️ Cancel"), callback_data=QuestionCallback(step=step, value=CANCEL))
        sizes += [1, 2]
    if step is not Step.SUMMARY and not draft.editing and previous_step(step) is not None:
        b.button(text=_("◀ Back"), callback_data=QuestionCallback(step=step, value=BACK))
        sizes.append(1)
    b.adjust(*sizes)
    return b.as_markup()


def _edit_keyboard() -> InlineKeyboardMarkup:
    b = ButtonGrid()
    names = {
        Step.MONTHS: _("How long"),
        Step.MARKET: _("Market"),
        Step.AGAIN: _("Work again?"),
        Step.ANYTHING_ELSE: _("Anything else"),
    }
    for step in EDITABLE_STEPS:
        text = dimension_label(step.dimension) if step.dimension is not None else names[step]
        b.button(text=text, callback_data=EditCallback(step=step))
    b.button(text=_("« Back to the summary"), callback_data=EditCallback(step=Step.SUMMARY))
    b.adjust(2)
    return b.as_markup()


# ---- creator: opening the link ------------------------------------------------------------------------------


async def open_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    bot: Bot,
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
    draft = await ReferenceDraft.load(state)
    resuming = draft.link_hash == link.token_hash and await state.get_state() in ReferenceForm.__state_names__
    status = link.status(clock.now(), started=resuming)
    if status is LinkStatus.ANSWERED:
        if await references.answered_through(link.token_hash, key):
            await message.answer(_("You have already sent your reference through this link. Thank you again!"))
        else:
            await deep_links.failed(message)
            await message.answer(_used_text())
        return
    if not status.usable:
        if resuming:
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
    if resuming:
        await _resend_step(message, bot, state, draft, link, _("Welcome back! Let's continue where you left off."))
        return
    if not await references.open(link.id, key, clock.now()):
        await message.answer(_used_text())
        return
    await drop_keyboard(bot, message.chat.id, draft.message_id)
    await state.set_data({})
    draft = ReferenceDraft(link_hash=link.token_hash, partner_id=link.partner_id, started_at=clock.now().isoformat())
    await message.answer(_greeting(link), reply_markup=_language_keyboard(i18n.current_locale))
    await _resend_step(message, bot, state, draft, link)


async def start_mid_questionnaire(
    message: Message, state: FSMContext, bot: Bot, references: ReferenceRepo, clock: Clock
) -> None:
    """/start while the questionnaire is open: carry on with it rather than start something else."""
    found = await _live(message, state, references, clock)
    if found is None:
        return
    draft, link = found
    hint = _("You are in the middle of the reference about <b>{partner}</b>. Let's continue — or send /cancel to stop.")
    await _resend_step(message, bot, state, draft, link, hint.format(partner=user_text(link.partner_name)))


async def _live(
    message: Message, state: FSMContext, references: ReferenceRepo, clock: Clock
) -> tuple[ReferenceDraft, ReferenceLink] | None:
    """The draft and its link while the link still takes an answer; otherwise close the questionnaire, say why."""
    draft = await ReferenceDraft.load(state)
    if not draft.link_hash or await state.get_state() not in ReferenceForm.__state_names__:
        if not notify_press(_closed_text()):  # a button of a closed questionnaire: a pop-up notice, no message
            await message.answer(_closed_text())
        return None
    link = await references.by_hash(draft.link_hash)
    status = link.status(clock.now(), started=True) if link is not None else LinkStatus.UNKNOWN
    if link is None or not status.usable:
        await state.clear()
        if message.bot is not None:
            await drop_keyboard(message.bot, message.chat.id, draft.message_id)
        texts_by_status = {LinkStatus.REVOKED: _revoked_text(), LinkStatus.ANSWERED: _used_text()}
        await message.answer(texts_by_status.get(status, _invalid_text()))
        return None
    return draft, link


async def _resend_step(
    message: Message,
    bot: Bot,
    state: FSMContext,
    draft: ReferenceDraft,
    link: ReferenceLink,
    hint: str | None = None,
) -> None:
    """The current step as a new message; the previous message's buttons go, so only one set is live."""
    await drop_keyboard(bot, message.chat.id, draft.message_id)
    step = draft.current
    await state.set_state(_state_of(step))
    sent = await message.answer(_step_text(step, draft, link, hint), reply_markup=_step_keyboard(step, draft))
    draft.message_id = sent.message_id
    await draft.save(state)


async def _show_in_place(message: Message, state: FSMContext, draft: ReferenceDraft, link: ReferenceLink) -> None:
    """The current step, edited into the message whose button was pressed."""
    step = draft.current
    await state.set_state(_state_of(step))
    await draft.save(state)
    draft.message_id = await edit_or_send(message, _step_text(step, draft, link), _step_keyboard(step, draft))
    await draft.save(state)


# ---- creator: buttons ---------------------------------------------------------------------------------------


async def language_switched(
    callback: CallbackQuery,
    callback_data: ReferenceLanguage,
    state: FSMContext,
    bot: Bot,
    users: UserRepo,
    references: ReferenceRepo,
    clock: Clock,
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
        found = await _live(message, state, references, clock)
        if found is None:
            return
        draft, link = found
        with suppress(TelegramBadRequest):  # the same language again: nothing to change
            await message.edit_text(_greeting(link), reply_markup=_language_keyboard(callback_data.locale))
        await _resend_step(message, bot, state, draft, link)


async def question_pressed(
    callback: CallbackQuery,
    callback_data: QuestionCallback,
    state: FSMContext,
    bot: Bot,
    references: ReferenceRepo,
    users: UserRepo,
    workspaces: WorkspaceRepo,
    respondents: RespondentKeys,
    db: Database,
    settings: Settings,
    clock: Clock,
    i18n: I18n,
) -> None:
    """A button of the current question (an answer, Skip, ◀ Back) or of the summary (Send, Change, Cancel)."""
    message = callback.message
    if not isinstance(message, Message):
        return
    found = await _live(message, state, references, clock)
    if found is None:
        return
    draft, link = found
    step, value = callback_data.step, callback_data.value
    if (
        step is not draft.current
        or await state.get_state() == ReferenceForm.waiting_for_edit_choice.state
        or not _apply_button(draft, step, value)
    ):
        notify_press(_("This button belongs to an earlier question. Please answer the latest one below."))
        return
    if step is Step.SUMMARY:
        if value == SEND:
            await _submit(
                message,
                callback.from_user.id,
                draft,
                link,
                state,
                bot,
                references,
                users,
                workspaces,
                respondents,
                db,
                settings,
                clock,
                i18n,
            )
        elif value == EDIT:
            await state.set_state(ReferenceForm.waiting_for_edit_choice)
            await edit_or_send(message, _("Which answer would you like to change?"), _edit_keyboard())
        else:
            await state.clear()
            await edit_or_send(
                message,
                _("Cancelled — nothing was sent. If you change your mind, open the same link again."),
                None,
            )
        return
    if value == BACK:
        previous = previous_step(step)
        assert previous is not None  # _apply_button refused Back on the first question
        draft.step = previous.value
    else:
        _advance(draft)
    await _show_in_place(message, state, draft, link)


def _pressed_rating(value: str) -> int | None:
    """A rating button's value, exactly as the bot writes it ("²" or " 4" is forged data, not a rating)."""
    return spelt_by_bot(value, RATING_MIN, RATING_MAX)


def _apply_button(draft: ReferenceDraft, step: Step, value: str) -> bool:
    """Record what a button says in the draft; False when the value makes no sense for the step."""
    if value == BACK:
        return step is not Step.SUMMARY and previous_step(step) is not None and not draft.editing
    if step is Step.MONTHS and value in {d.value for d in Duration}:
        draft.duration, draft.months = value, None
    elif step is Step.MARKET and value in {m.value for m in MarketCoverage}:
        draft.market = value
    elif step.is_rating and step.dimension is not None and (rating := _pressed_rating(value)) is not None:
        draft.ratings[step.dimension.value] = rating
    elif step.is_note and step.dimension is not None and value == SKIP:
        draft.comments.pop(step.dimension.value, None)
    elif step is Step.AGAIN and value in {a.value for a in Again}:
        draft.again = value
    elif step is Step.ANYTHING_ELSE and value == SKIP:
        draft.anything_else = None
    elif not (step is Step.SUMMARY and value in (SEND, EDIT, CANCEL)):
        return False
    return True


def _advance(draft: ReferenceDraft) -> None:
    """On to the next step; after an edit (or if something is still missing) the summary needs every answer."""
    upcoming = next_step(draft.current, editing=draft.editing)
    if upcoming is Step.SUMMARY:
        draft.editing = False
        missing = draft.first_missing()
        if missing is not None:
            upcoming = missing
    draft.step = upcoming.value


async def edit_chosen(
    callback: CallbackQuery, callback_data: EditCallback, state: FSMContext, references: ReferenceRepo, clock: Clock
) -> None:
    """A question picked from "Change an answer" (or « Back to the summary)."""
    message = callback.message
    if not isinstance(message, Message):
        return
    found = await _live(message, state, references, clock)
    if found is None:
        return
    draft, link = found
    if await state.get_state() != ReferenceForm.waiting_for_edit_choice.state:
        await say_stale(message)
        return
    draft.step = callback_data.step.value
    draft.editing = callback_data.step is not Step.SUMMARY
    await _show_in_place(message, state, draft, link)


# ---- creator: typed answers ---------------------------------------------------------------------------------


async def _typed_step(
    message: Message, state: FSMContext, references: ReferenceRepo, clock: Clock, expected: Step | None = None
) -> tuple[ReferenceDraft, ReferenceLink] | None:
    found = await _live(message, state, references, clock)
    if found is None:
        return None
    draft, link = found
    if expected is not None and draft.current is not expected:
        return None
    return draft, link


async def _after_typed(
    message: Message, bot: Bot, state: FSMContext, draft: ReferenceDraft, link: ReferenceLink, hint: str | None
) -> None:
    """Move on after a typed answer (or repeat the question with a hint) as a new message."""
    if hint is None:
        _advance(draft)
    await _resend_step(message, bot, state, draft, link, hint)


async def months_typed(message: Message, state: FSMContext, bot: Bot, references: ReferenceRepo, clock: Clock) -> None:
    """The number of months, typed instead of tapped."""
    found = await _typed_step(message, state, references, clock, Step.MONTHS)
    if found is None:
        return
    draft, link = found
    months = parse_months(message.text)
    if months is not None:
        draft.duration, draft.months = duration_of(months).value, months
    hint = None if months is not None else _(
        "Please type a whole number of months from 0 to {max}, like 8 — or tap an option."
    ).format(max=MONTHS_MAX)
    await _after_typed(message, bot, state, draft, link, hint)


async def rating_typed(message: Message, state: FSMContext, bot: Bot, references: ReferenceRepo, clock: Clock) -> None:
    """A rating typed as a digit."""
    found = await _typed_step(message, state, references, clock)
    if found is None:
        return
    draft, link = found
    dimension = draft.current.dimension
    rating = parse_rating(message.text)
    if rating is not None and draft.current.is_rating and dimension is not None:
        draft.ratings[dimension.value] = rating
        hint = None
    else:
        hint = _("Please rate from {min} to {max}: tap a number or type one digit.").format(
            min=RATING_MIN, max=RATING_MAX
        )
    await _after_typed(message, bot, state, draft, link, hint)


async def comment_typed(message: Message, state: FSMContext, bot: Bot, references: ReferenceRepo, clock: Clock) -> None:
    """The optional comment after a rating."""
    found = await _typed_step(message, state, references, clock)
    if found is None:
        return
    draft, link = found
    dimension = draft.current.dimension
    comment = clean_block(message.text, COMMENT_MAX_LEN)
    if comment is None or dimension is None or not draft.current.is_note:
        await _after_typed(message, bot, state, draft, link, _comment_hint(message.text, COMMENT_MAX_LEN))
        return
    if is_bare_number(comment):
        hint = _(
            "“{text}” looks like a rating rather than a comment, so I did not keep it. Type a comment in words, or "
            "tap Skip to go on."
        ).format(text=user_text(comment, 20))
        await _after_typed(message, bot, state, draft, link, hint)
        return
    draft.comments[dimension.value] = comment
    await _after_typed(message, bot, state, draft, link, None)


async def anything_else_typed(
    message: Message, state: FSMContext, bot: Bot, references: ReferenceRepo, clock: Clock
) -> None:
    """The last, free-text question."""
    found = await _typed_step(message, state, references, clock, Step.ANYTHING_ELSE)
    if found is None:
        return
    draft, link = found
    text = clean_block(message.text, ANYTHING_ELSE_MAX_LEN)
    if text is None:
        await _after_typed(message, bot, state, draft, link, _comment_hint(message.text, ANYTHING_ELSE_MAX_LEN))
        return
    draft.anything_else = text
    await _after_typed(message, bot, state, draft, link, None)


def _comment_hint(text: str | None, limit: int) -> str:
    length = len((text or "").strip())
    if length > limit:
        return texts.text_too_long(limit, length)
    return _("Please type your comment as text, or tap Skip.")


async def step_repeated(message: Message, state: FSMContext, bot: Bot, references: ReferenceRepo, clock: Clock) -> None:
    """Anything else during the questionnaire (a sticker, a command, text where a button is needed)."""
    found = await _live(message, state, references, clock)
    if found is None:
        return
    draft, link = found
    if message.text and message.text.startswith("/"):
        hint = texts.mid_conversation_command()
    elif draft.current in (Step.MONTHS, Step.ANYTHING_ELSE) or draft.current.is_note:
        hint = _("Please answer with text (or a button below).")
    elif draft.current.is_rating:
        hint = _("Please rate from {min} to {max}: tap a number or type one digit.").format(
            min=RATING_MIN, max=RATING_MAX
        )
    else:
        hint = _("Please choose one of the buttons below.")
    await _resend_step(message, bot, state, draft, link, hint)


# ---- creator: sending ---------------------------------------------------------------------------------------


async def _submit(
    message: Message,
    user_id: int,
    draft: ReferenceDraft,
    link: ReferenceLink,
    state: FSMContext,
    bot: Bot,
    references: ReferenceRepo,
    users: UserRepo,
    workspaces: WorkspaceRepo,
    respondents: RespondentKeys,
    db: Database,
    settings: Settings,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Send: store the answer without the Telegram id, use up the link, forget the creator's profile if nothing else
    needs it, thank, and tell the manager."""
    missing = draft.first_missing()
    if missing is not None or draft.duration is None or draft.market is None or draft.again is None:
        draft.step = (missing or Step.MONTHS).value
        await _show_in_place(message, state, draft, link)
        return
    now = clock.now()
    try:
        started = datetime.fromisoformat(draft.started_at)
    except ValueError:
        started = now
    answer = NewAnswer(
        partner_id=link.partner_id,
        link_hash=link.token_hash,
        respondent_key=respondents.of(link.partner_id, user_id),
        duration=Duration(draft.duration),
        months=draft.months,
        market=MarketCoverage(draft.market),
        ratings={Dimension(k): v for k, v in draft.ratings.items()},
        comments={Dimension(k): v for k, v in draft.comments.items()},
        again=Again(draft.again),
        anything_else=draft.anything_else,
        locale=i18n.current_locale,
        started_at=started,
        finished_at=now,
    )
    result = await references.submit(answer)
    await state.clear()
    if result is Submitted.ALREADY_ANSWERED:
        await edit_or_send(message, _("You have already shared a reference about this partner — thank you!"), None)
        return
    if result is Submitted.LINK_GONE:
        await edit_or_send(message, _used_text() if link.answered_at else _revoked_text(), None)
        return
    await forget_if_unattached(db, user_id)
    await drop_keyboard(bot, message.chat.id, message.message_id)
    await message.answer(
        _(
            "Thank you! 🙏 Your reference is on its way to the {workspace} team. {partner} will not see it.\n\n"
            "There is nothing else you need to do."
        ).format(workspace=user_text(link.workspace_name), partner=user_text(link.partner_name))
    )
    await _notify_manager(bot, link, answer, references, users, workspaces, settings, i18n)


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
    partners: PartnerRepo,
    workspace: Workspace,
) -> None:
    """ "Request a reference": first, who the link is for (optional)."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    await state.set_state(ReferenceRequestForm.waiting_for_label)
    await state.set_data({})
    await ReferenceRequestDraft(partner_id=partner.id).save(state)
    b = ButtonGrid()
    b.button(
        text=_("Skip ⏭"), callback_data=ReferenceCallback(action=ReferenceAction.SKIP_LABEL, partner_id=partner.id)
    )
    await message.answer(
        _(
            "Who is this link for? Send the creator's name (up to {max} characters) so you can tell the links "
            "apart — only your team sees it. Or tap Skip."
        ).format(max=LABEL_MAX_LEN),
        reply_markup=b.as_markup(),
    )


async def _requested_partner(state: FSMContext) -> int | None:
    if await state.get_state() != ReferenceRequestForm.waiting_for_label.state:
        return None
    return (await ReferenceRequestDraft.load(state)).partner_id


async def label_entered(
    message: Message,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    references: ReferenceRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """The creator's name for the link; then the link and the two invitations."""
    label = clean_line(" ".join((message.text or "").split()), LABEL_MAX_LEN)
    if label is None:
        length = len((message.text or "").strip())
        hint = (
            texts.text_too_long(LABEL_MAX_LEN, length) if length > LABEL_MAX_LEN else texts.text_expected(LABEL_MAX_LEN)
        )
        await message.answer(hint)
        return
    partner_id = await _requested_partner(state)
    partner = await partner_or_say(message, partners, workspace, partner_id or 0)
    await state.clear()
    if partner is None or message.from_user is None:
        return
    await _create_link(message, message.from_user.id, partner, label, bot, references, workspace, clock, i18n)


async def label_skipped(
    callback: CallbackQuery,
    callback_data: ReferenceCallback,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    references: ReferenceRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Skip on the name: the link without one."""
    message = callback.message
    if not isinstance(message, Message):
        return
    if await _requested_partner(state) != callback_data.partner_id:
        await say_stale(message)
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    await state.clear()
    if partner is None:
        return
    await drop_keyboard(bot, message.chat.id, message.message_id)
    await _create_link(message, callback.from_user.id, partner, None, bot, references, workspace, clock, i18n)


async def label_step_repeated(message: Message) -> None:
    """Anything but a name while the name is awaited."""
    if message.text and message.text.startswith("/"):
        await message.answer(texts.mid_conversation_command())
        return
    await message.answer(texts.text_expected(LABEL_MAX_LEN))


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
