"""Webhook mode: setWebhook with a secret, the secret header enforced, /health, re-delivery, clean shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import App, build_app
from bot.clock import ManualClock
from bot.config import Settings, load_settings
from tests.e2e.conftest import LogCapture
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser, text_entities
from tests.e2e.test_process import bot_env

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PUBLIC_URL = "https://most.example.test/tg"
PREVIEW_LINK = "https://brand.example.com/case"


def _with_preview(payload: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """What Telegram adds to a message sent with previews disabled, or to a person's message with a link."""
    return {**payload, "link_preview_options": options}


def message_update(telegram: FakeTelegram, user: PrivateUser, text: str, update_id: int) -> dict[str, Any]:
    """The update Telegram would POST for a text message; the fake's getUpdates queue is not involved."""
    user.chat.known, user.chat.bot_status = True, "member"
    message = telegram.add_message(user.chat, user.user, text=text, entities=text_entities(text))
    return {"update_id": update_id, "message": message.to_dict()}


class WebhookBot:
    """The bot as `python -m bot` builds it with WEBHOOK_URL set, serving on 127.0.0.1 (a free port)."""

    def __init__(self, telegram: FakeTelegram, data_dir: Path, clock: ManualClock) -> None:
        self.telegram = telegram
        self.settings: Settings = load_settings(
            bot_token=telegram.token,
            bot_api_url=telegram.base_url,
            database_path=data_dir / "most.db",
            backup_dir=data_dir / "backups",
            log_level="DEBUG",
            webhook_url=PUBLIC_URL,
            webhook_host="127.0.0.1",
            webhook_port=0,
        )
        self.clock = clock
        self.app: App | None = None
        self.task: asyncio.Task[None] | None = None
        self.allowed_error_patterns: list[str] = []  # ERROR lines the test expects

    async def start(self) -> None:
        before = len(self.telegram.calls_of("setWebhook"))
        self.app = await build_app(self.settings, clock=self.clock)
        self.task = asyncio.create_task(self.app.run(handle_signals=False))
        ok = await self.telegram.wait_until(lambda: len(self.telegram.calls_of("setWebhook")) > before, 10)
        assert ok, "the bot did not register its webhook"

    async def stop(self) -> None:
        if self.app is not None and self.task is not None:
            await self.app.stop()
            await asyncio.wait_for(self.task, 20)
            self.app, self.task = None, None

    @property
    def base(self) -> str:
        assert self.app is not None and self.app.webhook is not None and self.app.webhook.port
        return f"http://127.0.0.1:{self.app.webhook.port}"

    @property
    def hook(self) -> str:
        return self.base + self.settings.webhook_path()

    async def post(self, update: dict[str, Any], secret: str | None, path: str | None = None) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with aiohttp.ClientSession() as http, http.post(path or self.hook, json=update, headers=headers) as r:
            await r.read()
            return r.status

    async def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        assert self.app is not None
        return [tuple(row) for row in await self.app.db.fetchall(sql, params)]


@pytest.fixture
async def webhook_bot(
    telegram: FakeTelegram, tmp_path: Path, clock: ManualClock, bot_logs: LogCapture
) -> AsyncIterator[WebhookBot]:
    bot = WebhookBot(telegram, tmp_path, clock)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
    errors = [line for line in bot_logs.errors() if not any(p in line for p in bot.allowed_error_patterns)]
    assert not errors, "unexpected errors logged:\n" + "\n".join(errors)


async def test_webhook_is_registered_with_a_secret_and_polling_is_off(
    telegram: FakeTelegram, webhook_bot: WebhookBot
) -> None:
    (call,) = telegram.calls_of("setWebhook")
    settings = webhook_bot.settings
    assert call.params["url"] == settings.webhook_full_url()
    assert call.params["url"].startswith(PUBLIC_URL + "/webhook/") and len(call.params["url"]) > len(PUBLIC_URL) + 30
    assert call.params["secret_token"] == settings.webhook_secret_token()
    assert len(call.params["secret_token"]) >= 32
    secret_half = settings.bot_token.get_secret_value().partition(":")[2]
    assert secret_half not in call.params["url"] + call.params["secret_token"]
    assert {"message", "callback_query", "my_chat_member"} <= set(call.params["allowed_updates"])
    assert call.params.get("drop_pending_updates") in (False, None)
    assert telegram.webhook_url == call.params["url"]
    assert not telegram.calls_of("getUpdates")
    assert telegram.calls_of("setMyCommands"), "the start-up hooks ran as in polling"


