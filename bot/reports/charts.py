"""The report pictures, drawn with matplotlib's object API on the Agg backend (no pyplot, no display).

matplotlib is imported inside the functions, only when a report is made, so the bot starts without it.
`partner_figure` / `portfolio_figure` return the Figure, so tests read its texts before anything is rendered;
`to_png` renders. The handlers run both in a worker thread. Every word comes in from bot/reports/texts.py.
"""

from __future__ import annotations

import io
import textwrap
import threading
import warnings
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.domain.references import DIMENSIONS
from bot.domain.scorecard import SCORE_GROUPS
from bot.reports.data import FUNNEL, FunnelStep, PartnerReport, PortfolioReport
from bot.reports.texts import PartnerChartText, PortfolioChartText
from bot.views.formatting import score

# A name in a script DejaVu Sans lacks (a partner called in Hangul, say) is drawn with boxes for the missing
# letters; matplotlib's warning about each glyph says nothing an operator could act on.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100
PARTNER_SIZE = (1200, 900)  # pixels: within Telegram's photo limits and shown without downscaling
PORTFOLIO_SIZE = (1200, 700)
# Ships with matplotlib and has Cyrillic glyphs; set explicitly so a system font without them is never picked.
FONT = "DejaVu Sans"
RATING_MAX = 5
PARTNER_COLOR = "#2a6f97"
WORKSPACE_COLOR = "#b8c4cc"
RUNG_COLORS = {1: "#8ecae6", 2: "#219ebc", 3: "#023047"}
WALKED_COLOR = "#c0392b"
MUTED = "#555555"
BARS_SHOWN = 15  # partners on the score-only chart; more would not be readable
WRAP = 44  # characters per line of the explanatory texts in a panel
# matplotlib is not thread-safe (shared font and text caches): one picture is drawn at a time, each in well
# under a second, while the event loop keeps serving everyone else.
_DRAWING = threading.Lock()


