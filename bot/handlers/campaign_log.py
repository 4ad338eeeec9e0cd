"""The campaign log: /log and the card's "Log event" button, one-tap events and an optional note."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import labels, texts
from bot.clock import Clock
from bot.domain.campaigns import EventKind, revisions_left, revisions_used
from bot.handlers.cancel_notes import on_cancel
from bot.handlers.drafts import DraftModel
from bot.handlers.filters import TYPED
from bot.handlers.partners import not_found_text, partner_or_say, show_partner_card
from bot.handlers.replies import drop_keyboard, edit_or_send, typed_text
from bot.handlers.workspace_guard import private_workspace_router
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.campaign_callbacks import LogEventCallback, LogNoteAction, LogNoteCallback
from bot.keyboards.grid import ButtonGrid
from bot.storage.campaigns import Campaign, CampaignRepo
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views.formatting import button_label, short_date, user_text
from bot.views.partner_card import PartnerCards

NOTE_MAX_LEN = 500
LIST_MAX = 40  # running campaigns offered as buttons by /log

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


class CampaignLogForm(StatesGroup):
    waiting_for_note = State()


class LogNoteDraft(DraftModel):
    """The event a note would be added to (FSM data, plain JSON)."""

    partner_id: int = 0
    campaign_id: int = 0
    event_id: int = 0
    message_id: int | None = None  # the "Add a note?" message whose buttons are live

    KEY = "campaign_log"


def _note_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled: the event stays logged, without a note.")


on_cancel(CampaignLogForm, _note_cancelled, back_to_card_of=LogNoteDraft.KEY)


# The kinds of button data this feature's handlers take.
PRESSES = (PartnerCallback, LogEventCallback, LogNoteCallback)


def router() -> Router:
    r = private_workspace_router("campaign_log", PRESSES)

    r.message.register(log_command, Command("log"))
    r.callback_query.register(log_menu, PartnerCallback.filter(F.action == PartnerAction.LOG))
    r.callback_query.register(event_tapped, LogEventCallback.filter())
    r.callback_query.register(note_button, LogNoteCallback.filter())
    r.message.register(note_entered, StateFilter(CampaignLogForm.waiting_for_note), TYPED)
    r.message.register(note_step_repeated, StateFilter(CampaignLogForm.waiting_for_note))
    return r


# ---- shared with the debrief ---------------------------------------------------------------------------


async def running_campaign(campaigns: CampaignRepo, workspace_id: int, partner_id: int) -> Campaign | None:
    """The partner's running campaign (the latest, should there be more), read through the workspace."""
    return next((c for c in reversed(await campaigns.for_partner(workspace_id, partner_id)) if c.running), None)


async def campaign_number(campaigns: CampaignRepo, workspace_id: int, campaign: Campaign) -> int:
    """The campaign's 1-based position among the partner's campaigns, as the card numbers them."""
    ids = [c.id for c in await campaigns.for_partner(workspace_id, campaign.partner_id)]
    return ids.index(campaign.id) + 1 if campaign.id in ids else len(ids) + 1


# ---- /log and the event menu ---------------------------------------------------------------------------


async def log_command(
    message: Message, partners: PartnerRepo, campaigns: CampaignRepo, workspace: Workspace, i18n: I18n
) -> None:
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


