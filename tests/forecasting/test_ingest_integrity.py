"""Ingest keeps every row or refuses the file, naming file, row and column (issue 11, point 2).

Hostile files are built here in ``tmp_path``: workbooks whose declared ``<dimension>`` lies,
duplicated columns, control characters, numbers and dates out of range. What users see is
checked through the real ``adplan`` executable in a subprocess (exit code 2, the message);
the totals read are checked against sums computed independently with ``csv`` and Decimal.
The hostile workbook sizes (zip bombs, huge sheets) are in test_ingest_workbook_limits.py.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from forecasting import ingest_files, load_history, read_history
from forecasting.errors import IngestError
from forecasting.history import validate_history
from optimizer.values import control_char_message

ADPLAN = Path(sys.executable).with_name("adplan")
FIX = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"
HEADER = ["date", "network", "segment", "result_type", "spend", "results"]


def adplan(*args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ADPLAN_DEBUG"}
    return subprocess.run(
        [str(ADPLAN), *map(str, args)], capture_output=True, text=True, env=env, timeout=300
    )


def refused(*args) -> str:
    """Run the adplan CLI, which must refuse the input (exit 2, no traceback); return stderr.

    In process (Typer's runner: the same app and exit codes as the executable, without a
    Python start per case); what users pipe (``--json``) goes through :func:`adplan`.
    """
    done = CliRunner().invoke(cli_app, [str(a) for a in args], env={"ADPLAN_DEBUG": None})
    assert done.exit_code == 2, f"exit {done.exit_code}\n{done.stdout}\n{done.stderr}"
    assert "unexpected" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    return " ".join(done.stderr.split())  # rich wraps long lines


def write_csv(path: Path, rows, *, encoding="utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:  # "\r" in a cell is quoted
        csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return path


def weekly_rows(n: int) -> list[list]:
    """``n`` canonical rows, one per week (Mondays from 2025-01-06), odd cents."""
    days = pd.date_range("2025-01-06", periods=n, freq="W-MON").strftime("%Y-%m-%d")
    return [[d, "meta", "all", "purchases", 10.25 + i, i % 7] for i, d in enumerate(days)]


def workbook(path: Path, rows) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def rewrite_sheet(path: Path, change) -> str:
    """Rewrite ``xl/worksheets/sheet1.xml`` of a workbook with ``change(xml) -> xml``."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode()).encode()
                xml = data.decode()
            dst.writestr(info.filename, data)
    return xml


def set_dimension(path: Path, ref: str) -> None:
    xml = rewrite_sheet(
        path, lambda x: re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', x)
    )
    assert f'<dimension ref="{ref}"/>' in xml  # the premise: the sheet declares a wrong size


def set_sheet_data(path: Path, rows_xml: str) -> None:
    rewrite_sheet(
        path, lambda x: re.sub(r"<sheetData>.*</sheetData>|<sheetData\s*/>",
                               f"<sheetData>{rows_xml}</sheetData>", x, flags=re.S)
    )  # fmt: skip


def cells(row: int, values) -> str:
    """A ``<row>`` of inline-string and number cells, in the columns given."""
    out = []
    for col, v in values:
        ref = f"{col}{row}"
        if isinstance(v, str):
            out.append(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>')
        else:
            out.append(f'<c r="{ref}"><v>{v}</v></c>')
    return f'<row r="{row}">{"".join(out)}</row>'


def header_xml() -> str:
    return cells(1, zip("ABCDEF", HEADER, strict=True))


def data_xml(row: int, spend: float = 10.5) -> str:
    values = ["2025-01-06", "meta", f"s{row}", "purchases", spend, 1]
    return cells(row, zip("ABCDEF", values, strict=True))


def total_spend(history: pd.DataFrame) -> Decimal:
    return Decimal(str(math.fsum(history["spend"]))).quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------------------
# 1. a workbook is read whatever its declared dimension
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["A1", "A1:H2", "A1:B3", "C5:D6"])
def test_a_workbook_is_read_whatever_its_declared_dimension(tmp_path, ref):
    rows = weekly_rows(100)
    path = workbook(tmp_path / "h.xlsx", [HEADER, *rows])
    set_dimension(path, ref)
    expected = sum(Decimal(str(r[4])) for r in rows)
    for history in (ingest_files([path]).history, read_history(path), load_history(path)):
        assert len(history) == 100
        assert total_spend(history) == expected


