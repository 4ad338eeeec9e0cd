"""The gut check (Phase 1) and the scorecard, both started from the partner card's buttons."""

from __future__ import annotations

from typing import Annotated, Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from pydantic import Field

from bot import labels, texts
from bot.clock import Clock
from bot.domain.gutcheck import (
    GUT_QUESTIONS,
    GutQuestion,
    GutVerdict,
    next_gut_question,
    stage_after_gut_check,
)
from bot.domain.partners import Stage
from bot.domain.scorecard import (
    ANCHOR_RATINGS,
    CRITERIA,
    RATING_MAX,
    RATING_MIN,
    SCORE_GROUPS,
    Criterion,
    is_valid_rating,
    next_criterion,
    parse_rating,
    score_card,
)
from bot.handlers.cancel_notes import on_cancel
from bot.handlers.drafts import DraftModel, Entry, holds, one_of
from bot.handlers.filters import TYPED
from bot.handlers.partners import not_found_text, partner_or_say, show_partner_card
from bot.handlers.replies import drop_keyboard, edit_or_send, reply_here, say_stale, typed_text
from bot.handlers.workspace_guard import private_workspace_router
from bot.keyboards.assessment_callbacks import (
    GutAnswer,
    GutAnswerCallback,
    GutNoteAction,
    GutNoteCallback,
    ScoreAction,
    ScoreCallback,
)
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.grid import ButtonGrid
from bot.storage.assessments import AssessmentRepo
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views.formatting import score, short_date, user_text
from bot.views.partner_card import PartnerCards

NOTE_MAX_LEN = 500


class GutCheckForm(StatesGroup):
    waiting_for_answer = State()
    waiting_for_note = State()


class ScorecardForm(StatesGroup):
    waiting_for_rating = State()


class GutCheckDraft(DraftModel):
    """A gut-check run in progress (FSM data, plain JSON): answers keyed by GutQuestion value."""

    partner_id: int = 0
    answers: dict[Annotated[str, one_of(GUT_QUESTIONS), Entry], Annotated[bool, Entry]] = Field(default_factory=dict)
    message_id: int | None = None  # the message whose buttons are live

    KEY = "gut_check"

    def typed(self) -> dict[GutQuestion, bool]:
        return {GutQuestion(k): v for k, v in self.answers.items()}


# Ratings keyed by Criterion value; an entry under another key, or not a rating, is dropped.
Ratings = dict[Annotated[str, one_of(CRITERIA), Entry], Annotated[int, holds(is_valid_rating), Entry]]


class ScorecardDraft(DraftModel):
    """A scorecard in progress (FSM data, plain JSON): ratings keyed by Criterion value."""

    partner_id: int = 0
    ratings: Ratings = Field(default_factory=dict)
    previous: Ratings = Field(default_factory=dict)  # the rater's saved scorecard, marked ✓ on each step
    message_id: int | None = None  # the message whose buttons are live

    KEY = "scorecard"

    def typed(self) -> dict[Criterion, int]:
        return {Criterion(k): v for k, v in self.ratings.items()}


# The kinds of button data this feature's handlers take.
PRESSES = (PartnerCallback, GutAnswerCallback, GutNoteCallback, ScoreCallback)


def router() -> Router:
    r = private_workspace_router("assessments", PRESSES)

    r.callback_query.register(gut_check_start, PartnerCallback.filter(F.action == PartnerAction.GUT_CHECK))
    r.callback_query.register(gut_answered, GutAnswerCallback.filter())
    r.callback_query.register(gut_note_skipped, GutNoteCallback.filter(F.action == GutNoteAction.SKIP))
    r.message.register(gut_note_entered, StateFilter(GutCheckForm.waiting_for_note), TYPED)
    r.message.register(gut_step_repeated, StateFilter(*GutCheckForm.__states__))

    r.callback_query.register(scorecard_start, PartnerCallback.filter(F.action == PartnerAction.SCORECARD))
    r.callback_query.register(score_pressed, ScoreCallback.filter())
    r.message.register(rating_typed, StateFilter(ScorecardForm.waiting_for_rating))
    return r


