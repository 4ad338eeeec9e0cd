"""How updates come in: written down before Telegram is told they arrived, handled, then marked handled.

Telegram counts an update as delivered once the next getUpdates asks for a higher offset (or, with a webhook,
once the request is answered). aiogram's own polling asks for the next batch while handlers still run, so a
crash in the middle of a handler used to lose that update. Here every batch is stored in `received_updates`
in one transaction first; the offset moves only after that. A restart handles whatever was stored but never
marked handled, and an update Telegram sends twice is recognised by its update_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.clock import Clock
from bot.middlewares import InFlight
from bot.storage.fsm import SQLiteStorage, UpdateChanges
from bot.storage.received import ReceivedUpdates

log = logging.getLogger(__name__)

# After a failed getUpdates (network, Telegram's 5xx, a second instance polling): wait, growing, then retry.
RETRY_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


class UpdateIntake:
    def __init__(self, dispatcher: Dispatcher, bot: Bot, received: ReceivedUpdates, conversations: SQLiteStorage,
                 clock: Clock, inflight: InFlight) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._conversations = conversations
        self._received = received
        self._clock = clock
        self._inflight = inflight
        self._tasks: set[asyncio.Task[None]] = set()

    async def accept(self, updates: Sequence[Update]) -> list[Update]:
        """Store the updates not seen before (one transaction) and return them; the rest are skipped."""
        payloads = [(u.update_id, u.model_dump_json(by_alias=True, exclude_none=True)) for u in updates]
        new_ids = await self._received.record(payloads, self._clock.now())
        for update in updates:
            if update.update_id not in new_ids:
                log.info("update %s was received before (Telegram sent it again); skipped", update.update_id)
        return [u for u in updates if u.update_id in new_ids]

    def start(self, update: Update) -> None:
        """Handle in the background; the task is kept so it is not garbage-collected mid-way."""
        self._inflight.enter()
        task = asyncio.create_task(self._handle_counted(update), name=f"update-{update.update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(self, update: Update) -> None:
        """Handle now (the webhook answers Telegram only after this)."""
        self._inflight.enter()
        await self._handle_counted(update)

    async def replay(self) -> int:
        """Start the updates stored before a crash and never handled, oldest first; returns how many."""
        pending = await self._received.unhandled()
        for update_id, payload in pending:
            try:
                update = Update.model_validate_json(payload, context={"bot": self._bot})
            except ValueError:  # e.g. stored by an older version in a shape this one cannot read
                log.exception("update %s stored before a restart cannot be read; dropped", update_id)
                await self._received.mark_handled(update_id, self._clock.now())
                continue
            log.info("update %s arrived before a restart and was not handled yet; handling it now", update_id)
            self.start(update)
        return len(pending)

    async def cancel_running(self) -> int:
        """Cut off handlers still running when shutdown's grace period is over. Their updates stay unhandled in
        the database and are handled after the restart, rather than half-done under a closing database."""
        running = [task for task in self._tasks if not task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        return len(running)

    async def _handle_counted(self, update: Update) -> None:
        changed = UpdateChanges()
        try:
            with self._conversations.changes_of_one_update() as changed:
                try:
                    await self._dispatcher.feed_update(self._bot, update)
                except Exception:
                    # The dispatcher's error handler answers the person; this is only what escaped it.
                    log.exception("update %s failed", update.update_id)
            await self._conversations.write_changes(changed)
            # Marked even when it failed: an update that breaks a handler must not break every restart too.
            await self._received.mark_handled(update.update_id, self._clock.now())
        except asyncio.CancelledError:
            self._conversations.drop_changes(changed)  # handled again after the restart, from where it began
            raise
        finally:
            self._inflight.leave()


async def poll(bot: Bot, intake: UpdateIntake, stop: asyncio.Event, allowed_updates: list[str],
               timeout: int) -> None:
    """Long-poll until `stop` is set; each batch is stored before the next request confirms it to Telegram."""
    backoff = Backoff(RETRY_BACKOFF)
    offset: int | None = None
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            fetch = asyncio.create_task(bot.get_updates(
                offset=offset, timeout=timeout, allowed_updates=allowed_updates,
                request_timeout=timeout + int(bot.session.timeout),
            ))
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fetch
                break
            try:
                updates = fetch.result()
                fresh = await intake.accept(updates)
            except Exception as error:
                log.error("could not fetch or store updates: %s: %s; retrying in %.1f s",
                          type(error).__name__, error, backoff.next_delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopping), next(backoff))
                continue
            if backoff.counter:
                log.info("updates are coming in again")
                backoff.reset()
            if updates:
                offset = updates[-1].update_id + 1
            for update in fresh:
                intake.start(update)
    finally:
        stopping.cancel()