def test_the_lying_dimension_is_what_cuts_openpyxls_read_only_rows(tmp_path):
    """The premise: openpyxl's read-only ``iter_rows`` trusts the dimension (2 rows of 101)."""
    path = workbook(tmp_path / "h.xlsx", [HEADER, *weekly_rows(100)])
    set_dimension(path, "A1:H2")
    wb = openpyxl.load_workbook(path, read_only=True)
    assert len(list(wb.active.iter_rows(values_only=True))) == 2
    assert wb.active.max_row == 2
    wb.close()


def test_adplan_ingest_keeps_every_row_of_a_workbook_declaring_one_cell(tmp_path):
    rows = weekly_rows(100)
    path = workbook(tmp_path / "h.xlsx", [HEADER, *rows])
    set_dimension(path, "A1")
    done = adplan("ingest", path, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows_read"] == report["rows_written"] == 100
    spend = Decimal(str(report["spend_by_result_type"]["purchases"])).quantize(Decimal("0.01"))
    assert spend == sum(Decimal(str(r[4])) for r in rows)


def test_meta_workbook_with_titles_a_lying_dimension_and_empty_rows_at_the_end(tmp_path):
    """Title rows above the header, blank rows, formatted empty rows below: as before."""
    header = ["Reporting starts", "Ad set name", "Result type", "Results", "Amount spent (EUR)"]
    data = [["2026-10-05", f"Ad set {i}", "Website purchases", i, 100 + i / 4] for i in range(60)]
    path = workbook(tmp_path / "meta.xlsx", [["Ads report"], ["Oct 2026"], header, *data])
    ws_rows = "".join(f'<row r="{r}"><c r="A{r}" s="0"/><c r="E{r}" s="0"/></row>'
                      for r in range(70, 2000))  # fmt: skip
    rewrite_sheet(path, lambda x: x.replace("</sheetData>", ws_rows + "</sheetData>"))
    set_dimension(path, "A1:E3")
    result = ingest_files([path])
    f = result.report.files[0]
    assert (f.rows_read, f.rows_written) == (60, 60)
    assert total_spend(result.history) == sum(Decimal(str(r[4])) for r in data)
    assert result.history["segment"].str.startswith("ad-set-").all()


@pytest.mark.parametrize(
    ("rows_xml", "words"),
    [
        (header_xml() + data_xml(3) + data_xml(2), "row 2 comes after row 3"),
        (header_xml() + data_xml(2) + data_xml(2), "row 2 comes after row 2"),
        (header_xml() + cells(2, [("A", "2025-01-06"), ("B", "meta"), ("B", "tiktok")]),
         "cell B2 comes after cell B2"),
        (header_xml() + cells(2, [("B", "meta"), ("A", "2025-01-06")]),
         "cell A2 comes after cell B2"),
    ],
)  # fmt: skip
def test_rows_or_cells_openpyxl_would_drop_are_refused(tmp_path, rows_xml, words):
    """In read-only mode openpyxl keeps the first of two rows alike, the last of two cells."""
    path = workbook(tmp_path / "h.xlsx", [["x"]])
    set_sheet_data(path, rows_xml)
    with pytest.raises(IngestError) as e:
        ingest_files([path])
    assert str(e.value).startswith(f'{path}: sheet "Sheet", {words}'), str(e.value)
    assert "out of order or repeated" in str(e.value)
    assert words in refused("ingest", path)


# ---------------------------------------------------------------------------------------
# 2. duplicated columns
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "label", "shown"),
    [
        (HEADER + ["spend"], '"spend"', '"spend" (column 5, E) and "spend" (column 7, G)'),
        (["date", "network", "segment", "result_type", "Spend", "results", "spend "],
         '"spend"', '"Spend" (column 5, E) and "spend " (column 7, G)'),
        (["date", "network", "Network", "segment", "result_type", "spend", "results"],
         '"network"', '"network" (column 2, B) and "Network" (column 3, C)'),
    ],
)  # fmt: skip
def test_a_repeated_canonical_column_is_refused_naming_both(tmp_path, header, label, shown):
    row = ["2025-01-06", "meta", "meta", "all", "purchases", "10", "1"][: len(header)]
    path = write_csv(tmp_path / "h.csv", [header, row])
    message = (
        f"{path}: the header on line 1 has 2 columns for {label}: {shown}; adplan would read "
        "only the first and ignore the others. Remove or rename the repeated columns"
    )
    with pytest.raises(IngestError) as e:
        ingest_files([path])
    assert str(e.value) == message
    assert message in refused("ingest", path)


