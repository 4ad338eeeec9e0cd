"""The fields of a campaign scope, as the summary's Edit menu offers them (bot/handlers/campaign_scope.py)."""

from __future__ import annotations

from enum import StrEnum


class ScopeField(StrEnum):
    """A field of the scope, as the summary's Edit menu offers it."""

    CREATORS = "cr"
    DELIVERABLE = "dl"
    START = "st"
    DAYS = "dy"
    METRICS = "mt"
    AGREED = "ag"
    PAYMENT = "pt"
    REVISIONS = "rv"
    MARKET = "mk"
    SUCCESS = "ok"
    FAILURE = "fl"
    RENEGOTIATE = "rn"
