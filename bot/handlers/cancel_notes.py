"""What /cancel says it dropped: each conversation knows what it keeps only at its last step, so it tells /cancel
what to say about its own draft (registered next to the flow, read by bot/handlers/basics.py), and whether the
reply leads back to the partner's card (the flow started there, and its buttons came off with the flow)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram.fsm.state import StatesGroup

from bot import texts

NoteText = Callable[[dict[str, Any]], str]  # the flow's data (FSM data, or a dialog's dialog_data) → what was kept


@dataclass(frozen=True)
class CancelNote:
    text: str
    partner_id: int | None = None  # the card to go back to


@dataclass(frozen=True)
class _Registered:
    text: NoteText
    draft_key: str | None  # the flow's draft in its data; its partner_id is the card to go back to


_NOTES: dict[type[StatesGroup], _Registered] = {}


def on_cancel(group: type[StatesGroup], text: NoteText, *, back_to_card_of: str | None = None) -> None:
    _NOTES[group] = _Registered(text, back_to_card_of)


def cancel_note(state: str, data: dict[str, Any]) -> CancelNote:
    for group, note in _NOTES.items():
        if state in group:
            return CancelNote(note.text(data), _partner_of(data, note.draft_key))
    return CancelNote(texts.cancelled())


def _partner_of(data: dict[str, Any], draft_key: str | None) -> int | None:
    draft = data.get(draft_key) if draft_key else None
    partner_id = draft.get("partner_id") if isinstance(draft, dict) else None
    return partner_id if isinstance(partner_id, int) and not isinstance(partner_id, bool) and partner_id > 0 else None