def test_read_history_names_a_repeated_column_and_its_positions(tmp_path):
    path = write_csv(tmp_path / "h.csv", [[*HEADER, "spend"], ["2025-01-06", "meta", "all",
                                                              "purchases", "1", "1", "2"]])  # fmt: skip
    with pytest.raises(IngestError) as e:
        read_history(path)
    assert (
        str(e.value) == f'{path}: line 1: column "spend" appears twice (columns 5 and 7); keep one'
    )


@pytest.mark.parametrize(
    ("header", "row", "shown"),
    [
        (["Reporting starts", "Ad set name", "Result type", "Results", "Amount spent (EUR)",
          "Amount spent (USD)"],
         ["2026-10-05", "Broad", "Leads", "3", "10.00", "12.00"],
         'columns for the spend: "Amount spent (EUR)" (column 5, E) and "Amount spent (USD)" '
         "(column 6, F)"),
        (["Campaign", "Day", "Cost", "Impr.", "Conversions", "cost"],
         ["Brand", "2026-11-02", "10.00", "100", "1", "10.00"],
         'columns for the spend: "Cost" (column 3, C) and "cost" (column 6, F)'),
        (["Start Date (in UTC)", "Campaign Name", "Total Spent", "Conversions", "Conversions"],
         ["10/5/2026", "IT", "100.00", "3", "4"],
         'columns for "Conversions": "Conversions" (column 4, D) and "Conversions" (column 5, E)'),
    ],
)  # fmt: skip
def test_a_repeated_export_column_is_refused(tmp_path, header, row, shown):
    path = write_csv(tmp_path / "export.csv", [header, row])
    with pytest.raises(IngestError) as e:
        ingest_files([path])
    assert shown in str(e.value)
    assert shown in refused("ingest", path)


def test_improvado_repeated_headers_must_hold_the_same_cells(shared_data, tmp_path):
    """The Facebook dump repeats ``clicks``: identical copies are read, differing refused."""
    src = shared_data / "improvado_mcdm_multiplatform" / "src_ads_creative_facebook_all_data.csv"
    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8"))))[:40]
    clicks = [i for i, h in enumerate(rows[0]) if h == "clicks"]
    assert len(clicks) == 2
    same = write_csv(tmp_path / "same.csv", rows)
    assert ingest_files([same]).report.rows_read == 39
    rows[5][clicks[1]] = str(int(rows[5][clicks[0]]) + 1)
    differ = write_csv(tmp_path / "differ.csv", rows)
    with pytest.raises(IngestError) as e:
        ingest_files([differ])
    assert f"(column {clicks[0] + 1}, " in str(e.value)
    assert f'"clicks" (column {clicks[1] + 1}, ' in str(e.value)


# ---------------------------------------------------------------------------------------
# 3. control characters
# ---------------------------------------------------------------------------------------

CONTROLS = ["\x00", "\x01", "\x1b", "\t", "\n", "\r", "\x7f", "\x85", "\x9f", "\ufffe", "\uffff"]
#: column -> a value with {} where the character goes
INSIDE = {
    "date": "2025-01-{}06",
    "network": "me{}ta",
    "segment": "retar{}geting",
    "result_type": "pur{}chases",
    "spend": "1{}0.5",
    "campaign": "Black{}Friday",
}


