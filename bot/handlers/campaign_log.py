"""The campaign log as data: an aiogram-dialog Dialog of two windows, the event buttons and the optional note.

/log lists the workspace's running campaigns; a partner there, or the card's "Log event" button, opens the log on
that message. An event button stores the event at once and asks for a note on the same message; "Log another"
goes back to the buttons, "Done" (or a typed note) ends the log at the card. aiogram-dialog keeps the step and the
draft (LogDraft, in the dialog's data) in its records in the FSM storage, so they commit with the update's unit of
work: a crash loses and duplicates nothing.

As in every dialog (bot/handlers/dialog_steps.py): a refused note shows the step again with the reason above it;
typed text where a button is expected gets a hint; a press the step cannot take is a pop-up.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, ClassVar

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import Button, Row, Select
from aiogram_dialog.widgets.text import Format
from pydantic import BaseModel, ConfigDict, ValidationError

from bot import labels, texts
from bot.domain.campaigns import EventKind, revisions_left, revisions_used
from bot.handlers.cancel_notes import on_cancel
from bot.handlers.dialog_steps import buttons_expected, pressed_message, refused, stale, text_expected, typed_answer
from bot.handlers.partners import not_found_text, show_partner_card
from bot.handlers.workspace_guard import dialogs_in_workspace, private_workspace_router
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.grid import ButtonGrid
from bot.plumbing.dialogs import presses_of_its_own
from bot.storage.campaigns import Campaign, CampaignRepo
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views.formatting import button_label, short_date, user_text

NOTE_MAX_LEN = 500
LIST_MAX = 40  # running campaigns offered as buttons by /log
NOT_A_COMMAND = ~F.text.startswith("/")

# The event buttons, grouped: deadline, deliverable, process and communication, iteration, mode, revisions.
EVENT_ROWS: tuple[tuple[EventKind, ...], ...] = (
    (EventKind.DEADLINE_MET,),
    (EventKind.DEADLINE_MISSED_NOTICE, EventKind.DEADLINE_MISSED_SILENT),
    (EventKind.DELIV_AT_SCOPE,),
    (EventKind.DELIV_BELOW, EventKind.DELIV_FAR_BELOW),
    (EventKind.RESISTED_DOCS, EventKind.COMM_GAP),
    (EventKind.ITER_FAST, EventKind.ITER_SLOW),
    (EventKind.MOSTLY_ASYNC, EventKind.MOSTLY_SYNC),
    (EventKind.REVISION_USED,),
)
EVENT_KINDS = {kind.value: kind for kind in EventKind}


class CampaignLogForm(StatesGroup):
    menu = State()
    waiting_for_note = State()


class LogDraft(BaseModel):
    """What the log knows between updates, kept in the dialog's data under KEY (plain JSON, read back strictly)."""

    model_config = ConfigDict(strict=True, frozen=True)
    KEY: ClassVar[str] = "campaign_log"

    partner_id: int = 0
    campaign_id: int = 0
    event_id: int = 0  # the event the note step would add a note to; 0 on the event buttons
    logged: int = 0  # events logged since the log was opened

    @classmethod
    def read(cls, data: dict[str, Any]) -> LogDraft:
        """The draft in `data` (the dialog's data); an empty one when it is missing or not as written."""
        try:
            return cls.model_validate(data.get(cls.KEY) or {})
        except ValidationError:
            return cls()

    @classmethod
    def of(cls, manager: DialogManager) -> LogDraft:
        return cls.read(manager.dialog_data)

    def keep(self, manager: DialogManager) -> None:
        manager.dialog_data[self.KEY] = self.model_dump()


def _log_cancelled(data: dict[str, Any]) -> str:
    draft = LogDraft.read(data)
    if draft.event_id:
        return _("Cancelled: the event stays logged, without a note.")
    if draft.logged == 1:
        return _("Cancelled: the event you logged stays logged.")
    if draft.logged:
        return _("Cancelled: the events you logged ({count}) stay logged.").format(count=draft.logged)
    return _("Cancelled: nothing was logged.")


on_cancel(CampaignLogForm, _log_cancelled, back_to_card_of=LogDraft.KEY)


# The kinds of button data that open the log (the log's own buttons are the dialog's).
PRESSES = (PartnerCallback,)


