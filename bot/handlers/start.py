"""/start: greeting, deep links, and the first conversation — naming the workspace."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.clock import Clock
from bot.deep_links import DeepLinkGuard
from bot.domain.text import clean_typed
from bot.handlers.filters import COMMAND, HAS_TEXT, PRIVATE
from bot.keyboards.builders import main_menu
from bot.storage.workspaces import WorkspaceRepo


class Onboarding(StatesGroup):
    waiting_for_workspace_name = State()


def router() -> Router:
    r = Router(name="start")
    r.message.filter(PRIVATE)
    r.message.register(start, CommandStart())
    waiting = StateFilter(Onboarding.waiting_for_workspace_name)
    r.message.register(workspace_name_is_command, waiting, COMMAND)
    r.message.register(workspace_named, waiting, HAS_TEXT)
    r.message.register(workspace_name_not_text, waiting)
    return r


async def start(
    message: Message, command: CommandObject, state: FSMContext, workspaces: WorkspaceRepo, deep_links: DeepLinkGuard
) -> None:
    """/start and /start <deep link>: greet, then onboard or show the menu."""
    assert message.from_user is not None
    if command.args:  # no other deep-link handler took it: not a link of any kind
        await deep_links.failed(message)
        await message.answer(_("This link is not valid or has expired. Ask whoever sent it for a new one."))
    workspace = await workspaces.current_for(message.from_user.id)
    if workspace is not None:
        await state.clear()
        await message.answer(texts.overview(workspace.name), reply_markup=main_menu())
        return
    await state.set_state(Onboarding.waiting_for_workspace_name)
    await message.answer(
        _(
            "Hello! I am <b>Most</b>, a bot for teams that vet and run UGC partnerships across the "
            "Russian and US markets.\n\n"
            "First, a name for your workspace — usually your agency or brand. Your teammates will "
            "see it when they join. What should I call it?"
        )
    )


async def workspace_named(
    message: Message, state: FSMContext, workspaces: WorkspaceRepo, clock: Clock
) -> None:
    """The answer to "what should I call your workspace?"."""
    assert message.from_user is not None and message.text is not None
    name = " ".join((clean_typed(message.text) or "").split())
    if not name:
        await message.answer(texts.text_expected(texts.WORKSPACE_NAME_MAX))
        return
    if len(name) > texts.WORKSPACE_NAME_MAX:
        await message.answer(texts.text_too_long(texts.WORKSPACE_NAME_MAX, len(name)))
        return
    workspace = await workspaces.create_for_owner(name, message.from_user.id, clock.now())
    await state.clear()
    await message.answer(texts.overview(workspace.name), reply_markup=main_menu())


async def workspace_name_is_command(message: Message) -> None:
    """A command other than /start, /help, /cancel or /language while the name is awaited."""
    await message.answer(texts.mid_conversation_command())


async def workspace_name_not_text(message: Message) -> None:
    """A sticker, photo, voice… where the workspace name is awaited."""
    await message.answer(texts.text_expected(texts.WORKSPACE_NAME_MAX))
