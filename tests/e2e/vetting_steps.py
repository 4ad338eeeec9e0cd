"""People-like steps shared by the vetting tests: onboard, add a partner through the buttons."""

from __future__ import annotations

from tests.e2e.people import PrivateUser

SKIP = "Skip"  # the skip button reads "Skip ⏭" / "Пропустить ⏭"; press() matches by substring
WORDS = {
    "en": {"skip": "Skip", "agency": "Agency", "both": "Russia + 🇺🇸 USA", "ru": "🇷🇺 Russia", "us": "🇺🇸 USA"},
    "ru": {"skip": "Пропустить", "agency": "Агентство", "both": "Россия + 🇺🇸 США", "ru": "🇷🇺 Россия", "us": "🇺🇸 США"},
}


async def onboard(user: PrivateUser, workspace: str = "Acme") -> None:
    await user.start()
    await user.send(workspace)


async def add_partner(user: PrivateUser, name: str, locale: str, markets: str = "both") -> str:
    """Creates a partner through /newpartner and returns the text of the card that follows."""
    words = WORDS[locale]
    await user.send("/newpartner")
    await user.send(name)
    await user.press(words["agency"])
    await user.press(words[markets])
    await user.press(words["skip"])
    reaction = await user.press(words["skip"])
    return reaction.text


CASE_WORDS = {
    "en": {"success": "success", "failure": "failure", "case": "Case study", "card": "« Card", "evidence": "Evidence"},
    "ru": {
        "success": "успех",
        "failure": "неудача",
        "case": "Кейс",
        "card": "« Карточка",
        "evidence": "Кейсы и отзывы",
    },
}


async def add_case(
    user: PrivateUser,
    locale: str,
    market: str,
    brand: str,
    outcome: str = "success",
    months: int = 8,
    link: str | None = None,
) -> str:
    """From an evidence screen on screen: adds one case study; returns the refreshed evidence text."""
    words, case_words = WORDS[locale], CASE_WORDS[locale]
    await user.press("➕ " + case_words["case"])
    await user.press(words[market])
    await user.send(brand)
    await user.press(case_words[outcome])
    await user.send(str(months))
    if link is None:
        reaction = await user.press(words["skip"])
    else:
        reaction = await user.send(link)
    return reaction.text
