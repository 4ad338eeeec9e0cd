"""/stats: the learning loop — the workspace's own version of the field notes' two figures."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_percent

from bot.domain.campaigns import ProblemKind
from bot.domain.partners import Stage
from bot.domain.stats import (
    FIELD_NOTES_QUALITY_GAIN,
    LONG_PARTNERSHIP_CAMPAIGNS,
    MIN_PARTNERSHIPS_FOR_STATS,
    PartnershipOutcome,
    ProblemTally,
    StatResult,
    one_and_done_problems,
    quality_gain,
)
from bot.handlers.workspace_guard import private_workspace_router
from bot.keyboards.callbacks import MenuAction, MenuCallback
from bot.storage.campaigns import CampaignRepo
from bot.storage.workspaces import Workspace
from bot.views import debrief_texts
from bot.views.formatting import user_text

SIGNED_PERCENT = "+#,##0%;-#,##0%"


# The kinds of button data this feature's handlers take.
PRESSES = (MenuCallback,)


def router() -> Router:
    r = private_workspace_router("stats", PRESSES)
    r.message.register(stats_command, Command("stats"))
    r.callback_query.register(stats_from_menu, MenuCallback.filter(F.action == MenuAction.STATS))
    return r


def _percent(value: float, locale: str) -> str:
    return format_percent(value, format=SIGNED_PERCENT, locale=locale)


def _partnerships(count: int) -> str:
    return ngettext("{count} partnership", "{count} partnerships", count).format(count=count)


def _not_enough(sample: int) -> str:
    return _("Not enough data yet: {sample} so far, at least {min} needed.").format(
        sample=_partnerships(sample), min=MIN_PARTNERSHIPS_FOR_STATS
    )


def _gain_section(gain: StatResult, locale: str) -> list[str]:
    lines = [
        _("<b>Quality over time</b> (partnerships past {campaigns} debriefed campaigns)").format(
            campaigns=LONG_PARTNERSHIP_CAMPAIGNS
        ),
        _("Field notes: average quality {gain} from the first to the latest campaign (~20 partnerships).").format(
            gain=_percent(FIELD_NOTES_QUALITY_GAIN, locale)
        ),
    ]
    if not gain.enough or gain.value is None:
        lines.append(_not_enough(gain.sample))
    else:
        lines.append(
            _("Yours: {gain}, from {sample}.").format(
                gain=_percent(gain.value, locale), sample=_partnerships(gain.sample)
            )
        )
    return lines


def _one_and_done_section(tally: ProblemTally) -> list[str]:
    lines = [
        _("<b>Partnerships that ended after one campaign</b>"),
        _("Field notes: usually a problem with expectations, not competence."),
    ]
    if not tally.enough:
        lines.append(_not_enough(tally.sample))
        return lines
    counts = ", ".join(
        f"{debrief_texts.problem(kind)} — {tally.counts[kind]}"
        for kind in sorted(ProblemKind, key=lambda k: -tally.counts[k])
    )
    lines.append(_("Yours, from {sample}: {counts}.").format(sample=_partnerships(tally.sample), counts=counts))
    if tally.top is None:
        lines.append(_("No single kind of problem stands out yet."))
    elif tally.matches_field_notes:
        lines.append(
            _("Most often: {kind} — the same as in the field notes.").format(kind=debrief_texts.problem(tally.top))
        )
    else:
        lines.append(
            _("Most often: {kind} — not what the field notes saw; worth a look at how you vet and scope.").format(
                kind=debrief_texts.problem(tally.top)
            )
        )
    return lines


async def stats_from_menu(
    _callback: CallbackQuery, pressed: Message, campaigns: CampaignRepo, workspace: Workspace, i18n: I18n
) -> None:
    """The main menu's Stats button."""
    await stats_command(pressed, campaigns, workspace, i18n)


async def stats_command(message: Message, campaigns: CampaignRepo, workspace: Workspace, i18n: I18n) -> None:
    """/stats: quality change over long partnerships and why one-campaign partnerships ended."""
    outcomes = await campaigns.workspace_outcomes(workspace.id)
    gain = quality_gain([[d.quality for d in debriefs] for _pid, _stage, debriefs in outcomes])
    tally = one_and_done_problems(
        [
            PartnershipOutcome(tuple(d.problem for d in debriefs), stage is Stage.WALKED)
            for _pid, stage, debriefs in outcomes
        ]
    )
    lines = [
        _("<b>Learning loop: {workspace}</b>").format(workspace=user_text(workspace.name)),
        _("Partnerships with at least one debrief: {count}.").format(count=len(outcomes)),
        "",
        *_gain_section(gain, i18n.current_locale),
        "",
        *_one_and_done_section(tally),
    ]
    await message.answer("\n".join(lines))
