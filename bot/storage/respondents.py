"""Who answered a reference, as far as "one answer per account per partner" needs: a keyed hash, never the id.

The respondent key of a creator is HMAC-SHA256(secret, sha256("<partner id>:<telegram user id>")), written as
`h1:<hex>`. The secret is 32 random bytes in a key file beside the database (RESPONDENT_KEY_PATH, by default
`<database>.key`), never in the database itself, so whoever holds only the database file (or a backup of it)
cannot test candidate Telegram ids against the stored keys: without the secret every candidate looks the same.
The bot, which has the secret and sees the sender's id, can still refuse a second answer from the same account
and find a person's own answers for /mydata and /deletemydata.

Until version 011 the key was the bare sha256 (`legacy_key`), which anyone can recompute for every plausible id in
well under a second. `rekey_stored` turns those into keyed ones at start-up: HMAC over the old value is exactly
the new formula, so old answers keep counting as that account's.

Losing the key file costs only this: answers stored before the loss can no longer be matched to their creators
(a duplicate from one of them is not refused, /mydata does not list them, /deletemydata cannot unlink them — they
already name nobody). Nothing else depends on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.files import private_dir
from bot.storage.db import Database

log = logging.getLogger(__name__)

SECRET_BYTES = 32
PREFIX = "h1:"  # keyed with the secret, scheme 1; "erased:" values (from /deletemydata) are random
ERASED_PREFIX = "erased:"
SCHEME = "hmac-sha256:1"
# (table, column) holding respondent keys; every one is rekeyed and searched the same way.
KEYED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("reference_answers", "respondent_key"),
    ("reference_links", "opened_by_key"),
)
# Moments kept to the day (UTC): those a creator causes, so they cannot be lined up with the moment an account
# wrote to the bot, and those of every account (users), so they cannot be lined up with a log line: (table, column).
COARSE_MOMENTS: tuple[tuple[str, str], ...] = (
    ("reference_links", "opened_at"),
    ("reference_links", "answered_at"),
    ("reference_answers", "started_at"),
    ("reference_answers", "finished_at"),
    ("users", "first_seen"),
    ("users", "last_seen"),
)
META_SCHEME = "respondent_keys"
META_FINGERPRINT = "respondent_key_fingerprint"


class KeyFileError(Exception):
    """The key file cannot be used; the message is one line for a person. `misconfigured`: a file that is there but
    holds no key (a restart cannot fix it), rather than one that could not be created (a folder not mounted yet)."""

    def __init__(self, message: str, *, misconfigured: bool = True) -> None:
        super().__init__(message)
        self.misconfigured = misconfigured


def legacy_key(partner_id: int, user_id: int) -> str:
    """The unsalted formula of migration 005; only an input to the keyed one now."""
    return hashlib.sha256(f"{partner_id}:{user_id}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RespondentKeys:
    """The keyed pseudonym of a (partner, Telegram account) pair."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != SECRET_BYTES:
            raise ValueError(f"the respondent secret must be {SECRET_BYTES} bytes")

    def __repr__(self) -> str:  # never print the secret
        return "RespondentKeys(<secret>)"

    def of(self, partner_id: int, user_id: int) -> str:
        return self.rekey(legacy_key(partner_id, user_id))

    def rekey(self, legacy: str) -> str:
        return PREFIX + hmac.new(self.secret, legacy.encode(), hashlib.sha256).hexdigest()

    @property
    def fingerprint(self) -> str:
        """Tells two secrets apart (a restored database with another key file) without revealing either."""
        return hmac.new(self.secret, b"most respondent key fingerprint", hashlib.sha256).hexdigest()[:16]

    @classmethod
    def generate(cls) -> RespondentKeys:
        return cls(secrets.token_bytes(SECRET_BYTES))


def is_legacy(value: str | None) -> bool:
    return value is not None and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


# ---- the key file -------------------------------------------------------------------------------------------


