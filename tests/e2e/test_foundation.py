"""The foundation end to end: onboarding in both languages, /language, /cancel, odd input, order, errors."""

from __future__ import annotations

import asyncio
import gc

import pytest

from bot.heap import YOUNG_GENERATION_THRESHOLD
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram

ASKS_NAME = {"ru": "Как назовём?", "en": "What should I call it?"}
OVERVIEW = {"ru": "Рабочее пространство:", "en": "Workspace:"}
HELP_BUTTON = {"ru": "❓ Помощь", "en": "❓ Help"}


@pytest.mark.parametrize(("language_code", "locale"), [("ru", "ru"), ("en", "en"), ("uk", "ru"), ("de", "en")])
async def test_onboarding_in_the_users_language(
    telegram: FakeTelegram, running_bot: RunningBot, language_code: str, locale: str
) -> None:
    user = telegram.private_user("Anna", language_code=language_code)
    reaction = await user.start()
    assert ASKS_NAME[locale] in reaction.text

    reaction = await user.send("North <Agency> & Co")
    assert OVERVIEW[locale] in reaction.text
    assert "North &lt;Agency&gt; &amp; Co" not in reaction.text  # shown as text, escaped only on the wire
    assert "North <Agency> & Co" in reaction.text
    buttons = [text for text, _ in reaction.messages[-1].buttons]
    assert HELP_BUTTON[locale] in buttons

    rows = await running_bot.query(
        "SELECT w.name, m.role FROM workspaces w JOIN memberships m ON m.workspace_id = w.id WHERE m.user_id = ?",
        (user.id,),
    )
    assert rows == [("North <Agency> & Co", "owner")]

    again = await user.start()  # a known user gets the overview, not the question
    assert OVERVIEW[locale] in again.text


