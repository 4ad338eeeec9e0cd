"""The weekly check-in's jobs: prompts at the set local time, the halfway reminder, the digest, and what
happens when a group is gone or moved. Everything is derived from the database each time it runs (at
start-up, on each schedule's CronTrigger, and every minute). The texts these pushes carry are in
bot/views/checkin_texts.py.

Pushes survive crashes, at least once (issue 13):
- A prompt's round is claimed in the database before anything is sent, marked when its request is about to
  leave (`attempted_at`) and marked sent with Telegram's answer. `resume_interrupted`, at start-up before any
  new round, sends again every prompt a crash left 'sending' within MISSED_PROMPT_GRACE: one only queued is sent
  once; one caught in flight may already be in the group, so the group may get a second copy — at-least-once,
  because a lost prompt is worse than a repeated one, and answers to either copy count (replies are matched by
  the round's token in the replied-to message's button, not only by the stored message id). Older ones are
  recorded as failed, like a prompt missed while down. A prompt the database knows was delivered is never sent
  again.
- A round is closed in the same transaction that queues its digest (checkin_digest_parts); each part is marked
  attempted and then sent. Every run (and so every start-up) sends the parts not confirmed yet, in order: a
  restart continues a multi-part digest where the database knows it stopped, repeating at most the one part
  that was in flight.
- The reminder likewise: attempted, then settled; one attempted but not settled is sent again while still due.
- What Telegram refused for good (after the session's retries) is recorded — a failed round, a given-up digest
  part, a settled reminder — and logged, not retried; only a fate the bot never learned (a kill, a shutdown that
  closed the lane) is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import Context
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from aiogram import Bot
from aiogram.utils.i18n import I18n
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock
from bot.domain.campaigns import EventKind
from bot.domain.checkins import (
    MISSED_PROMPT_GRACE,
    MemberStatus,
    RosterEntry,
    classify_roster,
    gap_starts_now,
    next_occurrence,
    previous_occurrence,
    should_catch_up,
)
from bot.i18n import person_locale
from bot.plumbing.outbound import Outbound
from bot.storage.campaigns import CampaignRepo
from bot.storage.chats import ChatRepo
from bot.storage.checkins import CheckinRepo, DigestPart, Round, Schedule
from bot.storage.partners import PartnerRepo
from bot.storage.users import UserRepo
from bot.views.checkin_texts import (
    answer_button,
    digest_parts,
    prompt_message,
    reminder_text,
    stopped_notice,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# Besides each schedule's CronTrigger, a sweep this often sends due reminders and digests (and any prompt
# a trigger missed, e.g. a wall time skipped by a DST jump).
SWEEP_SECONDS = 60
JOB_PREFIX = "checkin-"
SWEEP_JOB_ID = "checkin-sweep"


# ---- jobs ----------------------------------------------------------------------------------------------


@dataclass
class DueReport:
    prompts: int = 0
    reminders: int = 0
    digests: int = 0
    skipped: int = 0


class CheckinService:
    """Runs what is due, keeps one CronTrigger per active schedule, reacts to groups leaving or moving."""

    def __init__(
        self,
        *,
        bot: Bot,
        checkins: CheckinRepo,
        chats: ChatRepo,
        users: UserRepo,
        partners: PartnerRepo,
        campaigns: CampaignRepo,
        outbound: Outbound,
        scheduler: AsyncIOScheduler,
        i18n: I18n,
        clock: Clock,
    ) -> None:
        self._bot = bot
        self.checkins = checkins
        self._chats = chats
        self._users = users
        self._partners = partners
        self._campaigns = campaigns
        self._outbound = outbound
        self._scheduler = scheduler
        self._i18n = i18n
        self._clock = clock
        self._lock = asyncio.Lock()
        self._closed = False
        self._username: str | None = None

    # scheduling

    def schedule_job(self, schedule: Schedule) -> None:
        """The schedule's CronTrigger in the chat's time zone (APScheduler keeps it right across DST)."""
        when = schedule.when
        # A clean context: APScheduler's timers keep the context add_job was called from, so a handler's would make
        # every later job run inside that update's unit of work (and log as that update).
        Context().run(
            self._scheduler.add_job,
            self.run_due_logged,
            CronTrigger(day_of_week=when.weekday, hour=when.hour, minute=when.minute, timezone=when.zone),
            id=f"{JOB_PREFIX}{schedule.id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def unschedule(self, schedule_id: int) -> None:
        with contextlib.suppress(JobLookupError):
            Context().run(self._scheduler.remove_job, f"{JOB_PREFIX}{schedule_id}")

    async def rebuild_jobs(self) -> int:
        """At start-up: one job per active schedule from the database, plus the sweep."""
        schedules = await self.checkins.active_schedules()
        for schedule in schedules:
            self.schedule_job(schedule)
        self._scheduler.add_job(
            self.run_due_logged, IntervalTrigger(seconds=SWEEP_SECONDS), id=SWEEP_JOB_ID, replace_existing=True
        )
        return len(schedules)

    async def username(self) -> str:
        if self._username is None:
            me = await self._bot.me()
            self._username = me.username or ""
        return self._username

    async def locale_of(self, chat_id: int) -> str:
        record = await self._chats.get(chat_id)
        if record is not None and record.locale:
            return record.locale
        return self._i18n.default_locale

    async def close(self, timeout: float) -> None:
        """At shutdown: no new runs; wait for a run in progress to finish its sends."""
        self._closed = True
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout)
        except TimeoutError:
            log.warning("check-in jobs still running at shutdown")
            return
        self._lock.release()

    # what is due

    async def run_due_logged(self) -> None:
        """The scheduler's entry point: never raises into APScheduler."""
        if self._closed:
            return
        try:
            await self.run_due()
        except Exception:
            log.exception("check-in jobs failed")

    async def run_due(self) -> DueReport:
        """Digests a crash cut off, new digests, reminders, then prompts that are due at clock.now()."""
        async with self._lock:
            report = DueReport()
            if self._closed:
                return report
            now = self._clock.now()
            for counter, job, items in (
                ("digests", self._deliver_digest, await self.checkins.rounds_with_digest_due()),
                ("digests", self._digest, await self.checkins.rounds_due_for_digest(now)),
                ("reminders", self._remind, await self.checkins.rounds_due_for_reminder(now)),
                ("prompts", lambda s: self._prompt(s, now), await self.checkins.due_schedules(now)),
            ):
                results = await self._each(job, items)
                setattr(report, counter, getattr(report, counter) + sum(1 for r in results if r is True))
                report.skipped += sum(1 for r in results if r is None)
            return report

    @staticmethod
    async def _each(job: Callable[[T], Awaitable[bool | None]], items: Sequence[T]) -> list[bool | None]:
        """Run one job per item concurrently (the outbound lane paces them); one failure never stops the rest."""
        results = await asyncio.gather(*(job(item) for item in items), return_exceptions=True)
        out: list[bool | None] = []
        for item, result in zip(items, results, strict=True):
            if isinstance(result, BaseException):
                log.error("check-in job for %r failed", item, exc_info=result)
                out.append(False)
            else:
                out.append(result)
        return out

    async def _prompt(self, schedule: Schedule, now: datetime) -> bool | None:
        """Send the latest due prompt if it is not too late; True when sent, None when skipped."""
        occurrence = previous_occurrence(schedule.when, now)
        following = next_occurrence(schedule.when, now)
        if not should_catch_up(occurrence, now):
            await self.checkins.skip_to(schedule.id, schedule.next_prompt_at, following)
            log.info("check-in of chat %s due %s skipped: too late to catch up", schedule.chat_id, occurrence)
            return None
        claimed = await self.checkins.claim_round(schedule, occurrence, following, now)
        if claimed is None:
            return False
        return await self._send_prompt(claimed, schedule)

    async def resume_interrupted(self) -> DueReport:
        """At start-up, before any new round: every prompt a crash left unsent or unconfirmed is sent (again).

        One caught queued is sent once; one caught in flight may already be in its group and may arrive twice
        (at-least-once: answers to either copy count). One claimed longer ago than MISSED_PROMPT_GRACE is too late,
        as a prompt missed while down is, and is recorded as failed. See the module docstring."""
        report = DueReport()
        since = self._clock.now() - MISSED_PROMPT_GRACE
        expired = await self.checkins.expire_interrupted(since)
        if expired:
            log.warning("%d check-in prompts a crash left unsent are too late now; recorded as failed", expired)
        queued, in_flight = await self.checkins.interrupted_rounds(since)
        for round_ in in_flight:
            log.warning("check-in prompt of round %s (chat %s) was being sent at a crash and may have arrived; "
                        "sent again (answers to either copy count)", round_.id, round_.chat_id)
        results = await self._each(lambda round_: self._send_prompt(round_), [*queued, *in_flight])
        report.prompts = sum(1 for r in results if r is True)
        if queued or in_flight:
            log.info("%d of %d check-in prompts a crash interrupted sent after the restart",
                     report.prompts, len(queued) + len(in_flight))
        return report

    async def _send_prompt(self, claimed: Round, schedule: Schedule | None = None) -> bool:
        schedule = schedule or await self.checkins.schedule(claimed.schedule_id)
        if schedule is None:
            return False
        partner = await self._partners.get(schedule.workspace_id, schedule.partner_id)
        locale = await self.locale_of(schedule.chat_id)
        username = await self.username()
        with self._i18n.context(), self._i18n.use_locale(locale):
            text, markup = prompt_message(
                partner.name if partner else "—", claimed.token, schedule.digest_hours, schedule.shared_doc, username
            )

        async def attempted() -> None:
            await self.checkins.mark_attempted(claimed.id, self._clock.now())

        delivery = await self._outbound.send(schedule.chat_id, text, reply_markup=markup, before_first_try=attempted)
        if delivery.interrupted:
            return False  # still 'sending': the restart sends it
        if not delivery.ok:
            log.warning("check-in prompt of round %s (chat %s) refused: %s; recorded as failed",
                        claimed.id, schedule.chat_id, delivery.error)
            await self.checkins.mark_failed(claimed.id)
            return False
        await self.checkins.mark_sent(claimed.id, delivery.message_id or 0, self._clock.now(), schedule.digest_hours)
        return True

    async def _remind(self, round_: Round) -> bool:
        """The halfway nudge, once it is settled; one a crash caught unsettled is sent again while still due."""
        entries = await self.roster(round_)
        answered = sum(1 for e in entries if e.status is MemberStatus.ANSWERED)
        expected = sum(1 for e in entries if e.status is not MemberStatus.AWAY)
        if expected and answered >= expected:
            await self.checkins.settle_reminder(round_.id, self._clock.now())
            return False  # everyone has answered: nobody to nudge
        locale = await self.locale_of(round_.chat_id)
        username = await self.username()
        with self._i18n.context(), self._i18n.use_locale(locale):
            text, markup = reminder_text(answered, expected), answer_button(username, round_.token)

        async def attempted() -> None:
            await self.checkins.mark_reminder_attempted(round_.id, self._clock.now())

        delivery = await self._outbound.send(
            round_.chat_id, text, reply_markup=markup, reply_to=round_.prompt_message_id, before_first_try=attempted
        )
        if delivery.interrupted:
            return False  # unsettled: sent at the next run after the restart
        if not delivery.ok:
            log.warning("check-in reminder of round %s (chat %s) refused: %s", round_.id, round_.chat_id,
                        delivery.error)
        await self.checkins.settle_reminder(round_.id, self._clock.now(), delivery.message_id)
        return delivery.ok

    async def roster(self, round_: Round, until: datetime | None = None) -> list[RosterEntry]:
        sent_at = round_.sent_at or round_.occurrence
        closes = until or round_.digest_at or sent_at
        answers = await self.checkins.answers(round_.id)
        return classify_roster(
            await self.checkins.participants(round_.chat_id),
            {a.user_id: (a.name, a.answered_at) for a in answers},
            await self.checkins.workspace_members(round_.workspace_id),
            sent_at,
            closes,
        )

    async def digest_texts(self, round_: Round, final: bool) -> list[str]:
        entries = await self.roster(round_, until=None if final else self._clock.now())
        answers = await self.checkins.answers(round_.id)
        schedule = await self.checkins.schedule(round_.schedule_id)
        partner = await self._partners.get(round_.workspace_id, round_.partner_id)
        locale = await self.locale_of(round_.chat_id)
        with self._i18n.context(), self._i18n.use_locale(locale):
            return digest_parts(
                partner.name if partner else "—",
                round_.occurrence,
                entries,
                answers,
                schedule.shared_doc if schedule else None,
                locale,
                final,
            )

    async def _digest(self, round_: Round) -> bool:
        """Close the round with its digest queued (keeping who answered), log a communication gap once, post it."""
        entries = await self.roster(round_)
        parts = await self.digest_texts(round_, final=True)
        if not await self.checkins.close_round(round_.id, entries, parts, self._clock.now()):
            return False
        await self._feed_campaign_record(round_)
        return await self._deliver_digest(round_)

    async def _deliver_digest(self, round_: Round) -> bool:
        """Post the round's digest parts not confirmed yet, in order; True once all of them are in the group."""
        parts = await self.checkins.digest_due(round_.id)
        if not parts:
            return False
        chat_id = round_.chat_id
        for part in parts:
            if part.attempted:
                log.warning("check-in digest of round %s (chat %s): part %s was being sent at a crash and may have "
                            "arrived; sent again", round_.id, chat_id, part.part_no + 1)
            delivery = await self._outbound.send(chat_id, part.text, before_first_try=self._part_attempted(part))
            if delivery.interrupted:
                return False  # the rest waits for the restart
            if not delivery.ok:
                given_up = await self.checkins.give_up_digest(part, delivery.error or "refused", self._clock.now())
                log.warning("check-in digest of round %s (chat %s) refused: %s; %d parts given up",
                            round_.id, chat_id, delivery.error, given_up)
                return False
            await self.checkins.mark_part_sent(part, delivery.message_id or 0, self._clock.now())
            chat_id = delivery.chat_id  # a group that became a supergroup meanwhile
        return True

    def _part_attempted(self, part: DigestPart) -> Callable[[], Awaitable[None]]:
        async def attempted() -> None:
            await self.checkins.mark_part_attempted(part, self._clock.now())

        return attempted

    async def post_digest_now(self, chat_id: int) -> bool | None:
        """/digest: the latest round's digest (so far, if still open); None when there is no round yet."""
        round_ = await self.checkins.latest_round(chat_id)
        if round_ is None:
            return None
        parts = await self.digest_texts(round_, final=not round_.is_open)
        # A reply inside the update, sent directly (the session retries it): awaiting the outbound lane here could
        # wait behind a job whose pre-send write waits for this update's unit of work to commit.
        for part in parts:
            await self._bot.send_message(chat_id, part)
        return bool(parts)

    async def _feed_campaign_record(self, round_: Round) -> None:
        """Two missed rounds in a row by the partner's side → a communication gap in the running campaign."""
        outcomes = await self.checkins.outcomes_for_partner(round_.workspace_id, round_.partner_id)
        if not gap_starts_now(outcomes):
            return
        running = [c for c in await self._campaigns.for_partner(round_.workspace_id, round_.partner_id) if c.running]
        if not running:
            return
        await self._campaigns.add_event(
            round_.workspace_id,
            running[-1].id,
            EventKind.COMM_GAP,
            None,
            None,
            self._clock.now(),
            source="checkin",
        )

    # groups leaving or moving

    async def chat_gone(self, chat_id: int) -> None:
        """Removed, kicked or blocked: the chat is inactive, its schedule stops, the managers are told once."""
        now = self._clock.now()
        await self._chats.set_active(chat_id, False, now)
        stopped = await self.checkins.stop_chat(chat_id, now)
        record = await self._chats.get(chat_id)
        for schedule in stopped:
            self.unschedule(schedule.id)
            partner = await self._partners.get(schedule.workspace_id, schedule.partner_id)
            for manager_id in await self.checkins.managers_to_tell(schedule):
                locale = await person_locale(self._users, manager_id, self._i18n.default_locale)
                with self._i18n.context(), self._i18n.use_locale(locale):
                    text = stopped_notice(record.title if record else None, partner.name if partner else "—")
                await self._outbound.send(manager_id, text)

    async def chat_moved(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: the schedule keeps going under the new id."""
        if await self.checkins.move_chat(old_chat_id, new_chat_id, self._clock.now()):
            log.info("check-in schedule moved from chat %s to %s", old_chat_id, new_chat_id)

    async def save(self, schedule: Schedule) -> None:
        self.schedule_job(schedule)

    def stop(self, schedule_id: int) -> None:
        self.unschedule(schedule_id)