def canonical_with(column: str, value: str) -> list[list[str]]:
    row = {"date": "2025-01-06", "network": "meta", "segment": "all",
           "result_type": "purchases", "spend": "10.5", "results": "1", "campaign": "BF"}  # fmt: skip
    row[column] = value
    head = [*HEADER, "campaign"]
    return [
        head,
        ["2025-01-13", "meta", "all", "purchases", "1", "1", "BF"],
        [row[h] for h in head],
    ]


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("column", sorted(INSIDE))
def test_a_control_character_in_a_kept_cell_is_refused(tmp_path, column, char):
    value = INSIDE[column].format(char)
    path = write_csv(tmp_path / "h.csv", canonical_with(column, value))
    where = f'{path}: data row 2 (line 3), column "{column}"'
    for read in (lambda: ingest_files([path]), lambda: read_history(path)):
        with pytest.raises(IngestError) as e:
            read()
        assert str(e.value) == control_char_message(value, where)
        assert (e.value.file, e.value.row, e.value.column) == (str(path), 2, column)


def test_the_cli_refuses_a_nul_in_a_name_with_exit_2(tmp_path):
    path = write_csv(tmp_path / "h.csv", canonical_with("network", "me\x00ta"))
    where = f'{path}: data row 2 (line 3), column "network"'
    assert control_char_message("me\x00ta", where) in refused("ingest", path)
    assert "U+0000" in refused("forecast", "--history", path, "--from", "2027-01-04",
                               "--to", "2027-03-28")  # fmt: skip


@pytest.mark.parametrize(
    ("encoding", "raw"),
    [("utf-8", b"\xed\xa0\x80"), ("utf-16-le", "\ud800".encode("utf-16-le", "surrogatepass"))],
)
def test_a_lone_surrogate_is_refused_not_a_crash(tmp_path, encoding, raw):
    text = "date,network,segment,result_type,spend,results\n2025-01-06,meta,a{}b,purchases,1,1\n"
    before, after = (part.encode(encoding) for part in text.split("{}"))
    bom = b"\xff\xfe" if encoding == "utf-16-le" else b""
    path = tmp_path / "h.csv"
    path.write_bytes(bom + before + raw + after)
    with pytest.raises(IngestError) as e:
        ingest_files([path])
    assert "holds the control character U+D800 at position 2" in str(e.value)
    assert 'data row 1 (line 2), column "segment"' in refused("ingest", path)


def test_a_utf16_file_cut_in_a_character_is_refused(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes("\ufeffdate,network\n2025".encode("utf-16-le") + b"\x00")
    assert f"{path}: not valid UTF-16 text" in refused("ingest", path)


def test_meta_export_names_its_own_column(tmp_path):
    header = ["Reporting starts", "Campaign name", "Ad set name", "Delivery", "Result type",
              "Results", "Amount spent (EUR)"]  # fmt: skip
    ok = ["2026-10-05", "Sales", "Broad", "not\ndelivering", "Leads", "3", "10.00"]
    bad = ["2026-10-05", "Sales", "Look\x00alike", "active", "Leads", "3", "10.00"]
    path = write_csv(tmp_path / "meta.csv", [header, ok, bad])
    where = f'{path}: data row 2 (line 4), column "Ad set name"'
    with pytest.raises(IngestError) as e:
        ingest_files([path])
    assert str(e.value) == control_char_message("Look\x00alike", where)
    # a column adplan does not read may hold anything (here a newline in "Delivery")
    path = write_csv(tmp_path / "meta_ok.csv", [header, ok])
    assert ingest_files([path]).report.rows_written == 1


def test_a_tab_inside_a_workbook_cell_is_refused(tmp_path):
    path = workbook(
        tmp_path / "h.xlsx", [HEADER, ["2025-01-06", "meta", "a\tb", "purchases", 1, 1]]
    )
    where = f'{path}: data row 1 (sheet row 2), column "segment"'
    with pytest.raises(IngestError) as e:
        ingest_files([path])
    assert str(e.value) == control_char_message("a\tb", where)


def test_validate_history_refuses_a_control_character_in_a_frame():
    frame = pd.DataFrame([["2025-01-06", "meta", "a\x1fb", "purchases", 1.0, 1.0]], columns=HEADER)
    with pytest.raises(IngestError) as e:
        validate_history(frame, source="api")
    assert str(e.value) == control_char_message("a\x1fb", 'api: data row 1, column "segment"')


# ---------------------------------------------------------------------------------------
# 4. numbers and dates out of range
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("spend", "1e308", "'1e308' is above 1,000,000,000,000 (1e+12), the largest spend"),
        ("spend", "1000000000000.5", "is above 1,000,000,000,000 (1e+12), the largest spend"),
        ("results", "1e16", "'1e16' is above 1,000,000,000,000,000 (1e+15), the largest results"),
        ("impressions", "2e15", "the largest impressions"),
        ("clicks", "1e300", "the largest clicks"),
    ],
)
def test_a_number_out_of_range_is_refused_on_every_path(tmp_path, column, value, words):
    head = [*HEADER, "impressions", "clicks"]
    row = dict(
        zip(head, ["2025-01-06", "meta", "all", "purchases", "1", "1", "1", "1"], strict=True)
    )
    row[column] = value
    path = write_csv(tmp_path / "h.csv", [head, list(row.values())])
    where = f'{path}: data row 1 (line 2), column "{column}"'
    for read in (lambda: ingest_files([path]), lambda: read_history(path)):
        with pytest.raises(IngestError) as e:
            read()
        assert str(e.value).startswith(where) and words in str(e.value)
    assert words in refused("ingest", path)


