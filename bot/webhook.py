"""Webhook mode: an aiohttp server Telegram posts updates to, with a secret path, a secret header and /health.

Chosen when WEBHOOK_URL is set (see README, "Deployment: polling or webhook"). The same dispatcher, the same
start-up and shutdown hooks as polling; only the way updates arrive differs.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from aiogram.webhook.aiohttp_server import setup_application
from aiohttp import web

from bot.plumbing.signals import stop_on_signals

if TYPE_CHECKING:
    from bot.app import App
    from bot.plumbing.intake import UpdateIntake

log = logging.getLogger(__name__)

HEALTH_PATH = "/health"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_DB_TIMEOUT_SECONDS = 2.0
# Telegram opens up to this many connections at once; SQLite behind one connection gains nothing from more.
MAX_CONNECTIONS = 40
# Far more than any update (a message is at most 4096 characters, plus its entities and the message it replies
# to); a bigger body is answered 413 before it is read into memory.
MAX_BODY_BYTES = 1024 * 1024
# update_id is stored as an SQLite INTEGER (64-bit signed); Telegram's are positive and far below it.
MAX_UPDATE_ID = 2**63 - 1


class IntakeRequestHandler:
    """Each posted update is stored raw, given its first attempt, then answered: Telegram re-sends one whose request
    failed, and the intake skips it if it was stored before; one stored but cut off by a crash is handled after the
    restart. A body that is not an update is answered 400 (Telegram would re-send a 500 for hours; see
    `parse_update`), one past MAX_BODY_BYTES 413; a wrong or missing secret, 401, before the body is read. Only a
    database that refuses to store it gets a 500, a bounded number of times (see UpdateIntake.accept)."""

    def __init__(self, intake: UpdateIntake, secret_token: str) -> None:
        self.intake = intake
        self._secret = secret_token.encode()

    def register(self, web_app: web.Application, path: str) -> None:
        web_app.router.add_post(path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        if not self._secret_matches(request.headers.get(SECRET_HEADER, "")):
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        body = parse_update(await request.read())  # a body past MAX_BODY_BYTES: aiohttp answers 413
        if isinstance(body, str):
            return _bad_request(body)
        try:
            fresh = await self.intake.accept([body])
        except RecursionError:  # nested too deep to store: no update Telegram sends, and no retry will help
            return _bad_request("the update is nested too deeply")
        except Exception as error:
            log.error("update %s could not be stored: %s: %s; Telegram will send it again",
                      body["update_id"], type(error).__name__, error)
            return web.json_response({"ok": False}, status=500)
        for update in fresh:
            await self.intake.handle(update)
        return web.json_response({})

    def _secret_matches(self, sent: str) -> bool:
        try:
            candidate = sent.encode("ascii")
        except UnicodeEncodeError:
            return False
        return hmac.compare_digest(candidate, self._secret)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_update(raw: bytes) -> dict[str, Any] | str:
    """The update Telegram posted, or why the body is not one: Telegram sends a JSON object in UTF-8 (no BOM, no
    NaN) with a non-negative integer update_id."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    try:
        body = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # ValueError covers a BOM, truncation, and a 5000-digit number
        return "the body is not JSON"
    if not isinstance(body, dict):
        return "the body is not an update"
    update_id = body.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= MAX_UPDATE_ID:
        return "the body is not an update (no valid update_id)"
    return body


def _bad_request(why: str) -> web.Response:
    log.warning("webhook request refused: %s", why)
    return web.json_response({"ok": False, "description": f"Bad Request: {why}"}, status=400)


class WebhookServer:
    """The aiohttp application and its site; `start()` registers the webhook, `stop()` shuts down gracefully."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings
        self.web_app = web.Application(client_max_size=MAX_BODY_BYTES)
        assert app.intake is not None
        handler = IntakeRequestHandler(app.intake, self.settings.webhook_secret_token())
        # setup_application first: on shutdown, the dispatcher's hooks run before the bot's session is closed.
        setup_application(self.web_app, app.dispatcher, bot=app.bot)
        handler.register(self.web_app, path=self.settings.webhook_path())
        self.web_app.router.add_get(HEALTH_PATH, self.health)
        # No access log: the request line holds the secret path.
        self.runner = web.AppRunner(self.web_app, access_log=None, shutdown_timeout=15.0)
        self.port: int | None = None

    async def start(self) -> None:
        """Run the start-up hooks, listen, then tell Telegram where to post."""
        await self.runner.setup()  # emits the dispatcher's startup: scheduler, commands, catch-up jobs
        site = web.TCPSite(self.runner, self.settings.webhook_host, self.settings.webhook_port)
        await site.start()
        self.port = self.runner.addresses[0][1]
        await self.app.bot.set_webhook(
            self.settings.webhook_full_url(),
            secret_token=self.settings.webhook_secret_token(),
            allowed_updates=self.app.dispatcher.resolve_used_update_types(),
            drop_pending_updates=False,
            max_connections=MAX_CONNECTIONS,
        )
        log.info("webhook server listening on %s:%s", self.settings.webhook_host, self.port)

    async def stop(self) -> None:
        """Stop accepting requests, let those in flight finish, then the shutdown hooks (the webhook stays set:
        Telegram keeps the updates that arrive meanwhile and delivers them after a restart); then the bot's HTTP
        session, as polling closes it."""
        try:
            await self.runner.cleanup()
        finally:
            await self.app.bot.session.close()

    async def health(self, request: web.Request) -> web.Response:
        """200 with {"ok": true, "db": true, "scheduler": true, "set_aside": n} when all is well, else 503 with the
        same keys; `set_aside` counts the updates given up on (see README, "Updates that cannot be handled")."""
        db_ok = False
        with suppress(Exception):
            db_ok = await asyncio.wait_for(self.app.db.writer_answers(), HEALTH_DB_TIMEOUT_SECONDS)
        scheduler_ok = bool(self.app.scheduler.running)
        body: dict[str, Any] = {"ok": db_ok and scheduler_ok, "db": db_ok, "scheduler": scheduler_ok}
        if self.app.intake is not None:
            with suppress(Exception):
                body["set_aside"] = await self.app.intake.set_aside_count()
        return web.json_response(body, status=200 if body["ok"] else 503)


async def run_webhook(app: App, stop_event: asyncio.Event, handle_signals: bool = True) -> None:
    """Serve until `stop_event` is set (App.stop(), SIGTERM or SIGINT), then shut down like polling does."""
    server = WebhookServer(app)
    app.webhook = server
    with stop_on_signals(stop_event, handle_signals):
        try:
            await server.start()
            await stop_event.wait()
        finally:
            await server.stop()
