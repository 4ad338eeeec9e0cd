"""/mydata and /deletemydata: everything stored about one person, and erasing it — found from the schema.

Storage, not a report: every step is a statement on the schema, so it lives beside the other SQL (issue 15). The
handlers call `collect`, `plan_deletion`, `erase_user` and `forget_if_unattached` and get data classes back.

Generic on purpose, so tables other features add later are covered without touching this file: every column
with a foreign key to users(id) is found with PRAGMA foreign_key_list and is nulled (nullable: the record
stays for the team, without its author) or its row deleted (NOT NULL: memberships and the like).

Telegram user ids stored WITHOUT a foreign key are listed in UNLINKED below and handled explicitly; an
integer column named like a person (`reviewer_id`, `sent_by`, …) that is in neither list is still cleared by
the final sweep and logged, so whoever added it gives it an explicit rule. Pseudonyms derived from the id
(the reference respondent key, a hash of partner id and user id) are replaced by random ones. FSM rows whose
key names the user are deleted. received_updates keeps a raw update only until it is handled (or set aside).

The respondent keys are keyed hashes (bot/storage/respondents.py): only the bot, holding the key file, can
compute a person's own and so find them; every function here that needs them takes the RespondentKeys.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.storage.db import Database
from bot.storage.respondents import KEYED_COLUMNS, RespondentKeys

log = logging.getLogger(__name__)

USERS = "users"
MEMBERSHIPS = "memberships"
FSM_TABLE = "fsm_states"
OWNER = "owner"


class Treatment(StrEnum):
    DELETE = "delete"  # the row is about the person: it goes
    ANONYMISE = "anonymise"  # the row is the team's record: it stays under a random id, without the name
    KEEP = "keep"  # a short-lived abuse guard: shown by /mydata, left to expire by itself (within the hour)


# Telegram user ids kept without a foreign key (check-in members may never have written to the bot in private,
# so they have no users row — migration 006). Each is handled explicitly:
UNLINKED: dict[tuple[str, str], Treatment] = {
    ("checkin_answers", "user_id"): Treatment.DELETE,  # their own words (shipped, next, blockers) and name
    ("checkin_people", "user_id"): Treatment.DELETE,  # the name a group showed, their /away dates
    # Who answered which closed round is the partner's communication-health record: kept, anonymised.
    ("checkin_round_members", "user_id"): Treatment.ANONYMISE,
    # Failed deep links of the last minutes and a lock-out (bot/deep_links.py): erasing them would let anyone
    # lift the limit on guessing links by deleting their data; the row is gone by itself within the hour.
    ("deep_link_attempts", "user_id"): Treatment.KEEP,
}
# Columns that hold a Telegram user's name next to an unlinked id; cleared when the row is anonymised.
UNLINKED_NAMES = {"checkin_round_members": "name"}
# Pseudonymous keys = HMAC(key file, "<partner id>:<user id>") (migrations 005, 011): replaced by random ones.
RESPONDENT_KEYS: tuple[tuple[str, str], ...] = KEYED_COLUMNS
ERASED_PREFIX = "erased:"
ANONYMOUS_NAME = "—"
# The sweep's idea of a column naming a person (a new table's `reviewer_id`, `sent_by`, …).
PERSON_COLUMN = re.compile(
    r"(^|_)(user|member|rater|manager|owner|creator|author|respondent|reviewer|assignee)(_id)?$|_by$"
)


class Reader(Protocol):
    async def fetchall(self, sql: str, params: Any = ()) -> list[Any]: ...
    async def fetchval(self, sql: str, params: Any = ()) -> Any: ...


@dataclass(frozen=True, slots=True)
class UserColumn:
    table: str
    column: str
    nullable: bool


async def tables(s: Reader) -> list[str]:
    rows = await s.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return sorted(r[0] for r in rows)


async def _columns(s: Reader, table: str) -> dict[str, bool]:
    """Column name → nullable."""
    return {r[1]: not r[3] for r in await s.fetchall(f'PRAGMA table_info("{table}")')}


async def _integer_columns(s: Reader, table: str) -> dict[str, bool]:
    """Columns that can hold an id (INTEGER affinity, or no declared type) → nullable."""
    return {
        r[1]: not r[3]
        for r in await s.fetchall(f'PRAGMA table_info("{table}")')
        if "INT" in (r[2] or "").upper() or not r[2]
    }


async def user_columns(s: Reader) -> list[UserColumn]:
    """Every column with a foreign key to users(id), in every table (the users table itself excluded)."""
    found = []
    for table in await tables(s):
        if table == USERS:
            continue
        nullable = await _columns(s, table)
        for fk in await s.fetchall(f'PRAGMA foreign_key_list("{table}")'):
            if fk[2] == USERS:
                found.append(UserColumn(table, fk[3], nullable[fk[3]]))
    return found


async def _unlinked(s: Reader) -> list[tuple[str, str, Treatment]]:
    present = set(await tables(s))
    return [(t, c, how) for (t, c), how in UNLINKED.items() if t in present and c in await _columns(s, t)]


def fsm_key_names(key: str, user_id: int) -> bool:
    """aiogram keys look like fsm:<bot>:<chat>:<user>[:<thread>]:<destiny>; any part equal to the id counts."""
    return str(user_id) in key.split(":")


def _row(row: Any) -> dict[str, Any]:
    return {key: row[key] for key in row.keys()}  # noqa: SIM118 — sqlite rows are not mappings


# ---- what a deletion would do ------------------------------------------------------------------------------


class WorkspaceFate(StrEnum):
    LEAVE = "leave"  # a member, or one of several owners: the team goes on
    HAND_OVER = "hand_over"  # the only owner: the earliest-joined member becomes the owner
    DELETE = "delete"  # nobody else is in it: deleted, after a second confirmation


@dataclass(frozen=True, slots=True)
class WorkspacePlan:
    id: int
    name: str
    fate: WorkspaceFate
    heir_id: int | None = None
    heir_name: str | None = None
    partners: int = 0


@dataclass(frozen=True)
class DeletionPlan:
    workspaces: tuple[WorkspacePlan, ...] = ()
    checkin_answers: int = 0
    reference_answers: int = 0
    kept_rows: int = 0  # rows under Treatment.KEEP: not erased, they expire by themselves

    @property
    def to_delete(self) -> tuple[WorkspacePlan, ...]:
        return tuple(w for w in self.workspaces if w.fate is WorkspaceFate.DELETE)


async def _workspace_plans(s: Reader, user_id: int) -> tuple[WorkspacePlan, ...]:
    plans = []
    for m in await s.fetchall(
        "SELECT w.id, w.name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id "
        "WHERE m.user_id = ? ORDER BY m.joined_at, w.id",
        (user_id,),
    ):
        workspace_id, name, role = m[0], m[1], m[2]
        other_owners = await s.fetchval(
            "SELECT COUNT(*) FROM memberships WHERE workspace_id = ? AND role = ? AND user_id != ?",
            (workspace_id, OWNER, user_id),
        )
        if role != OWNER or other_owners:
            plans.append(WorkspacePlan(workspace_id, name, WorkspaceFate.LEAVE))
            continue
        heirs = await s.fetchall(
            "SELECT m.user_id, u.display_name FROM memberships m LEFT JOIN users u ON u.id = m.user_id "
            "WHERE m.workspace_id = ? AND m.user_id != ? ORDER BY m.joined_at, m.user_id LIMIT 1",
            (workspace_id, user_id),
        )
        if heirs:
            plans.append(WorkspacePlan(workspace_id, name, WorkspaceFate.HAND_OVER, heirs[0][0], heirs[0][1]))
            continue
        partners = await s.fetchval("SELECT COUNT(*) FROM partners WHERE workspace_id = ?", (workspace_id,))
        plans.append(WorkspacePlan(workspace_id, name, WorkspaceFate.DELETE, partners=int(partners or 0)))
    return tuple(plans)


async def _respondent_matches(s: Reader, user_id: int, keys: RespondentKeys) -> list[tuple[str, str, int, str]]:
    """(table, column, partner id, key) for every stored pseudonym of this person."""
    present = set(await tables(s))
    matches = []
    for table, column in RESPONDENT_KEYS:
        if table not in present or column not in await _columns(s, table):
            continue
        partners = await s.fetchall(f'SELECT DISTINCT partner_id FROM "{table}" WHERE "{column}" IS NOT NULL')
        for (partner_id,) in partners:
            key = keys.of(partner_id, user_id)
            if await s.fetchval(f'SELECT COUNT(*) FROM "{table}" WHERE partner_id = ? AND "{column}" = ?',
                                (partner_id, key)):
                matches.append((table, column, partner_id, key))
    return matches


async def plan_deletion(db: Database, user_id: int, keys: RespondentKeys) -> DeletionPlan:
    async with db.session() as s:
        workspaces = await _workspace_plans(s, user_id)
        answers = 0
        if ("checkin_answers", "user_id") in {(t, c) for t, c, _how in await _unlinked(s)}:
            answers = await s.fetchval("SELECT COUNT(*) FROM checkin_answers WHERE user_id = ?", (user_id,))
        matches = await _respondent_matches(s, user_id, keys)
        references = sum(1 for table, _column, _pid, _key in matches if table == "reference_answers")
        kept = 0
        for table, column, how in await _unlinked(s):
            if how is Treatment.KEEP:
                kept += await s.fetchval(f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = ?', (user_id,))
    return DeletionPlan(workspaces, int(answers or 0), references, int(kept))


# ---- erasing ------------------------------------------------------------------------------------------------


@dataclass
class Erasure:
    handed_over: list[WorkspacePlan] = field(default_factory=list)
    deleted_workspaces: list[WorkspacePlan] = field(default_factory=list)
    stopped_schedules: list[int] = field(default_factory=list)  # check-in jobs to unschedule
    rows_deleted: int = 0
    rows_anonymised: int = 0
    swept: list[str] = field(default_factory=list)  # table.column the generic rules did not know


def _pseudo_id() -> int:
    """A negative stand-in: never a Telegram user id (those are positive), unique enough per round."""
    return -(secrets.randbelow(2**62) + 1)


async def erase_user(
    db: Database, user_id: int, keys: RespondentKeys, *, delete_workspaces: bool
) -> Erasure | None:
    """All or nothing. None (and nothing changed) when a workspace would be deleted without that consent."""
    result = Erasure()
    async with db.transaction() as s:
        plans = await _workspace_plans(s, user_id)
        if any(p.fate is WorkspaceFate.DELETE for p in plans) and not delete_workspaces:
            return None
        present = set(await tables(s))
        for plan in plans:
            if plan.fate is WorkspaceFate.HAND_OVER:
                await s.execute(
                    "UPDATE memberships SET role = ? WHERE workspace_id = ? AND user_id = ?",
                    (OWNER, plan.id, plan.heir_id),
                )
                result.handed_over.append(plan)
            elif plan.fate is WorkspaceFate.DELETE:
                if "checkin_schedules" in present:
                    rows = await s.fetchall("SELECT id FROM checkin_schedules WHERE workspace_id = ?", (plan.id,))
                    result.stopped_schedules.extend(r[0] for r in rows)
                await s.execute("DELETE FROM workspaces WHERE id = ?", (plan.id,))  # cascades to its records
                result.deleted_workspaces.append(plan)

        handled: set[tuple[str, str]] = set()
        for col in await user_columns(s):
            handled.add((col.table, col.column))
            if col.nullable:
                result.rows_anonymised += await s.execute_rowcount(
                    f'UPDATE "{col.table}" SET "{col.column}" = NULL WHERE "{col.column}" = ?', (user_id,)
                )
            else:
                result.rows_deleted += await s.execute_rowcount(
                    f'DELETE FROM "{col.table}" WHERE "{col.column}" = ?', (user_id,)
                )

        for table, column, how in await _unlinked(s):
            handled.add((table, column))
            if how is Treatment.KEEP:
                continue
            if how is Treatment.DELETE:
                result.rows_deleted += await s.execute_rowcount(
                    f'DELETE FROM "{table}" WHERE "{column}" = ?', (user_id,)
                )
                continue
            name = UNLINKED_NAMES.get(table)
            for (rowid,) in await s.fetchall(f'SELECT rowid FROM "{table}" WHERE "{column}" = ?', (user_id,)):
                assignment = f'"{column}" = ?' + (f', "{name}" = ?' if name else "")
                values = (_pseudo_id(), ANONYMOUS_NAME) if name else (_pseudo_id(),)
                result.rows_anonymised += await s.execute_rowcount(
                    f'UPDATE "{table}" SET {assignment} WHERE rowid = ?', (*values, rowid)
                )

        replacements: dict[int, str] = {}
        for table, column, partner_id, key in await _respondent_matches(s, user_id, keys):
            new_key = replacements.setdefault(partner_id, ERASED_PREFIX + secrets.token_hex(16))
            result.rows_anonymised += await s.execute_rowcount(
                f'UPDATE "{table}" SET "{column}" = ? WHERE partner_id = ? AND "{column}" = ?',
                (new_key, partner_id, key),
            )

        if FSM_TABLE in present:
            for (key,) in await s.fetchall(f"SELECT key FROM {FSM_TABLE}"):
                if fsm_key_names(key, user_id):
                    result.rows_deleted += await s.execute_rowcount(f"DELETE FROM {FSM_TABLE} WHERE key = ?", (key,))

        await _sweep(s, user_id, handled | {(t, c) for t, c in RESPONDENT_KEYS}, result)
        result.rows_deleted += await s.execute_rowcount(f"DELETE FROM {USERS} WHERE id = ?", (user_id,))
    return result


async def _sweep(s: Any, user_id: int, handled: set[tuple[str, str]], result: Erasure) -> None:
    """A person-like column no rule above knows (a table added later without a foreign key): cleared, logged."""
    for table in await tables(s):
        if table in (USERS, FSM_TABLE):
            continue
        for column, nullable in (await _integer_columns(s, table)).items():
            if (table, column) in handled or not PERSON_COLUMN.search(column):
                continue
            if not await s.fetchval(f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = ?', (user_id,)):
                continue
            log.warning("personal data in %s.%s has no explicit rule; cleared by the sweep", table, column)
            result.swept.append(f"{table}.{column}")
            if nullable:
                result.rows_anonymised += await s.execute_rowcount(
                    f'UPDATE "{table}" SET "{column}" = NULL WHERE "{column}" = ?', (user_id,)
                )
            else:
                result.rows_deleted += await s.execute_rowcount(
                    f'DELETE FROM "{table}" WHERE "{column}" = ?', (user_id,)
                )


# ---- a creator who just answered -----------------------------------------------------------------------------


async def forget_if_unattached(db: Database, user_id: int) -> bool:
    """Delete the users row of someone nothing else in the database refers to — a creator who has just sent a
    reference — so that no row says this account ever wrote to the bot, or on which day. Someone who is also a
    member, a check-in participant or the author of anything keeps their profile. True when it went."""
    async with db.transaction() as s:
        for col in await user_columns(s):
            if await s.fetchval(f'SELECT 1 FROM "{col.table}" WHERE "{col.column}" = ? LIMIT 1', (user_id,)):
                return False
        for table, column, _how in await _unlinked(s):
            if await s.fetchval(f'SELECT 1 FROM "{table}" WHERE "{column}" = ? LIMIT 1', (user_id,)):
                return False
        return await s.execute_rowcount(f"DELETE FROM {USERS} WHERE id = ?", (user_id,)) > 0


# ---- /mydata ------------------------------------------------------------------------------------------------


async def collect(db: Database, user_id: int, now: datetime, keys: RespondentKeys) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data; keys in English (a file for people and tools)."""
    async with db.session() as s:
        present = set(await tables(s))
        user = await s.fetchall(f"SELECT * FROM {USERS} WHERE id = ?", (user_id,))
        memberships = await s.fetchall(
            "SELECT m.workspace_id, w.name AS workspace, m.role, m.joined_at FROM memberships m "
            "JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = ? ORDER BY m.joined_at",
            (user_id,),
        )
        # Which team link brought you in (migration 011); the token itself is never stored, so never shown.
        joined_through = []
        if "invite_joins" in present:
            joined_through = await s.fetchall(
                "SELECT w.name AS workspace, i.created_at AS invite_created_at, i.expires_at AS invite_expires_at, "
                "i.revoked_at AS invite_revoked_at, j.joined_at FROM invite_joins j "
                "JOIN invites i ON i.token_hash = j.invite_hash JOIN workspaces w ON w.id = i.workspace_id "
                "WHERE j.user_id = ? ORDER BY j.joined_at",
                (user_id,),
            )
        conversations = []
        if FSM_TABLE in present:
            conversations = [
                _row(r) for r in await s.fetchall(f"SELECT * FROM {FSM_TABLE}") if fsm_key_names(r["key"], user_id)
            ]
        about_you: dict[str, list[dict[str, Any]]] = {}
        for table, column, _how in await _unlinked(s):
            rows = await s.fetchall(f'SELECT * FROM "{table}" WHERE "{column}" = ?', (user_id,))
            if rows:
                about_you[table] = [_row(r) for r in rows]
        references = []
        for table, column, partner_id, key in await _respondent_matches(s, user_id, keys):
            rows = await s.fetchall(
                f'SELECT * FROM "{table}" WHERE partner_id = ? AND "{column}" = ?', (partner_id, key)
            )
            for r in rows:
                item = {k: v for k, v in _row(r).items() if k not in ("respondent_key", "opened_by_key", "token_hash")}
                references.append({"table": table, **item})
        authored = []
        for col in await user_columns(s):
            if col.table == MEMBERSHIPS:
                continue
            rows = await s.fetchall(f'SELECT rowid FROM "{col.table}" WHERE "{col.column}" = ?', (user_id,))
            if rows:
                authored.append({"table": col.table, "column": col.column, "row_ids": [r[0] for r in rows]})
    return {
        "generated_at": now.isoformat(),
        "telegram_user_id": user_id,
        "profile": _row(user[0]) if user else None,
        "workspaces": [_row(r) for r in memberships],
        "invite_links_you_joined_with": [_row(r) for r in joined_through],
        "conversations_in_progress": conversations,
        "about_you": about_you,
        "your_reference_answers_and_opened_links": references,
        "records_you_added_or_decided": authored,
    }
