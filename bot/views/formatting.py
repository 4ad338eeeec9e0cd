"""Locale-aware dates and numbers (Babel), and HTML-safe user text."""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from babel.dates import format_date
from babel.numbers import format_decimal

from bot.domain.text import strip_bidi


def short_date(value: str | date | datetime, locale: str) -> str:
    """24 Nov 2026 / 24 нояб. 2026 г."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_date(moment, format="medium", locale=locale)


def score(value: float, locale: str) -> str:
    """3.9 / 3,9 — one decimal, the locale's separator."""
    return format_decimal(round(value, 1), format="0.0", locale=locale)


def button_label(text: str | None, limit: int) -> str:
    """A person's text on a button (plain text, not HTML): without bidi controls, cut to `limit`."""
    return strip_bidi(text or "")[:limit]


def user_text(text: str | None, limit: int | None = None) -> str:
    """Escape what a person typed, without bidi controls (a name saved before they were refused could still carry
    a right-to-left override); optionally cut it for a compact view."""
    value = strip_bidi(text or "")
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return escape(value)