def router() -> Router:
    r = private_workspace_router("campaign_log", PRESSES)
    r.message.register(log_command, Command("log"))
    r.callback_query.register(open_log, PartnerCallback.filter(F.action == PartnerAction.LOG))
    return r


def conversations() -> Router:
    """The log itself, apart from `router()`: its presses carry the dialog's own data, not a PRESSES kind."""
    return dialogs_in_workspace("campaign_log_form", dialog())


# ---- shared with the debrief ---------------------------------------------------------------------------


async def running_campaign(campaigns: CampaignRepo, workspace_id: int, partner_id: int) -> Campaign | None:
    """The partner's running campaign (the latest, should there be more), read through the workspace."""
    return next((c for c in reversed(await campaigns.for_partner(workspace_id, partner_id)) if c.running), None)


async def campaign_number(campaigns: CampaignRepo, workspace_id: int, campaign: Campaign) -> int:
    """The campaign's 1-based position among the partner's campaigns, as the card numbers them."""
    ids = [c.id for c in await campaigns.for_partner(workspace_id, campaign.partner_id)]
    return ids.index(campaign.id) + 1 if campaign.id in ids else len(ids) + 1


# ---- what opens the log --------------------------------------------------------------------------------


async def log_command(message: Message, campaigns: CampaignRepo, workspace: Workspace, i18n: I18n) -> None:
    """/log: the workspace's partners with a running campaign, as buttons."""
    running = await campaigns.running_in_workspace(workspace.id, LIST_MAX)
    if not running:
        await message.answer(
            _("No campaign is running in this workspace. Scope a pilot from a partner's card: /partners")
        )
        return
    b = ButtonGrid()
    for partner_name, campaign in running:
        b.button(
            text=_("{name} · due {date}").format(
                name=button_label(partner_name, 40), date=short_date(campaign.scope.due_date, i18n.current_locale)
            ),
            callback_data=PartnerCallback(action=PartnerAction.LOG, partner_id=campaign.partner_id),
        )
    b.adjust(1)
    await message.answer(_("<b>Campaign log</b>\nWhose campaign is it?"), reply_markup=b.as_markup())


async def open_log(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: PartnerCallback,
    state: FSMContext,
    dialog_manager: DialogManager,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    workspace: Workspace,
) -> None:
    """The card's "Log event" button (or a partner in /log): the event buttons of the running campaign, on the
    pressed message; a conversation in progress (any flow) ends here."""
    partner = await partners.get(workspace.id, callback_data.partner_id)
    if partner is None:
        await pressed.answer(not_found_text())
        return
    campaign = await running_campaign(campaigns, workspace.id, partner.id)
    if campaign is None:
        await pressed.answer(
            _("No campaign is running for <b>{name}</b>, so there is nothing to log.").format(
                name=user_text(partner.name)
            )
        )
        return
    await state.clear()
    draft = LogDraft(partner_id=partner.id, campaign_id=campaign.id)
    await dialog_manager.start(CampaignLogForm.menu, data=draft.model_dump(), mode=StartMode.RESET_STACK)


async def _started(start_data: Any, manager: DialogManager) -> None:
    LogDraft.read({LogDraft.KEY: start_data}).keep(manager)


# ---- what each step shows ------------------------------------------------------------------------------


async def _read(manager: DialogManager) -> tuple[LogDraft, Partner | None, Campaign | None]:
    """The draft, and its partner and campaign read through the workspace."""
    draft, data = LogDraft.of(manager), manager.middleware_data
    workspace: Workspace = data["workspace"]
    campaign = await data["campaigns"].get(workspace.id, draft.campaign_id)
    partner = None if campaign is None else await data["partners"].get(workspace.id, campaign.partner_id)
    return draft, partner, campaign


def _revision_lines(campaign: Campaign, kinds: list[EventKind]) -> list[str]:
    limit = campaign.scope.revision_limit
    left = revisions_left(limit, kinds)
    if left is None or left >= 0:
        return []
    return [
        _("⚠️ Over the agreed revision limit: {used} rounds used, {limit} agreed.").format(
            used=revisions_used(kinds), limit=limit
        )
    ]


