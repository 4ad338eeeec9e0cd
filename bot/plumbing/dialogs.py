"""aiogram-dialog fitted to this bot's plumbing: what the library does its own way and the bot already does once.

- Button presses are answered by bot/plumbing/middlewares.py LenientCallbackAnswer, once, after the handler (a
  handler may put a pop-up on the press); the library's own answer would be a second one, which Telegram refuses.
- Buttons come off an earlier message through bot/plumbing/live_keyboards.py OneLiveKeyboard, which knows a
  standing menu from a flow step: the library would also strip the menu a form was started from.
- Messages keep the bot's defaults (HTML, no link previews); an edit the session answered as already done
  (bot/plumbing/telegram_retries.py AlreadyDone: "message is not modified" → True) is "not modified" to the library.
- The library reads invisible characters at the end of a typed text as a reply-keyboard button press (its
  reply-keyboard widgets encode callback data that way). This bot has no reply keyboards, and a typed name ending
  in a soft hyphen or a word joiner must stay a typed name: the library is shown the text without them.
- Its internal "aiogd_update" event is not an update type to ask Telegram for.
- One conversation at a time, as with the FSM flows: starting a dialog clears the FSM state (its start handlers),
  and a hand-written flow starting while a dialog is open closes the dialog (OneConversation).
- A dialog takes only presses on its current step's buttons (presses_of_its_own).
- A press on a dialog that is over (finished, cancelled, or forgotten across a deploy) is a pop-up notice,
  answered in bot/handlers/errors.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher, Router
from aiogram.client.default import Default
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram_dialog import Dialog, DialogManager, setup_dialogs
from aiogram_dialog.api.entities import DIALOG_EVENT_NAME, Context, NewMessage
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent, UnknownState
from aiogram_dialog.api.internal import CONTEXT_KEY
from aiogram_dialog.manager.message_manager import MessageManager, MessageNotModified, OldMessage
from aiogram_dialog.utils import CB_SEP, REPLY_CALLBACK_SYMBOLS

# A dialog whose records are gone or no longer match the code: its buttons are stale.
STALE_DIALOG = (UnknownIntent, UnknownState, OutdatedIntent)
ORIGINAL_MESSAGE = "most_original_message"

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class BotMessages(MessageManager):
    async def answer_callback(self, bot: Bot, callback_query: CallbackQuery) -> None:
        """LenientCallbackAnswer answers the press after the handler."""

    async def remove_inline_kbd(self, bot: Bot, old_message: OldMessage | None) -> Message | None:
        """OneLiveKeyboard takes the buttons off the flow's previous message when the next one shows some."""
        return None

    async def remove_reply_kbd(self, bot: Bot, old_message: OldMessage | None) -> Message | None:
        return None  # the bot uses inline keyboards only

    async def show_message(self, bot: Bot, new_message: NewMessage, old_message: OldMessage | None) -> OldMessage:
        if new_message.link_preview_options is None:  # the library would send an explicit "none"
            new_message.link_preview_options = Default("link_preview")  # type: ignore[assignment]
        return await super().show_message(bot, new_message, old_message)

    async def edit_message(self, bot: Bot, new_message: NewMessage, old_message: OldMessage) -> Message:
        edited = await super().edit_message(bot, new_message, old_message)
        if not isinstance(edited, Message):  # AlreadyDone: Telegram said "not modified"
            raise MessageNotModified("already as it should be")
        return edited


async def close_dialogs(manager: DialogManager) -> None:
    """Close every open dialog of the person, leaving no record behind: the library's reset keeps the stack's
    last message id (so its row stays); OneLiveKeyboard or the caller takes care of that message's buttons."""
    await manager.reset_stack(remove_keyboard=False)
    manager.current_stack().last_message_id = None
    await manager.storage().save_stack(manager.current_stack())


class DialogDispatcher(Dispatcher):
    def resolve_used_update_types(self, skip_events: set[str] | None = None) -> list[str]:
        return super().resolve_used_update_types({*(skip_events or ()), DIALOG_EVENT_NAME})


