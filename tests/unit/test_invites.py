"""Invite links and team membership in storage: token shape, hashing, expiry, revocation, atomic joins."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage.db import Database, Session, connect
from bot.storage.invites import INVITE_TTL, START_PREFIX, InviteRepo, Redeemed, hash_token
from bot.storage.team import TeamRepo
from bot.storage.users import UserRepo
from bot.storage.workspaces import Role, WorkspaceRepo

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
OWNER, BOB, CARL = 10, 11, 12
START_PARAMETER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await connect(tmp_path / "most.db")
    users = UserRepo(database)
    for user_id in (OWNER, BOB, CARL):
        await users.touch(user_id, "en", NOW)
    yield database
    await database.close()


async def _workspace(db: Database, name: str = "Acme", owner: int = OWNER) -> int:
    return (await WorkspaceRepo(db).create_for_owner(name, owner, NOW)).id


async def test_token_is_long_random_and_fits_a_start_parameter(db: Database) -> None:
    ws = await _workspace(db)
    invites = InviteRepo(db)
    tokens = {(await invites.create(ws, OWNER, NOW))[0] for _ in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        assert len(token) >= 22  # at least 128 bits in base64url
        assert START_PARAMETER.match(START_PREFIX + token)
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,60}", token)


async def test_only_the_hash_of_a_token_is_stored(db: Database) -> None:
    ws = await _workspace(db)
    token, expires = await InviteRepo(db).create(ws, OWNER, NOW)
    assert expires == NOW + INVITE_TTL == NOW + timedelta(days=7)
    rows = await db.fetchall("SELECT * FROM invites")
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hash_token(token) and len(rows[0]["token_hash"]) == 64
    assert all(token not in str(value) for row in rows for value in tuple(row))


async def test_redeem_joins_switches_workspace_and_recognises_members(db: Database) -> None:
    ws = await _workspace(db)
    await _workspace(db, "Bob's own", owner=BOB)
    invites, workspaces = InviteRepo(db), WorkspaceRepo(db)
    token, _ = await invites.create(ws, OWNER, NOW)

    result = await invites.redeem(token, BOB, NOW + timedelta(hours=1))
    assert (result.status, result.workspace_id) == (Redeemed.JOINED, ws)
    assert await workspaces.role_of(ws, BOB) is Role.MEMBER
    assert (await workspaces.current_for(BOB)).id == ws  # type: ignore[union-attr]

    assert (await invites.redeem(token, BOB, NOW)).status is Redeemed.ALREADY_MEMBER
    assert (await invites.redeem(token, OWNER, NOW)).status is Redeemed.ALREADY_MEMBER
    assert await workspaces.role_of(ws, OWNER) is Role.OWNER  # the owner is never demoted
    assert (await invites.redeem(token, CARL, NOW)).status is Redeemed.JOINED  # reusable until it expires


async def test_expired_revoked_and_unknown_tokens_change_nothing(db: Database) -> None:
    ws = await _workspace(db)
    invites = InviteRepo(db)
    expiring, _ = await invites.create(ws, OWNER, NOW)
    revoked, _ = await invites.create(ws, OWNER, NOW)
    kept, _ = await invites.create(ws, OWNER, NOW)
    live = await invites.active(ws, NOW)
    assert len(live) == 3
    hashes = {invite.id: await _hash_of(db, invite.id) for invite in live}
    revoked_id = next(invite_id for invite_id, digest in hashes.items() if digest == hash_token(revoked))
    assert await invites.revoke(ws, revoked_id, NOW)
    assert not await invites.revoke(ws, revoked_id, NOW)  # already revoked
    assert not await invites.revoke(ws + 1, live[0].id, NOW)  # another workspace's link

    later = NOW + INVITE_TTL
    assert (await invites.redeem(expiring, BOB, later)).status is Redeemed.EXPIRED
    assert (await invites.redeem(revoked, BOB, NOW)).status is Redeemed.REVOKED
    assert (await invites.redeem("x" * 32, BOB, NOW)).status is Redeemed.UNKNOWN
    assert (await invites.redeem(kept[:-1], BOB, NOW)).status is Redeemed.UNKNOWN
    assert await db.fetchval("SELECT COUNT(*) FROM memberships WHERE user_id = ?", (BOB,)) == 0
    assert await db.fetchval("SELECT current_workspace_id FROM users WHERE id = ?", (BOB,)) is None
    assert await invites.active(ws, later) == []


async def test_revoke_all_stops_every_live_link(db: Database) -> None:
    ws, other = await _workspace(db), await _workspace(db, "Other", owner=CARL)
    invites = InviteRepo(db)
    first, _ = await invites.create(ws, OWNER, NOW)
    second, _ = await invites.create(ws, OWNER, NOW)
    elsewhere, _ = await invites.create(other, CARL, NOW)
    assert await invites.revoke_all(ws, NOW) == 2
    assert await invites.revoke_all(ws, NOW) == 0
    for token in (first, second):
        assert (await invites.redeem(token, BOB, NOW)).status is Redeemed.REVOKED
    assert (await invites.redeem(elsewhere, BOB, NOW)).status is Redeemed.JOINED


async def test_a_join_is_one_transaction(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """If switching the current workspace fails, the membership is rolled back with it."""
    ws = await _workspace(db)
    invites = InviteRepo(db)
    token, _ = await invites.create(ws, OWNER, NOW)
    original = Session.execute

    async def failing(self: Session, sql: str, params=()) -> int:  # type: ignore[no-untyped-def]
        if sql.startswith("UPDATE users SET current_workspace_id"):
            raise RuntimeError("disk on fire")
        return await original(self, sql, params)

    monkeypatch.setattr(Session, "execute", failing)
    with pytest.raises(RuntimeError):
        await invites.redeem(token, BOB, NOW)
    monkeypatch.undo()
    assert await db.fetchval("SELECT COUNT(*) FROM memberships WHERE user_id = ?", (BOB,)) == 0
    assert (await invites.redeem(token, BOB, NOW)).status is Redeemed.JOINED


async def test_remove_member_never_removes_the_last_owner(db: Database) -> None:
    ws = await _workspace(db)
    team, invites, workspaces = TeamRepo(db), InviteRepo(db), WorkspaceRepo(db)
    token, _ = await invites.create(ws, OWNER, NOW)
    await invites.redeem(token, BOB, NOW)
    await team.record_name(BOB, "  Bob   <b>Builder</b> ")
    names = {m.user_id: m.name for m in await team.members(ws)}
    assert names == {OWNER: None, BOB: "Bob <b>Builder</b>"}

    assert not await team.remove_member(ws, OWNER)
    assert not await team.remove_member(ws, CARL)  # not a member
    assert await team.remove_member(ws, BOB)
    assert await workspaces.role_of(ws, BOB) is None
    assert await db.fetchval("SELECT current_workspace_id FROM users WHERE id = ?", (BOB,)) is None
    assert await workspaces.current_for(OWNER) is not None
    assert [m.user_id for m in await team.members(ws)] == [OWNER]


async def _hash_of(db: Database, invite_id: int) -> str:
    return await db.fetchval("SELECT token_hash FROM invites WHERE rowid = ?", (invite_id,))


async def test_joins_are_recorded_per_link_and_a_removed_member_is_told_so(db: Database) -> None:
    ws = await _workspace(db)
    invites, team = InviteRepo(db), TeamRepo(db)
    await team.record_name(OWNER, "Olga")
    await team.record_name(BOB, "Bob")
    first, _ = await invites.create(ws, OWNER, NOW)
    second, _ = await invites.create(ws, OWNER, NOW + timedelta(minutes=1))
    joined = await invites.redeem(first, BOB, NOW)
    assert (joined.created_by, joined.created_at) == ("Olga", NOW)
    await invites.redeem(first, BOB, NOW)  # opening it again records nothing new
    await invites.redeem(second, CARL, NOW)
    live = {invite.created_at: invite for invite in await invites.active(ws, NOW)}
    assert live[NOW].creator_name == "Olga" and live[NOW].joined == ("Bob",)
    assert live[NOW + timedelta(minutes=1)].joined == (None,)  # Carl's name was never recorded

    assert await team.remove_member(ws, BOB)
    # Still live (the repository alone does not revoke; the handler does, in the same unit of work) — but Bob's
    # own link no longer lets him in, while another live link would.
    assert (await invites.redeem(first, BOB, NOW)).status is Redeemed.REMOVED
    assert await db.fetchval("SELECT COUNT(*) FROM memberships WHERE user_id = ?", (BOB,)) == 0
    assert (await invites.redeem(second, BOB, NOW)).status is Redeemed.JOINED
    assert (await invites.redeem(first, CARL, NOW)).status is Redeemed.ALREADY_MEMBER
