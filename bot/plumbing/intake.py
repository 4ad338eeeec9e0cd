"""How updates come in: written down as Telegram sent them before Telegram is told they arrived, then handled in
one unit of work with their handled mark; one that cannot be handled is set aside, never blocking the rest.

Telegram counts an update as delivered once the next getUpdates asks for a higher offset (or, with a webhook,
once the request is answered). Every batch is stored raw in `received_updates` in one transaction first; the
offset moves only after that. Each update is then parsed on its own and handled inside a unit of work
(bot/storage/db.py): the handler's writes, its conversation change and the handled mark commit together, so an
update cut off by a crash leaves nothing behind and is handled again from its start after the restart.

An update whose handler fails is rolled back and tried again, a bounded number of times; one that cannot be
parsed, or fails every attempt, is set aside (kept with its reason, logged at ERROR, counted by /health).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from pydantic import ValidationError

from bot.clock import Clock
from bot.i18n import event_chat_and_user
from bot.plumbing.middlewares import InFlight
from bot.storage.db import Database
from bot.storage.fsm import SQLiteStorage, UpdateChanges
from bot.storage.received import ReceivedUpdates

log = logging.getLogger(__name__)

# After a failed getUpdates (network, Telegram's 5xx, a second instance polling): wait, growing, then retry.
RETRY_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)
# A handler that fails is tried this many times in all (rolled back each time), then its update is set aside.
MAX_HANDLING_ATTEMPTS = 3
RETRY_DELAYS_SECONDS = (1.0, 5.0)
# A handler attempt that takes longer than this is cut off and counts as failed: one stuck update must not hold its
# person's turn (or the database writer) for ever. The heaviest handler, the .xlsx export, takes seconds.
ATTEMPT_TIMEOUT_SECONDS = 120
# A batch the database refuses is retried this many times before its updates are stored one by one; one that still
# cannot be stored while others of its batch could is given up (logged at ERROR, counted), so the offset can move
# on. When none can be stored the database itself is down: nothing is given up, the poll backs off and retries.
MAX_STORE_ATTEMPTS = 3
LOGGED_PAYLOAD_CHARS = 300


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates whose result is kept as Telegram sent it: JSON objects, each parsed into an Update on its own,
    so one that aiogram cannot read (or cannot dump again) never takes its batch down with it."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Received:
    update_id: int
    raw: dict[str, Any]
    attempts: int = 0  # failed attempts before this one (after a restart, the stored count)


@dataclass
class UpdateOutcome:
    """Handed to the handlers (`update_outcome`): the error handler records here that the update failed, since
    aiogram's error middleware swallows the exception. `final` tells it whether this is the last attempt."""

    final: bool
    failure: BaseException | None = None

    def failed(self, error: BaseException) -> None:
        self.failure = error


