"""Flood control: the outbound lane against a fake Telegram that throttles much harder than the real one.

The lane is bot/plumbing/outbound.py with the running bot's real `Bot` (aiohttp session, HTTP to the fake server). The
server allows 4 messages a second overall, 1 a second per chat and 5 a minute per group — a quarter of
Telegram's ceilings — answers everything beyond with 429 and a retry_after, and also throws extra 429s. Time
runs SPEED times faster for the lane and the server alike, so a minute of throttling takes about a second.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from bot.plumbing.outbound import Outbound
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import Call, FakeTelegram, RateLimits

SPEED = 40.0
HARD = RateLimits(global_per_second=4, chat_per_second=1, group_per_minute=5)
MESSAGES_PER_CHAT = 8
TOLERANCE = 0.05  # seconds of server time: the two clocks are read a few microseconds apart


class FastClock:
    """Monotonic time running SPEED times faster than the wall clock, with a matching sleep."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.start = time.monotonic()

    def monotonic(self) -> float:
        return (time.monotonic() - self.start) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


def sends(calls: list[Call]) -> dict[int, list[Call]]:
    by_chat: dict[int, list[Call]] = defaultdict(list)
    for call in calls:
        if call.method == "sendMessage" and call.chat_id is not None:
            by_chat[call.chat_id].append(call)
    return by_chat


async def test_every_message_arrives_once_in_order_and_every_429_is_waited_out(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    assert running_bot.app is not None
    clock = FastClock(SPEED)
    telegram.now = lambda: 1_800_000_000 + clock.monotonic()  # type: ignore[method-assign]
    telegram.throttle(HARD)
    lane = Outbound(running_bot.app.bot, monotonic=clock.monotonic, sleep=clock.sleep)
    running_bot.app.retries.sleep = clock.sleep  # the session waits out each 429 on the same fast time

    groups = [telegram.group(f"Pilot {n}") for n in range(3)]
    people = [telegram.private_user(f"Creator{n}", language_code="en") for n in range(3)]
    for chat in [g.chat for g in groups] + [p.chat for p in people]:
        chat.known, chat.bot_status = True, "member"
    chat_ids = [g.chat.id for g in groups] + [p.id for p in people]
    telegram.fail_next(groups[0].chat.id, 429, "Too Many Requests: retry after 7", retry_after=7, times=2)
    telegram.fail_next(people[0].id, 429, "Too Many Requests: retry after 3", retry_after=3)
    before = len(telegram.calls)

    expected = {chat_id: [f"chat {chat_id} message {n}" for n in range(MESSAGES_PER_CHAT)] for chat_id in chat_ids}
    deliveries = await asyncio.wait_for(
        asyncio.gather(*(lane.send(chat_id, text) for chat_id in chat_ids for text in expected[chat_id])), 30
    )
    await lane.close()

    assert all(d.ok for d in deliveries), [d.error for d in deliveries if not d.ok]
    by_chat = sends(telegram.calls[before:])
    refused = [call for calls in by_chat.values() for call in calls if not call.ok]
    for chat_id in chat_ids:
        delivered = [call.params["text"] for call in by_chat[chat_id] if call.ok]
        assert delivered == expected[chat_id], f"chat {chat_id}: dropped, doubled or out of order"
        shown = [m.text for m in telegram.sent_to(chat_id)]
        assert shown == expected[chat_id]

    # The server really throttled: injected 429s and ones earned by going over its limits.
    assert len(refused) >= 3 + 5, f"only {len(refused)} 429s: the test did not throttle"
    assert all(call.error and call.error["error_code"] == 429 for call in refused)
    for calls in by_chat.values():
        for index, call in enumerate(calls):
            if call.ok:
                continue
            wait = call.error["parameters"]["retry_after"]  # type: ignore[index]
            for later in calls[index + 1 :]:
                assert later.server_time >= call.server_time + wait - TOLERANCE, (
                    f"chat {call.chat_id}: asked again {later.server_time - call.server_time:.2f} s after a 429 "
                    f"that said to wait {wait} s"
                )
    # Within the limits it was given, the lane kept to them on its own for most messages.
    assert len(refused) < len(deliveries)
