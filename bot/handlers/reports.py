"""📈 Report on the partner card, /report (the portfolio picture) and /export (xlsx + zip of CSVs).

The pictures and files are made in a worker thread (`asyncio.to_thread`), so the bot keeps answering others
meanwhile; the button press itself is answered first by the dispatcher's CallbackAnswerMiddleware.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.handlers.partners import not_found_text
from bot.handlers.workspace_guard import private_workspace_router
from bot.keyboards.callbacks import MenuAction, MenuCallback, PartnerAction, PartnerCallback
from bot.reports import charts, texts
from bot.reports.data import load_partner_report, load_portfolio
from bot.reports.export import collect_sheets, csv_delimiter, to_csv_zip, to_xlsx
from bot.storage.db import Database
from bot.storage.workspaces import Workspace
from bot.views.formatting import user_text
from bot.views.partner_card import PartnerCards

log = logging.getLogger(__name__)


# Drawing a chart or writing a workbook takes a second or more: the press's spinner is stopped first.
SLOW = {"callback_answer": {"pre": True}}


# The kinds of button data this feature's handlers take.
PRESSES = (PartnerCallback, MenuCallback)


def router() -> Router:
    r = private_workspace_router("reports", PRESSES)
    r.message.register(portfolio_command, Command("report"))
    r.message.register(export_command, Command("export"))
    r.callback_query.register(partner_report, PartnerCallback.filter(F.action == PartnerAction.REPORT), flags=SLOW)
    r.callback_query.register(portfolio_from_menu, MenuCallback.filter(F.action == MenuAction.PORTFOLIO), flags=SLOW)
    r.callback_query.register(export_from_menu, MenuCallback.filter(F.action == MenuAction.EXPORT), flags=SLOW)
    return r


async def portfolio_from_menu(
    callback: CallbackQuery, pressed: Message, bot: Bot, db: Database, workspace: Workspace, i18n: I18n
) -> None:
    """The main menu's Portfolio button."""
    await _send_portfolio(pressed, callback.from_user.id, bot, db, workspace, i18n)


async def export_from_menu(
    callback: CallbackQuery, pressed: Message, bot: Bot, db: Database, workspace: Workspace, clock: Clock, i18n: I18n
) -> None:
    """The main menu's Export button."""
    await _send_export(pressed, callback.from_user.id, bot, db, workspace, clock, i18n)


async def _busy(bot: Bot, chat_id: int, action: ChatAction) -> None:
    """ "Sending a photo…" while the picture is drawn; nice to have, never worth failing over."""
    try:
        await bot.send_chat_action(chat_id, action)
    except TelegramAPIError as error:
        log.debug("chat action not sent: %s", error)


async def partner_report(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: PartnerCallback,
    bot: Bot,
    db: Database,
    cards: PartnerCards,
    workspace: Workspace,
    i18n: I18n,
) -> None:
    """📈 Report on the card: the partner's picture with its next step in the caption."""
    card = await cards.load(workspace.id, callback_data.partner_id, callback.from_user.id)
    if card is None:
        await pressed.answer(not_found_text())
        return
    await _busy(bot, pressed.chat.id, ChatAction.UPLOAD_PHOTO)
    report = await load_partner_report(db, card, workspace.id)
    locale = i18n.current_locale
    words = texts.partner_chart_text(report, locale)
    png = await asyncio.to_thread(charts.partner_png, report, words, locale)
    await pressed.answer_photo(
        BufferedInputFile(png, filename=f"partner-{card.partner.id}-report.png"),
        caption=texts.partner_caption(report),
    )


async def portfolio_command(message: Message, bot: Bot, db: Database, workspace: Workspace, i18n: I18n) -> None:
    """/report: the portfolio picture of every active partner."""
    assert message.from_user is not None
    await _send_portfolio(message, message.from_user.id, bot, db, workspace, i18n)


async def _send_portfolio(
    message: Message, viewer_id: int, bot: Bot, db: Database, workspace: Workspace, i18n: I18n
) -> None:
    report = await load_portfolio(db, workspace.id, viewer_id)
    if not report.partners:
        await message.answer(texts.empty_portfolio_text())
        return
    await _busy(bot, message.chat.id, ChatAction.UPLOAD_PHOTO)
    locale = i18n.current_locale
    words = texts.portfolio_chart_text(report, workspace.name)
    png = await asyncio.to_thread(charts.portfolio_png, report, words, locale)
    await message.answer_photo(
        BufferedInputFile(png, filename="portfolio.png"),
        caption=texts.portfolio_caption(report, workspace.name, locale),
    )


async def export_command(
    message: Message, bot: Bot, db: Database, workspace: Workspace, clock: Clock, i18n: I18n
) -> None:
    """/export: the workspace's records as an .xlsx workbook and a zip of CSV files."""
    assert message.from_user is not None
    await _send_export(message, message.from_user.id, bot, db, workspace, clock, i18n)


async def _send_export(
    message: Message, viewer_id: int, bot: Bot, db: Database, workspace: Workspace, clock: Clock, i18n: I18n
) -> None:
    await _busy(bot, message.chat.id, ChatAction.UPLOAD_DOCUMENT)
    sheets = await collect_sheets(db, workspace.id, viewer_id)
    workbook = await asyncio.to_thread(to_xlsx, sheets)
    # The files are read by the person who asked, in their language's Excel: its delimiter.
    delimiter = csv_delimiter(i18n.current_locale)
    archive = await asyncio.to_thread(to_csv_zip, sheets, delimiter)
    stem = f"most-export-{clock.now().date().isoformat()}"
    rows = sum(len(sheet.rows) for sheet in sheets)
    summary = ngettext("{count} row in {sheets} sheets", "{count} rows in {sheets} sheets", rows).format(
        count=rows, sheets=len(sheets)
    )
    await message.answer_document(
        BufferedInputFile(workbook, filename=f"{stem}.xlsx"),
        caption=_("📦 <b>{workspace}</b>: every record, one sheet per kind — {summary}.").format(
            workspace=user_text(workspace.name, 60), summary=summary
        ),
    )
    await message.answer_document(
        BufferedInputFile(archive, filename=f"{stem}-csv.zip"),
        caption=" ".join((
            _(
                "The same as CSV files (UTF-8, opens in Excel with Cyrillic intact). Creators who gave references "
                "are not identified; scorecards appear for partners you have scored yourself."
            ),
            _("Cells are separated by semicolons, as Excel expects with Russian settings.") if delimiter == ";"
            else _("Cells are separated by commas, as Excel expects with English settings."),
        )),
    )