def _scorecard_cancelled(data: dict[str, Any]) -> str:
    draft = ScorecardDraft.from_stored(data.get(ScorecardDraft.KEY))
    if draft.previous:
        return _("Cancelled: nothing changed — your saved scorecard for this partner stays as it was.")
    text = _("Cancelled: this scorecard was not saved ({count} of {total} answered). Start it again from the card.")
    return text.format(count=len(draft.ratings), total=len(CRITERIA))


def _gut_check_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled: this gut check was not saved. Earlier runs stay on the card.")


on_cancel(ScorecardForm, _scorecard_cancelled, back_to_card_of=ScorecardDraft.KEY)
on_cancel(GutCheckForm, _gut_check_cancelled, back_to_card_of=GutCheckDraft.KEY)


# ---- shared --------------------------------------------------------------------------------------------


async def _start_fresh(state: FSMContext, bot: Bot, chat_id: int) -> None:
    """Before a new run: take the buttons off a run left unfinished, so only one set of buttons is live."""
    for draft in (await GutCheckDraft.load(state), await ScorecardDraft.load(state)):
        if draft.message_id is not None:
            await drop_keyboard(bot, chat_id, draft.message_id)
    await state.set_data({})


async def _stale(message: Message) -> None:
    await say_stale(message)


# ---- gut check -----------------------------------------------------------------------------------------


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _gut_text(partner: Partner, answers: dict[GutQuestion, bool]) -> str:
    """The run so far, and the next question or the note prompt."""
    lines = [
        _("<b>Gut check: {name}</b>").format(name=user_text(partner.name)),
        _("Three yes/no questions about your conversation with them."),
    ]
    done = [q for q in GUT_QUESTIONS if q in answers]
    if done:
        lines.append("")
    for question in done:
        mark = "✅" if answers[question] else "❌"
        lines.append(f"{mark} {labels.gut_question(question)} — {_yes_no(answers[question])}")
    lines.append("")
    upcoming = next_gut_question(answers)
    if upcoming is None:
        lines.append(
            _(
                "Anything worth keeping from the conversation? Send a short note (up to {max} characters), or skip."
            ).format(max=NOTE_MAX_LEN)
        )
    else:
        lines.append(
            _("<b>Question {index} of {total}.</b> {question}").format(
                index=GUT_QUESTIONS.index(upcoming) + 1,
                total=len(GUT_QUESTIONS),
                question=labels.gut_question(upcoming),
            )
        )
    return "\n".join(lines)


def _gut_keyboard(partner_id: int, answers: dict[GutQuestion, bool]) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    upcoming = next_gut_question(answers)
    if upcoming is None:
        b.button(
            text=_("Skip the note ⏭"), callback_data=GutNoteCallback(partner_id=partner_id, action=GutNoteAction.SKIP)
        )
    else:
        for answer, text in ((GutAnswer.YES, _("✅ Yes")), (GutAnswer.NO, _("❌ No"))):
            b.button(
                text=text, callback_data=GutAnswerCallback(partner_id=partner_id, question=upcoming, answer=answer)
            )
        b.adjust(2)
    return b.as_markup()


async def gut_check_start(
    callback: CallbackQuery,
    callback_data: PartnerCallback,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    workspace: Workspace,
) -> None:
    """The card's "Gut check" button: the first of the three questions."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    await _start_fresh(state, bot, message.chat.id)
    await state.set_state(GutCheckForm.waiting_for_answer)
    draft = GutCheckDraft(partner_id=partner.id)
    await draft.save(state)
    sent = await message.answer(_gut_text(partner, {}), reply_markup=_gut_keyboard(partner.id, {}))
    draft.message_id = sent.message_id
    await draft.save(state)


async def gut_answered(
    callback: CallbackQuery,
    callback_data: GutAnswerCallback,
    state: FSMContext,
    partners: PartnerRepo,
    workspace: Workspace,
) -> None:
    """Yes / No to the current gut-check question; the same message moves on to the next one."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    draft = await GutCheckDraft.load(state)
    answers = draft.typed()
    if (
        await state.get_state() != GutCheckForm.waiting_for_answer.state
        or draft.partner_id != partner.id
        or next_gut_question(answers) != callback_data.question
    ):
        await _stale(message)
        return
    answers[callback_data.question] = callback_data.answer is GutAnswer.YES
    draft.answers[callback_data.question.value] = answers[callback_data.question]
    if next_gut_question(answers) is None:
        await state.set_state(GutCheckForm.waiting_for_note)
    await draft.save(state)
    draft.message_id = await edit_or_send(message, _gut_text(partner, answers), _gut_keyboard(partner.id, answers))
    await draft.save(state)


