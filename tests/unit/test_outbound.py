"""The outbound lane against a fake bot, on virtual time: nothing here sleeps for real."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import SendMessage

from bot.plumbing.outbound import GLOBAL_PER_SECOND, Delivery, Outbound
from bot.plumbing.telegram_retries import MAX_RETRY_AFTERS, RETRY_AFTER_MAX_SECONDS, RetryRequests

T = TypeVar("T")
METHOD = SendMessage(chat_id=1, text="x")


class VirtualTime:
    """A monotonic clock and a sleep that only advance when every task is waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        await future

    async def run(self, awaitable: Awaitable[T]) -> T:
        task = asyncio.ensure_future(awaitable)
        while not task.done():
            for _ in range(20):
                await asyncio.sleep(0)
            if task.done():
                break
            assert self._sleepers, "deadlock: nothing sleeps and nothing finishes"
            wake, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            future.set_result(None)
        return task.result()


class FakeBot:
    """Sends through the same retrying session middleware as the real bot's, on virtual time."""

    def __init__(self, time: VirtualTime) -> None:
        self.time = time
        self.sent: list[tuple[float, int, str]] = []
        self.faults: dict[int, list[Exception]] = {}
        self.calls = 0
        self.retries = RetryRequests(sleep=time.sleep)

    async def send_message(self, chat_id: int, text: str, **_: Any) -> SimpleNamespace:
        async def request(bot: Any, method: Any) -> SimpleNamespace:
            self.calls += 1
            await asyncio.sleep(0)
            pending = self.faults.get(chat_id)
            if pending:
                raise pending.pop(0)
            self.sent.append((self.time.now, chat_id, text))
            return SimpleNamespace(message_id=len(self.sent))

        return await self.retries(request, self, SendMessage(chat_id=chat_id, text=text))  # type: ignore[arg-type]

    def times(self, chat_id: int) -> list[float]:
        return [t for t, chat, _ in self.sent if chat == chat_id]


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def bot(time: VirtualTime) -> FakeBot:
    return FakeBot(time)


@pytest.fixture
def lane(bot: FakeBot, time: VirtualTime) -> Outbound:
    return Outbound(bot, monotonic=time.monotonic, sleep=time.sleep)


def most_in_window(times: list[float], window: float) -> int:
    return max((sum(1 for u in times if t <= u < t + window - 1e-9) for t in times), default=0)


async def test_the_overall_rate_stays_under_thirty_a_second(bot: FakeBot, time: VirtualTime, lane: Outbound) -> None:
    chats = range(1, 201)
    results = await time.run(asyncio.gather(*(lane.send(chat, "prompt") for chat in chats)))
    assert all(r.ok for r in results) and len(bot.sent) == 200
    times = [t for t, _, _ in bot.sent]
    assert most_in_window(times, 1.0) <= 30
    assert 200 / (max(times) + 1 / 28) >= 27  # close to the ceiling, not far below it


async def test_one_chat_gets_at_most_one_message_a_second(bot: FakeBot, time: VirtualTime, lane: Outbound) -> None:
    await time.run(lane.send_many(42, [f"part {i}" for i in range(5)]))
    times = bot.times(42)
    assert [text for _, _, text in bot.sent] == [f"part {i}" for i in range(5)]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))


async def test_a_group_gets_at_most_twenty_a_minute(bot: FakeBot, time: VirtualTime, lane: Outbound) -> None:
    await time.run(asyncio.gather(*(lane.send(-100, f"m{i}") for i in range(25))))
    times = bot.times(-100)
    assert [text for _, _, text in bot.sent] == [f"m{i}" for i in range(25)]  # order kept
    assert most_in_window(times, 60.0) <= 20
    assert times[20] - times[0] >= 60


async def test_a_429_waits_retry_after_for_that_chat_only(bot: FakeBot, time: VirtualTime, lane: Outbound) -> None:
    bot.faults[-1] = [TelegramRetryAfter(METHOD, "Too Many Requests: retry after 5", retry_after=5)]
    results = await time.run(asyncio.gather(*(lane.send(chat, "prompt") for chat in (-1, -2, -3, -4))))
    assert all(r.ok for r in results)
    assert bot.times(-1)[0] >= 5
    assert all(bot.times(chat)[0] < 1 for chat in (-2, -3, -4))
    assert len(bot.times(-1)) == 1 and bot.calls == 5


async def test_a_403_marks_the_chat_gone_once_and_the_others_carry_on(
    bot: FakeBot, time: VirtualTime, lane: Outbound
) -> None:
    gone: list[int] = []

    async def on_forbidden(chat_id: int) -> None:
        gone.append(chat_id)

    lane.on_forbidden = on_forbidden
    bot.faults[-2] = [TelegramForbiddenError(METHOD, "Forbidden: bot was kicked from the group chat")]
    sends = [lane.send(-2, "first"), lane.send(-2, "second"), lane.send(-1, "a"), lane.send(-3, "b")]
    results: list[Delivery] = await time.run(asyncio.gather(*sends))
    assert gone == [-2]
    assert [r.forbidden for r in results] == [True, True, False, False]
    assert results[2].ok and results[3].ok and bot.times(-2) == []


