"""CSV export: no cell runs as a formula in a spreadsheet splitting on `,` or on `;`, whichever the file used."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile

import pytest

from bot.reports.export import Sheet, csv_delimiter, csv_safe, to_csv, to_csv_zip

DELIMITERS = (",", ";")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

NASTY = [
    "=1+1",
    "safe;=1+1;x",
    "safe,=1+1,x",
    "=cmd|' /C calc'!A0 — надёжные",
    '"=1"',
    'x;"=1"',
    'x,""=HYPERLINK("http://evil")',
    "notes:\n-1+2\n+3",
    "a\r\n@SUM(A1:A9)",
    "\t=1",
    "a;\t=1",
    "\r=1",
    "+7 999 123-45-67",
    "-",
    "@",
    ";=1",
    ",=1",
    "a;;=1",
    "Ёлка, \"кавычки\"\nи строка",
    'He said "hi"; =2',
]
HARMLESS = ["Агентство «Север»", "2026-11-24 09:00", "CTR 2%", "a - b", "x = y", "", "50/50", "e-mail@x.com"]


def spreadsheet_cells(text: str, delimiter: str) -> list[str]:
    """Every cell a spreadsheet splitting on `delimiter` would see (Excel opens a .csv with its locale's list
    separator; quotes hold a cell together only where they open it)."""
    return [cell for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for cell in row]


def formula_cells(text: str, delimiter: str) -> list[str]:
    return [cell for cell in spreadsheet_cells(text, delimiter) if cell.lstrip('"').startswith(FORMULA_START)]


def sheet_of(values: list[str]) -> Sheet:
    """Each value alone, and between others, in every column position."""
    rows: list[list[str | int | None]] = [[value] for value in values]
    rows += [[1, value, "tail"] for value in values]
    rows += [list(pair) for pair in itertools.product(values, repeat=2)]
    return Sheet("t", "t", ["ID", "Text", "More"], rows)


@pytest.mark.parametrize("written", DELIMITERS)
@pytest.mark.parametrize("read", DELIMITERS)
def test_no_cell_becomes_a_formula_whichever_delimiter_the_reader_splits_on(written: str, read: str) -> None:
    text = to_csv(sheet_of(NASTY + HARMLESS), written)
    assert formula_cells(text, read) == []


@pytest.mark.parametrize("read", DELIMITERS)
def test_without_neutralising_the_same_cells_would_be_formulas(read: str) -> None:
    """The check above can fail: the raw values, quoted the same way, do give formulas to both readers."""
    def quoted(value: object) -> str:
        text = str(value)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',;"\r\n') else text

    raw = "".join(",".join(quoted(value) for value in row) + "\r\n" for row in sheet_of(NASTY).rows)
    found = formula_cells(raw, read)
    assert "=1+1" in found and any(cell.startswith("=1+1") for cell in found)


@pytest.mark.parametrize("delimiter", DELIMITERS)
def test_the_reader_with_the_right_delimiter_gets_every_cell_back(delimiter: str) -> None:
    sheet = Sheet("t", "t", ["ID", "Текст", "Число"], [[1, value, -3] for value in NASTY + HARMLESS] + [[2, None, 0.5]])
    rows = list(csv.reader(io.StringIO(to_csv(sheet, delimiter), newline=""), delimiter=delimiter))
    assert rows[0] == ["ID", "Текст", "Число"]
    assert rows[1:] == [["1", csv_safe(value), "-3"] for value in NASTY + HARMLESS] + [["2", "", "0.5"]]
    for value in HARMLESS:
        assert csv_safe(value) == value  # ordinary text is not touched


def test_what_neutralising_looks_like() -> None:
    assert csv_safe("=1+1") == "'=1+1"
    assert csv_safe("safe;=1+1;x") == "safe;'=1+1;x"
    assert csv_safe("a, -5%") == "a, -5%"  # a space in front: no formula
    assert csv_safe("a,-5%") == "a,'-5%"
    assert csv_safe('x;"=1"') == "x;'\"=1\""
    assert csv_safe("notes:\n- one\n- two") == "notes:\n'- one\n'- two"
    assert csv_safe(-3) == -3 and csv_safe(2.5) == 2.5 and csv_safe(None) is None  # numbers are not text


def test_cells_with_either_delimiter_are_quoted() -> None:
    sheet = Sheet("t", "t", ["a", "b"], [["x;y", "p,q"], ["plain", 'say "hi"']])
    assert to_csv(sheet, ",") == 'a,b\r\n"x;y","p,q"\r\nplain,"say ""hi"""\r\n'
    assert to_csv(sheet, ";") == 'a;b\r\n"x;y";"p,q"\r\nplain;"say ""hi"""\r\n'


def test_the_delimiter_follows_the_readers_language() -> None:
    assert csv_delimiter("ru") == ";" and csv_delimiter("en") == "," and csv_delimiter("de") == ","
    sheets = [Sheet("partners", "Партнёры", ["ID", "Имя"], [[1, "Север"], [2, "=HYPERLINK(\"x\")"]])]
    for delimiter in DELIMITERS:
        raw = zipfile.ZipFile(io.BytesIO(to_csv_zip(sheets, delimiter))).read("01-partners.csv")
        assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
        text = raw.decode("utf-8-sig")
        assert text.splitlines()[1] == f"1{delimiter}Север"
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        assert rows == [["ID", "Имя"], ["1", "Север"], ["2", "'=HYPERLINK(\"x\")"]]