def test_the_largest_spend_and_counts_are_read(tmp_path):
    head = [*HEADER, "impressions"]
    path = write_csv(tmp_path / "h.csv", [head, ["2025-01-06", "meta", "all", "purchases",
                                                  "1000000000000", "1e15", "1e15"]])  # fmt: skip
    h = ingest_files([path]).history
    assert (h["spend"].iloc[0], h["results"].iloc[0]) == (1e12, 1e15)


def test_spend_of_1e308_no_longer_crashes_forecast(tmp_path):
    path = write_csv(
        tmp_path / "h.csv", [HEADER, *[[*r[:4], "1e308", r[5]] for r in weekly_rows(3)]]
    )
    err = refused("forecast", "--history", path, "--from", "2027-01-04", "--to", "2027-03-28")
    assert f"{path}: data row 1 (line 2), column \"spend\": '1e308' is above" in err


def test_meta_and_workbook_numbers_out_of_range(tmp_path):
    header = ["Reporting starts", "Ad set name", "Result type", "Results", "Amount spent (EUR)"]
    meta = write_csv(
        tmp_path / "meta.csv", [header, ["2026-10-05", "Broad", "Leads", "3", "1e308"]]
    )
    assert "column \"Amount spent (EUR)\": '1e308' is above" in refused("ingest", meta)
    book = workbook(
        tmp_path / "h.xlsx", [HEADER, ["2025-01-06", "meta", "all", "purchases", 1e308, 1]]
    )
    assert "data row 1 (sheet row 2), column \"spend\": '1e+308' is above" in refused(
        "ingest", book
    )


def test_validate_history_refuses_an_out_of_range_number_in_a_frame():
    frame = pd.DataFrame([["2025-01-06", "meta", "all", "purchases", 1e308, 1.0]], columns=HEADER)
    with pytest.raises(IngestError) as e:
        validate_history(frame, source="api")
    assert str(e.value).startswith("api: data row 1, column \"spend\": '1e+308' is above")


@pytest.mark.parametrize(
    "day", ["9999-12-31", "0001-01-01", "0000-01-01", "1899-12-31", "2201-01-01"]
)
def test_a_day_out_of_range_is_refused_on_every_path(tmp_path, day):
    path = write_csv(tmp_path / "h.csv", [HEADER, [day, "meta", "all", "purchases", "1", "1"]])
    for read in (lambda: ingest_files([path]), lambda: read_history(path)):
        with pytest.raises(IngestError) as e:
            read()
        assert str(e.value).startswith(f'{path}: data row 1 (line 2), column "date": ')
        assert "is outside 1900-2200" in str(e.value)
    err = refused("forecast", "--history", path, "--from", "2027-01-04", "--to", "2027-03-28")
    assert "is outside 1900-2200" in err