async def test_only_requests_with_the_secret_header_are_handled(
    telegram: FakeTelegram, webhook_bot: WebhookBot, bot_logs: LogCapture
) -> None:
    anna = telegram.private_user("Anna", language_code="en")
    secret = webhook_bot.settings.webhook_secret_token()

    forged = message_update(telegram, anna, "/start", 900001)
    assert await webhook_bot.post(forged, None) in (401, 403)
    assert await webhook_bot.post(forged, "wrong-" + secret[6:]) in (401, 403)
    assert await webhook_bot.post(forged, secret, path=webhook_bot.base + "/webhook/guess") == 404
    assert not telegram.sent_to(anna.id), "a rejected request reached the bot"
    assert await webhook_bot.query("SELECT COUNT(*) FROM received_updates") == [(0,)]

    update = message_update(telegram, anna, "/start", 900002)
    assert await webhook_bot.post(update, secret) == 200  # answered after handling: the reply is already out
    greeting = telegram.sent_to(anna.id)
    assert len(greeting) == 1 and "workspace" in (greeting[0].text or "")
    handled = "SELECT update_id FROM received_updates WHERE handled_at IS NOT NULL AND payload IS NULL"
    assert await webhook_bot.query(handled) == [(900002,)]

    # Telegram re-sends an update whose request it saw fail; a handled one is skipped, not answered twice.
    assert await webhook_bot.post(update, secret) == 200
    assert len(telegram.sent_to(anna.id)) == 1

    named = message_update(telegram, anna, "Webhook Agency", 900003)
    assert await webhook_bot.post(named, secret) == 200
    assert await webhook_bot.query("SELECT name FROM workspaces") == [("Webhook Agency",)]

    # Operations: the lines of an update carry its id, its chat and the handler that took it.
    tagged = [line for line in bot_logs.lines if f"update=900002 chat={anna.id} handler=start.start" in line]
    assert tagged, "no log line of update 900002 names its chat and handler"


async def test_health_reports_db_and_scheduler(webhook_bot: WebhookBot) -> None:
    async with aiohttp.ClientSession() as http, http.get(webhook_bot.base + "/health") as response:
        assert response.status == 200
        assert await response.json() == {"ok": True, "db": True, "scheduler": True, "set_aside": 0}


