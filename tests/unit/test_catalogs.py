"""Every string in bot/ is in both catalogs, translated, not fuzzy, with the same placeholders and tags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "__": None, "N_": None}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
TAG = re.compile(r"</?[a-z-]+")


def code_strings() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT / "bot"), keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple | list) else message)
    return found


def catalog(locale: str):
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def test_the_code_has_strings_to_translate() -> None:
    assert len(code_strings()) > 20


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_every_code_string_is_translated(locale: str) -> None:
    cat = catalog(locale)
    ids = {m.id if isinstance(m.id, str) else m.id[0]: m for m in cat if m.id}
    missing = sorted(code_strings() - ids.keys())
    assert not missing, f"not in {locale} catalog: {missing[:5]}"
    for key, message in ids.items():
        assert not message.fuzzy, f"fuzzy in {locale}: {key!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), f"empty translation in {locale}: {key!r}"


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_translations_keep_placeholders_and_tags(locale: str) -> None:
    for message in catalog(locale):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) <= set(PLACEHOLDER.findall(source)) | {"{n}"}, source
            assert sorted(TAG.findall(text)) == sorted(TAG.findall(source)), f"tags differ: {source!r}"


def test_russian_is_written_not_copied() -> None:
    copied = [
        m.id
        for m in catalog("ru")
        if m.id and isinstance(m.id, str) and m.string == m.id and re.search(r"[A-Za-z]{4,}", PLACEHOLDER.sub("", m.id))
    ]
    assert not copied, f"Russian entries identical to English: {copied[:5]}"
    cyrillic = [m for m in catalog("ru") if m.id and re.search("[а-яё]", str(m.string), re.I)]
    assert len(cyrillic) >= 0.9 * len([m for m in catalog("ru") if m.id])


def test_no_translation_call_hides_inside_an_f_string() -> None:
    # Babel does not extract _() nested in an f-string, so such text would silently stay English.
    nested = re.compile(r"""f(["']).*\{\s*(_|ngettext|gettext)\(""")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "bot").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if nested.search(line)
    ]
    assert not offenders, offenders