def test_workbook_days_out_of_range(tmp_path):
    import datetime as dt

    typed = workbook(tmp_path / "typed.xlsx",
                     [HEADER, [dt.datetime(9999, 12, 31), "meta", "all", "purchases", 1, 1]])  # fmt: skip
    assert "9999-12-31 is outside 1900-2200" in refused("ingest", typed)
    serial = workbook(tmp_path / "serial.xlsx", [HEADER, [1e10, "meta", "all", "purchases", 1, 1]])
    wb = openpyxl.load_workbook(serial)
    wb.active["A2"].number_format = "yyyy-mm-dd"  # a date cell whose day no calendar holds
    wb.save(serial)
    err = refused("ingest", serial)
    assert "data row 1 (sheet row 2), column \"date\": '#VALUE!' is not a date" in err
    assert "UserWarning" not in err


def test_export_days_pandas_holds_but_python_does_not(tmp_path):
    """Year 0 parses in pandas (then ``.date()`` raised); year 9999 wrapped round in ns."""
    tiktok = write_csv(tmp_path / "tiktok.csv", [
        ["Campaign name", "Ad group name", "By Day", "Cost", "Conversions"],
        ["Spring", "Gen Z", "0000-01-01", "10.00", "1"],
    ])  # fmt: skip
    assert 'column "By Day": 0000-01-01 is outside 1900-2200' in refused("ingest", tiktok)
    google = tmp_path / "google.csv"
    google.write_text(
        'Campaign performance report\n"January 1, 9999 - January 31, 9999"\n'
        "Campaign,Ad group,Cost,Impr.,Conversions\nBrand,Exact,10.00,100,1\n"
    )
    assert (
        f"{google}: the date range above the header starts on 9999-01-01, outside 1900-2200"
        in refused("ingest", google)
    )


@pytest.mark.parametrize("start", ["0000-01-01", "0000-01-01 10:00", "-0001-01-01"])
def test_a_plan_start_in_year_0_exits_2(tmp_path, start):
    path = write_csv(tmp_path / "h.csv", [HEADER, *weekly_rows(30)])
    err = refused("forecast", "--history", path, "--from", start, "--to", "2027-03-28")
    assert f"the --from date {start} is outside 1900-01-01..2200-12-31" in err


def test_a_long_number_is_shown_cut(tmp_path):
    path = write_csv(tmp_path / "h.csv", [HEADER, ["2025-01-06", "meta", "all", "purchases",
                                                   "9" * 400, "1"]])  # fmt: skip
    with pytest.raises(IngestError) as e:
        ingest_files([path])
    assert f"{'9' * 40}...' is above 1,000,000,000,000" in str(e.value)
    assert len(str(e.value)) < 400


@pytest.mark.parametrize(
    ("start", "end"), [("9999-01-01", "9999-12-31"), ("2262-05-01", "2262-06-01")]
)
def test_optimize_from_history_with_far_dates_exits_2(tmp_path, start, end):
    path = write_csv(tmp_path / "h.csv", [HEADER, *weekly_rows(30)])
    err = refused("optimize", "--spec", EXAMPLES / "plan.yaml", "--history", path,
                  "--from", start, "--to", end)  # fmt: skip
    assert f"date {start} is outside 1900-01-01..2200-12-31" in err


# ---------------------------------------------------------------------------------------
# 5. totals read = totals in the file (or what was dropped, and why)
# ---------------------------------------------------------------------------------------


def _dec(text, comma: bool = False) -> Decimal:
    text = str(text).strip().replace("\u00a0", "").replace(" ", "")
    if text in ("", "—", "--", "None"):
        return Decimal(0)
    return Decimal(text.replace(".", "").replace(",", ".") if comma else text.replace(",", ""))


#: fixture -> (encoding, delimiter, lines above the header, spend, results, decimal comma,
#: first-cell prefix of repeated totals, a name column empty on the summary row)
TOTALS = {
    "meta_en.csv": ("utf-8-sig", ",", 0, "Amount spent (EUR)", "Results", False, None, "Campaign name"),
    "meta_fr.csv": ("utf-8", ";", 0, "Montant dépensé (EUR)", "Résultats", True, None, "Nom de la campagne"),
    "google_ads.csv": ("utf-8", ",", 2, "Cost", "Conversions", False, "Total:", None),
    "google_eu.csv": ("utf-8", ";", 2, "Cost", "Conversions", True, "Total:", None),
    "google_ads_excel_utf16.csv": ("utf-16", "\t", 2, "Cost", "Conversions", False, "Total:", None),
    "linkedin.csv": ("utf-8", ",", 6, "Total Spent", "Conversions", False, None, None),
    "tiktok.csv": ("utf-8", ",", 0, "Cost", "Conversions", False, "Total", None),
    "canonical.csv": ("utf-8", ",", 0, "spend", "results", False, None, None),
}  # fmt: skip


