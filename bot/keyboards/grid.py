"""Inline keyboards laid out in rows.

The part of aiogram's ButtonGrid this bot uses — `button`, `adjust`, `as_markup` — with the same
layout rules, built directly: the builder deep-copies and re-validates every button, which made a twelve-button
partner card keyboard cost a millisecond.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, cycle, repeat

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

ROW_MAX = 8  # Telegram shows at most eight inline buttons in a row


class ButtonGrid:
    def __init__(self) -> None:
        self._buttons: list[InlineKeyboardButton] = []
        self._sizes: tuple[int, ...] = (ROW_MAX,)
        self._repeat = False

    def button(self, *, text: str, callback_data: CallbackData | str | None = None, url: str | None = None) -> None:
        if isinstance(callback_data, CallbackData):
            callback_data = callback_data.pack()
        self._buttons.append(InlineKeyboardButton(text=text, callback_data=callback_data, url=url))

    def adjust(self, *sizes: int, repeat: bool = False) -> ButtonGrid:
        """Rows of these sizes in order; then the last size again, or (with `repeat`) the whole sequence again."""
        if any(not 1 <= size <= ROW_MAX for size in sizes):
            raise ValueError(f"a row holds 1 to {ROW_MAX} buttons, not {sizes}")
        self._sizes = sizes or (ROW_MAX,)
        self._repeat = repeat
        return self

    @property
    def buttons(self) -> list[InlineKeyboardButton]:
        return list(self._buttons)

    def rows(self) -> list[list[InlineKeyboardButton]]:
        sizes = self._size_sequence()
        rows: list[list[InlineKeyboardButton]] = []
        index = 0
        while index < len(self._buttons):
            size = next(sizes)
            rows.append(self._buttons[index : index + size])
            index += size
        return rows

    def as_markup(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=self.rows())

    def _size_sequence(self) -> Iterator[int]:
        if self._repeat:
            return cycle(self._sizes)
        return chain(self._sizes, repeat(self._sizes[-1]))
