"""Numbers in exports: the decimal mark is decided per file, thousands separators count only
in whole groups of three digits, and a malformed or ambiguous number is an error naming the
cell (money is never guessed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from forecasting import ingest_files
from forecasting.errors import IngestError
from forecasting.ingest._table import _parse_number, parse_both

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "point", "comma"),
    [
        ("1,234.56", 1234.56, None),
        ("1,234,567.5", 1234567.5, None),
        ("12.5", 12.5, None),
        ("-$1,234.56", -1234.56, None),
        ("1.234,56", None, 1234.56),
        ("1 234,56", None, 1234.56),
        ("1\u00a0234,56 €", None, 1234.56),
        ("1\u202f234\u202f567,8", None, 1234567.8),
        ("41,5", None, 41.5),
        ("12,5", None, 12.5),
        ("0,123", None, 0.123),
        ("1,234", 1234.0, 1.234),  # ambiguous: the file decides
        ("1.234", 1.234, 1234.0),
        ("10 500", 10500.0, 10500.0),
        ("820", 820.0, 820.0),
        ("1,2,3", None, None),
        ("1,23,456.7", None, None),
        ("12,34.5", None, None),
        ("1.234 567,8", None, None),  # two different separators
        ("nan", None, None),
        ("inf", None, None),
        ("1_000", None, None),
    ],
)
def test_a_cell_read_with_either_decimal_mark(text, point, comma):
    assert parse_both(text) == (point, comma)
    assert _parse_number(text, ".") == point
    assert _parse_number(text, ",") == comma


def test_european_google_download():
    result = ingest_files([FIX / "google_eu.csv"])
    h = result.history
    brand = h[(h["segment"] == "brand-exact") & (h["date"] == "2026-11-02")].iloc[0]
    assert brand["spend"] == 1234.56 and brand["results"] == 41.5
    assert brand["impressions"] == 10500 and brand["clicks"] == 820
    generic = h[(h["segment"] == "running-shoes")].iloc[0]
    assert generic["spend"] == 2010.0 and generic["clicks"] == 1120
    f = result.report.files[0]
    assert f.spend_by_result_type["conversions"] == pytest.approx(4224.66)  # = the total row
    assert f.skipped_spend["total_row"] == pytest.approx(4224.66)


def test_english_google_download_still_reads_thousands_commas():
    for name in ("google_ads.csv", "google_ads_excel_utf16.csv"):
        h = ingest_files([FIX / name]).history
        assert 1234.56 in h["spend"].tolist()
        assert 10500 in h["impressions"].tolist()


def _variant(tmp_path, fixture, old, new, encoding="utf-8") -> Path:
    text = (FIX / fixture).read_text(encoding="utf-8-sig")
    assert old in text, "the fixture changed; update the test"
    p = tmp_path / fixture
    p.write_text(text.replace(old, new, 1), encoding=encoding)
    return p


# (fixture, old, new, row, line, column, words): each was silently misread before
CASES = {
    "decimal_comma_in_english_file": (
        "google_ads.csv", ",41.5,", ',"41,5",', 1, 4, "Conversions", "different decimal marks",
    ),
    "three_commas": (
        "google_ads.csv", ",41.5,", ',"1,2,3",', 1, 4, "Conversions", "'1,2,3' is not a number",
    ),
    "european_money_in_english_file": (
        "google_ads.csv", '"1,234.56"', '"1.234,56"', 1, 4, "Cost", "different decimal marks",
    ),
    "decimal_point_in_european_file": (
        "google_eu.csv", ";41,5;", ";41.5;", 1, 4, "Conversions", "different decimal marks",
    ),
    "decimal_comma_in_canonical": (
        "canonical.csv", "987.4,4.5", '987.4,"4,5"', 4, 5, "results",
        "'4,5' is written with a decimal comma",
    ),
    "french_meta_bad_grouping": (
        "meta_fr.csv", "1\u00a0178,10", "11\u00a078,10", 3, 4, "Montant\u00a0dépensé (EUR)",
        "is not a number",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_or_mixed_numbers_are_errors(tmp_path, case):
    fixture, old, new, row, line, column, words = CASES[case]
    p = _variant(tmp_path, fixture, old, new)
    with pytest.raises(IngestError) as e:
        ingest_files([p])
    err = e.value
    assert (err.file, err.row, err.line, err.column) == (str(p), row, line, column)
    assert str(err).startswith(f'{p}: data row {row} (line {line}), column "{column}": ')
    assert words in str(err)
    res = runner.invoke(app, ["ingest", str(p), "--out", str(tmp_path / "h.csv")])
    assert res.exit_code == 2 and words in res.stderr
    assert not (tmp_path / "h.csv").exists()


def test_a_file_that_never_shows_its_decimal_mark_is_refused(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text(
        "Campaign,Day,Currency code,Cost,Impr.,Conversions\n"
        'Brand,2026-11-02,EUR,"1,234",820,12\n'
        "Brand,2026-11-03,EUR,980,700,9\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError) as e:
        ingest_files([p])
    assert (e.value.row, e.value.line, e.value.column) == (1, 2, "Cost")
    msg = str(e.value)
    assert "'1,234' is ambiguous: 1234 with a decimal point or 1.234 with a decimal comma" in msg
    # one unambiguous cell anywhere in the file settles it
    p.write_text(p.read_text().replace(",9\n", ",9.5\n"), encoding="utf-8")
    assert ingest_files([p]).history["spend"].tolist() == [1234.0, 980.0]
    p.write_text(p.read_text().replace(",9.5\n", ',"9,5"\n'), encoding="utf-8")
    assert ingest_files([p]).history["spend"].tolist() == [1.234, 980.0]


def test_meta_header_language_decides_when_no_cell_does(tmp_path):
    fr = (
        "Début des rapports;Nom de la campagne;Indicateur de résultats;Résultats;"
        "Montant dépensé (EUR)\n2026-10-05;Soldes;Achats;4;1.234\n"
    )
    en = fr.replace("Début des rapports;Nom de la campagne;Indicateur de résultats;Résultats;"
                    "Montant dépensé (EUR)",
                    "Reporting starts;Campaign name;Result type;Results;Amount spent (EUR)")  # fmt: skip
    for text, spend in ((fr, 1234.0), (en, 1.234)):
        p = tmp_path / "m.csv"
        p.write_text(text, encoding="utf-8")
        assert ingest_files([p]).history["spend"].tolist() == [spend]


def test_workbook_numbers_are_taken_as_typed(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Reporting starts", "Campaign name", "Result type", "Results",
               "Amount spent (EUR)"])  # fmt: skip
    ws.append([dt.datetime(2026, 10, 5), "Soldes", "Achats", 4, 845.5])
    ws.append([dt.datetime(2026, 10, 12), "Soldes", "Achats", 5, "1.234,56"])
    p = tmp_path / "m.xlsx"
    wb.save(p)
    assert ingest_files([p]).history["spend"].tolist() == [845.5, 1234.56]