async def _menu(
    partner: Partner, campaign: Campaign, campaigns: CampaignRepo, workspace: Workspace, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    events = [e for e in await campaigns.events_for_partner(workspace.id, partner.id) if e.campaign_id == campaign.id]
    kinds = [e.kind for e in events]
    number = await campaign_number(campaigns, workspace.id, campaign)
    lines = [
        _("<b>Campaign log: {name}</b>").format(name=user_text(partner.name)),
        _("Campaign #{number}, rung {rung}: {deliverable}, due {date}").format(
            number=number,
            rung=campaign.rung,
            deliverable=user_text(campaign.scope.deliverable, 80),
            date=short_date(campaign.scope.due_date, locale),
        ),
        _("Events logged so far: {count}").format(count=len(events)),
        *_revision_lines(campaign, kinds),
        "",
        _("Tap what happened:"),
    ]
    used, limit = revisions_used(kinds), campaign.scope.revision_limit
    b = ButtonGrid()
    for row in EVENT_ROWS:
        for kind in row:
            text = _event_button(kind)
            if kind is EventKind.REVISION_USED:
                text = _("{button} · used {used} of {limit}").format(button=text, used=used, limit=limit)
            b.button(text=text, callback_data=LogEventCallback(campaign_id=campaign.id, kind=kind))
    b.button(text=_("« Card"), callback_data=PartnerCallback(action=PartnerAction.OPEN, partner_id=partner.id))
    b.adjust(*(len(row) for row in EVENT_ROWS), 1)
    return "\n".join(lines), b.as_markup()


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


async def log_menu(
    callback: CallbackQuery,
    callback_data: PartnerCallback,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    workspace: Workspace,
    i18n: I18n,
) -> None:
    """The card's "Log event" button (or a partner in /log): the event buttons of the running campaign."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    campaign = await running_campaign(campaigns, workspace.id, partner.id)
    if campaign is None:
        await message.answer(
            _("No campaign is running for <b>{name}</b>, so there is nothing to log.").format(
                name=user_text(partner.name)
            )
        )
        return
    text, markup = await _menu(partner, campaign, campaigns, workspace, i18n.current_locale)
    await edit_or_send(message, text, markup)


# ---- an event and its note -----------------------------------------------------------------------------


def _note_keyboard(campaign_id: int, event_id: int) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(
        text=_("✔️ Done, no note"),
        callback_data=LogNoteCallback(campaign_id=campaign_id, event_id=event_id, action=LogNoteAction.DONE),
    )
    b.button(
        text=_("➕ Log another"),
        callback_data=LogNoteCallback(campaign_id=campaign_id, event_id=event_id, action=LogNoteAction.MORE),
    )
    b.adjust(2)
    return b.as_markup()


def _note_prompt() -> str:
    return _("Add a note? Send it as text (up to {max} characters), or press “Done”.").format(max=NOTE_MAX_LEN)


async def event_tapped(
    callback: CallbackQuery,
    callback_data: LogEventCallback,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """One event button: the event is stored at once; then the optional note."""
    message = callback.message
    if not isinstance(message, Message):
        return
    campaign = await campaigns.get(workspace.id, callback_data.campaign_id)
    partner = None if campaign is None else await partners.get(workspace.id, campaign.partner_id)
    if campaign is None or partner is None:
        await message.answer(not_found_text())
        return
    if not campaign.running:
        await message.answer(
            _("This campaign of <b>{name}</b> has already been debriefed; nothing was logged.").format(
                name=user_text(partner.name)
            )
        )
        return
    now = clock.now()
    event_id = await campaigns.add_event(
        workspace.id, campaign.id, callback_data.kind, None, callback.from_user.id, now
    )
    if event_id is None:
        await message.answer(not_found_text())
        return
    kinds = [
        e.kind for e in await campaigns.events_for_partner(workspace.id, partner.id) if e.campaign_id == campaign.id
    ]
    lines = [
        _("✅ Logged for <b>{name}</b>: {event} ({date}).").format(
            name=user_text(partner.name),
            event=labels.event(callback_data.kind),
            date=short_date(now, i18n.current_locale),
        )
    ]
    if callback_data.kind is EventKind.REVISION_USED:
        lines.append(
            _("Revision rounds: used {used} of {limit}.").format(
                used=revisions_used(kinds), limit=campaign.scope.revision_limit
            )
        )
    lines += _revision_lines(campaign, kinds)
    current = await state.get_state()
    if current not in (None, CampaignLogForm.waiting_for_note.state):
        # Another conversation is open: keep it, and do not take the next text as a note.
        lines.append(_("You are in the middle of another step, so no note this time: carry on with it."))
        await message.answer("\n".join(lines))
        return
    previous = await LogNoteDraft.load(state)
    if current is not None and previous.message_id not in (None, message.message_id):
        await drop_keyboard(bot, message.chat.id, previous.message_id)
    lines += ["", _note_prompt()]
    await state.set_state(CampaignLogForm.waiting_for_note)
    draft = LogNoteDraft(
        partner_id=partner.id, campaign_id=campaign.id, event_id=event_id, message_id=message.message_id
    )
    await draft.save(state)
    await edit_or_send(message, "\n".join(lines), _note_keyboard(campaign.id, event_id))


async def note_button(
    callback: CallbackQuery,
    callback_data: LogNoteCallback,
    state: FSMContext,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    cards: PartnerCards,
    workspace: Workspace,
    i18n: I18n,
) -> None:
    """ "Done, no note" (back to the card) or "Log another" (the event buttons again)."""
    message = callback.message
    if not isinstance(message, Message):
        return
    campaign = await campaigns.get(workspace.id, callback_data.campaign_id)
    partner = None if campaign is None else await partners.get(workspace.id, campaign.partner_id)
    if campaign is None or partner is None:
        await message.answer(not_found_text())
        return
    draft = await LogNoteDraft.load(state)
    if await state.get_state() == CampaignLogForm.waiting_for_note.state and draft.event_id == callback_data.event_id:
        await state.clear()
    if callback_data.action is LogNoteAction.MORE and campaign.running:
        text, markup = await _menu(partner, campaign, campaigns, workspace, i18n.current_locale)
        await edit_or_send(message, text, markup)
        return
    await show_partner_card(message, callback.from_user.id, partner.id, cards, workspace, i18n, edit=True)


async def note_entered(
    message: Message,
    state: FSMContext,
    bot: Bot,
    campaigns: CampaignRepo,
    cards: PartnerCards,
    workspace: Workspace,
    i18n: I18n,
) -> None:
    """The note for the event just logged; then the card with the timeline."""
    note = await typed_text(message, NOTE_MAX_LEN, when_empty=_note_prompt())
    if note is None:
        return
    draft = await LogNoteDraft.load(state)
    await state.clear()
    if not draft.event_id or not await campaigns.set_event_note(workspace.id, draft.event_id, note):
        await message.answer(not_found_text())
        return
    await drop_keyboard(bot, message.chat.id, draft.message_id)
    await message.answer(_("📝 Note saved: {note}").format(note=user_text(note)))
    viewer = message.from_user.id if message.from_user else 0
    await show_partner_card(message, viewer, draft.partner_id, cards, workspace, i18n, edit=False)


async def note_step_repeated(message: Message) -> None:
    """Anything else while a note is awaited: say what the step needs."""
    if message.text and message.text.startswith("/"):
        await message.answer(texts.mid_conversation_command())
        return
    await message.answer(_note_prompt())