async def test_stop_keeps_the_webhook_and_runs_the_shutdown_hooks(
    telegram: FakeTelegram, webhook_bot: WebhookBot, bot_logs: LogCapture
) -> None:
    url = telegram.webhook_url
    await webhook_bot.stop()
    assert telegram.webhook_url == url and not telegram.calls_of("deleteWebhook")
    assert any("Most stopped" in line for line in bot_logs.lines)
    # Restarting registers the same URL and secret again: Telegram's queue is picked up where it stopped.
    await webhook_bot.start()
    first, second = telegram.calls_of("setWebhook")
    assert (first.params["url"], first.params["secret_token"]) == (second.params["url"], second.params["secret_token"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_python_m_bot_serves_the_webhook_when_webhook_url_is_set(tmp_path: Path) -> None:
    async with FakeTelegram() as telegram:
        port = free_port()
        env = bot_env(
            tmp_path,
            BOT_TOKEN=telegram.token,
            BOT_API_URL=telegram.base_url,
            DATABASE_PATH=str(tmp_path / "most.db"),
            WEBHOOK_URL=PUBLIC_URL,
            WEBHOOK_HOST="127.0.0.1",
            WEBHOOK_PORT=str(port),
            LOG_LEVEL="DEBUG",
        )
        env.pop("WEBHOOK_SECRET", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert await telegram.wait_until(lambda: bool(telegram.calls_of("setWebhook")), 30), "no setWebhook"
            (call,) = telegram.calls_of("setWebhook")
            path = call.params["url"].removeprefix("https://most.example.test")
            anna = telegram.private_user("Anna", language_code="ru")
            update = message_update(telegram, anna, "/start", 700001)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/health") as response:
                    assert response.status == 200
                async with http.post(f"http://127.0.0.1:{port}{path}", json=update) as response:
                    assert response.status in (401, 403)
                headers = {SECRET_HEADER: call.params["secret_token"]}
                async with http.post(f"http://127.0.0.1:{port}{path}", json=update, headers=headers) as response:
                    assert response.status == 200
            assert telegram.sent_to(anna.id), "the webhook update was not answered"
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
        log = stderr.decode()
        assert process.returncode == 0, log[-2000:]
        assert "Most stopped" in log and "Traceback" not in log
        assert telegram.token.partition(":")[2] not in log
        assert call.params["secret_token"] not in log
        assert not telegram.calls_of("getUpdates") and not telegram.violations
        assert os.path.exists(tmp_path / "most.db")


async def test_webhook_takes_echoed_updates_and_refuses_what_is_not_an_update(
    telegram: FakeTelegram, webhook_bot: WebhookBot
) -> None:
    secret = webhook_bot.settings.webhook_secret_token()
    anna = telegram.private_user("Anna", language_code="en")
    greeting = message_update(telegram, anna, f"/start {PREVIEW_LINK}", 910001)
    assert await webhook_bot.post(with_preview_message(greeting), secret) == 200
    assert telegram.sent_to(anna.id), "the message with link_preview_options was not answered"
    menu = message_update(telegram, anna, "Hook Lab", 910002)
    assert await webhook_bot.post(menu, secret) == 200
    boris = telegram.private_user("Boris", language_code="ru")
    for round_, update_id in enumerate((910003, 910013)):
        screen = next(m for m in reversed(telegram.sent_to(anna.id)) if any("Partners" in t for t, _ in m.buttons))
        data = next(d for t, d in screen.buttons if "Partners" in t)
        press = {"update_id": update_id, "callback_query": {
            "id": telegram.new_callback(anna.id, anna.id), "from": anna.user, "chat_instance": "1",
            "message": _with_preview(screen.to_dict(), {"is_disabled": True}), "data": data}}
        before = len(telegram.calls)
        assert await webhook_bot.post(press, secret) == 200
        assert any(c.method == "answerCallbackQuery" and c.ok for c in telegram.calls[before:]), round_
        assert any(c.method != "answerCallbackQuery" and c.ok for c in telegram.calls[before:]), round_
        # Another person, right after.
        assert await webhook_bot.post(message_update(telegram, boris, "/help", update_id + 1), secret) == 200
        assert any("/newpartner" in (m.text or "") for m in telegram.sent_to(boris.id)), round_
        if round_ == 0:
            await webhook_bot.stop()
            await webhook_bot.start()

    async with aiohttp.ClientSession() as http:
        for body in (b"{not json", b"[1, 2]", b'{"update_id": "7"}', "\u00ff".encode("latin-1")):
            async with http.post(webhook_bot.hook, data=body, headers={SECRET_HEADER: secret}) as response:
                assert response.status == 400, body
        async with http.post(webhook_bot.hook, data=b"{}", headers={SECRET_HEADER: "ключ".encode().decode(
                "latin-1")}) as response:
            assert response.status == 401
    assert await webhook_bot.query("SELECT count(*) FROM received_updates WHERE handled_at IS NULL") == [(0,)]


def with_preview_message(update: dict[str, Any]) -> dict[str, Any]:
    return {**update, "message": _with_preview(update["message"], {"url": PREVIEW_LINK})}


async def test_a_handler_that_fails_once_is_answered_200_and_retried_in_the_background(
    telegram: FakeTelegram, webhook_bot: WebhookBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import texts

    real, failures = texts.help_private, [RuntimeError("flaky")]

    def flaky() -> str:
        if failures:
            raise failures.pop()
        return real()

    monkeypatch.setattr(texts, "help_private", flaky)
    monkeypatch.setattr("bot.plumbing.intake.RETRY_DELAYS_SECONDS", (0.05,))
    anna = telegram.private_user("Anna", language_code="en")
    secret = webhook_bot.settings.webhook_secret_token()
    assert await webhook_bot.post(message_update(telegram, anna, "/help", 920001), secret) == 200
    assert webhook_bot.app is not None
    assert await webhook_bot.app.inflight.wait_idle(10)  # the retry, in the background
    assert [m.text for m in telegram.sent_to(anna.id) if "What I can do" in (m.text or "")], "never answered"
    assert not any("safe" in (m.text or "") for m in telegram.sent_to(anna.id)), "an apology for a failure that healed"
    assert await webhook_bot.query("SELECT attempts, handled_at IS NOT NULL FROM received_updates") == [(1, 1)]


DEEP = 100_000  # far past Python's recursion limit


def malformed_bodies() -> dict[str, bytes]:
    """Bodies that are not an update, each of which must get a 400 (a 500 makes Telegram send it again for hours)."""
    return {
        "latin-1, not UTF-8": '{"update_id": 5, "x": "\u00ff"}'.encode("latin-1"),
        "UTF-16": '{"update_id": 5}'.encode("utf-16"),
        "UTF-8 with a BOM": b"\xef\xbb\xbf" + b'{"update_id": 5}',
        "invalid UTF-8 in a string": b'{"update_id": 5, "x": "\xc3\x28"}',
        "empty": b"",
        "truncated": b'{"update_id": 5, "message": {"message_id": 1',
        "trailing garbage": b'{"update_id": 5} {"update_id": 6}',
        "a list": b"[1, 2]",
        "a list of updates": b'[{"update_id": 5}]',
        "a string": b'"update"',
        "a number": b"5",
        "null": b"null",
        "no update_id": b'{"message": {}}',
        "update_id a string": b'{"update_id": "7"}',
        "update_id a float": b'{"update_id": 7.0}',
        "update_id true": b'{"update_id": true}',
        "update_id null": b'{"update_id": null}',
        "update_id negative": b'{"update_id": -1}',
        "update_id past 64 bits": b'{"update_id": 9223372036854775808}',
        "update_id of 5000 digits": b'{"update_id": ' + b"9" * 5000 + b"}",
        "update_id NaN": b'{"update_id": NaN}',
        "Infinity inside": b'{"update_id": 8, "x": Infinity}',
        "nested too deep": b"[" * DEEP + b"]" * DEEP,
        "an update nested too deep": b'{"update_id": 9, "x": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    }


async def test_every_malformed_body_is_answered_400_and_stores_nothing(
    telegram: FakeTelegram, webhook_bot: WebhookBot
) -> None:
    secret = webhook_bot.settings.webhook_secret_token()
    statuses = {}
    async with aiohttp.ClientSession() as http:
        for name, body in malformed_bodies().items():
            async with http.post(webhook_bot.hook, data=body, headers={SECRET_HEADER: secret}) as response:
                statuses[name] = response.status
    assert {name for name, status in statuses.items() if status != 400} == set(), statuses
    assert await webhook_bot.query("SELECT count(*) FROM received_updates") == [(0,)]
    # The bot still takes the next real update.
    anna = telegram.private_user("Anna", language_code="en")
    assert await webhook_bot.post(message_update(telegram, anna, "/help", 930001), secret) == 200
    assert telegram.sent_to(anna.id)


async def test_a_body_larger_than_any_update_is_refused_413(webhook_bot: WebhookBot) -> None:
    from bot.webhook import MAX_BODY_BYTES

    webhook_bot.allowed_error_patterns.append("set aside")
    secret = webhook_bot.settings.webhook_secret_token()
    huge = b'{"update_id": 5, "x": "' + b"a" * MAX_BODY_BYTES + b'"}'
    async with aiohttp.ClientSession() as http:
        async with http.post(webhook_bot.hook, data=huge, headers={SECRET_HEADER: secret}) as response:
            assert response.status == 413
        # Just under the limit is an update like any other (set aside: it is no update Telegram would send).
        fits = b'{"update_id": 6, "message": "' + b"a" * (MAX_BODY_BYTES - 100) + b'"}'
        async with http.post(webhook_bot.hook, data=fits, headers={SECRET_HEADER: secret}) as response:
            assert response.status == 200
    assert await webhook_bot.query("SELECT update_id FROM received_updates") == [(6,)]


async def test_every_wrong_secret_is_answered_401(telegram: FakeTelegram, webhook_bot: WebhookBot) -> None:
    secret = webhook_bot.settings.webhook_secret_token()
    anna = telegram.private_user("Anna", language_code="en")
    body = json.dumps(message_update(telegram, anna, "/start", 940001)).encode()
    wrong: dict[str, dict[str, str]] = {
        "missing": {},
        "empty": {SECRET_HEADER: ""},
        "wrong, same length": {SECRET_HEADER: "x" * len(secret)},
        "one character off": {SECRET_HEADER: secret[:-1] + ("A" if secret[-1] != "A" else "B")},
        "upper case": {SECRET_HEADER: secret.upper()} if secret.upper() != secret else {SECRET_HEADER: secret.lower()},
        "shorter": {SECRET_HEADER: secret[:10]},
        "longer": {SECRET_HEADER: secret + "x"},
        "twice as long": {SECRET_HEADER: secret * 2},
        "4000 characters": {SECRET_HEADER: "s" * 4000},
        "non-ASCII (UTF-8 bytes)": {SECRET_HEADER: "ключ".encode().decode("latin-1")},
        "non-ASCII, the secret's length": {SECRET_HEADER: ("ё" * len(secret)).encode().decode("latin-1")},
        "invalid UTF-8 bytes": {SECRET_HEADER: b"\xff\xfe\xfd".decode("latin-1")},
        "the bot token": {SECRET_HEADER: webhook_bot.settings.bot_token.get_secret_value()},
        "under another name": {"X-Telegram-Bot-Api-Secret": secret},
    }
    statuses = {}
    async with aiohttp.ClientSession() as http:
        for name, headers in wrong.items():
            async with http.post(webhook_bot.hook, data=body, headers=headers) as response:
                statuses[name] = response.status
            # A wrong secret with a malformed body is still a wrong secret: nothing is read before it is checked.
            async with http.post(webhook_bot.hook, data=b"[", headers=headers) as response:
                statuses[name + ", malformed body"] = response.status
    assert {name for name, status in statuses.items() if status != 401} == set(), statuses
    assert not telegram.sent_to(anna.id)
    assert await webhook_bot.query("SELECT count(*) FROM received_updates") == [(0,)]
    assert await webhook_bot.post(json.loads(body), secret) == 200
    assert telegram.sent_to(anna.id)
