from __future__ import annotations

from bot.plumbing.telegram_limits import MESSAGE_TEXT_MAX, split_html_lines, visible_text


def test_visible_text_counts_what_telegram_counts() -> None:
    assert visible_text("<b>Hi</b> &lt;3 &amp; more") == "Hi <3 & more"


def test_split_keeps_every_line_and_fits() -> None:
    lines = [f"<b>line {i}</b> " + "x" * 90 for i in range(200)]
    chunks = split_html_lines("\n".join(lines))
    assert len(chunks) > 1
    assert all(len(visible_text(chunk)) <= MESSAGE_TEXT_MAX for chunk in chunks)
    assert "\n".join(chunks).split("\n") == lines


def test_split_cuts_a_single_enormous_line() -> None:
    chunks = split_html_lines("<i>" + "я" * 10_000 + "</i>")
    assert all(len(visible_text(chunk)) <= MESSAGE_TEXT_MAX for chunk in chunks)
