"""Partners: kinds, markets, stages and validation of what a manager types about them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from bot.domain.text import clean_block, clean_typed, has_control_chars, is_invisible

# Issue 3 "name (1–100 characters)": longest partner name accepted.
NAME_MAX_LEN = 100
# Issue 3 "contact and links (optional)": longest contact text accepted.
CONTACT_MAX_LEN = 200
# Issue 3 "links validated as URLs": longest link accepted (the common browser-safe URL limit).
URL_MAX_LEN = 2048
# Issue 3 "links validated as URLs": the only schemes a link may use.
URL_SCHEMES = ("http", "https")
# Scheme added when the user typed a bare "example.com/x".
DEFAULT_URL_SCHEME = "https"

_SCHEME_PREFIX = re.compile(r"^([a-z][a-z0-9+.\-]*):(.*)$", re.IGNORECASE | re.DOTALL)
_HOST_LABEL = re.compile(r"^[\w-]+$")
_SPACES = re.compile(r"\s+")


class PartnerKind(StrEnum):
    """Who the partner is: an agency, a single creator, or a manager/network of creators."""

    AGENCY = "agency"
    CREATOR = "creator"
    NETWORK = "network"


class Market(StrEnum):
    """One market the method spans."""

    RU = "ru"
    US = "us"

    @property
    def other(self) -> Market:
        """The other market of the pair."""
        return Market.US if self is Market.RU else Market.RU


# Fixed display/iteration order of markets.
MARKETS: tuple[Market, ...] = (Market.RU, Market.US)


class MarketCoverage(StrEnum):
    """Which markets a partner (or a campaign's creators) works in."""

    RU = "ru"
    US = "us"
    BOTH = "both"

    @property
    def markets(self) -> tuple[Market, ...]:
        """The markets covered, in MARKETS order."""
        if self is MarketCoverage.BOTH:
            return MARKETS
        return (Market(self.value),)

    def covers(self, market: Market) -> bool:
        """Whether the given market is covered."""
        return market in self.markets

    @classmethod
    def of(cls, markets: Iterable[Market]) -> MarketCoverage:
        """Coverage of a non-empty set of markets; ValueError when empty."""
        found = set(markets)
        if not found:
            raise ValueError("at least one market is required")
        if found == set(MARKETS):
            return cls.BOTH
        return cls(next(iter(found)).value)


class Stage(StrEnum):
    """Where a partner stands in the method; archiving is a separate flag, not a stage."""

    # Archived is kept as a boolean on the partner record: it hides the partner from lists without
    # losing the stage, so unarchiving returns the partner exactly where it was.
    CANDIDATE = "candidate"
    GUT_FAILED = "gut_failed"
    READY_PILOT = "ready_pilot"
    PILOT = "pilot"
    RUNG2 = "rung2"
    RUNG3 = "rung3"
    WALKED = "walked"
    PAUSED = "paused"

    @property
    def is_vetting(self) -> bool:
        """Before any pilot: candidate, gut check failed, or ready for a pilot."""
        return self in VETTING_STAGES

    @property
    def in_campaigns(self) -> bool:
        """On the ladder: pilot, rung 2 or rung 3."""
        return self in LADDER_STAGES


# Stages before a pilot is scoped (PRODUCT "Evidence (before any pilot)").
VETTING_STAGES: frozenset[Stage] = frozenset({Stage.CANDIDATE, Stage.GUT_FAILED, Stage.READY_PILOT})
# Stages of the ladder, rung 1 → 3 (field notes "We grow incrementally: 1 → 3 → 5").
LADDER_STAGES: tuple[Stage, ...] = (Stage.PILOT, Stage.RUNG2, Stage.RUNG3)


def can_scope_pilot(stage: Stage) -> bool:
    """A pilot may be scoped only after a passed gut check ("Threshold: 3/3 = move to Phase 2")."""
    return stage is Stage.READY_PILOT


def can_scope_campaign(stage: Stage) -> bool:
    """A campaign (the pilot or a later rung's) may be scoped in these stages."""
    return stage is Stage.READY_PILOT or stage in LADDER_STAGES


class NameProblem(StrEnum):
    """Why a partner name was rejected."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    CONTROL = "control"


def validate_partner_name(text: str | None) -> str | NameProblem:
    """The stripped name, or the problem that makes it unacceptable."""
    name = clean_typed(text)  # bidi controls out; only invisible characters → empty
    if name is None:
        return NameProblem.EMPTY
    if has_control_chars(name):
        return NameProblem.CONTROL
    if len(name) > NAME_MAX_LEN:
        return NameProblem.TOO_LONG
    return name


def normalize_name_for_duplicates(name: str) -> str:
    """Comparison key for "a same-name partner exists": NFKC, casefold, ё→е, collapsed spaces."""
    folded = unicodedata.normalize("NFKC", name).casefold().replace("ё", "е")
    return _SPACES.sub(" ", folded).strip()


def validate_contact(text: str | None) -> str | None:
    """The stripped contact text (1–200 characters, newlines allowed), or None."""
    return clean_block(text, CONTACT_MAX_LEN)


def _valid_host(hostname: str | None) -> bool:
    """Host has a dot (or is localhost) and only non-empty word/hyphen labels."""
    if not hostname:
        return False
    if hostname == "localhost":
        return True
    labels = hostname.removesuffix(".").split(".")
    if len(labels) < 2:
        return False
    return all(label and _HOST_LABEL.match(label) and "_" not in label for label in labels)


def validate_url(text: str | None) -> str | None:
    """A normalized http(s) URL, adding https:// to a bare "example.com/x"; None when unacceptable."""
    if text is None:
        return None
    raw = text.strip()
    # Invisible characters (a bidi override, a zero-width space) would make the link read as another one.
    if not raw or len(raw) > URL_MAX_LEN or any(is_invisible(c) for c in raw) or has_control_chars(raw):
        return None
    if "://" not in raw:
        prefix = _SCHEME_PREFIX.match(raw)
        # "javascript:…", "mailto:…" are schemes; "example.com:8080/x" is a host with a port.
        if prefix and not prefix.group(2)[:1].isdigit():
            return None
        raw = f"{DEFAULT_URL_SCHEME}://{raw}"
    try:
        parts = urlsplit(raw)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES or "@" in parts.netloc or not _valid_host(parts.hostname):
        return None
    url = urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))
    return url if len(url) <= URL_MAX_LEN else None