def load_or_create(path: Path) -> RespondentKeys:
    """Read the key file, or create it (0600, its folder 0700 when created here) on first start.

    A file that exists but is not a key is never overwritten: start-up stops with KeyFileError instead."""
    path = Path(path)
    if not path.exists():
        try:
            _create(path)
        except OSError as error:
            raise KeyFileError(
                f"RESPONDENT_KEY_PATH {path} does not exist and cannot be created ({error.strerror or error}); "
                "create it by hand (README, Backups and restore) or point RESPONDENT_KEY_PATH at a writable place",
                misconfigured=False,
            ) from None
    try:
        text = path.read_text(encoding="ascii").strip()
        secret = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise KeyFileError(f"RESPONDENT_KEY_PATH {path} is not a readable key file ({type(error).__name__})") from None
    if len(secret) != SECRET_BYTES:
        raise KeyFileError(
            f"RESPONDENT_KEY_PATH {path} holds {len(secret)} bytes, not {SECRET_BYTES}: restore the right file"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("the respondent key file %s is readable by others (mode %o); chmod 600 it", path, mode)
    return RespondentKeys(secret)


def _create(path: Path) -> None:
    """Write a fresh secret atomically: a second process starting at once reads the first one's file."""
    folder = private_dir(path.parent)
    partial = folder / f".{path.name}.{secrets.token_hex(4)}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_bytes(SECRET_BYTES).hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # someone else won: theirs is the key
            os.link(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    log.info("created the respondent key file %s: back it up beside (not inside) the database backups", path)


# ---- start-up: old rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rekeyed:
    rows: int  # respondent keys turned from the bare sha256 into keyed ones
    moments: int  # moments cut to the day
    new_secret: bool  # the key file is not the one the stored keys were made with


def day_of(moment: datetime | str) -> str:
    """A moment as stored where the second would say too much: the UTC date, YYYY-MM-DD."""
    if isinstance(moment, datetime):
        return (moment.astimezone(UTC) if moment.tzinfo is not None else moment).date().isoformat()
    return moment[:10]


async def rekey_stored(db: Database, keys: RespondentKeys) -> Rekeyed:
    """Once, after the SQL migrations: legacy respondent keys become keyed, COARSE_MOMENTS become days, all in one
    transaction, and the database remembers it did (META_SCHEME). Safe to run on every start."""
    async with db.transaction() as tx:
        scheme = await tx.fetchval("SELECT value FROM meta WHERE name = ?", (META_SCHEME,))
        known = await tx.fetchval("SELECT value FROM meta WHERE name = ?", (META_FINGERPRINT,))
        rows = moments = 0
        if scheme != SCHEME:
            for table, column in KEYED_COLUMNS:
                found = await tx.fetchall(f'SELECT rowid, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')
                for rowid, value in found:
                    if is_legacy(value):
                        rows += await tx.execute_rowcount(
                            f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', (keys.rekey(value), rowid)
                        )
            for table, column in COARSE_MOMENTS:
                moments += await tx.execute_rowcount(
                    f'UPDATE "{table}" SET "{column}" = substr("{column}", 1, 10) '
                    f'WHERE "{column}" IS NOT NULL AND length("{column}") > 10'
                )
            await tx.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (META_SCHEME, SCHEME),
            )
        new_secret = known is not None and known != keys.fingerprint
        if known != keys.fingerprint:
            await tx.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (META_FINGERPRINT, keys.fingerprint),
            )
    if rows or moments:
        log.info("references: %d respondent keys rekeyed with the key file, %d moments cut to the day", rows, moments)
    if new_secret:
        log.warning(
            "the respondent key file is not the one this database's reference answers were made with (a database "
            "restored without its key file?): earlier answers can no longer be matched to their creators, so a "
            "second answer from one of them is not refused and /mydata does not list them; nothing else is affected"
        )
    return Rekeyed(rows, moments, new_secret)
