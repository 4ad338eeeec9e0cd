"""What someone holding only the database file can do to tie a reference answer to a Telegram account.

`recover_respondents` is the attack: every respondent key stored beside a partner id (reference_answers,
reference_links) is tested against every candidate Telegram id — every integer found anywhere in the file, in a
cell or inside a text, plus any the caller adds (the true one) — under every formula that comes to mind: bare
sha256 / sha1 / md5 / sha512 / blake2b of "<partner>:<id>", "<id>:<partner>", "<id>" (and those hex digests
hashed once more, as the bot's own formula does), salted at either end or keyed (HMAC-SHA256/SHA1/MD5) with every
string and blob cell of the database (as it is, and hex-decoded where it is hex). Whatever comes after a
`prefix:` in a stored key is compared too. It only reads the file (a copy of it, like someone who took it).

Used by tests/unit/test_respondents.py (the attack succeeds against the old formulas, so it can fail) and
tests/e2e/test_references.py (against a database the real bot wrote, it finds nobody).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path

DIGESTS = ("sha256", "sha1", "md5", "sha512", "blake2b")
HMAC_DIGESTS = ("sha256", "sha1", "md5")
NUMBER = re.compile(r"-?\d{4,20}")
MAX_SECRET_CELL = 4096  # longer texts are comments and payloads, not keys
KEYED_COLUMNS = (("reference_answers", "respondent_key"), ("reference_links", "opened_by_key"))


def _cells(path: Path) -> tuple[set[int], set[bytes]]:
    """Every integer (cells and numbers inside texts) and every string/blob cell of every table."""
    numbers: set[int] = set()
    texts: set[bytes] = set()
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "stolen.db"
        shutil.copy(path, copy)
        for suffix in ("-wal", "-shm"):
            if Path(f"{path}{suffix}").exists():
                shutil.copy(f"{path}{suffix}", f"{copy}{suffix}")
        conn = sqlite3.connect(copy)
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    for value in row:
                        if isinstance(value, int):
                            numbers.add(value)
                        elif isinstance(value, str):
                            numbers.update(int(n) for n in NUMBER.findall(value))
                            texts.add(value.encode())
                        elif isinstance(value, bytes):
                            texts.add(value)
        finally:
            conn.close()
    return numbers, texts


def _stored_keys(path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = []
        for table, column in KEYED_COLUMNS:
            found += conn.execute(
                f'SELECT partner_id, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
            ).fetchall()
        return found
    finally:
        conn.close()


def _secrets(texts: Iterable[bytes]) -> set[bytes]:
    found = set()
    for text in texts:
        if not text or len(text) > MAX_SECRET_CELL:
            continue
        found.add(text)
        stripped = text.strip()
        found.add(stripped)
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            found.add(bytes.fromhex(stripped.decode()))
    found.discard(b"")
    return found


def _messages(partner_id: int, user_id: int) -> list[bytes]:
    plain = [f"{partner_id}:{user_id}", f"{user_id}:{partner_id}", str(user_id), f"{partner_id}{user_id}"]
    messages = [m.encode() for m in plain]
    for m in list(messages):
        messages += [hashlib.new(name, m).hexdigest().encode() for name in ("sha256", "sha1", "md5")]
    return messages


def _comparable(stored: str) -> set[str]:
    values = {stored.lower()}
    if ":" in stored:
        values.add(stored.rsplit(":", 1)[1].lower())
    return values


def recover_respondents(path: Path, extra_candidates: Iterable[int] = (), extra_secrets: Iterable[bytes] = ()) -> dict[
    str, int
]:
    """Stored respondent key → the Telegram id it was made from, for every key the attack can break."""
    numbers, texts = _cells(path)
    candidates = {n for n in numbers | set(extra_candidates) if n > 0}
    secrets = _secrets(texts) | set(extra_secrets)
    stored = _stored_keys(path)
    wanted: dict[str, str] = {}
    for _partner, key in stored:
        for value in _comparable(key):
            wanted[value] = key
    broken: dict[str, int] = {}
    partners = {partner for partner, _key in stored}
    for partner in partners:
        for user_id in candidates:
            for message in _messages(partner, user_id):
                digests = [hashlib.new(name, message).hexdigest() for name in DIGESTS]
                for digest in digests:
                    if digest in wanted:
                        broken[wanted[digest]] = user_id
                for secret in secrets:
                    for name in HMAC_DIGESTS:
                        digest = hmac.digest(secret, message, name).hex()
                        if digest in wanted:
                            broken[wanted[digest]] = user_id
                    for salted in (secret + message, message + secret):
                        digest = hashlib.sha256(salted).hexdigest()
                        if digest in wanted:
                            broken[wanted[digest]] = user_id
    return broken
