"""Updates generated from the Bot API spec, thousands of them, through the bot's real polling intake.

Hand-written people send what we thought of; Telegram sends every optional field, nested objects, union variants
and link_preview_options nobody asked for (issue #13: one such field stopped the bot for everyone). Here every
update kind the bot subscribes to is generated from the spec (tests/e2e/spec_updates.py), about known chats and
people, and pushed into the fake; the real aiogram Bot fetches them as it fetches Telegram's.

What must hold afterwards:
- the bot fetched past all of them and still answers a person's /help (no update blocks another);
- each generated update is in `received_updates` and none is left there unhandled (or, once the intake sets
  poison aside, neither handled nor set aside);
- `PRAGMA integrity_check` is ok; no ERROR line but "set aside" ones (the `running_bot` fixture); no Bot API
  violation in the bot's answers (the `telegram` fixture).

Reproduce a run with `SPEC_FUZZ_SEED=<seed printed on failure> .venv/bin/pytest tests/e2e/test_spec_fuzz.py`.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from tests.e2e.conftest import LogCapture, RunningBot, seed_from_env
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser
from tests.e2e.spec_updates import Hooks, Pool, SpecUpdates

SPEC_FUZZ_UPDATES = 5000
# Generous bounds for a shared 2-core machine; only how long to wait, never asserted as a duration. A bot whose
# intake is stuck makes no progress at all, so waiting ends once nothing moved for STALL_TIMEOUT.
STALL_TIMEOUT = 30.0
HANDLED_TIMEOUT = 120.0
REQUIRED_KINDS = {"message", "edited_message", "callback_query", "my_chat_member"}


async def build_pool(telegram: FakeTelegram) -> tuple[Pool, PrivateUser]:
    """Two people with workspaces, one who only started the bot, one it has never seen, and a group."""
    alice, boris = telegram.private_user("Alice", "en"), telegram.private_user("Борис", "ru")
    carl, stranger = telegram.private_user("Carl", None), telegram.private_user("Olá", "pt-br")
    for person, workspace in ((alice, "Spec A"), (boris, "Spec B")):
        await person.start()
        await person.send(workspace)
    await carl.start()
    group = telegram.group("Spec group", language_code="en")
    group.add_member(alice, "creator")
    group.add_member(boris, "member")
    await group.add_bot(alice)
    await group.send(alice, "/help")
    people = [alice, boris, carl, stranger]
    pressable = sorted({data for chat in telegram.chats.values() for message in chat.messages.values()
                        for version in (message, *message.history) for _text, data in version.buttons
                        if data and not data.startswith(("http://", "https://", "tg://"))})
    commands = sorted({c["command"] for lists in telegram.commands.values() for c in lists})
    pool = Pool(bot_user=telegram.bot_user, users=[p.user for p in people], groups=[group.chat.to_dict()],
                members={group.id: [alice.user, boris.user]}, commands=commands, callback_data=pressable,
                now=int(telegram.now()))
    return pool, alice


async def wait_confirmed(telegram: FakeTelegram, last: int) -> bool:
    """Wait until the bot has confirmed (fetched past) update `last`, as long as it keeps making progress."""
    while telegram.confirmed_update_id < last:
        reached = telegram.confirmed_update_id
        if not await telegram.wait_until(lambda at=reached: telegram.confirmed_update_id > at, STALL_TIMEOUT):
            return False
    return True


async def wait_all_handled(running_bot: RunningBot, first: int, last: int) -> list[tuple]:
    """Wait until every generated update is handled or set aside; returns those still pending at the deadline."""
    sql = ("SELECT update_id FROM received_updates WHERE update_id BETWEEN ? AND ? "
           "AND handled_at IS NULL AND set_aside_at IS NULL")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANDLED_TIMEOUT
    pending = await running_bot.query(sql, (first, last))
    while pending and loop.time() < deadline:
        await asyncio.sleep(0.25)
        pending = await running_bot.query(sql, (first, last))
    return pending


@pytest.mark.long
async def test_updates_generated_from_the_spec_all_go_through(
    telegram: FakeTelegram, running_bot: RunningBot, bot_logs: LogCapture
) -> None:
    seed = seed_from_env("SPEC_FUZZ_SEED", "tests/e2e/test_spec_fuzz.py")
    running_bot.allowed_error_patterns.append("set aside")  # poison updates are logged at ERROR and skipped
    app = running_bot.app
    assert app is not None
    subscribed = set(app.dispatcher.resolve_used_update_types())
    polled = telegram.allowed_updates  # what the open getUpdates asked for
    assert polled == subscribed, f"the bot polls for {sorted(polled)} but handles {sorted(subscribed)}"
    assert subscribed >= REQUIRED_KINDS, f"the bot no longer subscribes to {REQUIRED_KINDS - subscribed}"

    pool, alice = await build_pool(telegram)
    hooks = Hooks(callback_id=telegram.new_callback, message_id=telegram.store_message)
    generator = SpecUpdates(random.Random(seed), pool, hooks)
    kinds = sorted(subscribed)
    pushed: dict[int, str] = {}
    for kind, payload in generator.updates(kinds, SPEC_FUZZ_UPDATES):
        update_id = telegram.push_received(kind, payload)
        assert update_id is not None, f"seed={seed}: the fake refused a {kind} the bot subscribed to"
        pushed[update_id] = kind
    first, last = min(pushed), max(pushed)
    print(f"pushed {dict(Counter(pushed.values()))}")

    assert await wait_confirmed(telegram, last), (
        f"seed={seed}: the bot is stuck: it confirmed updates up to {telegram.confirmed_update_id} of {first}..{last}"
        f" and nothing more for {STALL_TIMEOUT:.0f}s")
    pending = await wait_all_handled(running_bot, first, last)
    assert not pending, f"seed={seed}: {len(pending)} updates left unhandled, e.g. {pending[:5]}"

    answer = await alice.send("/help")
    assert answer.text, f"seed={seed}: no answer to /help after the generated updates"

    stored = {row[0] for row in await running_bot.query(
        "SELECT update_id FROM received_updates WHERE update_id BETWEEN ? AND ?", (first, last))}
    missing = sorted(set(pushed) - stored)
    assert not missing, f"seed={seed}: {len(missing)} updates never reached received_updates, e.g. {missing[:5]}"
    assert await running_bot.query("PRAGMA integrity_check") == [("ok",)], f"seed={seed}"
    set_aside = await running_bot.query(
        "SELECT count(*) FROM received_updates WHERE update_id BETWEEN ? AND ? AND set_aside_at IS NOT NULL",
        (first, last))
    print(f"set aside: {set_aside[0][0]} of {len(pushed)}")
    methods = Counter(call.method for call in telegram.calls)
    failed = Counter((call.method, (call.error or {}).get("description", "")[:60])
                     for call in telegram.calls if not call.ok)
    print(f"bot requests {dict(methods.most_common())}; refused {dict(failed.most_common(10))}")
    handlers = Counter(line.rpartition("handler=")[2] for line in bot_logs.lines if "handler=" in line)
    print(f"{len(handlers)} handlers reached: {', '.join(f'{h} {n}' for h, n in handlers.most_common())}")
