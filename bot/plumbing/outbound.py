"""The single lane for every push the bot makes on its own (prompts, reminders, digests, notices).

Telegram's limits: about 30 messages a second overall, 20 a minute in one group, about 1 a second in one
chat. Each chat has its own queue and worker, so a chat that is paused (a 429, waited out by the session's
retries in bot/plumbing/telegram_retries.py) or gone (a 403) never holds up the others; one global spacing keeps the
total under the overall ceiling. Time is injected (a monotonic clock and a sleep function) so tests drive it
without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import Context
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
)
from aiogram.types import InlineKeyboardMarkup, ReplyParameters

log = logging.getLogger(__name__)

# Telegram: "no more than 30 messages per second" overall; 28 leaves room for jitter on the wire.
GLOBAL_PER_SECOND = 28
# Telegram: "no more than 20 messages per minute to the same group".
GROUP_PER_MINUTE = 20
GROUP_WINDOW_SECONDS = 60.0
# Telegram: "avoid sending more than one message per second" to one chat; a little margin on top.
CHAT_INTERVAL_SECONDS = 1.05
# Margin added to a sliding-window wait, so clock skew between us and the server never trips the limit.
WINDOW_MARGIN_SECONDS = 0.5

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
ChatGone = Callable[[int], Awaitable[None]]
ChatMoved = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one message: sent (with its id and the chat it ended up in) or not, and why."""

    chat_id: int
    message_id: int | None = None
    forbidden: bool = False
    error: str | None = None
    # The lane closed (shutdown) before Telegram answered: the message may or may not have left, nothing refused
    # it; a caller that must not lose it leaves it for the restart.
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return self.message_id is not None


@dataclass
class _Item:
    text: str
    markup: InlineKeyboardMarkup | None
    reply_to: int | None
    future: asyncio.Future[Delivery]
    before_first_try: Callable[[], Awaitable[None]] | None = None


@dataclass
class _ChatLane:
    chat_id: int
    queue: deque[_Item] = field(default_factory=deque)
    sent: deque[float] = field(default_factory=deque)  # send times within the group window
    last_sent: float | None = None
    task: asyncio.Task[None] | None = None

    @property
    def is_group(self) -> bool:
        return self.chat_id < 0  # groups, supergroups and channels have negative ids