@cache
def _matplotlib() -> Any:
    """Import matplotlib on first use, on the Agg backend, with a font that has Cyrillic."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["font.family"] = [FONT]
    matplotlib.rcParams["font.sans-serif"] = [FONT]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return matplotlib


def _new_figure(size: tuple[int, int]) -> Figure:
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _wrap(text: str, width: int = WRAP) -> str:
    return "\n".join(textwrap.fill(part, width) for part in text.split("\n"))


def _say(ax: Axes, title: str, message: str) -> None:
    """A panel without data says what is missing instead of showing empty axes."""
    ax.set_title(title, fontsize=12, fontweight="bold")
    ax.set_axis_off()
    ax.text(0.5, 0.5, _wrap(message), ha="center", va="center", transform=ax.transAxes, fontsize=11, color=MUTED)


# ---- the partner report ----------------------------------------------------------------------------------


def partner_figure(report: PartnerReport, text: PartnerChartText, locale: str) -> Figure:
    """Four panels — scorecard, references, quality along the ladder, check-ins — or a list of what is missing."""
    figure = _new_figure(PARTNER_SIZE)
    if report.empty:
        _what_is_missing(figure, text)
        return figure
    figure.suptitle(text.title, fontsize=16, fontweight="bold")
    (score_ax, refs_ax), (quality_ax, checkin_ax) = figure.subplots(2, 2)
    _scorecard(score_ax, report, text, locale)
    _references(refs_ax, report, text, locale)
    _quality(quality_ax, report, text)
    _checkins(checkin_ax, report, text)
    figure.supxlabel(_wrap(text.next_step, 120), fontsize=11)
    return figure


def _what_is_missing(figure: Figure, text: PartnerChartText) -> None:
    figure.suptitle(text.empty_title, fontsize=16, fontweight="bold")
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.text(0.03, 0.92, _wrap(text.empty_intro, 90), transform=ax.transAxes, fontsize=13, va="top")
    y = 0.8
    for item in text.empty_items:
        ax.text(0.05, y, "• " + _wrap(item, 86), transform=ax.transAxes, fontsize=12, va="top", color=MUTED)
        y -= 0.1
    figure.supxlabel(_wrap(text.next_step, 120), fontsize=11)


def _scorecard(ax: Axes, report: PartnerReport, text: PartnerChartText, locale: str) -> None:
    if report.score_by_group is None:
        _say(ax, text.score_title, text.score_missing)
        return
    ax.set_title(text.score_title, fontsize=12, fontweight="bold")
    rows = list(range(len(SCORE_GROUPS)))
    height = 0.38 if report.workspace_by_group else 0.6
    ours = [report.score_by_group[g] for g in SCORE_GROUPS]
    offset = height / 2 if report.workspace_by_group else 0.0
    bars = ax.barh([r - offset for r in rows], ours, height=height, color=PARTNER_COLOR, label=text.partner_legend)
    _label_bars(ax, bars, ours, locale)
    if report.workspace_by_group:
        theirs = [report.workspace_by_group[g] for g in SCORE_GROUPS]
        bars = ax.barh([r + offset for r in rows], theirs, height=height, color=WORKSPACE_COLOR,
                       label=text.workspace_legend)
        _label_bars(ax, bars, theirs, locale)
    ax.set_yticks(rows, [_wrap(text.groups[g], 18) for g in SCORE_GROUPS])
    ax.invert_yaxis()
    ax.set_xlim(0, RATING_MAX + 0.6)
    ax.set_xticks(range(RATING_MAX + 1))
    ax.set_xlabel(text.score_axis)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize=8, frameon=False)
    if not report.workspace_by_group:
        ax.text(0.5, -0.34, _wrap(text.comparison_missing, 60), transform=ax.transAxes, ha="center", va="top",
                fontsize=8, color=MUTED)


def _label_bars(ax: Axes, bars: Any, values: list[float], locale: str) -> None:
    for bar, value in zip(bars, values, strict=True):
        ax.text(bar.get_width() + 0.05, bar.get_y() + bar.get_height() / 2, score(value, locale),
                va="center", fontsize=8)


def _references(ax: Axes, report: PartnerReport, text: PartnerChartText, locale: str) -> None:
    if report.references is None:
        _say(ax, text.references_title, text.references_missing)
        return
    ax.set_title(text.references_title, fontsize=12, fontweight="bold")
    shown = [d for d in DIMENSIONS if d in report.references]
    values = [report.references[d] for d in shown]
    bars = ax.barh(range(len(shown)), values, height=0.6, color=PARTNER_COLOR)
    _label_bars(ax, bars, values, locale)
    ax.set_yticks(range(len(shown)), [text.dimensions[d] for d in shown])
    ax.invert_yaxis()
    ax.set_xlim(0, RATING_MAX + 0.6)
    ax.set_xticks(range(RATING_MAX + 1))
    ax.set_xlabel(text.references_axis + "\n" + text.again)


def _quality(ax: Axes, report: PartnerReport, text: PartnerChartText) -> None:
    if not report.campaigns:
        _say(ax, text.quality_title, text.quality_missing)
        return
    from matplotlib.patches import Patch

    ax.set_title(text.quality_title, fontsize=12, fontweight="bold")
    numbers = [p.number for p in report.campaigns]
    qualities = [p.quality for p in report.campaigns]
    colors = [RUNG_COLORS.get(p.rung, PARTNER_COLOR) for p in report.campaigns]
    ax.bar(numbers, qualities, color=colors, width=0.6)
    ax.plot(numbers, qualities, color=MUTED, linewidth=1, marker="o", markersize=3)
    for number, quality in zip(numbers, qualities, strict=True):
        ax.text(number, quality + 0.1, str(quality), ha="center", fontsize=9)
    ax.set_xticks(numbers, [text.campaign_ticks[n] for n in numbers])
    ax.set_ylim(0, RATING_MAX + 0.8)
    ax.set_yticks(range(1, RATING_MAX + 1))
    ax.set_ylabel(text.quality_axis)
    rungs = sorted({p.rung for p in report.campaigns})
    ax.legend(handles=[Patch(color=RUNG_COLORS.get(r, PARTNER_COLOR), label=text.rungs[r]) for r in rungs],
              loc="upper left", fontsize=8, ncols=len(rungs))


def _checkins(ax: Axes, report: PartnerReport, text: PartnerChartText) -> None:
    if not report.weeks:
        _say(ax, text.checkins_title, text.checkins_missing)
        return
    ax.set_title(text.checkins_title, fontsize=12, fontweight="bold")
    positions = list(range(len(report.weeks)))
    rates = [round(week.rate * 100) for week in report.weeks]
    ax.bar(positions, rates, color=PARTNER_COLOR, width=0.6)
    for position, rate in zip(positions, rates, strict=True):
        ax.text(position, rate + 2, str(rate), ha="center", fontsize=8)
    ax.set_xticks(positions, text.weeks, rotation=45, ha="right")
    ax.set_ylim(0, 112)
    ax.set_yticks(range(0, 101, 25))
    ax.set_ylabel(text.checkins_axis)


# ---- the portfolio ---------------------------------------------------------------------------------------


def portfolio_figure(report: PortfolioReport, text: PortfolioChartText, locale: str) -> Figure:
    """The stage funnel on the left, score against communication health on the right."""
    figure = _new_figure(PORTFOLIO_SIZE)
    figure.suptitle(text.title, fontsize=16, fontweight="bold")
    funnel_ax, health_ax = figure.subplots(1, 2, width_ratios=(1, 1.2))
    _funnel(funnel_ax, report, text)
    _health(health_ax, report, text, locale)
    return figure


def _funnel(ax: Axes, report: PortfolioReport, text: PortfolioChartText) -> None:
    from matplotlib.ticker import MaxNLocator

    counts = report.funnel()
    ax.set_title(text.funnel_title, fontsize=12, fontweight="bold")
    rows = list(range(len(FUNNEL)))
    colors = [WALKED_COLOR if step is FunnelStep.WALKED else PARTNER_COLOR for step in FUNNEL]
    values = [counts[step] for step in FUNNEL]
    ax.barh(rows, values, color=colors, height=0.6)
    for row, value in zip(rows, values, strict=True):
        ax.text(value + 0.05, row, str(value), va="center", fontsize=10)
    ax.set_yticks(rows, [_wrap(text.steps[step], 20) for step in FUNNEL])
    ax.invert_yaxis()
    ax.set_xlim(0, max([*values, 1]) * 1.15 + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(text.funnel_axis)


def _health(ax: Axes, report: PortfolioReport, text: PortfolioChartText, locale: str) -> None:
    names = dict(zip(report.partners, text.names, strict=True))
    if not report.scored:
        _say(ax, text.health_title, text.note)
        return
    ax.set_title(text.health_title, fontsize=12, fontweight="bold")
    if not report.checkins_exist:
        scored = sorted(report.scored, key=lambda p: p.score or 0, reverse=True)[:BARS_SHOWN]
        values = [p.score or 0.0 for p in scored]
        bars = ax.barh(range(len(scored)), values, color=PARTNER_COLOR, height=0.6)
        for bar, value in zip(bars, values, strict=True):
            ax.text(bar.get_width() + 0.05, bar.get_y() + bar.get_height() / 2, score(value, locale),
                    va="center", fontsize=8)
        ax.set_yticks(range(len(scored)), [names[p] for p in scored])
        ax.invert_yaxis()
        ax.set_xlim(0, RATING_MAX + 0.6)
        ax.set_xlabel(text.score_axis + "\n" + _wrap(text.note, 70))
        return
    points = report.both
    ax.scatter([p.score for p in points], [(p.answer_rate or 0) * 100 for p in points], s=60, color=PARTNER_COLOR)
    for p in points:
        ax.annotate(names[p], ((p.score or 0), (p.answer_rate or 0) * 100), textcoords="offset points",
                    xytext=(5, 5), fontsize=8)
    ax.set_xlim(1, RATING_MAX + 0.3)
    ax.set_ylim(-5, 110)
    ax.set_yticks(range(0, 101, 25))
    ax.grid(alpha=0.3)
    ax.set_xlabel(text.score_axis + ("\n" + _wrap(text.note, 70) if text.note else ""))
    ax.set_ylabel(text.rate_axis)


# ---- output ---------------------------------------------------------------------------------------------


def figure_texts(figure: Figure) -> list[str]:
    """Every non-empty text on the figure: titles, labels, tick labels, legends, annotations."""
    from matplotlib.text import Text

    return [t.get_text() for t in figure.findobj(Text) if t.get_text().strip()]


def to_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def partner_png(report: PartnerReport, text: PartnerChartText, locale: str) -> bytes:
    """Figure and PNG in one call, for `asyncio.to_thread`."""
    with _DRAWING:
        return to_png(partner_figure(report, text, locale))


def portfolio_png(report: PortfolioReport, text: PortfolioChartText, locale: str) -> bytes:
    with _DRAWING:
        return to_png(portfolio_figure(report, text, locale))