async def gut_note_skipped(
    callback: CallbackQuery,
    callback_data: GutNoteCallback,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    cards: PartnerCards,
    assessments: AssessmentRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Skip on the note step: the run is saved without a note."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    draft = await GutCheckDraft.load(state)
    if await state.get_state() != GutCheckForm.waiting_for_note.state or draft.partner_id != partner.id:
        await _stale(message)
        return
    await _finish_gut_check(
        message,
        callback.from_user.id,
        partner,
        draft,
        None,
        state,
        bot,
        partners,
        cards,
        assessments,
        workspace,
        clock,
        i18n,
    )


async def gut_note_entered(
    message: Message,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    cards: PartnerCards,
    assessments: AssessmentRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """The optional note, typed; then the run is saved."""
    note = await typed_text(message, NOTE_MAX_LEN, when_empty=_note_hint())
    if note is None:
        return
    draft = await GutCheckDraft.load(state)
    partner = await partners.get(workspace.id, draft.partner_id)
    if partner is None:
        await state.clear()
        await message.answer(not_found_text())
        return
    user_id = message.from_user.id if message.from_user else 0
    await _finish_gut_check(
        message, user_id, partner, draft, note, state, bot, partners, cards, assessments, workspace, clock, i18n
    )


def _note_hint() -> str:
    return _("Send the note as text (up to {max} characters), or press “Skip the note”.").format(max=NOTE_MAX_LEN)


async def gut_step_repeated(message: Message, state: FSMContext) -> None:
    """Anything else during the gut check: say what the current step needs."""
    if message.text and message.text.startswith("/"):
        await message.answer(texts.mid_conversation_command())
        return
    if await state.get_state() == GutCheckForm.waiting_for_note.state:
        await message.answer(_note_hint())
        return
    await message.answer(_("Please answer with the Yes / No buttons above."))


async def _finish_gut_check(
    message: Message,
    user_id: int,
    partner: Partner,
    draft: GutCheckDraft,
    note: str | None,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    cards: PartnerCards,
    assessments: AssessmentRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Save the run, move the stage, tell the verdict, then show the card."""
    answers = draft.typed()
    await state.clear()
    if next_gut_question(answers) is not None:  # damaged FSM data: nothing sensible to save
        await _stale(message)
        return
    if draft.message_id not in (None, message.message_id):  # the result replaces it when pressed
        await drop_keyboard(bot, message.chat.id, draft.message_id)
    now = clock.now()
    verdict = await assessments.add_gut_check(workspace.id, partner.id, answers, note, user_id, now)
    if verdict is None:
        await message.answer(not_found_text())
        return
    stage = stage_after_gut_check(partner.stage, verdict)
    if stage is not partner.stage:
        await partners.set_stage(workspace.id, partner.id, stage, now)
    await reply_here(message, _verdict_text(partner, verdict, stage, note))
    await show_partner_card(message, user_id, partner.id, cards, workspace, i18n, edit=False)


def _verdict_text(partner: Partner, verdict: GutVerdict, stage: Stage, note: str | None) -> str:
    values = {"score": verdict.score, "total": len(GUT_QUESTIONS), "name": user_text(partner.name)}
    if verdict.passed and stage is Stage.READY_PILOT:
        lines = [_("✅ Gut check passed, {score}/{total}: <b>{name}</b> is ready for a pilot.").format(**values)]
    elif verdict.passed:
        lines = [_("✅ Gut check passed, {score}/{total}, for <b>{name}</b>.").format(**values)]
    else:
        lines = [
            _("❌ Gut check not passed, {score}/{total}, for <b>{name}</b>. The answer was no to:").format(**values)
        ]
        lines += [f"• {labels.gut_question(q)}" for q in verdict.failed]
        lines.append(
            _("You can run it again after another conversation: every run is kept, and the card shows the history.")
        )
    if not stage.is_vetting:
        lines.append(_("The stage stays as it was: {stage}.").format(stage=labels.stage(stage)))
    if note:
        lines += ["", _("Note: {note}").format(note=user_text(note))]
    return "\n".join(lines)


# ---- scorecard -----------------------------------------------------------------------------------------


def _criterion_text(
    partner: Partner, criterion: Criterion, hint: str | None = None, earlier: int | None = None
) -> str:
    """One criterion: group, name, the anchors for 1, 3 and 5, progress (and the rater's saved answer, if any)."""
    anchors = dict(zip(ANCHOR_RATINGS, labels.criterion_anchors(criterion), strict=True))
    lines = []
    if hint:
        lines += [hint, ""]
    lines += [
        _("<b>Scorecard: {name}</b> · {index}/{total}").format(
            name=user_text(partner.name), index=CRITERIA.index(criterion) + 1, total=len(CRITERIA)
        ),
        f"<i>{labels.score_group(criterion.group)}</i>",
        "",
        f"<b>{labels.criterion(criterion)}</b>",
        *(f"{rating} — {text}" for rating, text in anchors.items()),
        "",
    ]
    if earlier is not None:
        lines.append(_("Your saved answer: {rating} (marked ✓). Tap it to keep it, or choose another.").format(
            rating=earlier
        ))
    lines.append(_("Tap a rating, or type a digit from {min} to {max}.").format(min=RATING_MIN, max=RATING_MAX))
    return "\n".join(lines)


def _criterion_keyboard(partner_id: int, criterion: Criterion, earlier: int | None = None) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    for rating in range(RATING_MIN, RATING_MAX + 1):
        b.button(
            text=f"✓ {rating}" if rating == earlier else str(rating),
            callback_data=ScoreCallback(
                partner_id=partner_id, criterion=criterion, action=ScoreAction.RATE, rating=rating
            ),
        )
    sizes = [RATING_MAX - RATING_MIN + 1]
    if CRITERIA.index(criterion) > 0:
        b.button(
            text=_("◀ Back"),
            callback_data=ScoreCallback(partner_id=partner_id, criterion=criterion, action=ScoreAction.BACK),
        )
        sizes.append(1)
    b.adjust(*sizes)
    return b.as_markup()


def _criterion_view(
    partner: Partner, draft: ScorecardDraft, criterion: Criterion, hint: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    earlier = draft.previous.get(criterion.value)
    return _criterion_text(partner, criterion, hint, earlier), _criterion_keyboard(partner.id, criterion, earlier)


async def scorecard_start(
    callback: CallbackQuery,
    callback_data: PartnerCallback,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    assessments: AssessmentRepo,
    workspace: Workspace,
    i18n: I18n,
) -> None:
    """The card's "Scorecard" button: the first criterion; a rater who has scored before sees their saved answers
    marked on each step and changes what they like."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    await _start_fresh(state, bot, message.chat.id)
    await state.set_state(ScorecardForm.waiting_for_rating)
    mine = (await assessments.latest_scorecards(workspace.id, partner.id)).get(callback.from_user.id)
    previous = {c.value: rating for c, rating in mine.ratings.items()} if mine else {}
    draft = ScorecardDraft(partner_id=partner.id, previous=previous)
    await draft.save(state)
    intro = None
    if mine is not None:
        intro = _(
            "You scored <b>{name}</b> on {date}: {total} of 5. Go through it again and change what you like; "
            "your saved scorecard stays until you answer the last question."
        ).format(name=user_text(partner.name), date=short_date(mine.created_at, i18n.current_locale),
                 total=score(mine.total, i18n.current_locale))
    text, markup = _criterion_view(partner, draft, CRITERIA[0], intro)
    sent = await message.answer(text, reply_markup=markup)
    draft.message_id = sent.message_id
    await draft.save(state)


async def score_pressed(
    callback: CallbackQuery,
    callback_data: ScoreCallback,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    cards: PartnerCards,
    assessments: AssessmentRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """A rating button (or ◀ Back) on the current criterion; the same message moves on."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    draft = await ScorecardDraft.load(state)
    current = next_criterion(draft.typed())
    index = CRITERIA.index(callback_data.criterion)
    if (
        await state.get_state() != ScorecardForm.waiting_for_rating.state
        or draft.partner_id != partner.id
        or current != callback_data.criterion
        or (callback_data.action is ScoreAction.RATE and not is_valid_rating(callback_data.rating))
        or (callback_data.action is ScoreAction.BACK and index == 0)
    ):
        await _stale(message)
        return
    hint = None
    if callback_data.action is ScoreAction.BACK:
        previous = CRITERIA[index - 1]
        earlier = draft.ratings.pop(previous.value, None)
        hint = _("Your earlier answer here: {rating}.").format(rating=earlier) if earlier else None
    else:
        draft.ratings[callback_data.criterion.value] = callback_data.rating
    await draft.save(state)
    upcoming = next_criterion(draft.typed())
    if upcoming is None:
        await _finish_scorecard(
            message,
            callback.from_user.id,
            partner,
            draft,
            state,
            bot,
            partners,
            cards,
            assessments,
            workspace,
            clock,
            i18n,
        )
        return
    draft.message_id = await edit_or_send(message, *_criterion_view(partner, draft, upcoming, hint))
    await draft.save(state)


async def rating_typed(
    message: Message,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    cards: PartnerCards,
    assessments: AssessmentRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Anything sent while a rating is awaited: a digit 1–5 counts; anything else gets a hint and the question."""
    if message.text and message.text.startswith("/"):
        await message.answer(texts.mid_conversation_command())
        return
    draft = await ScorecardDraft.load(state)
    partner = await partners.get(workspace.id, draft.partner_id)
    current = next_criterion(draft.typed())
    if partner is None or current is None:
        await state.clear()
        await message.answer(not_found_text() if partner is None else texts.stale_button())
        return
    user_id = message.from_user.id if message.from_user else 0
    rating = parse_rating(message.text)
    hint = None
    if rating is None:
        hint = _("Please rate from {min} to {max}: tap a button or type one digit.").format(
            min=RATING_MIN, max=RATING_MAX
        )
    else:
        draft.ratings[current.value] = rating
        await draft.save(state)
    if draft.message_id is not None:
        await drop_keyboard(bot, message.chat.id, draft.message_id)
    upcoming = next_criterion(draft.typed())
    if upcoming is None:
        await _finish_scorecard(
            message, user_id, partner, draft, state, bot, partners, cards, assessments, workspace, clock, i18n
        )
        return
    text, markup = _criterion_view(partner, draft, upcoming, hint)
    sent = await message.answer(text, reply_markup=markup)
    draft.message_id = sent.message_id
    await draft.save(state)


async def _finish_scorecard(
    message: Message,
    user_id: int,
    partner: Partner,
    draft: ScorecardDraft,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    cards: PartnerCards,
    assessments: AssessmentRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Save the submission, show the rater's own scores, then the card."""
    ratings = draft.typed()
    await state.clear()
    if draft.message_id not in (None, message.message_id):  # the result replaces it when pressed
        await drop_keyboard(bot, message.chat.id, draft.message_id)
    before = await assessments.latest_scorecards(workspace.id, partner.id)
    total = await assessments.add_scorecard(workspace.id, partner.id, ratings, user_id, clock.now())
    if total is None:
        await message.answer(not_found_text())
        return
    await reply_here(message, _scorecard_result(partner, ratings, user_id, before, i18n.current_locale))
    await show_partner_card(message, user_id, partner.id, cards, workspace, i18n, edit=False)


def _scorecard_result(
    partner: Partner, ratings: dict[Criterion, int], user_id: int, before: dict[int, Any], locale: str
) -> str:
    result = score_card(ratings)
    lines = [
        _("📊 Your scorecard for <b>{name}</b> is saved.").format(name=user_text(partner.name)),
        _("Your weighted total: <b>{total}</b> of 5").format(total=score(result.total, locale)),
    ]
    for group in SCORE_GROUPS:
        lines += ["", f"<b>{labels.score_group(group)}: {score(result.by_group[group], locale)}</b>"]
        lines += [f"{ratings[c]} · {labels.criterion(c)}" for c in CRITERIA if c.group is group]
    lines += [
        "",
        _("Your weakest: {criterion} ({rating})").format(
            criterion=labels.criterion(result.weakest), rating=ratings[result.weakest]
        ),
    ]
    others = len([rater for rater in before if rater != user_id])
    if others:
        lines.append(
            ngettext(
                "{count} teammate scored this partner before you: the team average and where you disagree "
                "are now on the card.",
                "{count} teammates scored this partner before you: the team average and where you disagree "
                "are now on the card.",
                others,
            ).format(count=others)
        )
    if user_id in before:
        lines.append(_("Your earlier scorecard stays in the history; the team view now uses this one."))
    return "\n".join(lines)
