"""Workspaces and who belongs to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.storage.db import Database


class Role(StrEnum):
    OWNER = "owner"
    MEMBER = "member"


@dataclass(frozen=True, slots=True)
class Workspace:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    role: Role
    joined_at: str


class WorkspaceRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_for_owner(self, name: str, owner_id: int, now: datetime) -> Workspace:
        """A new workspace, its owner's membership and the owner's current workspace, all at once."""
        stamp = now.isoformat()
        async with self._db.transaction() as tx:
            workspace_id = await tx.execute(
                "INSERT INTO workspaces (name, created_at) VALUES (?, ?)", (name, stamp)
            )
            await tx.execute(
                "INSERT INTO memberships (workspace_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)",
                (workspace_id, owner_id, Role.OWNER.value, stamp),
            )
            await tx.execute(
                "UPDATE users SET current_workspace_id = ? WHERE id = ?", (workspace_id, owner_id)
            )
        return Workspace(workspace_id, name)

    async def current_for(self, user_id: int) -> Workspace | None:
        """The workspace the user works in, only while they are still a member of it."""
        row = await self._db.fetchone(
            "SELECT w.id, w.name FROM users u "
            "JOIN memberships m ON m.workspace_id = u.current_workspace_id AND m.user_id = u.id "
            "JOIN workspaces w ON w.id = m.workspace_id WHERE u.id = ?",
            (user_id,),
        )
        return None if row is None else Workspace(row["id"], row["name"])

    async def get(self, workspace_id: int) -> Workspace | None:
        row = await self._db.fetchone("SELECT id, name FROM workspaces WHERE id = ?", (workspace_id,))
        return None if row is None else Workspace(row["id"], row["name"])

    async def role_of(self, workspace_id: int, user_id: int) -> Role | None:
        role = await self._db.fetchval(
            "SELECT role FROM memberships WHERE workspace_id = ? AND user_id = ?", (workspace_id, user_id)
        )
        return None if role is None else Role(role)

    async def members(self, workspace_id: int) -> list[Member]:
        rows = await self._db.fetchall(
            "SELECT user_id, role, joined_at FROM memberships WHERE workspace_id = ? "
            "ORDER BY role = 'owner' DESC, joined_at",
            (workspace_id,),
        )
        return [Member(r["user_id"], Role(r["role"]), r["joined_at"]) for r in rows]

    async def owner_id(self, workspace_id: int) -> int | None:
        """The workspace's owner: the one who answers when another team wants its group."""
        value = await self._db.fetchval(
            "SELECT user_id FROM memberships WHERE workspace_id = ? AND role = 'owner' ORDER BY joined_at LIMIT 1",
            (workspace_id,),
        )
        return None if value is None else int(value)
