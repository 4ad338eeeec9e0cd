"""/mydata and /deletemydata end to end: the file, the plan said plainly, handing a workspace over, deleting one."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.clock import ManualClock
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser
from tests.e2e.test_reports import PARTNER, ids, seed_records, sent_files
from tests.e2e.vetting_steps import add_partner, onboard


async def rows_naming(bot: RunningBot, user_id: int) -> list[tuple[str, str, int]]:
    """Every (table, column, count) where any row holds the Telegram id — as a value or inside a text."""
    found = []
    for (table,) in await bot.query("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for column in [r[1] for r in await bot.query(f'PRAGMA table_info("{table}")')]:
            [(count,)] = await bot.query(
                f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = ? OR CAST("{column}" AS TEXT) LIKE ?',
                (user_id, f"%{user_id}%"),
            )
            if count:
                found.append((table, column, count))
    return found


async def join(bot: RunningBot, user: PrivateUser, workspace_id: int, name: str) -> None:
    """A teammate who joined a day after the owner (as an invite link would add them)."""
    await user.send("/help")  # the bot meets them
    assert bot.app is not None
    await bot.app.db.execute(
        "INSERT INTO memberships (workspace_id, user_id, role, joined_at) VALUES (?, ?, 'member', ?)",
        (workspace_id, user.id, "2026-11-25T09:00:00+00:00"),
    )
    await bot.app.db.execute(
        "UPDATE users SET current_workspace_id = ?, display_name = ? WHERE id = ?", (workspace_id, name, user.id)
    )


async def test_mydata_then_deletemydata_hands_the_workspace_over_and_leaves_no_trace(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna = telegram.private_user("Анна", language_code="ru", user_id=7_100_200_300)
    await onboard(anna, "Север")
    await add_partner(anna, PARTNER, "ru")
    workspace_id, partner_id = await ids(running_bot, anna, PARTNER)
    await seed_records(running_bot, workspace_id, partner_id, anna.id)
    bob = telegram.private_user("Bob", language_code="en")
    await join(running_bot, bob, workspace_id, "Bob")
    await anna.send("/newpartner")  # a conversation left unfinished

    await anna.send("/mydata")
    [(file, caption)] = await sent_files(telegram, "sendDocument", "document")
    assert file.file_name.endswith(".json") and "Всё, что я храню о вас" in caption
    data = json.loads(file.content.decode("utf-8"))
    assert data["telegram_user_id"] == anna.id
    assert [w["workspace"] for w in data["workspaces"]] == ["Север"]
    assert data["profile"]["telegram_language"] == "ru"
    assert {"checkin_answers", "checkin_people", "checkin_round_members"} <= data["about_you"].keys()
    assert data["about_you"]["checkin_answers"][0]["shipped"] == "Сняли ролик"
    assert data["conversations_in_progress"], "the unfinished /newpartner"
    assert data["your_reference_answers_and_opened_links"][0]["consistency_comment"] == "Всегда с брифом"
    assert {"partners", "scorecards", "debriefs"} <= {r["table"] for r in data["records_you_added_or_decided"]}
    members_before = await running_bot.query("SELECT COUNT(*) FROM checkin_round_members")

    plan = await anna.send("/deletemydata")
    assert "<b>Удалить ваши данные?</b>" in (plan.messages[-1].source or "")
    for said in ("Будет удалено:", "ваше участие в 1 рабочем пространстве", "ваши ответы на чек-ины (2)",
                 "Останется, но без вашего имени и id:", "ваш отзыв о партнёре (1)",
                 "Север: вы его единственный владелец, поэтому владельцем станет Bob (присоединился раньше всех)",
                 "Отменить это нельзя"):
        assert said in plan.text, said

    done = await anna.press("🗑 Да, удалить мои данные")
    assert "Готово: ваши данные удалены" in done.text and "Север теперь принадлежит: Bob" in done.text
    told = bob.last_message()
    assert told is not None and "You are its owner now" in (told.text or "")

    assert await rows_naming(running_bot, anna.id) == []
    assert await running_bot.query("SELECT role FROM memberships WHERE user_id = ?", (bob.id,)) == [("owner",)]
    assert await running_bot.query("SELECT COUNT(*) FROM checkin_round_members") == members_before
    assert await running_bot.query("SELECT COUNT(*) FROM reference_answers WHERE partner_id = ?", (partner_id,)) == [
        (1,)]

    # the team's records still work for the teammate
    listing = await bob.send("/partners")
    assert "Partners of Север (1)" in listing.text
    card = await bob.press(PARTNER)
    assert PARTNER in card.text and "Stage: 3 campaigns" in card.text
    await bob.press("📈 Report")
    [(photo, caption)] = await sent_files(telegram, "sendPhoto", "photo")
    assert photo.content.startswith(b"\x89PNG") and "Next step:" in caption

    await anna.send("/start")  # a new, empty profile: asked to name a workspace again
    assert await running_bot.query("SELECT current_workspace_id FROM users WHERE id = ?", (anna.id,)) == [(None,)]


async def test_a_workspace_nobody_else_is_in_goes_only_after_the_second_yes(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock
) -> None:
    mia = telegram.private_user("Mia", language_code="en")
    await onboard(mia, "Solo Studio")
    await add_partner(mia, "Nord Creators", "en")

    plan = await mia.send("/deletemydata")
    assert "Solo Studio: nobody else is in it, so it is deleted with its 1 partner" in plan.text
    clock.advance(timedelta(minutes=31))
    expired = await mia.press("🗑 Yes, delete my data")
    assert "This confirmation has expired" in expired.text

    await mia.send("/deletemydata")
    second = await mia.press("🗑 Yes, delete my data")
    assert "Delete these workspaces too?" in second.text
    assert "Solo Studio, with its 1 partner, their evidence" in second.text
    kept = await mia.press("Cancel")
    assert "Nothing was deleted." in kept.text
    assert await running_bot.query("SELECT COUNT(*) FROM partners") == [(1,)]

    await mia.send("/deletemydata")
    await mia.press("🗑 Yes, delete my data")
    done = await mia.press("🗑 Delete my data and these workspaces")
    assert "Done: your data is deleted" in done.text and "Solo Studio is deleted." in done.text
    assert await running_bot.query("SELECT COUNT(*) FROM workspaces") == [(0,)]
    assert await running_bot.query("SELECT COUNT(*) FROM partners") == [(0,)]
    assert await rows_naming(running_bot, mia.id) == []
