"""Respondent keys: the key file, rekeying old rows, and the attack of tests/anonymity_attack.py.

The attack is shown to work — against the old unsalted formula, and against a keyed hash whose key sits in the
database — so its failing against the bot's real scheme (here and in tests/e2e/test_references.py) means something.
"""

from __future__ import annotations

import logging
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.backup import make_backup
from bot.config import load_settings
from bot.domain.partners import MarketCoverage
from bot.domain.references import DIMENSIONS, Again, Duration
from bot.storage.db import Database, connect
from bot.storage.personal_data import forget_if_unattached
from bot.storage.references import NewAnswer, ReferenceRepo, Submitted
from bot.storage.respondents import (
    PREFIX,
    KeyFileError,
    RespondentKeys,
    legacy_key,
    load_or_create,
    rekey_stored,
)
from tests.anonymity_attack import recover_respondents

NOW = datetime(2026, 11, 24, 9, 41, 17, tzinfo=UTC)
CREATOR = 5_123_456_789
MANAGER = 1_000_001
TOKEN = "123456789:" + "AAHdqTcvCH1vGWJx" + "fSeofSAs0K5PALDsaw1"


async def _partner_with_link(db: Database) -> tuple[int, int]:
    """A workspace, its manager, a partner and one reference link; the creator has a users row (they wrote)."""
    stamp = NOW.isoformat()
    for uid in (MANAGER, CREATOR):
        await db.execute("INSERT INTO users (id, first_seen, last_seen) VALUES (?, ?, ?)", (uid, stamp, stamp))
    ws = await db.execute("INSERT INTO workspaces (name, created_at) VALUES ('Acme', ?)", (stamp,))
    await db.execute("INSERT INTO memberships VALUES (?, ?, 'owner', ?)", (ws, MANAGER, stamp))
    pid = await db.execute(
        "INSERT INTO partners (workspace_id, name, name_key, kind, markets, created_by, created_at, updated_at) "
        "VALUES (?, 'Nord', 'nord', 'agency', 'both', ?, ?, ?)", (ws, MANAGER, stamp, stamp))
    link = await db.execute(
        "INSERT INTO reference_links (token_hash, partner_id, created_by, created_at, expires_at) "
        "VALUES ('h', ?, ?, ?, '2026-12-08T09:00:00+00:00')", (pid, MANAGER, stamp))
    return pid, link


async def _answer_with(db: Database, pid: int, key: str) -> None:
    """An answer as the old code stored it: precise moments, the key given."""
    stamp = NOW.isoformat()
    await db.execute(
        "UPDATE reference_links SET opened_at = ?, opened_by_key = ?, answered_at = ?", (stamp, key, stamp)
    )
    await db.execute(
        "INSERT INTO reference_answers (partner_id, link_hash, respondent_key, worked_months, worked_range, market, "
        "consistency, respect, reliability, growth, again, locale, started_at, finished_at) "
        "VALUES (?, 'h', ?, 8, '6to12', 'ru', 5, 4, 5, 4, 'yes', 'ru', ?, ?)", (pid, key, stamp, stamp))


async def test_the_attack_recovers_the_old_unsalted_key(tmp_path: Path) -> None:
    db = await connect(tmp_path / "most.db")
    try:
        pid, _link = await _partner_with_link(db)
        await _answer_with(db, pid, legacy_key(pid, CREATOR))
    finally:
        await db.close()
    broken = recover_respondents(tmp_path / "most.db")
    assert broken == {legacy_key(pid, CREATOR): CREATOR}  # the answer and the opened link both say who


async def test_the_attack_recovers_a_keyed_hash_whose_key_is_in_the_database(tmp_path: Path) -> None:
    keys = RespondentKeys.generate()
    db = await connect(tmp_path / "most.db")
    try:
        pid, _link = await _partner_with_link(db)
        await _answer_with(db, pid, keys.of(pid, CREATOR))
        await db.execute("INSERT INTO meta (name, value) VALUES ('oops', ?)", (keys.secret.hex(),))
    finally:
        await db.close()
    assert recover_respondents(tmp_path / "most.db") == {keys.of(pid, CREATOR): CREATOR}


async def test_with_the_key_file_outside_the_database_nobody_is_recovered(tmp_path: Path) -> None:
    keys = load_or_create(tmp_path / "most.key")
    db = await connect(tmp_path / "most.db")
    try:
        pid, _link = await _partner_with_link(db)
        await _answer_with(db, pid, keys.of(pid, CREATOR))
        await rekey_stored(db, keys)
    finally:
        await db.close()
    assert recover_respondents(tmp_path / "most.db", extra_candidates=[CREATOR], extra_secrets=[TOKEN.encode()]) == {}


def test_the_key_file_is_made_once_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "most.key"
    keys = load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create(path) == keys  # the same secret on the next start
    assert len(path.read_text().strip()) == 64 and list(path.parent.iterdir()) == [path]  # no partial left
    assert keys.secret.hex() not in repr(keys)

    path.write_text("not a key\n")
    with pytest.raises(KeyFileError, match="not a readable key file"):
        load_or_create(path)
    assert path.read_text() == "not a key\n"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(KeyFileError, match="cannot be created"):
        load_or_create(blocker / "most.key")
    path.write_text("ab" * 16 + "\n")
    with pytest.raises(KeyFileError, match="holds 16 bytes"):
        load_or_create(path)