async def test_language_switch_is_saved_and_survives_restart(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    user = telegram.private_user("John", language_code="en")
    await user.start()
    await user.send("Acme")
    reaction = await user.send("/language")
    assert "Choose the language" in reaction.text
    switched = await user.press("Русский")
    assert switched.answer is not None
    assert "дальше говорим по-русски" in switched.text  # the confirmation already speaks Russian

    await running_bot.restart()
    reaction = await user.send("/help")
    assert "Что я умею" in reaction.text
    reaction = await user.send("/cancel")
    assert reaction.text == "Отменять нечего."
    reaction = await user.send("/help")
    assert "Что я умею" in reaction.text  # clearing a conversation never resets the language


async def test_odd_input_where_a_name_is_expected_gets_a_hint_and_loses_nothing(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    user = telegram.private_user("Оля", language_code="ru")
    await user.start()
    for act in (user.send_sticker, user.send_photo, user.send_voice):
        reaction = await act()
        assert "Здесь нужен короткий текст" in reaction.text
    reaction = await user.send("я" * 4000)
    assert "Здесь 4000 символов" in reaction.text
    reaction = await user.send("/partners_unknown")
    assert "на середине шага" in reaction.text
    reaction = await user.send("/help")  # a command mid-conversation is answered and the step stays open
    assert "Что я умею" in reaction.text
    reaction = await user.send("Север")
    assert "Рабочее пространство: Север" in reaction.text
    assert await running_bot.query("SELECT name FROM workspaces") == [("Север",)]


async def test_cancel_leaves_the_conversation_and_says_so(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    user = telegram.private_user("Kate", language_code="en")
    assert (await user.send("/cancel")).text == "There is nothing to cancel."
    await user.start()
    reaction = await user.send("/cancel")
    assert reaction.text.startswith("Cancelled.")
    reaction = await user.send("Acme")  # no longer taken as a workspace name
    assert "did not understand" in reaction.text
    assert await running_bot.query("SELECT COUNT(*) FROM workspaces") == [(0,)]


async def test_twenty_quick_messages_make_one_transition_each_in_order(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    user = telegram.private_user("Max", language_code="en")
    await user.start()
    last = None
    for i in range(20):
        last = await user.send(f"Name {i:02d}", wait=False)
    assert last is not None and last.update_id is not None
    await telegram.wait_fetched(last.update_id)
    replies = await _wait_for_bot_messages(telegram, user.id, count=1 + 20)
    assert await running_bot.query("SELECT name FROM workspaces") == [("Name 00",)]
    after_question = replies[1:]
    assert "Workspace: Name 00" in after_question[0]
    assert all("did not understand" in text for text in after_question[1:])


async def _wait_for_bot_messages(telegram: FakeTelegram, chat_id: int, count: int) -> list[str]:
    ok = await telegram.wait_until(lambda: len(telegram.sent_to(chat_id)) >= count, 10)
    assert ok, f"expected {count} messages, got {len(telegram.sent_to(chat_id))}"
    await asyncio.sleep(0.3)
    messages = telegram.sent_to(chat_id)
    assert len(messages) == count
    return [m.text or "" for m in messages]


async def test_forged_and_stale_buttons_are_answered(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    user = telegram.private_user("Lena", language_code="ru")
    await user.start()
    await user.send("Север")
    menu = user.last_message()
    assert menu is not None
    for data in ("garbage", "lg1:xx", "mn1:nope", "x" * 64):
        reaction = await user.press_data(data, menu.message_id)
        assert reaction.answer is not None
        assert "кнопка устарела" in reaction.popup and not reaction.messages, "a stale tap is a pop-up notice"
    assert not telegram.unanswered_callbacks()


async def test_commands_are_published_per_language_and_chat_type(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    calls = telegram.calls_of("setMyCommands")
    published = {
        (call.params["scope"]["type"], call.params.get("language_code", "")): [
            c["command"] for c in call.params["commands"]
        ]
        for call in calls
    }
    for language in ("", "ru", "en"):
        assert {"start", "help", "language", "cancel"} <= set(published[("all_private_chats", language)])
        assert "language" in published[("all_group_chats", language)]
        assert "cancel" not in published[("all_group_chats", language)]
    ru = next(
        c for c in calls if c.params.get("language_code") == "ru" and c.params["scope"]["type"] == "all_private_chats"
    )
    assert any(c["description"] == "Сменить язык" for c in ru.params["commands"])


async def test_group_help_differs_and_only_admins_change_the_groups_language(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    admin = telegram.private_user("Admin", language_code="en")
    member = telegram.private_user("Member", language_code="en")
    group = telegram.group("RU-US pilot")
    group.add_member(admin, "administrator")
    group.add_member(member, "member")
    greeting = await group.add_bot(by=admin)
    assert "weekly async check-in" in greeting.text

    reaction = await group.send(member, "/help")
    assert "Most in this group" in reaction.text
    reaction = await group.send(member, "/cancel")  # answered, not silence
    assert "nothing to cancel in this group" in reaction.text
    reaction = await group.send(member, "/language")
    assert "Only the group's admins" in reaction.text
    reaction = await group.send(admin, "/language")
    assert "Choose the language" in reaction.text
    pressed_by_member = await group.press(member, "Русский")
    assert "Only the group's admins" in pressed_by_member.text
    switched = await group.press(admin, "Русский")
    assert "в этой группе я пишу по-русски" in switched.text
    reaction = await group.send(member, "/help")
    assert "Мост в этой группе" in reaction.text
    reaction = await group.send(member, "/cancel")
    assert "В этой группе нечего отменять" in reaction.text
    await group.send(member, "just chatting", expect_silence=True)


async def test_a_failing_handler_gets_a_localized_apology_and_the_error_is_logged(
    telegram: FakeTelegram, running_bot: RunningBot, bot_logs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import texts

    def broken() -> str:
        raise RuntimeError("boom in help")

    monkeypatch.setattr(texts, "help_private", broken)
    monkeypatch.setattr("bot.plumbing.intake.RETRY_DELAYS_SECONDS", (0.02,))
    user = telegram.private_user("Ivan", language_code="ru")
    reaction = await user.send("/help")
    # Tried MAX_HANDLING_ATTEMPTS times, rolled back each time; the person hears about it once, at the end.
    assert [m.text for m in reaction.messages].count(reaction.messages[-1].text) == 1
    assert "Ваши данные в сохранности" in reaction.text
    running_bot.allowed_errors = 2
    errors = bot_logs.errors()
    assert len(errors) == 2 and f"update {reaction.update_id} failed" in errors[0]
    assert "boom in help" in errors[0]
    assert f"update {reaction.update_id} set aside: failed 3 times" in errors[1]
    rows = await running_bot.query(
        "SELECT attempts, set_aside_reason FROM received_updates WHERE update_id = ?", (reaction.update_id,))
    assert rows[0][0] == 3 and "boom in help" in rows[0][1]


async def test_main_menu_buttons_lead_somewhere(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    user = telegram.private_user("Menu", language_code="ru")
    await user.start()
    menu = (await user.send("Север")).messages[-1]
    assert [text for text, _ in menu.buttons] == [
        "➕ Новый партнёр",
        "📋 Партнёры",
        "👥 Команда",
        "📈 Чему учат данные",
        "🗺 Портфель",
        "📦 Выгрузка",
        "🔐 Мои данные",
        "❓ Помощь",
        "🌐 Язык",
    ]
    assert "Как называется партнёр?" in (await user.press("➕ Новый партнёр", menu)).text
    await user.send("/cancel")
    assert "Партнёров пока нет" in (await user.press("📋 Партнёры", menu)).text
    assert "Север" in (await user.press("👥 Команда", menu)).text
    assert "Север" in (await user.press("📈 Чему учат данные", menu)).text
    assert (await user.press("🗺 Портфель", menu)).text  # an empty portfolio says so rather than drawing nothing
    await user.press("📦 Выгрузка", menu)
    assert [name.rsplit(".", 1)[1] for name in await _documents(telegram, user.id, 2)] == ["xlsx", "zip"]
    await user.press("🔐 Мои данные", menu)
    assert (await _documents(telegram, user.id, 3))[-1].endswith(".json")
    plan = await user.press("Удалить мои данные", user.messages()[-1])
    assert "Удалить ваши данные?" in plan.text
    assert "Что я умею" in (await user.press("❓ Помощь", menu)).text
    assert "Выберите язык" in (await user.press("🌐 Язык", menu)).text


async def _documents(telegram: FakeTelegram, chat_id: int, count: int) -> list[str]:
    """File names of the documents sent to the chat, once there are `count` (files are built in a thread)."""

    def names() -> list[str]:
        return [m.extra["document"]["file_name"] for m in telegram.sent_to(chat_id) if "document" in m.extra]

    assert await telegram.wait_until(lambda: len(names()) >= count, 10), names()
    return names()


async def test_the_collector_is_set_for_the_bot_while_it_runs_and_put_back_after(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    user = telegram.private_user("Gus", language_code="en")
    assert "What should I call it?" in (await user.start()).text
    assert gc.get_freeze_count() > 10_000  # imports, types, catalogs: frozen once the bot is up
    assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD
    await running_bot.stop()
    assert gc.get_freeze_count() == 0  # handed back, so a stopped app can be freed
    assert gc.get_threshold()[0] != YOUNG_GENERATION_THRESHOLD
    await running_bot.start()
    assert gc.get_freeze_count() > 10_000


async def test_every_text_message_disables_link_previews_the_current_way(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    user = telegram.private_user("Anna", language_code="en")
    await user.start()
    await user.send("Acme https://acme.example")
    await user.send("/language")
    await user.press("Русский")  # the choice replaces the question: an edit
    await user.send("/help")

    calls = telegram.calls_of("sendMessage") + telegram.calls_of("editMessageText")
    assert {call.method for call in calls} == {"sendMessage", "editMessageText"}
    for call in calls:
        # link_preview_options since Bot API 7.0; disable_web_page_preview is the deprecated field it replaced.
        assert call.params.get("link_preview_options") == {"is_disabled": True}, (call.method, call.params)
        assert "disable_web_page_preview" not in call.params, (call.method, call.params)


async def test_language_in_a_group_from_someone_telegram_does_not_know_is_refused_politely(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """Found by the spec fuzz: getChatMember answering "user not found" crashed /language in a group."""
    owner = telegram.private_user("Olga", language_code="en")
    group = telegram.group("Pilot RU-US")
    group.add_member(owner, "creator")
    await group.add_bot(owner)
    telegram.fail_next(group.id, 400, "Bad Request: user not found")  # the next call about the group: getChatMember
    reaction = await group.send(owner, "/language")
    assert "Only the group's admins can change its language." in reaction.text
