"""Extract strings from bot/, update both catalogs, fill English from the msgids; Russian stays by hand.

Run: python scripts/update_translations.py   (then translate the empty msgstr in locales/ru)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "locales" / "messages.pot"
KEYWORDS = ["-k", "_", "-k", "__", "-k", "lazy_gettext", "-k", "ngettext:1,2", "-k", "N_"]


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def fill_english() -> None:
    po_path = ROOT / "locales" / "en" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        message.string = message.id  # the English source text is the translation
        message.flags.discard("fuzzy")
    with po_path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_by_file=True)


def main() -> None:
    pybabel(
        "extract",
        "-F",
        "babel.cfg",
        *KEYWORDS,
        "--no-wrap",
        "--sort-by-file",
        "--project=Most",
        "--copyright-holder=Most",
        "-o",
        str(POT),
        "bot",
    )
    for locale in ("en", "ru"):
        po = ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po"
        action = "update" if po.exists() else "init"
        extra = (
            ["--no-wrap", "--ignore-obsolete", "--no-fuzzy-matching"] if action == "update" else ["--no-wrap"]
        )
        pybabel(action, "-i", str(POT), "-d", "locales", "-D", "messages", "-l", locale, *extra)
    fill_english()
    untranslated = missing_russian()
    print(f"{len(untranslated)} Russian strings to translate" if untranslated else "catalogs complete")


def missing_russian() -> list[str]:
    with (ROOT / "locales" / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    return [
        str(m.id)
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
    ]


if __name__ == "__main__":
    main()