def test_the_key_file_sits_beside_the_database_unless_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RESPONDENT_KEY_PATH", raising=False)
    assert load_settings(bot_token=TOKEN).respondent_key_file() == Path("data/most.key")
    assert load_settings(bot_token=TOKEN, database_path="/srv/most/bot.db").respondent_key_file() == Path(
        "/srv/most/bot.key"
    )
    monkeypatch.setenv("RESPONDENT_KEY_PATH", "")  # as .env.example leaves it
    assert load_settings(bot_token=TOKEN).respondent_key_file() == Path("data/most.key")
    monkeypatch.setenv("RESPONDENT_KEY_PATH", "/etc/most/respondents.key")
    assert load_settings(bot_token=TOKEN).respondent_key_file() == Path("/etc/most/respondents.key")


async def test_old_rows_are_rekeyed_once_and_still_refuse_a_second_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keys = load_or_create(tmp_path / "most.key")
    db = await connect(tmp_path / "most.db")
    try:
        pid, _link = await _partner_with_link(db)
        await _answer_with(db, pid, legacy_key(pid, CREATOR))
        first = await rekey_stored(db, keys)
        assert (first.rows, first.moments, first.new_secret) == (2, 8, False)  # 4 reference moments, 2 users
        stored = await db.fetchone("SELECT respondent_key, started_at, finished_at FROM reference_answers")
        assert tuple(stored) == (keys.of(pid, CREATOR), "2026-11-24", "2026-11-24")
        assert stored[0].startswith(PREFIX) and legacy_key(pid, CREATOR) not in stored[0]
        link = await db.fetchone("SELECT opened_by_key, opened_at, answered_at FROM reference_links")
        assert tuple(link) == (keys.of(pid, CREATOR), "2026-11-24", "2026-11-24")
        seen = await db.fetchone("SELECT first_seen, last_seen FROM users WHERE id = ?", (CREATOR,))
        assert tuple(seen) == ("2026-11-24", "2026-11-24")
        again = await rekey_stored(db, keys)
        assert (again.rows, again.moments, again.new_secret) == (0, 0, False)
        assert await db.fetchval("SELECT respondent_key FROM reference_answers") == keys.of(pid, CREATOR)

        references = ReferenceRepo(db)
        assert await references.has_answered(pid, keys.of(pid, CREATOR))  # one answer per account still holds
        assert not await references.has_answered(pid, keys.of(pid, CREATOR + 1))

        caplog.set_level(logging.WARNING)
        lost = await rekey_stored(db, RespondentKeys.generate())  # restored without its key file
        assert lost.new_secret and "not the one this database's reference answers were made with" in caplog.text
    finally:
        await db.close()


async def test_a_new_answer_is_keyed_and_its_moments_are_days(tmp_path: Path) -> None:
    keys = RespondentKeys.generate()
    db = await connect(tmp_path / "most.db")
    try:
        pid, link_id = await _partner_with_link(db)
        references = ReferenceRepo(db)
        key = keys.of(pid, CREATOR)
        assert await references.open(link_id, key, NOW)
        answer = NewAnswer(
            partner_id=pid, link_hash="h", respondent_key=key, duration=Duration.FROM_6, months=8,
            market=MarketCoverage.RU,
            ratings=dict.fromkeys(DIMENSIONS, 4), comments={}, again=Again.YES, anything_else=None, locale="en",
            started_at=NOW, finished_at=NOW.replace(second=29),
        )
        assert await references.submit(answer) is Submitted.SAVED
        row = await db.fetchone("SELECT respondent_key, started_at, finished_at, too_fast FROM reference_answers")
        assert tuple(row) == (key, "2026-11-24", "2026-11-24", 1)
        link = await db.fetchone("SELECT opened_at, answered_at FROM reference_links")
        assert tuple(link) == ("2026-11-24", "2026-11-24")
        [stored] = await references.answers(1, pid)
        assert stored.reference.too_fast and stored.finished_at == datetime(2026, 11, 24, tzinfo=UTC)
    finally:
        await db.close()


async def test_a_backup_holds_no_key(tmp_path: Path) -> None:
    keys = load_or_create(tmp_path / "data" / "most.key")
    db = await connect(tmp_path / "data" / "most.db")
    try:
        pid, _link = await _partner_with_link(db)
        await _answer_with(db, pid, legacy_key(pid, CREATOR))
        await rekey_stored(db, keys)
        backup = make_backup(tmp_path / "data" / "most.db", tmp_path / "backups", keep=3, now=NOW)
    finally:
        await db.close()
    raw = backup.read_bytes()
    assert keys.secret not in raw and keys.secret.hex().encode() not in raw
    assert legacy_key(pid, CREATOR).encode() not in raw  # the old value is gone, not left in free space
    assert [p.name for p in (tmp_path / "backups").iterdir()] == [backup.name]
    assert recover_respondents(backup, extra_candidates=[CREATOR]) == {}


async def test_only_a_profile_nothing_refers_to_is_forgotten(tmp_path: Path) -> None:
    db = await connect(tmp_path / "most.db")
    try:
        pid, _link = await _partner_with_link(db)
        await _answer_with(db, pid, RespondentKeys.generate().of(pid, CREATOR))
        assert not await forget_if_unattached(db, MANAGER)  # a member, the author of the partner and the link
        await db.execute(
            "INSERT INTO checkin_people (chat_id, user_id, name, first_seen) VALUES (-100, ?, 'Ann', ?)",
            (CREATOR, NOW.isoformat()),
        )
        assert not await forget_if_unattached(db, CREATOR)  # also answers a group's check-ins
        await db.execute("DELETE FROM checkin_people")
        assert await forget_if_unattached(db, CREATOR)
        assert [r[0] for r in await db.fetchall("SELECT id FROM users")] == [MANAGER]
        assert await db.fetchval("SELECT COUNT(*) FROM reference_answers") == 1  # the answer stays, about nobody
    finally:
        await db.close()