class KeyedLocks:
    """One lock per person: their updates are handled one after another *including the commit*. aiogram's event
    isolation is released when the handler returns, before the unit of work commits, so a person's next update (a
    replay batch, or a quick tap on the reply that has already arrived) could otherwise read the database from
    before their previous one."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def held(self, key: int | None) -> AsyncIterator[None]:
        if key is None:
            yield
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


def _person_of(update: Update) -> int | None:
    chat, user = event_chat_and_user(update)
    if user is not None:
        return user.id
    return chat.id if chat is not None else None


class HandlerFailed(Exception):
    """Raised inside the unit of work to roll it back."""


class UpdateIntake:
    def __init__(self, dispatcher: Dispatcher, bot: Bot, db: Database, received: ReceivedUpdates,
                 conversations: SQLiteStorage, clock: Clock, inflight: InFlight) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._db = db
        self._conversations = conversations
        self._received = received
        self._clock = clock
        self._inflight = inflight
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_turn = KeyedLocks()
        self.unstorable = 0  # updates given up before they could be stored (no id, or the database refused them)

    async def accept(self, items: Sequence[Any], attempt: int = 1) -> list[Received]:
        """Store the updates not seen before (one transaction), raw; return them. Ones seen before are skipped.
        `attempt`: how many times this same batch has been offered (the poll counts; a webhook request is 1)."""
        wellformed: list[tuple[int, dict[str, Any]]] = []
        for item in items:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if type(update_id) is not int:
                self.unstorable += 1
                log.error("an update without an update_id was set aside: %.*s", LOGGED_PAYLOAD_CHARS, repr(item))
                continue
            wellformed.append((update_id, item))
        # ASCII escapes: a lone surrogate Telegram may send escaped (\ud83d) stays storable text.
        payloads = [(update_id, json.dumps(item)) for update_id, item in wellformed]
        try:
            new_ids = await self._received.record(payloads, self._clock.now())
        except Exception:
            if attempt < MAX_STORE_ATTEMPTS or len(payloads) < 2:
                raise
            new_ids = await self._record_one_by_one(payloads)
        for update_id, _item in wellformed:
            if update_id not in new_ids:
                log.info("update %s was received before (Telegram sent it again); skipped", update_id)
        return [Received(update_id, item) for update_id, item in wellformed if update_id in new_ids]

    async def _record_one_by_one(self, payloads: list[tuple[int, str]]) -> set[int]:
        new_ids: set[int] = set()
        refused: list[tuple[int, Exception]] = []
        for update_id, payload in payloads:
            try:
                new_ids |= await self._received.record([(update_id, payload)], self._clock.now())
            except Exception as error:
                refused.append((update_id, error))
        if len(refused) == len(payloads):
            raise refused[0][1]  # the database, not these updates: keep them for the next try
        for update_id, error in refused:
            self.unstorable += 1
            log.error("update %s could not be stored and was set aside: %s: %s", update_id, type(error).__name__, error)
        return new_ids

    async def set_aside_count(self) -> int:
        """Updates given up on: set aside in the database, plus any that never got that far."""
        return await self._received.set_aside_count() + self.unstorable

    def start(self, update: Received, *, retry_in: float = 0.0) -> None:
        """Handle in the background (`retry_in`: after a failed attempt, that long from now); the task is kept so
        it is not garbage-collected mid-way."""
        self._inflight.enter()
        task = asyncio.create_task(self._handle_counted(update, retry_in), name=f"update-{update.update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(self, update: Received) -> None:
        """Handle now (the webhook answers Telegram after the first attempt; retries go on in the background)."""
        self._inflight.enter()
        try:
            delay = await self._attempt_safely(update)
            if delay is not None:
                self.start(Received(update.update_id, update.raw, update.attempts + 1), retry_in=delay)
        finally:
            self._inflight.leave()

    async def replay(self) -> int:
        """Start the updates stored before a crash and neither handled nor set aside, oldest first."""
        pending = await self._received.unhandled()
        for stored in pending:
            log.info("update %s arrived before a restart and was not handled yet; handling it now", stored.update_id)
            try:
                raw = json.loads(stored.payload)
            except (TypeError, ValueError) as error:
                await self._set_aside(stored.update_id, f"stored payload is not JSON: {error}")
                continue
            self.start(Received(stored.update_id, raw, stored.attempts))
        return len(pending)

    async def cancel_running(self) -> int:
        """Cut off handlers still running when shutdown's grace period is over. Their units of work roll back and
        their updates stay unhandled in the database, to be handled after the restart from their start."""
        running = [task for task in self._tasks if not task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        return len(running)

    async def _handle_counted(self, update: Received, retry_in: float) -> None:
        try:
            attempts = update.attempts
            if retry_in:
                await asyncio.sleep(retry_in)
            while (delay := await self._attempt_safely(Received(update.update_id, update.raw, attempts))) is not None:
                await asyncio.sleep(delay)
                attempts += 1
        finally:
            self._inflight.leave()

    async def _attempt_safely(self, update: Received) -> float | None:
        """One attempt; the delay before the next one, or None when the update is done with (handled, set aside).
        The bookkeeping of a failure can fail too (the database gone): the update is then simply tried again."""
        try:
            return await self._attempt(update)
        except Exception:
            log.exception("update %s: its attempt could not be recorded; trying again", update.update_id)
            return _retry_delay(len(RETRY_DELAYS_SECONDS))

    async def _attempt(self, update: Received) -> float | None:
        """One attempt: None when handled or set aside, else the delay before it is tried again."""
        try:
            parsed = Update.model_validate(update.raw, context={"bot": self._bot})
        except ValidationError as error:
            await self._set_aside(update.update_id, f"cannot be parsed: {_first_line(error)}")
            return None
        outcome = UpdateOutcome(final=update.attempts + 1 >= MAX_HANDLING_ATTEMPTS)
        changed = UpdateChanges()
        try:
            async with self._in_turn.held(_person_of(parsed)), self._db.unit_of_work():
                with self._conversations.changes_of_one_update() as changed:
                    try:
                        async with asyncio.timeout(ATTEMPT_TIMEOUT_SECONDS):
                            await self._dispatcher.feed_update(self._bot, parsed, update_outcome=outcome)
                    except Exception as error:  # what escaped the dispatcher's error handler, or the time limit
                        outcome.failed(error)
                if outcome.failure is not None:
                    raise HandlerFailed from outcome.failure
                await self._conversations.write_changes(changed)
                await self._received.mark_handled(update.update_id, self._clock.now())
        except asyncio.CancelledError:
            self._conversations.drop_changes(changed)  # handled again after the restart, from where it began
            raise
        except Exception as error:
            self._conversations.drop_changes(changed)
            failure = outcome.failure or error
            return await self._failed(update, failure)
        return None

    async def _failed(self, update: Received, failure: BaseException) -> float | None:
        reason = f"{type(failure).__name__}: {failure}"
        attempts = await self._received.failed_attempt(update.update_id, reason)
        if attempts >= MAX_HANDLING_ATTEMPTS:
            await self._set_aside(update.update_id, f"failed {attempts} times; last: {reason}")
            return None
        delay = max(_retry_delay(attempts - 1), float(getattr(failure, "retry_after", 0) or 0))
        log.warning("update %s failed (attempt %d of %d), rolled back, to be tried again in %.0f s: %s",
                    update.update_id, attempts, MAX_HANDLING_ATTEMPTS, delay, reason)
        return delay

    async def _set_aside(self, update_id: int, reason: str) -> None:
        await self._received.set_aside(update_id, reason, self._clock.now())
        log.error("update %s set aside: %s", update_id, reason)


def _retry_delay(failed_before: int) -> float:
    return RETRY_DELAYS_SECONDS[min(max(failed_before, 0), len(RETRY_DELAYS_SECONDS) - 1)]


def _first_line(error: ValidationError) -> str:
    details = error.errors()
    if not details:
        return str(error).splitlines()[0]
    first = details[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{error.error_count()} problem(s), first at {where}: {first.get('msg')}"


async def poll(bot: Bot, intake: UpdateIntake, stop: asyncio.Event, allowed_updates: list[str],
               timeout: int) -> None:
    """Long-poll until `stop` is set; each batch is stored before the next request confirms it to Telegram."""
    backoff = Backoff(RETRY_BACKOFF)
    offset: int | None = None
    store_attempts = 0  # how many times the batch at this offset was offered to the database
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            fetch = asyncio.create_task(bot(
                GetRawUpdates(offset=offset, timeout=timeout, allowed_updates=allowed_updates),
                request_timeout=timeout + int(bot.session.timeout),
            ))
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fetch
                break
            try:
                items = fetch.result()
                store_attempts += 1
                fresh = await intake.accept(items, store_attempts)
            except Exception as error:
                log.error("could not fetch or store updates: %s: %s; retrying in %.1f s",
                          type(error).__name__, error, backoff.next_delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopping), next(backoff))
                continue
            store_attempts = 0
            if backoff.counter:
                log.info("updates are coming in again")
                backoff.reset()
            ids = [item["update_id"] for item in items if isinstance(item, dict) and type(item.get("update_id")) is int]
            if ids:
                offset = max(ids) + 1
            for update in fresh:
                intake.start(update)
    finally:
        stopping.cancel()