def _event_button(kind: EventKind) -> str:
    return {
        EventKind.DEADLINE_MET: _("✅ Deadline met"),
        EventKind.DEADLINE_MISSED_NOTICE: _("⚠️ Missed, with notice"),
        EventKind.DEADLINE_MISSED_SILENT: _("🚨 Missed, no notice"),
        EventKind.DELIV_AT_SCOPE: _("🎯 Deliverable at scope"),
        EventKind.DELIV_BELOW: _("⬇️ Below scope"),
        EventKind.DELIV_FAR_BELOW: _("⛔ Far below scope"),
        EventKind.RESISTED_DOCS: _("📄 Resisted process"),
        EventKind.COMM_GAP: _("📵 Communication gap"),
        EventKind.ITER_FAST: _("⚡ Fast iteration"),
        EventKind.ITER_SLOW: _("🐢 Slow iteration"),
        EventKind.MOSTLY_ASYNC: _("💬 Mostly async"),
        EventKind.MOSTLY_SYNC: _("📞 Mostly sync"),
        EventKind.REVISION_USED: _("🔁 Revision round"),
    }[kind]


async def menu_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    """The campaign, the events logged so far, and a button for each event (the revision one counts the rounds)."""
    _draft, partner, campaign = await _read(dialog_manager)
    if partner is None or campaign is None:  # gone since the log was opened: only the way back
        return {"text": not_found_text(), "card": _("« Card"), **{f"row{i}": [] for i in range(len(EVENT_ROWS))}}
    data = dialog_manager.middleware_data
    events = [e for e in await data["campaigns"].events_for_partner(partner.workspace_id, partner.id)
              if e.campaign_id == campaign.id]
    kinds = [e.kind for e in events]
    number = await campaign_number(data["campaigns"], partner.workspace_id, campaign)
    lines = [
        _("<b>Campaign log: {name}</b>").format(name=user_text(partner.name)),
        _("Campaign #{number}, rung {rung}: {deliverable}, due {date}").format(
            number=number,
            rung=campaign.rung,
            deliverable=user_text(campaign.scope.deliverable, 80),
            date=short_date(campaign.scope.due_date, data["i18n"].current_locale),
        ),
        _("Events logged so far: {count}").format(count=len(events)),
        *_revision_lines(campaign, kinds),
        "",
        _("Tap what happened:"),
    ]
    used, limit = revisions_used(kinds), campaign.scope.revision_limit

    def button(kind: EventKind) -> tuple[str, str]:
        text = _event_button(kind)
        if kind is EventKind.REVISION_USED:
            text = _("{button} · used {used} of {limit}").format(button=text, used=used, limit=limit)
        return text, kind.value

    rows = {f"row{i}": [button(kind) for kind in row] for i, row in enumerate(EVENT_ROWS)}
    return {"text": "\n".join(lines), "card": _("« Card"), **rows}


def _note_prompt() -> str:
    return _("Add a note? Send it as text (up to {max} characters), or press “Done”.").format(max=NOTE_MAX_LEN)


async def note_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    """A refused note's reason (shown once), what was just logged and the revision rounds it leaves; the question."""
    error = dialog_manager.dialog_data.pop("error", "")
    logged = "\n".join(await _logged_lines(dialog_manager))
    return {
        "text": "\n\n".join(part for part in (error, logged, _note_prompt()) if part),
        "done": _("✔️ Done, no note"),
        "more": _("➕ Log another"),
    }


async def _logged_lines(manager: DialogManager) -> list[str]:
    draft, partner, campaign = await _read(manager)
    if partner is None or campaign is None:
        return []
    data = manager.middleware_data
    events = [e for e in await data["campaigns"].events_for_partner(partner.workspace_id, partner.id)
              if e.campaign_id == campaign.id]
    event = next((e for e in events if e.id == draft.event_id), None)
    if event is None:
        return []
    kinds = [e.kind for e in events]
    lines = [
        _("✅ Logged for <b>{name}</b>: {event} ({date}).").format(
            name=user_text(partner.name),
            event=labels.event(event.kind),
            date=short_date(event.created_at, data["i18n"].current_locale),
        )
    ]
    if event.kind is EventKind.REVISION_USED:
        lines.append(
            _("Revision rounds: used {used} of {limit}.").format(
                used=revisions_used(kinds), limit=campaign.scope.revision_limit
            )
        )
    return lines + _revision_lines(campaign, kinds)


