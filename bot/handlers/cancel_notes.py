"""What /cancel says it dropped: each conversation knows what it keeps only at its last step, so it tells /cancel
what to say about its own draft (registered next to the flow, read by bot/handlers/basics.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.fsm.state import StatesGroup

from bot import texts

CancelNote = Callable[[dict[str, Any]], str]  # the FSM data → what was kept and what was not

_NOTES: dict[type[StatesGroup], CancelNote] = {}


def on_cancel(group: type[StatesGroup], note: CancelNote) -> None:
    _NOTES[group] = note


def cancel_note(state: str, data: dict[str, Any]) -> str:
    for group, note in _NOTES.items():
        if state in group:
            return note(data)
    return texts.cancelled()
