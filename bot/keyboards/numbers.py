"""Whole-number fields for CallbackData factories that take nothing but the bot's own spelling of a number.

Callback data comes back from the client and a modified client can send anything. pydantic's lax int parsing would
take " 5", "+5", "5_000", "5.0", "-0", negative ids and 99999999999999999999 (which does not even bind to SQLite);
these fields go through the domain's strict parser instead (bot/domain/numbers.py), so such data does not match
its factory and the press falls through to the stale-button answer (bot/handlers/fallback.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

from bot.domain.numbers import ID_MAX, PAGE_MAX, SMALL_MAX, strict_int


def _id(value: object) -> int:
    return strict_int(value, 0, ID_MAX)


def _page(value: object) -> int:
    return strict_int(value, 0, PAGE_MAX)


def _small(value: object) -> int:
    return strict_int(value, 0, SMALL_MAX)


# A record's id (0 where the field is unused): ASCII digits, no sign, at most SQLite's largest INTEGER.
CallbackId = Annotated[int, BeforeValidator(_id)]
# A list page from 0.
CallbackPage = Annotated[int, BeforeValidator(_page)]
# A rating, a quality or a number of weeks (0 where unused); the handler checks the exact range.
CallbackSmall = Annotated[int, BeforeValidator(_small)]