# ---- what each step takes ------------------------------------------------------------------------------


async def _close_saying(callback: CallbackQuery, manager: DialogManager, text: str) -> None:
    """The log cannot go on (its campaign is gone or over): it ends, its message stays, and the chat hears why."""
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    await pressed_message(manager).answer(text)


async def _close_to_card(callback: CallbackQuery, manager: DialogManager, partner_id: int) -> None:
    """The log ends; its message becomes the partner's card."""
    data = manager.middleware_data
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    await show_partner_card(
        pressed_message(manager), callback.from_user.id, partner_id, data["cards"], data["workspace"], data["i18n"],
        edit=True,
    )


async def event_tapped(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """One event button: the event is stored at once; then the optional note, on the same message."""
    kind = EVENT_KINDS.get(value)
    if kind is None:  # forged
        await stale(callback, manager)
        return
    draft, partner, campaign = await _read(manager)
    if partner is None or campaign is None:
        await _close_saying(callback, manager, not_found_text())
        return
    if not campaign.running:
        await _close_saying(
            callback,
            manager,
            _("This campaign of <b>{name}</b> has already been debriefed; nothing was logged.").format(
                name=user_text(partner.name)
            ),
        )
        return
    data = manager.middleware_data
    event_id = await data["campaigns"].add_event(
        partner.workspace_id, campaign.id, kind, None, callback.from_user.id, data["clock"].now()
    )
    if event_id is None:
        await _close_saying(callback, manager, not_found_text())
        return
    draft.model_copy(update={"event_id": event_id, "logged": draft.logged + 1}).keep(manager)
    await manager.switch_to(CampaignLogForm.waiting_for_note)


async def back_to_card(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """ "« Card" under the event buttons, or "Done, no note": the log ends at the card."""
    await _close_to_card(callback, manager, LogDraft.of(manager).partner_id)


async def log_another(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """ "Log another": the event buttons again (the card, if the campaign ended meanwhile)."""
    draft, partner, campaign = await _read(manager)
    if partner is None or campaign is None or not campaign.running:
        await _close_to_card(callback, manager, draft.partner_id)
        return
    draft.model_copy(update={"event_id": 0}).keep(manager)
    await manager.switch_to(CampaignLogForm.menu)


async def note_entered(message: Message, _widget: Any, manager: DialogManager, note: str) -> None:
    """The note for the event just logged; then the card with the timeline, as a new message."""
    draft, data = LogDraft.of(manager), manager.middleware_data
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    workspace: Workspace = data["workspace"]
    if not draft.event_id or not await data["campaigns"].set_event_note(workspace.id, draft.event_id, note):
        await message.answer(not_found_text())
        return
    await message.answer(_("📝 Note saved: {note}").format(note=user_text(note)))
    viewer = message.from_user.id if message.from_user else 0
    await show_partner_card(message, viewer, draft.partner_id, data["cards"], workspace, data["i18n"], edit=False)


# ---- the log, as data ----------------------------------------------------------------------------------


def _event_row(i: int) -> Select[str]:
    return Select(Format("{item[0]}"), id=f"event{i}", item_id_getter=itemgetter(1), items=f"row{i}",
                  on_click=event_tapped)


def dialog() -> Dialog:
    screen = Format("{text}")
    log = Dialog(
        Window(
            screen,
            *(_event_row(i) for i in range(len(EVENT_ROWS))),
            Button(Format("{card}"), id="card", on_click=back_to_card),
            MessageInput(buttons_expected(lambda: _("Please tap what happened with the buttons above."))),
            state=CampaignLogForm.menu,
            getter=menu_view,
        ),
        Window(
            screen,
            TextInput("note", type_factory=typed_answer(NOTE_MAX_LEN), on_success=note_entered, on_error=refused,
                      filter=NOT_A_COMMAND),
            Row(
                Button(Format("{done}"), id="done", on_click=back_to_card),
                Button(Format("{more}"), id="more", on_click=log_another),
            ),
            MessageInput(text_expected(lambda: texts.text_expected(NOTE_MAX_LEN))),
            state=CampaignLogForm.waiting_for_note,
            getter=note_view,
        ),
        on_start=_started,
    )
    return presses_of_its_own(log)