def _file_totals(name: str) -> tuple[Decimal, Decimal]:
    enc, delim, skip, spend, results, comma, total, summary = TOTALS[name]
    text = (FIX / name).read_bytes().decode(enc)
    lines = text.splitlines(keepends=True)[skip:]
    rows = [
        {" ".join(k.split()): v for k, v in r.items()}  # "Montant\u00a0dépensé" as written
        for r in csv.DictReader(io.StringIO("".join(lines)), delimiter=delim)
        if any((v or "").strip() for v in r.values())
    ]
    first = next(iter(rows[0]))
    if total is not None:
        rows = [r for r in rows if not r[first].startswith(total)]
    if summary is not None:
        rows = [r for r in rows if r[summary].strip()]
    return (sum(_dec(r[spend], comma) for r in rows), sum(_dec(r[results], comma) for r in rows))


def _read_totals(report) -> tuple[Decimal, Decimal]:
    """Written plus skipped (summary and total rows repeat the others: left out)."""
    out = []
    for written, skipped in (
        (report.spend_by_result_type, report.skipped_spend),
        (report.results_by_result_type, report.skipped_results),
    ):
        amounts = [*written.values()]
        amounts += [v for k, v in skipped.items() if k not in ("summary_row", "total_row")]
        out.append(sum(Decimal(str(v)) for v in amounts))
    return out[0].quantize(Decimal("0.01")), out[1].quantize(Decimal("0.0001"))


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_every_fixture_totals_what_the_file_holds(name):
    spend, results = _file_totals(name)
    got = _read_totals(ingest_files([FIX / name]).report)
    assert got == (spend.quantize(Decimal("0.01")), results.quantize(Decimal("0.0001")))


def test_the_meta_workbook_fixture_totals_what_the_file_holds():
    wb = openpyxl.load_workbook(FIX / "meta.xlsx")  # full mode, not adplan's reader
    rows = list(wb.active.iter_rows(values_only=True))
    head = list(rows[0])
    data = [r for r in rows[1:] if r[head.index("Campaign name")]]  # the summary row has none
    spend = sum(Decimal(str(r[head.index("Amount spent (USD)")])) for r in data)
    results = sum(Decimal(str(r[head.index("Results")])) for r in data)
    assert _read_totals(ingest_files([FIX / "meta.xlsx"]).report) == (spend, results)


def test_skipped_results_are_reported(tmp_path):
    """A Meta row without a result type drops its results: the report says how many."""
    header = ["Reporting starts", "Ad set name", "Result type", "Results", "Amount spent (EUR)"]
    path = write_csv(tmp_path / "meta.csv", [header, ["2026-10-05", "A", "Leads", "3", "10.00"],
                                             ["2026-10-05", "B", "", "7", "5.50"]])  # fmt: skip
    done = adplan("ingest", path, "--json")
    report = json.loads(done.stdout)["files"][0]
    assert report["skipped_results"] == {"missing_result_type": 7.0}
    assert report["skipped_spend"] == {"missing_result_type": 5.5}
    assert _read_totals(ingest_files([path]).report) == (Decimal("15.50"), Decimal("10.0000"))


def test_the_cli_totals_of_the_real_exports_match_the_files(shared_data):
    folder = shared_data / "improvado_mcdm_multiplatform"
    paths = sorted(folder.glob("src_*.csv"))
    assert len(paths) == 4
    spend = Decimal(0)
    for p in paths:
        with p.open(encoding="utf-8", newline="") as fh:
            spend += sum(Decimal(r["spend"]) for r in csv.DictReader(fh))
    done = adplan("ingest", *paths, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (
        report["rows_read"]
        == report["rows_written"] + report["rows_merged"] + report["rows_skipped"]
    )
    got = sum(Decimal(str(v)) for v in report["spend_by_result_type"].values())
    assert got == spend == Decimal("181786")
