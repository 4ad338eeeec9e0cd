"""Composition root: the bot, a fresh dispatcher, storage and scheduler, wired together."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import LinkPreviewOptions
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.backup import tighten_backups
from bot.checkins import CheckinService, DueReport
from bot.clock import Clock, SystemClock
from bot.commands import publish_commands
from bot.config import Settings
from bot.deep_links import DeepLinkGuard
from bot.handlers import routers
from bot.handlers.checkin_links import Linking
from bot.handlers.errors import on_error
from bot.handlers.references import ABANDONED_AFTER, FORM_STATE_PREFIX
from bot.heap import CollectorSettings
from bot.i18n import DatabaseI18nMiddleware, LocaleResolver, create_i18n
from bot.keyboards.builders import is_standing
from bot.plumbing.api_session import ApiSession
from bot.plumbing.dialogs import DialogDispatcher, install_dialogs
from bot.plumbing.intake import UpdateIntake, poll
from bot.plumbing.live_keyboards import OneLiveKeyboard, TurnMiddleware
from bot.plumbing.log_context import install_log_context
from bot.plumbing.middlewares import InFlight, LenientCallbackAnswer, UpdateContextMiddleware
from bot.plumbing.outbound import Outbound
from bot.plumbing.signals import stop_on_signals
from bot.plumbing.telegram_limits import TextLimitGuard
from bot.plumbing.telegram_retries import AlreadyDone, RetryRequests
from bot.reminders import REMINDER_INTERVAL_MINUTES, send_due_reminders
from bot.scheduling import add_housekeeping, create_scheduler
from bot.storage.assessments import AssessmentRepo
from bot.storage.campaigns import CampaignRepo
from bot.storage.chats import ChatRepo
from bot.storage.checkins import CheckinRepo
from bot.storage.db import Database, connect
from bot.storage.deep_links import DeepLinkAttemptRepo
from bot.storage.evidence import EvidenceRepo
from bot.storage.fsm import SQLiteStorage
from bot.storage.group_links import GroupLinkRepo
from bot.storage.invites import InviteRepo
from bot.storage.partners import PartnerRepo
from bot.storage.received import ReceivedUpdates
from bot.storage.references import ReferenceRepo
from bot.storage.respondents import load_or_create, rekey_stored
from bot.storage.team import TeamRepo
from bot.storage.users import UserRepo
from bot.storage.workspaces import WorkspaceRepo
from bot.views.partner_card import PartnerCards

if TYPE_CHECKING:
    from bot.webhook import WebhookServer

log = logging.getLogger(__name__)

# How long SIGTERM waits for handlers already running before closing the database under them.
SHUTDOWN_GRACE_SECONDS = 10.0
POLLING_TIMEOUT_SECONDS = 25
LINK_ATTEMPTS_PRUNE_MINUTES = 15


def create_bot(
    settings: Settings, retries: RetryRequests | None = None, live: OneLiveKeyboard | None = None
) -> Bot:
    """Every request goes through the one-live-keyboard rule, Telegram's limits, "already done", then the retries
    (429, 5xx, network), innermost."""
    session = ApiSession(api=TelegramAPIServer.from_base(settings.bot_api_url))
    session.middleware(live or OneLiveKeyboard(is_standing))  # outermost: it sees what a send finally showed
    session.middleware(TextLimitGuard())
    session.middleware(AlreadyDone())
    session.middleware(retries or RetryRequests())
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        # link_preview_options, not the deprecated disable_web_page_preview that link_preview_is_disabled sends.
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)),
    )


@dataclass
class App:
    settings: Settings
    bot: Bot
    dispatcher: Dispatcher
    db: Database
    scheduler: AsyncIOScheduler
    i18n: I18n
    clock: Clock
    inflight: InFlight = field(default_factory=InFlight)
    retries: RetryRequests = field(default_factory=RetryRequests)  # the session's; tests on fast time set its sleep
    outbound: Outbound | None = None  # the single lane for pushes (check-ins); see bot/plumbing/outbound.py
    checkin_service: CheckinService | None = None
    checkin_startup: asyncio.Task[DueReport] | None = None  # prompts missed while down, sent once at start

    webhook: WebhookServer | None = None  # set while run_webhook() serves; tests read its port
    intake: UpdateIntake | None = None  # stores, hands out and marks updates (polling and webhook)
    _webhook_stop: asyncio.Event | None = field(default=None, init=False, repr=False)
    _polling_stop: asyncio.Event | None = field(default=None, init=False, repr=False)

    async def run_polling(self, handle_signals: bool = True) -> None:
        """Poll until stopped (SIGTERM/SIGINT or stop()); shutdown hooks close everything.

        The dispatcher's start-up and shutdown hooks run as in aiogram's start_polling; the loop in between is
        bot/plumbing/intake.py's, which stores each batch before confirming it.
        """
        assert self.intake is not None
        self._polling_stop = stop = asyncio.Event()
        dp = self.dispatcher
        workflow = {"dispatcher": dp, "bots": [self.bot], **dp.workflow_data}
        try:
            with stop_on_signals(stop, handle_signals):
                try:
                    # Inside: a failing start-up hook still runs the shutdown hooks, which close the database
                    # (whose thread would keep the process alive) and the scheduler.
                    await dp.emit_startup(bot=self.bot, **workflow)
                    me = await self.bot.me()
                    log.info("polling as @%s (id %d)", me.username, me.id)
                    await self.intake.replay()
                    await poll(self.bot, self.intake, stop, dp.resolve_used_update_types(), POLLING_TIMEOUT_SECONDS)
                finally:
                    await dp.emit_shutdown(bot=self.bot, **workflow)
        finally:
            self._polling_stop = None
            await self.bot.session.close()

    async def run_webhook(self, handle_signals: bool = True) -> None:
        """Serve WEBHOOK_URL until stopped (SIGTERM/SIGINT or stop()); the same shutdown hooks as polling."""
        from bot.webhook import run_webhook

        self._webhook_stop = asyncio.Event()
        try:
            await run_webhook(self, self._webhook_stop, handle_signals=handle_signals)
        finally:
            self._webhook_stop, self.webhook = None, None

    async def run(self, handle_signals: bool = True) -> None:
        """Webhook when WEBHOOK_URL is set, else polling."""
        if self.settings.use_webhook:
            await self.run_webhook(handle_signals)
        else:
            await self.run_polling(handle_signals)

    async def stop(self) -> None:
        if self._webhook_stop is not None:
            self._webhook_stop.set()
            return
        if self._polling_stop is not None:
            self._polling_stop.set()

    async def run_due_reminders(self) -> int:
        """Remind managers of campaigns due for a debrief (start-up, the scheduler, and tests after moving time)."""
        assert self.outbound is not None
        return await send_due_reminders(
            self.outbound, CampaignRepo(self.db), UserRepo(self.db), self.i18n, self.clock
        )

    async def run_checkin_jobs(self) -> DueReport:
        """Weekly check-in prompts, reminders and digests due at clock.now() (the scheduler, start-up, tests)."""
        assert self.checkin_service is not None
        return await self.checkin_service.run_due()


def create_dispatcher(app_parts: dict[str, object], storage: SQLiteStorage) -> Dispatcher:
    """A fresh dispatcher with fresh routers, so each test (or process) gets its own."""
    dp = DialogDispatcher(storage=storage, events_isolation=SimpleEventIsolation(), **app_parts)
    for router in routers():
        dp.include_router(router)
    install_dialogs(dp)
    dp.errors.register(on_error)
    return dp


async def build_app(settings: Settings, clock: Clock | None = None) -> App:
    """Everything `python -m bot` runs, also used by the end-to-end tests."""
    clock = clock or SystemClock()
    db = await connect(settings.database_path)  # the database and its folder private (bot/files.py)
    try:
        tighten_backups(settings.backup_dir)
        respondents = load_or_create(settings.respondent_key_file())
        await rekey_stored(db, respondents)
    except BaseException:
        await db.close()
        raise
    i18n = create_i18n(settings.default_locale)
    users, chats, workspaces = UserRepo(db), ChatRepo(db), WorkspaceRepo(db)
    received = ReceivedUpdates(db)
    partners, evidence, assessments, campaigns = PartnerRepo(db), EvidenceRepo(db), AssessmentRepo(db), CampaignRepo(db)
    references, checkins = ReferenceRepo(db), CheckinRepo(db)
    resolver = LocaleResolver(users, chats, settings.default_locale)
    scheduler = create_scheduler()
    inflight = InFlight()
    storage = SQLiteStorage(db, DefaultKeyBuilder(with_destiny=True))
    link_attempts = DeepLinkAttemptRepo(db)
    group_links = GroupLinkRepo(db)
    deep_links = DeepLinkGuard(link_attempts, clock)
    dp = create_dispatcher(
        {
            "settings": settings,
            "clock": clock,
            "db": db,
            "users": users,
            "chats": chats,
            "workspaces": workspaces,
            "invites": InviteRepo(db),
            "group_links": group_links,
            "team": TeamRepo(db),
            "partners": partners,
            "evidence": evidence,
            "assessments": assessments,
            "campaigns": campaigns,
            "references": references,
            "respondents": respondents,
            "cards": PartnerCards(
                partners, evidence, assessments, campaigns, clock, references=references, checkins=checkins
            ),
            "locale_resolver": resolver,
            "scheduler": scheduler,
            "deep_links": deep_links,
        },
        storage,
    )
    install_log_context(dp)  # first, so the lines below carry `update=… chat=… handler=…` too
    dp.update.outer_middleware(UpdateContextMiddleware(db, users, chats, clock))
    dp.update.outer_middleware(TurnMiddleware(is_standing))
    dp.update.outer_middleware(DatabaseI18nMiddleware(i18n, resolver))
    # Every button press is answered once, after its handler (which may give it a pop-up notice).
    dp.callback_query.middleware(LenientCallbackAnswer())
    # Inner, so it runs with the locale set and only for a /start its handler matched; inherited by every router.
    dp.message.middleware(deep_links)
    retries = RetryRequests(holding_writer=db.holds_writer)
    live_keyboards = OneLiveKeyboard(is_standing)
    dp["live_keyboards"] = live_keyboards  # /cancel retires the flow's buttons through it
    bot = create_bot(settings, retries, live_keyboards)
    app = App(settings, bot, dp, db, scheduler, i18n, clock, inflight, retries=retries)
    app.intake = UpdateIntake(dp, bot, db, received, storage, clock, inflight)
    outbound = Outbound(bot)
    checkin_service = CheckinService(
        bot=bot,
        checkins=checkins,
        chats=chats,
        users=users,
        partners=partners,
        campaigns=campaigns,
        outbound=outbound,
        scheduler=scheduler,
        i18n=i18n,
        clock=clock,
    )
    outbound.on_forbidden = checkin_service.chat_gone
    outbound.on_migrated = checkin_service.chat_moved
    app.outbound, app.checkin_service = outbound, checkin_service
    dp["outbound"], dp["checkins"], dp["checkin_service"] = outbound, checkins, checkin_service
    dp["linking"] = Linking(
        bot, checkins, group_links, workspaces, partners, users, chats, checkin_service, clock, i18n
    )
    add_housekeeping(scheduler, clock, received, settings.database_path, settings.backup_dir, settings.backup_keep)

    async def prune_link_attempts() -> None:
        await link_attempts.prune(clock.now())

    # Expired deep-link counts go within the quarter hour even when nobody fails again (/deletemydata says so).
    scheduler.add_job(
        prune_link_attempts, IntervalTrigger(minutes=LINK_ATTEMPTS_PRUNE_MINUTES), id="prune-link-attempts",
        replace_existing=True,
    )

    async def prune_reference_drafts() -> None:
        # The dialog's questionnaires, and any an earlier version kept in FSM state.
        cutoff = clock.now() - ABANDONED_AFTER
        gone = await storage.prune_stale_dialogs(FORM_STATE_PREFIX, cutoff)
        gone += await storage.prune_stale(FORM_STATE_PREFIX, cutoff)
        if gone:
            log.info("deleted %d reference questionnaires left unfinished for %d days", gone, ABANDONED_AFTER.days)

    scheduler.add_job(
        prune_reference_drafts, CronTrigger(hour=3, minute=20), id="prune-reference-drafts", replace_existing=True
    )
    scheduler.add_job(
        app.run_due_reminders,
        IntervalTrigger(minutes=REMINDER_INTERVAL_MINUTES),
        id="due-reminders",
        replace_existing=True,
    )

    async def catch_up_checkins() -> DueReport:
        try:
            await checkin_service.resume_interrupted()  # before new rounds: a crash's queue is not new work
            return await app.run_checkin_jobs()
        except Exception:
            log.exception("check-in catch-up failed at start-up")
            return DueReport()

    collector = CollectorSettings()

    async def on_startup() -> None:
        await publish_commands(bot, i18n)
        await checkin_service.rebuild_jobs()
        scheduler.start()
        # In the background, so polling starts at once even when many groups' prompts are due.
        app.checkin_startup = asyncio.create_task(catch_up_checkins(), name="checkin-catch-up")
        try:
            await app.run_due_reminders()  # a restart across a due date reminds now, not 15 minutes later
        except Exception:
            log.exception("debrief reminders failed at start-up")
        collector.apply()
        log.info("Most is up")

    async def on_shutdown() -> None:
        collector.undo()
        if not await inflight.wait_idle(SHUTDOWN_GRACE_SECONDS):
            cut = await app.intake.cancel_running() if app.intake else 0
            log.warning("%d updates still running at shutdown; %d cut off, to be handled after the restart",
                        inflight.count + cut, cut)
        await checkin_service.close(SHUTDOWN_GRACE_SECONDS)  # before the scheduler, so no job is cut mid-way
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await outbound.close()
        await db.close()
        log.info("Most stopped")

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return app