class Outbound:
    """`await outbound.send(chat_id, text)` → Delivery; never raises for Telegram's refusals."""

    def __init__(
        self,
        bot: Any,
        *,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        global_per_second: float = GLOBAL_PER_SECOND,
        group_per_minute: int = GROUP_PER_MINUTE,
        chat_interval: float = CHAT_INTERVAL_SECONDS,
    ) -> None:
        self._bot: Bot = bot
        self._now = monotonic
        self._sleep = sleep
        self._spacing = 1.0 / global_per_second
        self._group_per_minute = group_per_minute
        self._chat_interval = chat_interval
        self._next_slot = 0.0
        self._last_request = float("-inf")
        self._lanes: dict[int, _ChatLane] = {}
        self._closed = False
        # Set by the composition root: what to do when a chat is gone (403) or became a supergroup.
        self.on_forbidden: ChatGone | None = None
        self.on_migrated: ChatMoved | None = None
        self.sent_count = 0

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        before_first_try: Callable[[], Awaitable[None]] | None = None,
    ) -> Delivery:
        """Queue one message behind the chat's earlier ones and wait for its fate.

        `before_first_try` runs once, right before the first request for this message leaves (after all the
        waiting): a caller that must know whether a crash caught the message queued or in flight records it."""
        if self._closed:
            return Delivery(chat_id, error="outbound lane closed", interrupted=True)
        future: asyncio.Future[Delivery] = asyncio.get_running_loop().create_future()
        self._enqueue(chat_id, _Item(text, reply_markup, reply_to, future, before_first_try=before_first_try))
        return await future

    async def send_many(self, chat_id: int, texts: list[str], *, reply_to: int | None = None) -> list[Delivery]:
        """Several messages to one chat, in order (a long digest in parts); stops after a failure."""
        results = []
        for text in texts:
            delivery = await self.send(chat_id, text, reply_to=reply_to)
            results.append(delivery)
            if not delivery.ok:
                break
            chat_id = delivery.chat_id
        return results

    def pending(self) -> int:
        return sum(len(lane.queue) for lane in self._lanes.values())

    async def close(self) -> None:
        """Stop the workers; whatever is still queued is reported as not delivered."""
        self._closed = True
        tasks = [lane.task for lane in self._lanes.values() if lane.task and not lane.task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for lane in self._lanes.values():
            self._fail_all(lane, Delivery(lane.chat_id, error="outbound lane closed", interrupted=True))
        self._lanes.clear()

    # internals

    def _enqueue(self, chat_id: int, item: _Item) -> None:
        lane = self._lanes.get(chat_id)
        if lane is None:
            lane = self._lanes[chat_id] = _ChatLane(chat_id)
        lane.queue.append(item)
        if lane.task is None or lane.task.done():
            # A context of its own: a worker first started by an update's handler serves later pushes too, and must
            # not carry that update's unit of work (or log context) along.
            lane.task = asyncio.create_task(self._drain(lane), name=f"outbound-{chat_id}", context=Context())

    async def _drain(self, lane: _ChatLane) -> None:
        try:
            while lane.queue:
                try:
                    await self._deliver(lane, lane.queue[0])
                except Exception as error:  # a bug must not leave the senders waiting forever
                    log.exception("chat %s: sending failed unexpectedly", lane.chat_id)
                    if lane.queue:
                        self._finish(lane, Delivery(lane.chat_id, error=f"{type(error).__name__}: {error}"))
        finally:
            if not lane.queue and self._lanes.get(lane.chat_id) is lane and self._idle(lane):
                del self._lanes[lane.chat_id]  # forget quiet chats, so 10,000 groups cost nothing between rounds

    def _idle(self, lane: _ChatLane) -> bool:
        """Nothing queued and nothing the limits still need to remember."""
        if not lane.sent and lane.last_sent is None:
            return True
        now = self._now()
        last = lane.last_sent or 0.0
        return now - last >= GROUP_WINDOW_SECONDS

    async def _wait_for_chat(self, lane: _ChatLane) -> None:
        """Sleep until this chat may receive another message."""
        while True:
            now = self._now()
            ready = now
            if lane.last_sent is not None:
                ready = max(ready, lane.last_sent + self._chat_interval)
            if lane.is_group:
                while lane.sent and now - lane.sent[0] >= GROUP_WINDOW_SECONDS:
                    lane.sent.popleft()
                if len(lane.sent) >= self._group_per_minute:
                    ready = max(ready, lane.sent[0] + GROUP_WINDOW_SECONDS + WINDOW_MARGIN_SECONDS)
            if ready <= now:
                return
            await self._sleep(ready - now)

    async def _global_slot(self) -> None:
        """Reserve the next free slot of the overall rate and sleep until it comes (first come, first served)."""
        now = self._now()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self._spacing
        if slot > now:
            await self._sleep(slot - now)

    async def _keep_spacing(self) -> None:
        """At least the overall spacing since the last request that left (a reservation, like the slots)."""
        now = self._now()
        at = max(now, self._last_request + self._spacing)
        self._last_request = at
        if at > now:
            await self._sleep(at - now)

    async def _deliver(self, lane: _ChatLane, item: _Item) -> None:
        await self._wait_for_chat(lane)
        await self._global_slot()
        if item.before_first_try is not None:
            first, item.before_first_try = item.before_first_try, None
            await first()
            await self._keep_spacing()  # the callback's own time may have bunched this send with the next one
        self._last_request = max(self._last_request, self._now())
        try:
            message = await self._bot.send_message(
                chat_id=lane.chat_id,
                text=item.text,
                reply_markup=item.markup,
                reply_parameters=(
                    ReplyParameters(message_id=item.reply_to, allow_sending_without_reply=True)
                    if item.reply_to
                    else None
                ),
            )
        except TelegramForbiddenError as error:
            log.info("chat %s: 403 (%s); the chat is marked inactive", lane.chat_id, error.message)
            self._fail_all(lane, Delivery(lane.chat_id, forbidden=True, error=error.message))
            if self.on_forbidden is not None:
                try:
                    await self.on_forbidden(lane.chat_id)
                except Exception:
                    log.exception("handling the 403 of chat %s failed", lane.chat_id)
            return
        except TelegramMigrateToChat as error:
            new_id = error.migrate_to_chat_id
            log.info("chat %s became supergroup %s; the message follows it", lane.chat_id, new_id)
            lane.queue.popleft()
            moved = list(lane.queue)
            lane.queue.clear()
            # Queued under the new id first: whoever waits for these messages (an update's handler holding the
            # database writer, say) must not wait on the database write below.
            for pending in (item, *moved):
                self._enqueue(new_id, pending)
            if self.on_migrated is not None:
                try:
                    await self.on_migrated(lane.chat_id, new_id)
                except Exception:
                    log.exception("moving chat %s to %s failed", lane.chat_id, new_id)
            return
        except TelegramAPIError as error:
            # A bad request, or a 429/5xx/network error the session's retries (bot/plumbing/telegram_retries.py)
            # gave up on: this message only.
            log.warning("chat %s: message refused: %s", lane.chat_id, error)
            self._record(lane)
            self._finish(lane, Delivery(lane.chat_id, error=str(error)))
            return
        self._record(lane)
        self.sent_count += 1
        self._finish(lane, Delivery(lane.chat_id, message_id=message.message_id))

    def _record(self, lane: _ChatLane) -> None:
        now = self._now()
        lane.last_sent = now
        if lane.is_group:
            lane.sent.append(now)

    def _finish(self, lane: _ChatLane, delivery: Delivery) -> None:
        item = lane.queue.popleft()
        if not item.future.done():
            item.future.set_result(delivery)

    def _fail_all(self, lane: _ChatLane, delivery: Delivery) -> None:
        while lane.queue:
            item = lane.queue.popleft()
            if not item.future.done():
                item.future.set_result(delivery)
