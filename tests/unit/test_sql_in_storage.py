"""Only bot/storage/ holds SQL (issue 15 item 4): everything else calls repository methods that return typed rows.

The check reads every string constant of every module under bot/ with `ast` (f-string parts included; comments
are not strings, and docstrings are left out: they describe, they never run) and looks for SQL in it. Nothing is
allowed outside bot/storage/: a module that needs a new query asks a repository for it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
STORAGE = BOT / "storage"

# SQL as this code base writes it (keywords in capitals), and statement shapes in any case in case someone doesn't.
_SQL = (
    re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|REPLACE|PRAGMA|WITH)\b\s"),
    re.compile(
        r"(?i)\binsert\s+(or\s+\w+\s+)?into\s+\"?\w+\"?\s*\(|\bdelete\s+from\s+\"?\w+\"?\s+where\b"
        r"|\bupdate\s+\"?\w+\"?\s+set\s+\"?\w+\"?\s*="
        r"|\bselect\b[^.]*?\bfrom\s+\"?\w+\"?\s+(where|join|order|group|limit)\b|\bpragma\s+\w+"
    ),
)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def sql_in(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string constant in the source that holds SQL."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and any(pattern.search(node.value) for pattern in _SQL)
    )


def _modules(under: Path) -> list[Path]:
    return sorted(under.rglob("*.py"))


def test_no_sql_outside_storage() -> None:
    found = [
        f"{path.relative_to(BOT.parent)}:{line}: {text.strip()[:80]!r}"
        for path in _modules(BOT)
        if STORAGE not in path.parents
        for line, text in sql_in(path.read_text(encoding="utf-8"))
    ]
    assert not found, "SQL outside bot/storage/ (move it into a repository there):\n" + "\n".join(found)


def test_no_sql_files_outside_storage() -> None:
    assert [p for p in BOT.rglob("*.sql") if STORAGE not in p.parents] == []


def test_the_check_sees_sql_where_it_is() -> None:
    """The detector is not blind: the repositories' own queries are found, and so are the shapes it looks for."""
    in_storage = {path.name for path in _modules(STORAGE) if sql_in(path.read_text(encoding="utf-8"))}
    assert {"exports.py", "personal_data.py", "reports.py", "schema.py", "partners.py"} <= in_storage
    caught = '''
async def f(db, table, column):
    await db.fetchall("SELECT id FROM partners WHERE workspace_id = ?", (1,))
    await db.execute(f'DELETE FROM "{table}" WHERE "{column}" = ?', (1,))
    await db.execute("update users set locale = ? where id = ?", ("en", 1))
    await db.fetchall(f'PRAGMA table_info("{table}")')
    await db.execute("INSERT OR IGNORE INTO meta (name) VALUES (?)", ("x",))
    await db.execute("delete from fsm_states where key = ?", ("k",))
'''
    assert sorted(line for line, _text in sql_in(caught)) == [3, 4, 5, 6, 7, 8]
    not_sql = '''
"""A docstring may say SELECT or DELETE FROM users when it describes what a repository does."""

class Evidence:
    """DELETE names the item by its kind and id."""

def f():
    return "Select a partner from the list", "Delete from your workspace?", "Update the stage", "Update it"
'''
    assert sql_in(not_sql) == []
