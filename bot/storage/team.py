"""The people of a workspace as /team shows them, and taking someone out of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.storage.db import Database
from bot.storage.workspaces import Role

DISPLAY_NAME_MAX = 64


@dataclass(frozen=True, slots=True)
class Teammate:
    user_id: int
    role: Role
    joined_at: datetime
    name: str | None  # None until the person joined or opened /team since names were recorded


class TeamRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_name(self, user_id: int, name: str) -> None:
        """Remember the name Telegram shows for this person, so teammates can tell who is who."""
        name = " ".join(name.split())[:DISPLAY_NAME_MAX]
        if name:
            await self._db.execute("UPDATE users SET display_name = ? WHERE id = ?", (name, user_id))

    async def members(self, workspace_id: int) -> list[Teammate]:
        """Owners first, then everyone else in the order they joined."""
        rows = await self._db.fetchall(
            "SELECT m.user_id, m.role, m.joined_at, u.display_name FROM memberships m "
            "JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ? "
            "ORDER BY m.role = 'owner' DESC, m.joined_at, m.user_id",
            (workspace_id,),
        )
        return [
            Teammate(r["user_id"], Role(r["role"]), datetime.fromisoformat(r["joined_at"]), r["display_name"])
            for r in rows
        ]

    async def member(self, workspace_id: int, user_id: int) -> Teammate | None:
        return next((m for m in await self.members(workspace_id) if m.user_id == user_id), None)

    async def remove_member(self, workspace_id: int, user_id: int) -> bool:
        """Take the person out of the workspace; never the last owner. False when nothing was removed."""
        async with self._db.transaction() as tx:
            role = await tx.fetchval(
                "SELECT role FROM memberships WHERE workspace_id = ? AND user_id = ?", (workspace_id, user_id)
            )
            if role is None:
                return False
            if role == Role.OWNER.value:
                owners = await tx.fetchval(
                    "SELECT COUNT(*) FROM memberships WHERE workspace_id = ? AND role = 'owner'", (workspace_id,)
                )
                if owners <= 1:
                    return False
            await tx.execute(
                "DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?", (workspace_id, user_id)
            )
            await tx.execute(
                "UPDATE users SET current_workspace_id = NULL WHERE id = ? AND current_workspace_id = ?",
                (user_id, workspace_id),
            )
        return True