async def test_a_migrated_group_gets_the_message_once_under_its_new_id(
    bot: FakeBot, time: VirtualTime, lane: Outbound
) -> None:
    moved: list[tuple[int, int]] = []

    async def on_migrated(old: int, new: int) -> None:
        moved.append((old, new))

    lane.on_migrated = on_migrated
    bot.faults[-7] = [TelegramMigrateToChat(METHOD, "group chat was upgraded", migrate_to_chat_id=-1007)]
    results = await time.run(asyncio.gather(lane.send(-7, "prompt"), lane.send(-7, "digest")))
    assert moved == [(-7, -1007)]
    assert [r.chat_id for r in results] == [-1007, -1007] and all(r.ok for r in results)
    assert [text for _, chat, text in bot.sent if chat == -1007] == ["prompt", "digest"]


async def test_repeated_429s_are_waited_out_without_holding_up_others(
    bot: FakeBot, time: VirtualTime, lane: Outbound
) -> None:
    bot.faults[-1] = [TelegramRetryAfter(METHOD, "retry", retry_after=2) for _ in range(MAX_RETRY_AFTERS)]
    stubborn, other = await time.run(asyncio.gather(lane.send(-1, "x"), lane.send(-2, "y")))
    assert stubborn.ok and bot.times(-1)[0] >= 2 * MAX_RETRY_AFTERS
    assert other.ok and bot.times(-2)[0] < 1


async def test_a_429_asking_for_more_than_a_minute_gives_the_message_up(
    bot: FakeBot, time: VirtualTime, lane: Outbound
) -> None:
    bot.faults[-1] = [TelegramRetryAfter(METHOD, "retry", retry_after=RETRY_AFTER_MAX_SECONDS + 1)]
    refused, next_one = await time.run(asyncio.gather(lane.send(-1, "x"), lane.send(-1, "y")))
    assert not refused.ok and "retry" in (refused.error or "")
    assert next_one.ok


async def test_network_errors_are_retried(bot: FakeBot, time: VirtualTime, lane: Outbound) -> None:
    bot.faults[5] = [TelegramNetworkError(METHOD, "timeout"), TelegramNetworkError(METHOD, "timeout")]
    result = await time.run(lane.send(5, "hello"))
    assert result.ok and bot.calls == 3


async def test_closing_reports_what_was_still_queued(bot: FakeBot, time: VirtualTime, lane: Outbound) -> None:
    async def scenario() -> list[Delivery]:
        sends = [asyncio.ensure_future(lane.send(-1, f"m{i}")) for i in range(3)]
        await time.sleep(0.5)  # the first is out; the others wait for the per-chat second
        await lane.close()
        return list(await asyncio.gather(*sends))

    first, *rest = await time.run(scenario())
    assert first.ok and not first.interrupted
    assert not any(r.ok for r in rest) and all(r.interrupted for r in rest)  # not refused: left for the restart
    late = await lane.send(-1, "late")
    assert late.error == "outbound lane closed" and late.interrupted


async def test_an_unexpected_error_fails_that_message_only(bot: FakeBot, time: VirtualTime, lane: Outbound) -> None:
    bot.faults[4] = [RuntimeError("a bug in a layer below")]
    broken, after = await time.run(asyncio.gather(lane.send(4, "x"), lane.send(4, "y")))
    assert not broken.ok and not broken.interrupted and "a bug in a layer below" in (broken.error or "")
    assert after.ok and [text for _, chat, text in bot.sent if chat == 4] == ["y"]


async def test_a_slow_before_first_try_never_bunches_sends_over_the_overall_rate(
    bot: FakeBot, time: VirtualTime, lane: Outbound
) -> None:
    marked: list[int] = []

    def recorder(chat_id: int, delay: float) -> Callable[[], Awaitable[None]]:
        async def record() -> None:
            await time.sleep(delay)  # e.g. a database write waiting for its lock
            marked.append(chat_id)
        return record

    # The first in line is held longest, so without care the sends would all leave together.
    sends = [lane.send(chat, "x", before_first_try=recorder(chat, 0.3 - chat * 0.01)) for chat in range(1, 21)]
    assert all(d.ok for d in await time.run(asyncio.gather(*sends)))
    assert sorted(marked) == list(range(1, 21))
    times = sorted(t for t, _, _ in bot.sent)
    assert all(b - a >= 1 / GLOBAL_PER_SECOND - 1e-9 for a, b in itertools.pairwise(times))
