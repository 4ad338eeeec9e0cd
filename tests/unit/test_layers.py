"""The layout shows the design: each layer imports only the layers under it (issue 15, item 6).

domain ← storage ← views, labels, keyboards, texts ← reports ← handlers ← app; plumbing (how updates come in and
requests go out) knows no feature. A module-level or function-level import that breaks the order fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"

# Layer of a module (by its dotted name's prefix) → bot modules it must never import (by prefix).
NEVER = {
    "bot.domain": ("bot.storage", "bot.views", "bot.labels", "bot.keyboards", "bot.texts", "bot.reports",
                   "bot.handlers", "bot.plumbing", "bot.app", "bot.checkins", "bot.reminders"),
    "bot.storage": ("bot.views", "bot.labels", "bot.keyboards", "bot.texts", "bot.reports", "bot.handlers",
                    "bot.plumbing", "bot.app", "bot.checkins", "bot.reminders"),
    "bot.views": ("bot.reports", "bot.handlers", "bot.app", "bot.checkins", "bot.reminders"),
    "bot.labels": ("bot.reports", "bot.handlers", "bot.app", "bot.checkins", "bot.reminders"),
    "bot.keyboards": ("bot.reports", "bot.handlers", "bot.app", "bot.checkins", "bot.reminders"),
    "bot.reports": ("bot.handlers", "bot.app", "bot.checkins", "bot.reminders"),
    "bot.plumbing": ("bot.handlers", "bot.app", "bot.reports", "bot.checkins", "bot.reminders"),
    "bot.checkins": ("bot.handlers", "bot.app"),
    "bot.reminders": ("bot.handlers", "bot.app"),
}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(BOT.rglob("*.py")):
        parts = path.relative_to(BOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def imported(path: Path, module: str) -> set[str]:
    """Every bot module named by an import in the file, wherever the import is (lazy ones count too)."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name == "bot" or name.startswith("bot.")}


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize(("module", "path"), modules(), ids=[name for name, _ in modules()])
def test_nothing_imports_upward(module: str, path: Path) -> None:
    rules = [forbidden for layer, forbidden in NEVER.items() if _under(module, layer)]
    wrong = sorted(
        name for name in imported(path, module) for forbidden in rules for prefix in forbidden if _under(name, prefix)
    )
    assert not wrong, f"{module} imports {wrong}"


def test_the_rules_see_every_layer() -> None:
    names = {name for name, _ in modules()}
    for layer in NEVER:
        assert any(_under(name, layer) for name in names), f"no module in {layer}: the rule checks nothing"


def test_a_forbidden_import_is_caught(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from bot.handlers.partners import show_partner_card\n", encoding="utf-8")
    assert "bot.handlers.partners" in imported(sample, "bot.views.x")
