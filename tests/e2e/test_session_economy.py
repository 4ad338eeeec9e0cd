"""A whole session played as a person, counting what the bot leaves in the chat (issue 15's must-show).

Onboarding, a partner with evidence, gut check, scorecard, pilot scope, two logged events and a debrief: the
bot should edit its own message where a press only moves a flow on, so a straight session like this one
leaves few new messages per action, and few messages whose buttons still do anything at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser, Reaction
from tests.e2e.test_assessments import SAY as VET
from tests.e2e.test_campaign_scope import W
from tests.e2e.test_campaigns import SAY as CAMPAIGN
from tests.e2e.vetting_steps import CASE_WORDS, WORDS

NEW_MESSAGES_PER_ACTION = 0.7
LIVE_BUTTON_MESSAGES_AT_END = 2


@dataclass
class Tally:
    """Every action of the session and what the bot did in answer."""

    user: PrivateUser
    actions: list[tuple[str, Reaction]] = field(default_factory=list)
    stale: tuple[int, str] | None = None  # a scorecard button from the session's first question

    async def send(self, text: str) -> Reaction:
        return self._keep(f"send {text!r}", await self.user.send(text))

    async def press(self, button: str, message: object = None) -> Reaction:
        return self._keep(f"press {button!r}", await self.user.press(button, message))  # type: ignore[arg-type]

    def _keep(self, what: str, reaction: Reaction) -> Reaction:
        self.actions.append((what, reaction))
        return reaction

    @property
    def new_messages(self) -> int:
        return sum(len(reaction.messages) for _, reaction in self.actions)

    def unanswered_presses(self) -> list[str]:
        return [what for what, reaction in self.actions if what.startswith("press") and reaction.answer is None]

    def report(self) -> str:
        return "\n".join(f"{len(r.messages)} new, {len(r.edits)} edited ← {what}" for what, r in self.actions)


def live_button_messages(telegram: FakeTelegram, chat_id: int) -> list[str]:
    """The bot's messages still in the chat whose inline buttons send something back to the bot."""
    return [
        (message.text or message.caption or "")[:60]
        for message in telegram.sent_to(chat_id)
        if any(data and not data.startswith(("http://", "https://", "tg://")) for _, data in message.buttons)
    ]


async def play_session(tally: Tally, telegram: FakeTelegram, running_bot: RunningBot, locale: str) -> None:
    words, case, vet, scope, camp = WORDS[locale], CASE_WORDS[locale], VET[locale], W[locale], CAMPAIGN[locale]
    await tally.send("/start")
    await tally.send("Acme")
    await tally.send("/newpartner")
    await tally.send("Bridge")
    await tally.press(words["agency"])
    await tally.press(words["both"])
    await tally.press(words["skip"])
    await tally.press(words["skip"])

    await tally.press(case["evidence"])
    for market, brand in (("ru", "Бренд"), ("us", "Brand")):
        await tally.press("➕ " + case["case"])
        await tally.press(words[market])
        await tally.send(brand)
        await tally.press(case["success"])
        await tally.send("8")
        await tally.press(words["skip"])
    await tally.press(case["card"])

    await tally.press(vet["gut"])
    for _ in range(3):
        await tally.press(vet["yes"])
    await tally.press(vet["skip_note"])
    first_question = await tally.press(vet["scorecard"])
    tally.stale = next(
        (m.message_id, data) for m in first_question.messages + first_question.edits
        for text, data in m.buttons if text == "4" and data
    )
    for _ in range(9):
        await tally.press("4")

    await tally.press(scope["pilot"])
    await tally.press("2")
    await tally.send("2 UGC videos")
    await tally.press(scope["today"])
    await tally.press(scope["14"])
    await tally.send("Both approved")
    await tally.press(scope["agreed"])
    await tally.send("$600")
    await tally.press("1")
    await tally.press(scope["us"])
    await tally.press(scope["continue"])
    await tally.send("Approved first time")
    await tally.send("One reshoot")
    await tally.send("Brief changes")
    await tally.press(scope["save"])

    for event in ("at_scope", "at_scope"):
        await tally.press(camp["log_button"])
        await tally.press(camp[event])
        await tally.press(camp["done"])

    running_bot.clock.advance(timedelta(days=15))
    assert running_bot.app is not None
    assert await running_bot.app.run_due_reminders() == 1
    partner_id = (await running_bot.query("SELECT id FROM partners"))[0][0]
    debrief = PartnerCallback(action=PartnerAction.DEBRIEF, partner_id=partner_id).pack()
    reminder = next(m for m in reversed(telegram.sent_to(tally.user.id)) if any(d == debrief for _, d in m.buttons))
    await tally.press(scope["debrief_now"], reminder)
    await tally.send("Creators were on brief")
    await tally.send("Nothing")
    await tally.press(camp["none"])
    await tally.press("5")
    await tally.press(camp["expand"])


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_a_straight_session_edits_in_place_and_leaves_few_live_buttons(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    manager = telegram.private_user("Manager", language_code=locale)
    tally = Tally(manager)
    await play_session(tally, telegram, running_bot, locale)

    assert await running_bot.query("SELECT COUNT(*) FROM debriefs") == [(1,)]
    assert tally.unanswered_presses() == []
    refused = [(what, call.method, call.error) for what, reaction in tally.actions for call in reaction.errors]
    assert refused == []  # not even a "message is not modified": no request is sent that changes nothing
    ratio = tally.new_messages / len(tally.actions)
    live = live_button_messages(telegram, manager.id)
    print(f"[{locale}] {tally.new_messages} new messages for {len(tally.actions)} actions = {ratio:.2f}; "
          f"{len(live)} with live buttons at the end")  # the closing note's numbers (pytest -s)

    assert ratio <= NEW_MESSAGES_PER_ACTION, f"{tally.new_messages} messages for {len(tally.actions)} actions:\n" + (
        tally.report()
    )
    assert len(live) <= LIVE_BUTTON_MESSAGES_AT_END, live

    assert tally.stale is not None
    message_id, data = tally.stale
    stale = await manager.press_data(data, message_id)  # a client that still shows the old keyboard
    assert stale.popup and not stale.messages
    assert await running_bot.query("SELECT COUNT(*) FROM scorecards") == [(1,)]
