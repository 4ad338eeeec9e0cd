"""Weekly check-ins: schedules per group, rounds (one per prompt), answers, the people seen, health records."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.checkins import (
    Answer,
    CommunicationHealth,
    MemberStatus,
    Participant,
    RosterEntry,
    RoundOutcome,
    WeeklyTime,
    digest_time,
    health,
    next_occurrence,
    outcome_of,
    reminder_time,
)
from bot.storage.db import Database

TOKEN_BYTES = 12  # 16 url-safe characters: unguessable, and short enough for a /start payload

_SCHEDULE_COLUMNS = (
    "id, chat_id, workspace_id, partner_id, weekday, hour, minute, timezone, digest_hours, shared_doc, active, "
    "next_prompt_at, created_by"
)
_ROUND_COLUMNS = (
    "r.id, r.schedule_id, s.chat_id, p.workspace_id, r.partner_id, r.occurrence, r.token, r.digest_hours, r.status, "
    "r.prompt_message_id, r.reminder_message_id, r.sent_at, r.reminder_at, r.reminder_sent_at, r.digest_at, "
    "r.closed_at"
)
# A round belongs to the partnership it was sent for (its partner, hence the partner's workspace), not to whatever
# the group's schedule row says now: a group relinked to another team or partner keeps its history where it was.
_ROUND_FROM = (
    "FROM checkin_rounds r JOIN checkin_schedules s ON s.id = r.schedule_id JOIN partners p ON p.id = r.partner_id"
)


def stamp(moment: datetime) -> str:
    """Every time in these tables is UTC ISO, so text comparison is time comparison."""
    return moment.astimezone(UTC).isoformat()


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class Schedule:
    id: int
    chat_id: int
    workspace_id: int
    partner_id: int
    when: WeeklyTime
    digest_hours: int
    shared_doc: str | None
    active: bool
    next_prompt_at: datetime | None
    created_by: int | None


@dataclass(frozen=True, slots=True)
class NewSchedule:
    workspace_id: int
    partner_id: int
    when: WeeklyTime
    digest_hours: int
    shared_doc: str | None


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    schedule_id: int
    chat_id: int
    workspace_id: int
    partner_id: int
    occurrence: datetime
    token: str
    digest_hours: int
    status: str
    prompt_message_id: int | None
    reminder_message_id: int | None
    sent_at: datetime | None
    reminder_at: datetime | None
    reminder_sent_at: datetime | None
    digest_at: datetime | None
    closed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True, slots=True)
class DigestPart:
    """One message of a closed round's digest, waiting to be confirmed by Telegram."""

    round_id: int
    part_no: int
    text: str
    attempted: bool  # its request was about to leave at some point: it may already be in the group


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    user_id: int
    name: str
    answer: Answer
    message_id: int | None
    answered_at: datetime


class CheckinRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    # schedules

    async def save_schedule(self, chat_id: int, new: NewSchedule, created_by: int, now: datetime) -> Schedule:
        """Create or replace the group's schedule and switch it on; the next prompt is the next occurrence."""
        next_at = stamp(next_occurrence(new.when, now))
        when = new.when
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO checkin_schedules (chat_id, workspace_id, partner_id, weekday, hour, minute, timezone, "
                "digest_hours, shared_doc, active, next_prompt_at, created_by, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?) ON CONFLICT(chat_id) DO UPDATE SET "
                "workspace_id = excluded.workspace_id, partner_id = excluded.partner_id, weekday = excluded.weekday, "
                "hour = excluded.hour, minute = excluded.minute, timezone = excluded.timezone, "
                "digest_hours = excluded.digest_hours, "
                # Skip at the doc step keeps the link saved before, but only for the same partnership: a group
                # handed to another partner or team must not carry the old one's doc.
                "shared_doc = CASE WHEN excluded.shared_doc IS NOT NULL THEN excluded.shared_doc "
                "WHEN checkin_schedules.workspace_id = excluded.workspace_id "
                "AND checkin_schedules.partner_id = excluded.partner_id THEN checkin_schedules.shared_doc END, "
                "active = 1, "
                "next_prompt_at = excluded.next_prompt_at, created_by = excluded.created_by, "
                "updated_at = excluded.updated_at",
                (chat_id, new.workspace_id, new.partner_id, when.weekday, when.hour, when.minute, when.timezone,
                 new.digest_hours, new.shared_doc, next_at, created_by, stamp(now), stamp(now)),
            )
            if new.shared_doc:  # the doc is the partnership's: the partner card shows it too
                await tx.execute(
                    "UPDATE partners SET shared_doc = ?, updated_at = ? WHERE id = ? AND workspace_id = ?",
                    (new.shared_doc, stamp(now), new.partner_id, new.workspace_id),
                )
            row = await tx.fetchone(f"SELECT {_SCHEDULE_COLUMNS} FROM checkin_schedules WHERE chat_id = ?", (chat_id,))
        assert row is not None
        return _schedule(row)

    async def schedule_for_chat(self, chat_id: int) -> Schedule | None:
        row = await self._db.fetchone(
            f"SELECT {_SCHEDULE_COLUMNS} FROM checkin_schedules WHERE chat_id = ?", (chat_id,)
        )
        return None if row is None else _schedule(row)

    async def schedule(self, schedule_id: int) -> Schedule | None:
        row = await self._db.fetchone(f"SELECT {_SCHEDULE_COLUMNS} FROM checkin_schedules WHERE id = ?", (schedule_id,))
        return None if row is None else _schedule(row)

    async def active_schedules(self) -> list[Schedule]:
        rows = await self._db.fetchall(f"SELECT {_SCHEDULE_COLUMNS} FROM checkin_schedules WHERE active = 1")
        return [_schedule(r) for r in rows]

    async def due_schedules(self, now: datetime) -> list[Schedule]:
        rows = await self._db.fetchall(
            f"SELECT {_SCHEDULE_COLUMNS} FROM checkin_schedules WHERE active = 1 AND next_prompt_at <= ? "
            "ORDER BY next_prompt_at, id",
            (stamp(now),),
        )
        return [_schedule(r) for r in rows]

    async def stop_chat(self, chat_id: int, now: datetime) -> list[Schedule]:
        """Switch off the chat's schedule; returns it only if it was on (so managers are told once)."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                f"SELECT {_SCHEDULE_COLUMNS} FROM checkin_schedules WHERE chat_id = ? AND active = 1", (chat_id,)
            )
            await tx.execute(
                "UPDATE checkin_schedules SET active = 0, next_prompt_at = NULL, updated_at = ? WHERE chat_id = ?",
                (stamp(now), chat_id),
            )
        return [_schedule(r) for r in rows]

    async def move_chat(self, old_chat_id: int, new_chat_id: int, now: datetime) -> bool:
        """A group became a supergroup: its schedule, people and language follow the new id (idempotent)."""
        async with self._db.transaction() as tx:
            if await tx.fetchval("SELECT 1 FROM checkin_schedules WHERE chat_id = ?", (new_chat_id,)):
                moved = False
            else:
                moved = bool(
                    await tx.execute_rowcount(
                        "UPDATE checkin_schedules SET chat_id = ?, updated_at = ? WHERE chat_id = ?",
                        (new_chat_id, stamp(now), old_chat_id),
                    )
                )
            await tx.execute(
                "UPDATE OR IGNORE checkin_people SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
            )
            old = await tx.fetchone("SELECT type, title, locale FROM chats WHERE id = ?", (old_chat_id,))
            if old is not None:
                await tx.execute(
                    "INSERT INTO chats (id, type, title, locale, active, added_at, updated_at) "
                    "VALUES (?, 'supergroup', ?, ?, 1, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "locale = COALESCE(chats.locale, excluded.locale)",
                    (new_chat_id, old["title"], old["locale"], stamp(now), stamp(now)),
                )
                await tx.execute("UPDATE chats SET active = 0, updated_at = ? WHERE id = ?", (stamp(now), old_chat_id))
        return moved

    async def skip_to(self, schedule_id: int, expected: datetime | None, next_at: datetime) -> bool:
        """Move the next prompt on without sending (too late to catch up)."""
        count = await self._db.execute_rowcount(
            "UPDATE checkin_schedules SET next_prompt_at = ? WHERE id = ? AND next_prompt_at IS ?",
            (stamp(next_at), schedule_id, None if expected is None else stamp(expected)),
        )
        return count == 1

    # rounds

    async def claim_round(
        self, schedule: Schedule, occurrence: datetime, next_at: datetime, now: datetime
    ) -> Round | None:
        """Record the round and move the schedule on, in one transaction, before anything is sent.

        None when this occurrence already has a round: it was sent (or tried) before, and never is again."""
        async with self._db.transaction() as tx:
            exists = await tx.fetchval(
                "SELECT 1 FROM checkin_rounds WHERE schedule_id = ? AND occurrence = ?",
                (schedule.id, stamp(occurrence)),
            )
            await tx.execute(
                "UPDATE checkin_schedules SET next_prompt_at = ? WHERE id = ? AND active = 1",
                (stamp(next_at), schedule.id),
            )
            if exists:
                return None
            round_id = await tx.execute(
                "INSERT INTO checkin_rounds (schedule_id, partner_id, occurrence, token, digest_hours, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (schedule.id, schedule.partner_id, stamp(occurrence), secrets.token_urlsafe(TOKEN_BYTES),
                 schedule.digest_hours, stamp(now)),
            )
            row = await tx.fetchone(f"SELECT {_ROUND_COLUMNS} {_ROUND_FROM} WHERE r.id = ?", (round_id,))
        assert row is not None
        return _round(row)

    async def mark_sent(self, round_id: int, message_id: int, sent_at: datetime, digest_hours: int) -> None:
        """The "sent" mark: the round is open for answers until its digest."""
        await self._db.execute(
            "UPDATE checkin_rounds SET status = 'open', prompt_message_id = ?, sent_at = ?, reminder_at = ?, "
            "digest_at = ? WHERE id = ? AND status = 'sending'",
            (message_id, stamp(sent_at), stamp(reminder_time(sent_at, digest_hours)),
             stamp(digest_time(sent_at, digest_hours)), round_id),
        )

    async def mark_attempted(self, round_id: int, now: datetime) -> None:
        """Right before the prompt's request leaves: from here on a crash leaves its fate unknown."""
        await self._db.execute(
            "UPDATE checkin_rounds SET attempted_at = ? WHERE id = ? AND status = 'sending'", (stamp(now), round_id)
        )

    async def interrupted_rounds(self, since: datetime) -> tuple[list[Round], list[Round]]:
        """Rounds claimed since `since` and left 'sending' by a crash: (never attempted, attempted — the prompt may
        be in the group already)."""
        rows = await self._db.fetchall(
            f"SELECT {_ROUND_COLUMNS}, r.attempted_at {_ROUND_FROM} "
            "WHERE r.status = 'sending' AND r.created_at >= ? AND s.active = 1 ORDER BY r.id",
            (stamp(since),),
        )
        queued = [_round(row) for row in rows if row["attempted_at"] is None]
        in_flight = [_round(row) for row in rows if row["attempted_at"] is not None]
        return queued, in_flight

    async def expire_interrupted(self, before: datetime) -> int:
        """Rounds a crash left 'sending' and claimed before `before`: too late for their prompt now, as for a prompt
        missed while down; recorded as failed so they are not looked at again."""
        return await self._db.execute_rowcount(
            "UPDATE checkin_rounds SET status = 'failed' WHERE status = 'sending' AND created_at < ?", (stamp(before),)
        )

    async def mark_failed(self, round_id: int) -> None:
        await self._db.execute(
            "UPDATE checkin_rounds SET status = 'failed' WHERE id = ? AND status = 'sending'", (round_id,)
        )

    async def rounds_due_for_reminder(self, now: datetime) -> list[Round]:
        rows = await self._db.fetchall(
            f"SELECT {_ROUND_COLUMNS} {_ROUND_FROM} WHERE r.status = 'open' AND r.reminder_settled_at IS NULL "
            "AND r.reminder_at <= ? AND r.digest_at > ? AND s.active = 1 ORDER BY r.id",
            (stamp(now), stamp(now)),
        )
        return [_round(r) for r in rows]

    async def mark_reminder_attempted(self, round_id: int, now: datetime) -> None:
        """Right before the reminder's request leaves; until it is settled, a restart sends it (again)."""
        await self._db.execute(
            "UPDATE checkin_rounds SET reminder_sent_at = ? WHERE id = ? AND reminder_settled_at IS NULL",
            (stamp(now), round_id),
        )

    async def settle_reminder(self, round_id: int, now: datetime, message_id: int | None = None) -> None:
        """The reminder is done with: delivered (with its message), not needed, or refused for good."""
        await self._db.execute(
            "UPDATE checkin_rounds SET reminder_settled_at = ?, reminder_message_id = COALESCE(?, reminder_message_id) "
            "WHERE id = ? AND reminder_settled_at IS NULL",
            (stamp(now), message_id, round_id),
        )

    async def rounds_due_for_digest(self, now: datetime) -> list[Round]:
        rows = await self._db.fetchall(
            f"SELECT {_ROUND_COLUMNS} {_ROUND_FROM} WHERE r.status = 'open' AND r.digest_at <= ? ORDER BY r.id",
            (stamp(now),),
        )
        return [_round(r) for r in rows]

    async def round(self, round_id: int) -> Round | None:
        row = await self._db.fetchone(f"SELECT {_ROUND_COLUMNS} {_ROUND_FROM} WHERE r.id = ?", (round_id,))
        return None if row is None else _round(row)

    async def round_by_token(self, token: str) -> Round | None:
        row = await self._db.fetchone(f"SELECT {_ROUND_COLUMNS} {_ROUND_FROM} WHERE r.token = ?", (token,))
        return None if row is None else _round(row)

    async def round_for_reply(self, chat_id: int, message_id: int, token: str | None) -> Round | None:
        """The round a reply in the group answers: the one whose token the replied-to bot message carries (any copy
        of its prompt or reminder, e.g. a second one sent after a lost reply), else the one whose stored prompt or
        reminder it is. A token of no round of this chat names none: it never falls back to another round."""
        if token is None:
            return await self.round_for_message(chat_id, message_id)
        row = await self._db.fetchone(
            f"SELECT {_ROUND_COLUMNS} {_ROUND_FROM} WHERE r.token = ? AND s.chat_id = ?", (token, chat_id)
        )
        return None if row is None else _round(row)

    async def round_for_message(self, chat_id: int, message_id: int) -> Round | None:
        """The round whose prompt or reminder this message is."""
        row = await self._db.fetchone(
            f"SELECT {_ROUND_COLUMNS} {_ROUND_FROM} WHERE s.chat_id = ? "
            "AND (r.prompt_message_id = ? OR r.reminder_message_id = ?) ORDER BY r.id DESC LIMIT 1",
            (chat_id, message_id, message_id),
        )
        return None if row is None else _round(row)

    async def latest_round(self, chat_id: int) -> Round | None:
        row = await self._db.fetchone(
            f"SELECT {_ROUND_COLUMNS} {_ROUND_FROM} WHERE s.chat_id = ? AND r.status IN ('open', 'closed') "
            "AND r.partner_id = s.partner_id ORDER BY r.id DESC LIMIT 1",
            (chat_id,),
        )
        return None if row is None else _round(row)

    async def close_round(
        self, round_id: int, entries: list[RosterEntry], digest: list[str], now: datetime
    ) -> bool:
        """Close the round, keep who answered, who was away and who did not, and queue its digest, all in one
        transaction: a closed round always has its digest delivered or waiting. True for the one closer."""
        async with self._db.transaction() as tx:
            count = await tx.execute_rowcount(
                "UPDATE checkin_rounds SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'",
                (stamp(now), round_id),
            )
            if count != 1:
                return False
            await tx.executemany(
                "INSERT OR REPLACE INTO checkin_round_members "
                "(round_id, user_id, name, status, partner_side, delay_seconds) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (round_id, e.user_id, e.name, e.status.value, int(e.partner_side),
                     None if e.delay is None else int(e.delay.total_seconds()))
                    for e in entries
                ],
            )
            await tx.executemany(
                "INSERT INTO checkin_digest_parts (round_id, part_no, text) VALUES (?, ?, ?)",
                [(round_id, number, text) for number, text in enumerate(digest)],
            )
        return True

    async def rounds_with_digest_due(self) -> list[Round]:
        """Closed rounds with digest parts neither confirmed nor given up (a crash or a shutdown cut them off)."""
        rows = await self._db.fetchall(
            f"SELECT {_ROUND_COLUMNS} {_ROUND_FROM} WHERE r.status = 'closed' AND r.id IN (SELECT round_id FROM "
            "checkin_digest_parts WHERE sent_at IS NULL AND given_up_at IS NULL) ORDER BY r.id"
        )
        return [_round(r) for r in rows]

    async def digest_due(self, round_id: int) -> list[DigestPart]:
        """The round's digest parts still to send, in order; the ones confirmed before are not among them."""
        rows = await self._db.fetchall(
            "SELECT round_id, part_no, text, attempted_at FROM checkin_digest_parts "
            "WHERE round_id = ? AND sent_at IS NULL AND given_up_at IS NULL ORDER BY part_no",
            (round_id,),
        )
        return [DigestPart(r["round_id"], r["part_no"], r["text"], r["attempted_at"] is not None) for r in rows]

    async def mark_part_attempted(self, part: DigestPart, now: datetime) -> None:
        await self._db.execute(
            "UPDATE checkin_digest_parts SET attempted_at = ? WHERE round_id = ? AND part_no = ?",
            (stamp(now), part.round_id, part.part_no),
        )

    async def mark_part_sent(self, part: DigestPart, message_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE checkin_digest_parts SET sent_at = ?, message_id = ?, text = NULL "
            "WHERE round_id = ? AND part_no = ?",
            (stamp(now), message_id, part.round_id, part.part_no),
        )

    async def give_up_digest(self, part: DigestPart, why: str, now: datetime) -> int:
        """Telegram refused this part for good: it and the parts after it are given up (kept, with the reason)."""
        return await self._db.execute_rowcount(
            "UPDATE checkin_digest_parts SET given_up_at = ?, given_up_why = ? WHERE round_id = ? AND part_no >= ? "
            "AND sent_at IS NULL AND given_up_at IS NULL",
            (stamp(now), why, part.round_id, part.part_no),
        )

    # answers

    async def save_answer(
        self, round_id: int, user_id: int, name: str, answer: Answer, message_id: int | None, now: datetime
    ) -> str:
        """"new", "replaced", or "closed" when the round no longer takes answers."""
        async with self._db.transaction() as tx:
            status = await tx.fetchval("SELECT status FROM checkin_rounds WHERE id = ?", (round_id,))
            if status != "open":
                return "closed"
            existed = await tx.fetchval(
                "SELECT 1 FROM checkin_answers WHERE round_id = ? AND user_id = ?", (round_id, user_id)
            )
            await tx.execute(
                "INSERT INTO checkin_answers (round_id, user_id, name, message_id, shipped, next_steps, blockers, "
                "needs_call, answered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(round_id, user_id) DO UPDATE SET name = excluded.name, message_id = excluded.message_id, "
                "shipped = excluded.shipped, next_steps = excluded.next_steps, blockers = excluded.blockers, "
                "needs_call = excluded.needs_call, updated_at = excluded.updated_at",
                (round_id, user_id, name, message_id, answer.shipped, answer.next, answer.blockers,
                 int(answer.needs_call), stamp(now), stamp(now)),
            )
        return "replaced" if existed else "new"

    async def answer_by_message(self, chat_id: int, message_id: int, user_id: int) -> Round | None:
        """The round a group reply answered, found from the reply itself (for edits)."""
        row = await self._db.fetchone(
            f"SELECT {_ROUND_COLUMNS} {_ROUND_FROM} JOIN checkin_answers a ON a.round_id = r.id "
            "WHERE s.chat_id = ? AND a.message_id = ? AND a.user_id = ? ORDER BY r.id DESC LIMIT 1",
            (chat_id, message_id, user_id),
        )
        return None if row is None else _round(row)

    async def answers(self, round_id: int) -> list[StoredAnswer]:
        rows = await self._db.fetchall(
            "SELECT user_id, name, message_id, shipped, next_steps, blockers, needs_call, answered_at "
            "FROM checkin_answers WHERE round_id = ? ORDER BY answered_at, user_id",
            (round_id,),
        )
        return [
            StoredAnswer(
                r["user_id"], r["name"],
                Answer(r["shipped"], r["next_steps"], r["blockers"], bool(r["needs_call"])),
                r["message_id"], datetime.fromisoformat(r["answered_at"]),
            )
            for r in rows
        ]

    # people

    async def touch_person(self, chat_id: int, user_id: int, name: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO checkin_people (chat_id, user_id, name, first_seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(chat_id, user_id) DO UPDATE SET name = excluded.name",
            (chat_id, user_id, name, stamp(now)),
        )

    async def set_away(
        self, chat_id: int, user_id: int, name: str, since: datetime, until: datetime | None
    ) -> None:
        """Away from `since` until `until`; None means back."""
        await self._db.execute(
            "INSERT INTO checkin_people (chat_id, user_id, name, away_from, away_until, first_seen) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(chat_id, user_id) DO UPDATE SET name = excluded.name, "
            "away_from = excluded.away_from, away_until = excluded.away_until",
            (chat_id, user_id, name, None if until is None else stamp(since),
             None if until is None else stamp(until), stamp(since)),
        )

    async def participants(self, chat_id: int) -> list[Participant]:
        rows = await self._db.fetchall(
            "SELECT user_id, name, away_from, away_until FROM checkin_people WHERE chat_id = ? ORDER BY user_id",
            (chat_id,),
        )
        return [
            Participant(r["user_id"], r["name"], _moment(r["away_from"]), _moment(r["away_until"])) for r in rows
        ]

    async def workspace_members(self, workspace_id: int) -> frozenset[int]:
        rows = await self._db.fetchall("SELECT user_id FROM memberships WHERE workspace_id = ?", (workspace_id,))
        return frozenset(r["user_id"] for r in rows)

    async def is_workspace_member(self, workspace_id: int, user_id: int) -> bool:
        return bool(
            await self._db.fetchval(
                "SELECT 1 FROM memberships WHERE workspace_id = ? AND user_id = ?", (workspace_id, user_id)
            )
        )

    async def managers_to_tell(self, schedule: Schedule) -> list[int]:
        """Who set the check-in up and who manages the partner's running campaign, if they are still in the team."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT m.user_id FROM memberships m WHERE m.workspace_id = ? AND (m.user_id = ? OR m.user_id IN "
            "(SELECT c.manager_id FROM campaigns c WHERE c.partner_id = ? AND c.status = 'running')) "
            "ORDER BY m.user_id",
            (schedule.workspace_id, schedule.created_by, schedule.partner_id),
        )
        return [r["user_id"] for r in rows]

    # communication health

    async def outcomes_for_partner(self, workspace_id: int, partner_id: int, limit: int = 50) -> list[RoundOutcome]:
        """Closed rounds of the partnership across its groups, oldest first."""
        rows = await self._db.fetchall(
            "SELECT r.id, m.status, m.partner_side, m.delay_seconds FROM checkin_rounds r "
            "JOIN partners p ON p.id = r.partner_id AND p.workspace_id = ? "
            "LEFT JOIN checkin_round_members m ON m.round_id = r.id "
            "WHERE r.partner_id = ? AND r.status = 'closed' AND r.id IN (SELECT r2.id FROM checkin_rounds r2 "
            "WHERE r2.partner_id = ? AND r2.status = 'closed' ORDER BY r2.closed_at DESC, r2.id DESC LIMIT ?) "
            "ORDER BY r.closed_at, r.id",
            (workspace_id, partner_id, partner_id, limit),
        )
        grouped: dict[int, list[RosterEntry]] = {}
        for r in rows:
            entries = grouped.setdefault(r["id"], [])
            if r["status"] is not None:
                delay = None if r["delay_seconds"] is None else timedelta(seconds=r["delay_seconds"])
                entries.append(RosterEntry(0, "", MemberStatus(r["status"]), bool(r["partner_side"]), delay))
        return [outcome_of(entries) for entries in grouped.values()]

    async def health_for_partner(self, workspace_id: int, partner_id: int) -> CommunicationHealth | None:
        """Answer rate and median delay over the last 8 closed rounds; None before the first digest."""
        outcomes = await self.outcomes_for_partner(workspace_id, partner_id)
        return health(outcomes) if outcomes else None


def _schedule(row: object) -> Schedule:
    r = row
    return Schedule(
        id=r["id"],  # type: ignore[index]
        chat_id=r["chat_id"],  # type: ignore[index]
        workspace_id=r["workspace_id"],  # type: ignore[index]
        partner_id=r["partner_id"],  # type: ignore[index]
        when=WeeklyTime(r["weekday"], r["hour"], r["minute"], r["timezone"]),  # type: ignore[index]
        digest_hours=r["digest_hours"],  # type: ignore[index]
        shared_doc=r["shared_doc"],  # type: ignore[index]
        active=bool(r["active"]),  # type: ignore[index]
        next_prompt_at=_moment(r["next_prompt_at"]),  # type: ignore[index]
        created_by=r["created_by"],  # type: ignore[index]
    )


def _round(row: object) -> Round:
    r = row
    return Round(
        id=r["id"],  # type: ignore[index]
        schedule_id=r["schedule_id"],  # type: ignore[index]
        chat_id=r["chat_id"],  # type: ignore[index]
        workspace_id=r["workspace_id"],  # type: ignore[index]
        partner_id=r["partner_id"],  # type: ignore[index]
        occurrence=datetime.fromisoformat(r["occurrence"]),  # type: ignore[index]
        token=r["token"],  # type: ignore[index]
        digest_hours=r["digest_hours"],  # type: ignore[index]
        status=r["status"],  # type: ignore[index]
        prompt_message_id=r["prompt_message_id"],  # type: ignore[index]
        reminder_message_id=r["reminder_message_id"],  # type: ignore[index]
        sent_at=_moment(r["sent_at"]),  # type: ignore[index]
        reminder_at=_moment(r["reminder_at"]),  # type: ignore[index]
        reminder_sent_at=_moment(r["reminder_sent_at"]),  # type: ignore[index]
        digest_at=_moment(r["digest_at"]),  # type: ignore[index]
        closed_at=_moment(r["closed_at"]),  # type: ignore[index]
    )
