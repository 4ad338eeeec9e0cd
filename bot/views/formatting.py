"""Locale-aware dates and numbers (Babel), and HTML-safe user text."""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from babel.dates import format_date
from babel.numbers import format_decimal


def short_date(value: str | date | datetime, locale: str) -> str:
    """24 Nov 2026 / 24 нояб. 2026 г."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_date(moment, format="medium", locale=locale)


def score(value: float, locale: str) -> str:
    """3.9 / 3,9 — one decimal, the locale's separator."""
    return format_decimal(round(value, 1), format="0.0", locale=locale)


def user_text(text: str | None, limit: int | None = None) -> str:
    """Escape what a person typed; optionally cut it for a compact view."""
    value = text or ""
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return escape(value)