class OneConversation(BaseMiddleware):
    """Inner middleware: a handler that left an FSM flow open while a dialog is open closes the dialog."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        result = await handler(event, data)
        manager: DialogManager | None = data.get("dialog_manager")
        state: FSMContext | None = data.get("state")
        if manager is not None and state is not None and manager.has_context() and await state.get_state():
            await close_dialogs(manager)
        return result


class ReadAsTyped(BaseMiddleware):
    """Outer, before the library's: what its message intent middleware would misread, it is shown a copy of.

    - Text ending in invisible characters (a soft hyphen, a word joiner) it would decode as a reply-keyboard press;
      this bot has no reply keyboards, so it sees the text without them (filters too; the handler gets the
      original, through `OriginalMessage`).
    - A reply to a message without a sender it would fail on: it sees no reply.
    - A message without a sender it would fail on, and nobody could be answered: Telegram gives every message in a
      private chat or group a sender (a stand-in one when sent on behalf of a chat), so such a message is dropped.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message):
            return await handler(event, data)
        if event.from_user is None:
            return None
        changes: dict[str, Any] = {}
        if event.text and event.text.endswith(tuple(REPLY_CALLBACK_SYMBOLS)):
            changes["text"] = event.text.rstrip(REPLY_CALLBACK_SYMBOLS)
        if event.reply_to_message is not None and event.reply_to_message.from_user is None:
            changes["reply_to_message"] = None
        if not changes:
            return await handler(event, data)
        data[ORIGINAL_MESSAGE] = event
        return await handler(event.model_copy(update=changes), data)


class OriginalMessage(BaseMiddleware):
    """Inner: the handler gets the message as the person sent it (see ReadAsTyped)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        return await handler(data.pop(ORIGINAL_MESSAGE, event), data)


class DialogPress(Filter):
    """A press on a button of the dialog's current step: data carrying an intent id (aiogram-dialog's own format)
    whose widget is in the window the dialog is at. The library offers every press to the open dialog and, when no
    widget takes it, re-draws the current step on whatever message was pressed. A button of an earlier step (kept
    by a client, or forged) goes on to OpenDialogPress's earlier-step pop-up; steps that follow one another on one
    message must therefore not share a widget id (new partner's two Skips are skip_contact and skip_links)."""

    def __init__(self, dialog: Dialog) -> None:
        self.dialog = dialog

    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        pressed = event.data if isinstance(event, CallbackQuery) else None
        if not pressed or CB_SEP not in pressed:
            return False
        context: Context | None = data.get(CONTEXT_KEY)
        window = self.dialog.windows.get(context.state) if context is not None else None
        widget_id = pressed.partition(CB_SEP)[2].partition(":")[0]
        return window is not None and window.find(widget_id) is not None


class Nothing(Filter):
    """Takes no event: for a dialog's observer that must let everything pass on to the routers after it."""

    async def __call__(self, event: TelegramObject) -> bool:
        return False


class OpenDialogPress(Filter):
    """A press on a button of the person's open dialog (its intent is the top of their stack) that no step of it
    took: a button of an earlier step, still on a message the flow has since left."""

    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        pressed = event.data if isinstance(event, CallbackQuery) else None
        return bool(pressed) and CB_SEP in str(pressed) and data.get(CONTEXT_KEY) is not None


class EarlierStepPress(Filter):
    """A press on a button of an open dialog of `group` (aiogram-dialog's own data, its intent current) that the
    step the dialog is at does not have: one kept from an earlier step. Registered after the dialog, it lets a
    flow say so in its own words instead of the fallback's stale notice."""

    def __init__(self, group: type[StatesGroup]) -> None:
        self.group = group

    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        pressed = event.data if isinstance(event, CallbackQuery) else None
        context: Context | None = data.get(CONTEXT_KEY)
        return bool(pressed) and CB_SEP in str(pressed) and context is not None and context.state.group is self.group


def presses_of_its_own(dialog: Dialog) -> Dialog:
    """The dialog takes a press only when it is on one of its current step's buttons (DialogPress).

    Nor does it take business messages: this bot is no business bot and no hand-written flow reads them, yet the
    library offers them to the dialog open in the same chat (a business message without a connection id has the
    same storage key), whose handlers then run without the middlewares a private chat's messages pass through (the
    spec fuzz found one failing three times on a missing workspace)."""
    dialog.callback_query.filter(DialogPress(dialog))
    dialog.business_message.filter(Nothing())
    return dialog


def install_dialogs(root: Router) -> None:
    """Once every feature router (and the dialogs inside them) is included: the dialogs' middlewares on `root`."""
    for observer in (root.message, root.business_message):
        observer.outer_middleware(ReadAsTyped())  # first, so the library's own reads the copy
        observer.middleware(OriginalMessage())
    setup_dialogs(root, message_manager=BotMessages())
    for observer in (root.message, root.callback_query):
        observer.middleware(OneConversation())
