"""The gut check (Phase 1) and the scorecard, both started from the partner card's buttons, each declared as an
aiogram-dialog Dialog (the rules every step shares: bot/handlers/dialog_steps.py).

The gut check: three Yes / No questions edited into one message, then an optional note (typed, or Skip); the
verdict replaces the questions (or answers the typed note) and the refreshed card follows. The scorecard: one
criterion at a time, a rating pressed (the message moves on) or typed (the next criterion comes as a new message),
◀ Back to the one before. A rater who has scored the partner before is shown when and what total, and their saved
answer marked ✓ on each step; nothing is saved until the last answer.

Each button names the question (or criterion) it answers, so a second tap on a keyboard the first tap already moved
on is a stale pop-up; so is a press on a message of the flow that a later one replaced.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Annotated, Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import Button, Select
from aiogram_dialog.widgets.text import Format
from pydantic import Field

from bot import labels
from bot.domain.gutcheck import GUT_QUESTIONS, GutQuestion, GutVerdict, next_gut_question, stage_after_gut_check
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
from bot.domain.text import clean_typed
from bot.handlers.cancel_notes import on_cancel
from bot.handlers.dialog_steps import (
    NOT_A_COMMAND,
    begin,
    buttons_expected,
    pressed_step,
    refused,
    retire_step,
    say_why,
    screen,
    stale,
    text_expected,
)
from bot.handlers.drafts import DraftModel, Entry, holds, one_of
from bot.handlers.partners import not_found_text, partner_or_say, show_partner_card
from bot.handlers.replies import reply_here, say_stale
from bot.handlers.workspace_guard import dialogs_in_workspace, private_workspace_router
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.plumbing.dialogs import presses_of_its_own
from bot.storage.assessments import AssessmentRepo
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.texts import text_too_long
from bot.views.formatting import score, short_date, user_text

NOTE_MAX_LEN = 500


class GutCheckForm(StatesGroup):
    waiting_for_answer = State()
    waiting_for_note = State()


class ScorecardForm(StatesGroup):
    waiting_for_rating = State()


class GutCheckDraft(DraftModel):
    """A gut-check run in progress (the dialog's data, plain JSON): answers keyed by GutQuestion value."""

    partner_id: int = 0
    name: str = ""  # the partner's, as the run started
    answers: dict[Annotated[str, one_of(GUT_QUESTIONS), Entry], Annotated[bool, Entry]] = Field(default_factory=dict)

    KEY = "gut_check"

    def typed(self) -> dict[GutQuestion, bool]:
        return {GutQuestion(k): v for k, v in self.answers.items()}


# Ratings keyed by Criterion value; an entry under another key, or not a rating, is dropped.
Ratings = dict[Annotated[str, one_of(CRITERIA), Entry], Annotated[int, holds(is_valid_rating), Entry]]


class ScorecardDraft(DraftModel):
    """A scorecard in progress (the dialog's data, plain JSON): ratings keyed by Criterion value."""

    partner_id: int = 0
    name: str = ""
    ratings: Ratings = Field(default_factory=dict)
    previous: Ratings = Field(default_factory=dict)  # the rater's saved scorecard, marked ✓ on each step

    KEY = "scorecard"

    def typed(self) -> dict[Criterion, int]:
        return {Criterion(k): v for k, v in self.ratings.items()}


# The kinds of button data that start the flows (the flows' own buttons are the dialogs').
PRESSES = (PartnerCallback,)


def router() -> Router:
    r = private_workspace_router("assessments", PRESSES)
    r.callback_query.register(gut_check_start, PartnerCallback.filter(F.action == PartnerAction.GUT_CHECK))
    r.callback_query.register(scorecard_start, PartnerCallback.filter(F.action == PartnerAction.SCORECARD))
    return r


def conversations() -> Router:
    """The two flows themselves, apart from `router()`: their presses carry the dialogs' own data."""
    return dialogs_in_workspace("assessment_forms", gut_check_dialog(), scorecard_dialog())


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


# ---- gut check -----------------------------------------------------------------------------------------


async def gut_check_start(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: PartnerCallback,
    state: FSMContext,
    partners: PartnerRepo,
    workspace: Workspace,
    dialog_manager: DialogManager,
) -> None:
    """The card's "Gut check" button: the first of the three questions, in a new message (the card's buttons come
    off: bot/plumbing/live_keyboards.py); a conversation in progress (any flow) ends here."""
    message = pressed
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    await state.clear()
    draft = GutCheckDraft(partner_id=partner.id, name=partner.name)
    await dialog_manager.start(
        GutCheckForm.waiting_for_answer, data=draft.as_start_data(), mode=StartMode.RESET_STACK,
        show_mode=ShowMode.SEND,
    )


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _gut_text(name: str, answers: dict[GutQuestion, bool]) -> str:
    """The run so far, and the next question or the note prompt."""
    lines = [
        _("<b>Gut check: {name}</b>").format(name=user_text(name)),
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


async def gut_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    draft = GutCheckDraft.in_dialog(dialog_manager)
    upcoming = next_gut_question(draft.answers)
    answers = [] if upcoming is None else [(_("✅ Yes"), f"{upcoming.value}.y"), (_("❌ No"), f"{upcoming.value}.n")]
    return {"text": _gut_text(draft.name, draft.typed()), "answers": answers, "skip": _("Skip the note ⏭")}


async def gut_answered(callback: CallbackQuery, _widget: Any, manager: DialogManager, item: str) -> None:
    """Yes / No to the current question (the button names it: a second tap on the same keyboard is stale); the same
    message moves on to the next question, or to the note."""
    if await pressed_step(callback, manager) is None:
        return
    draft = GutCheckDraft.in_dialog(manager)
    upcoming = next_gut_question(draft.answers)
    question, _dot, answer = item.rpartition(".")
    if upcoming is None or question != upcoming.value or answer not in ("y", "n"):
        await stale(callback, manager)
        return
    draft.answers[upcoming] = answer == "y"
    draft.keep_in_dialog(manager)
    if next_gut_question(draft.answers) is None:
        await manager.switch_to(GutCheckForm.waiting_for_note)


def _note_hint() -> str:
    return _("Send the note as text (up to {max} characters), or press “Skip the note”.").format(max=NOTE_MAX_LEN)


def parse_note(typed: str) -> str:
    note = clean_typed(typed) or ""
    if len(note) > NOTE_MAX_LEN:
        raise ValueError(text_too_long(NOTE_MAX_LEN, len(note)))
    if not note:
        raise ValueError(_note_hint())
    return note


async def gut_note_skipped(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """Skip on the note step: the run is saved without a note; the verdict replaces the questions."""
    message = await pressed_step(callback, manager)
    if message is not None:
        await _finish_gut_check(manager, message, callback.from_user.id, None)


async def gut_note_entered(message: Message, _widget: Any, manager: DialogManager, note: str) -> None:
    """The optional note, typed; then the run is saved and the verdict answers it."""
    await retire_step(manager)
    await _finish_gut_check(manager, message, message.from_user.id if message.from_user else 0, note)


async def _finish_gut_check(manager: DialogManager, message: Message, user_id: int, note: str | None) -> None:
    """Save the run, move the stage, tell the verdict, then show the card."""
    draft, data = GutCheckDraft.in_dialog(manager), manager.middleware_data
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    if next_gut_question(draft.answers) is not None:  # damaged records: nothing sensible to save
        await say_stale(message)
        return
    workspace: Workspace = data["workspace"]
    partners: PartnerRepo = data["partners"]
    assessments: AssessmentRepo = data["assessments"]
    partner, now = await partners.get(workspace.id, draft.partner_id), data["clock"].now()
    verdict = None
    if partner is not None:
        verdict = await assessments.add_gut_check(workspace.id, partner.id, draft.typed(), note, user_id, now)
    if partner is None or verdict is None:
        await message.answer(not_found_text())
        return
    stage = stage_after_gut_check(partner.stage, verdict)
    if stage is not partner.stage:
        await partners.set_stage(workspace.id, partner.id, stage, now)
    await reply_here(message, _verdict_text(partner, verdict, stage, note))
    await show_partner_card(message, user_id, partner.id, data["cards"], workspace, data["i18n"], edit=False)


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


def _answer_buttons(*, shown: bool) -> Select[str]:
    """Yes / No; on the note step hidden but still there, so a late tap on the last question is a stale pop-up."""
    return Select(
        Format("{item[0]}"), id="gut", item_id_getter=itemgetter(1), items="answers", on_click=gut_answered,
        when=None if shown else (lambda *_args: False),
    )


def gut_check_dialog() -> Dialog:
    screen_text = Format("{text}")
    return presses_of_its_own(Dialog(
        Window(
            screen_text,
            _answer_buttons(shown=True),
            MessageInput(buttons_expected(lambda: _("Please answer with the Yes / No buttons above."))),
            state=GutCheckForm.waiting_for_answer,
            getter=gut_view,
        ),
        Window(
            screen_text,
            Button(Format("{skip}"), id="skip", on_click=gut_note_skipped),
            _answer_buttons(shown=False),
            TextInput("note", type_factory=parse_note, on_success=gut_note_entered, on_error=say_why,
                      filter=NOT_A_COMMAND),
            MessageInput(buttons_expected(_note_hint)),
            state=GutCheckForm.waiting_for_note,
            getter=gut_view,
        ),
        on_start=begin,
    ))


# ---- scorecard -----------------------------------------------------------------------------------------


async def scorecard_start(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: PartnerCallback,
    state: FSMContext,
    partners: PartnerRepo,
    assessments: AssessmentRepo,
    workspace: Workspace,
    i18n: I18n,
    dialog_manager: DialogManager,
) -> None:
    """The card's "Scorecard" button: the first criterion, in a new message; a rater who has scored before is told
    when and what total, sees their saved answers marked on each step and changes what they like."""
    message = pressed
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    mine = (await assessments.latest_scorecards(workspace.id, partner.id)).get(callback.from_user.id)
    previous = {criterion.value: rating for criterion, rating in mine.ratings.items()} if mine else {}
    draft = ScorecardDraft(partner_id=partner.id, name=partner.name, previous=previous)
    intro = {}
    if mine is not None:
        intro["note"] = _(
            "You scored <b>{name}</b> on {date}: {total} of 5. Go through it again and change what you like; "
            "your saved scorecard stays until you answer the last question."
        ).format(name=user_text(partner.name), date=short_date(mine.created_at, i18n.current_locale),
                 total=score(mine.total, i18n.current_locale))
    await state.clear()
    await dialog_manager.start(
        ScorecardForm.waiting_for_rating, data=draft.as_start_data(**intro), mode=StartMode.RESET_STACK,
        show_mode=ShowMode.SEND,
    )


def _criterion_text(name: str, criterion: Criterion, earlier: int | None = None) -> str:
    """One criterion: group, name, the anchors for 1, 3 and 5, progress (and the rater's saved answer, if any)."""
    anchors = dict(zip(ANCHOR_RATINGS, labels.criterion_anchors(criterion), strict=True))
    lines = [
        _("<b>Scorecard: {name}</b> · {index}/{total}").format(
            name=user_text(name), index=CRITERIA.index(criterion) + 1, total=len(CRITERIA)
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


async def criterion_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    """The first criterion not rated yet; each button names it ("index.rating"), ◀ Back too ("index")."""
    draft = ScorecardDraft.in_dialog(dialog_manager)
    criterion = next_criterion(draft.ratings) or CRITERIA[-1]
    index, earlier = CRITERIA.index(criterion), draft.previous.get(criterion)
    return {
        **screen(dialog_manager, _criterion_text(draft.name, criterion, earlier)),
        "ratings": _rating_buttons(criterion, earlier),
        "back": [(_("◀ Back"), str(index))],
        "can_back": index > 0,
    }


def _rating_buttons(criterion: Criterion, earlier: int | None) -> list[tuple[str, str]]:
    """(label, item id) of each rating: the id names the criterion by its index, "3.4" (a second tap on a keyboard
    the first one moved on names the one before)."""
    index = CRITERIA.index(criterion)
    return [(f"✓ {r}" if r == earlier else str(r), f"{index}.{r}") for r in range(RATING_MIN, RATING_MAX + 1)]


async def rating_pressed(callback: CallbackQuery, _widget: Any, manager: DialogManager, item: str) -> None:
    """A rating button on the current criterion; the same message moves on (or becomes the result)."""
    message = await pressed_step(callback, manager)
    if message is None:
        return
    draft = ScorecardDraft.in_dialog(manager)
    criterion = next_criterion(draft.ratings)
    ids = [item_id for _label, item_id in _rating_buttons(criterion, None)] if criterion else []
    if criterion is None or item not in ids:  # exactly as the step wrote it, or stale
        await stale(callback, manager)
        return
    draft.ratings[criterion] = RATING_MIN + ids.index(item)
    await _rated(manager, draft, message, callback.from_user.id)


async def back_pressed(callback: CallbackQuery, _widget: Any, manager: DialogManager, item: str) -> None:
    """◀ Back: the criterion before, its answer taken back (and said above it)."""
    if await pressed_step(callback, manager) is None:
        return
    draft = ScorecardDraft.in_dialog(manager)
    criterion = next_criterion(draft.ratings)
    index = CRITERIA.index(criterion) if criterion else 0
    if index == 0 or item != str(index):
        await stale(callback, manager)
        return
    earlier = draft.ratings.pop(CRITERIA[index - 1], None)
    if earlier:
        manager.dialog_data["note"] = _("Your earlier answer here: {rating}.").format(rating=earlier)
    draft.keep_in_dialog(manager)


def _rate_hint() -> str:
    return _("Please rate from {min} to {max}: tap a button or type one digit.").format(min=RATING_MIN, max=RATING_MAX)


def parse_typed_rating(typed: str) -> int:
    rating = parse_rating(typed)
    if rating is None:
        raise ValueError(_rate_hint())
    return rating


async def rating_typed(message: Message, _widget: Any, manager: DialogManager, rating: int) -> None:
    """A digit typed for the current criterion: the next one comes as a new message (or the result)."""
    draft = ScorecardDraft.in_dialog(manager)
    criterion = next_criterion(draft.ratings)
    await retire_step(manager)
    if criterion is None:  # damaged records
        await manager.done(show_mode=ShowMode.NO_UPDATE)
        await say_stale(message)
        return
    draft.ratings[criterion] = rating
    await _rated(manager, draft, message, message.from_user.id if message.from_user else 0)


async def rating_refused(message: Message, widget: Any, manager: DialogManager, error: ValueError) -> None:
    """Not a rating: the criterion again, in a new message under the hint."""
    await retire_step(manager)
    await refused(message, widget, manager, error)


def _not_a_digit() -> Any:
    ask_again = text_expected(_rate_hint)

    async def answer(message: Message, widget: Any, manager: DialogManager) -> None:
        """A sticker or a photo: the hint and the criterion again; a command: "in the middle of a step"."""
        await ask_again(message, widget, manager)
        if manager.show_mode is not ShowMode.NO_UPDATE:
            await retire_step(manager)

    return answer


async def _rated(manager: DialogManager, draft: ScorecardDraft, message: Message, user_id: int) -> None:
    if next_criterion(draft.ratings) is not None:
        draft.keep_in_dialog(manager)  # the dialog shows the next criterion
        return
    await _finish_scorecard(manager, draft, message, user_id)


async def _finish_scorecard(manager: DialogManager, draft: ScorecardDraft, message: Message, user_id: int) -> None:
    """Save the submission, show the rater's own scores, then the card."""
    data = manager.middleware_data
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    workspace: Workspace = data["workspace"]
    assessments: AssessmentRepo = data["assessments"]
    i18n: I18n = data["i18n"]
    partner = await data["partners"].get(workspace.id, draft.partner_id)
    before = await assessments.latest_scorecards(workspace.id, draft.partner_id)
    total = None
    if partner is not None:
        total = await assessments.add_scorecard(workspace.id, partner.id, draft.typed(), user_id, data["clock"].now())
    if partner is None or total is None:
        await message.answer(not_found_text())
        return
    await reply_here(message, _scorecard_result(partner, draft.typed(), user_id, before, i18n.current_locale))
    await show_partner_card(message, user_id, partner.id, data["cards"], workspace, i18n, edit=False)


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


def scorecard_dialog() -> Dialog:
    return presses_of_its_own(Dialog(
        Window(
            Format("{text}"),
            Select(Format("{item[0]}"), id="rate", item_id_getter=itemgetter(1), items="ratings",
                   on_click=rating_pressed),
            Select(Format("{item[0]}"), id="back", item_id_getter=itemgetter(1), items="back",
                   on_click=back_pressed, when="can_back"),
            TextInput("rating", type_factory=parse_typed_rating, on_success=rating_typed, on_error=rating_refused,
                      filter=NOT_A_COMMAND),
            MessageInput(_not_a_digit()),
            state=ScorecardForm.waiting_for_rating,
            getter=criterion_view,
        ),
        on_start=begin,
    ))

