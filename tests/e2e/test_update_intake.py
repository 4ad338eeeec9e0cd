"""What Telegram really sends reaches the handlers; what cannot be handled is set aside, never blocking the rest.

Telegram echoes `link_preview_options` in every message the bot sent with previews disabled, so it comes back in
`callback_query.message` of every later button press; a person's own message with a link carries it too. aiogram
cannot dump such an Update again (its LinkPreviewOptions holds Default placeholders: aiogram #1450, #1643), which
used to stop the intake at the first button press. Here those updates are built by hand, exactly as Telegram
sends them, and played in polling and webhook mode, across a restart.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import LogCapture, RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser, Watch, push_callback, text_entities

PREVIEW_OFF = {"is_disabled": True}
LINK = "https://brand.example.com/case"


def with_preview(payload: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "link_preview_options": options}


def press_on_echo(telegram: FakeTelegram, user: PrivateUser, label: str) -> int | None:
    """A press on the newest message with that button, its message carrying what Telegram echoes."""
    message = next(m for m in reversed(telegram.sent_to(user.id)) if any(label in t for t, _ in m.buttons))
    data = next(d for t, d in message.buttons if label in t)
    original = message.to_dict

    def echoed(*, nested: bool = True) -> dict[str, Any]:
        return with_preview(original(nested=nested), PREVIEW_OFF)

    message.to_dict = echoed  # type: ignore[method-assign]
    try:
        return push_callback(telegram, user.chat, user.user, message, data or "")
    finally:
        del message.to_dict


def say_with_link(telegram: FakeTelegram, user: PrivateUser, text: str) -> int | None:
    """A person's message with a link and the preview their client showed."""
    message = telegram.add_message(user.chat, user.user, text=text, entities=text_entities(text))
    payload = with_preview(message.to_dict(), {"url": LINK, "prefer_small_media": True})
    return telegram.push_update("message", payload)


async def answered(telegram: FakeTelegram, user: PrivateUser, push: Any) -> list[str]:
    watch = Watch(telegram, {user.id})
    assert push() is not None
    assert await telegram.wait_until(lambda: any(c.ok and c.method != "answerCallbackQuery"
                                                 for c in watch.calls()), 10), "no answer"
    await watch.settle()
    return [c.method for c in watch.calls()]


async def test_presses_on_echoed_messages_and_messages_with_previews_are_answered_across_a_restart(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna = telegram.private_user("Anna", language_code="en")
    boris = telegram.private_user("Boris", language_code="ru")
    await anna.start()
    await anna.send("Preview Lab")
    for _ in range(2):
        calls = await answered(telegram, anna, lambda: press_on_echo(telegram, anna, "Partners"))
        assert "answerCallbackQuery" in calls
        await answered(telegram, anna, lambda: say_with_link(telegram, anna, f"/help {LINK}"))
        assert "/newpartner" in (await boris.send("/help")).text  # another person, right after
        await running_bot.restart()
    rows = await running_bot.query("SELECT count(*) FROM received_updates WHERE handled_at IS NULL")
    assert rows == [(0,)]
    assert await running_bot.query("SELECT count(*) FROM received_updates WHERE set_aside_at IS NOT NULL") == [(0,)]


async def test_a_poison_update_is_set_aside_and_the_next_ones_are_handled_also_after_a_restart(
    telegram: FakeTelegram, running_bot: RunningBot, bot_logs: LogCapture
) -> None:
    anna = telegram.private_user("Anna", language_code="en")
    poison = telegram.push_update("message", {"message_id": "not a number", "chat": {"id": anna.id}})
    assert "What I can do" in (await anna.send("/help")).text
    running_bot.allowed_errors = 1
    assert any(f"update {poison} set aside: cannot be parsed" in line for line in bot_logs.errors())
    rows = await running_bot.query(
        "SELECT set_aside_reason, payload IS NOT NULL FROM received_updates WHERE update_id = ?", (poison,))
    assert rows and "cannot be parsed" in rows[0][0] and rows[0][1] == 1  # kept for an operator
    await running_bot.restart()
    assert "What I can do" in (await anna.send("/help")).text
    assert len(bot_logs.errors()) == 1, "the set-aside update was tried again after the restart"
