"""A canonical history CSV read by pyarrow gives what the reference reader gives.

:mod:`forecasting.ingest.arrow_csv` reads a canonical history CSV in bulk and leaves the rows
it cannot vouch for to the reference reader (``RawTable`` and ``canonical.extract``). Every
file here is ingested both ways (the reference by switching the pyarrow reader off) and must
give the same history and report, or the same error word for word; whether the pyarrow
reader takes the file, or leaves it whole to the reference, is checked too. Then large files
with one bad cell deep inside, and totals read against totals computed from the file.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting import ingest_files, load_history
from forecasting.errors import IngestError
from forecasting.history import MAX_SPEND, _any_repeated, too_large
from forecasting.ingest import detect
from forecasting.ingest.arrow_csv import read_canonical_csv
from forecasting.ingest.core import _sort_rows
from optimizer.values import control_char_message

HEAD = ["date", "network", "segment", "result_type", "spend", "results", "currency", "campaign"]
ROWS = [
    ["2025-01-06", "meta", "all", "purchases", "10.5", "1", "EUR", "BF"],
    ["2025-01-13", "tiktok", "f-25-34", "leads", "0", "0", "EUR", ""],
    ["2025-01-20", "meta", "all", "purchases", "1e3", ".5", "EUR", "Brand, Summer"],
]


def csv_text(rows, *, quoting=csv.QUOTE_MINIMAL, end="\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=end, quoting=quoting).writerows(rows)
    return buf.getvalue()


def with_cell(row: int, column: str, value: str, head=HEAD) -> list[list[str]]:
    rows = [list(r) for r in ROWS]
    rows[row][head.index(column)] = value
    return [head, *rows]


def outcome(path: Path):
    """What ``ingest_files`` gives: the history and report, or the error and its fields."""
    try:
        got = ingest_files([path])
    except IngestError as e:
        return ("error", str(e), e.file, e.row, e.line, e.column)
    return ("read", got.history, got.report.to_dict())


def reference(path: Path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(detect, "read_canonical_csv", lambda name, raw: None)
        return outcome(path)


def taken_by_pyarrow(path: Path) -> bool:
    """Whether the pyarrow reader reads the file (an error it raises counts as read)."""
    try:
        return read_canonical_csv(str(path), path.read_bytes()) is not None
    except IngestError:
        return True


def assert_same(fast, slow) -> None:
    assert fast[0] == slow[0], (fast[:2], slow[:2])
    if fast[0] == "error":
        assert fast == slow
    else:
        pd.testing.assert_frame_equal(fast[1], slow[1], check_exact=True)
        assert fast[2] == slow[2]


def check(path: Path, monkeypatch, *, pyarrow: bool):
    fast = outcome(path)
    assert_same(fast, reference(path, monkeypatch))
    assert taken_by_pyarrow(path) is pyarrow
    return fast


def write(tmp_path: Path, data: str | bytes, name: str = "h.csv") -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------
# files the pyarrow reader reads, as the reference does
# ---------------------------------------------------------------------------------------

READ = {
    "plain": csv_text([HEAD, *ROWS]),
    "every cell quoted": csv_text([HEAD, *ROWS], quoting=csv.QUOTE_ALL),
    "CRLF": csv_text([HEAD, *ROWS], end="\r\n"),
    "BOM": "\ufeff" + csv_text([HEAD, *ROWS]),
    "no newline at the end": csv_text([HEAD, *ROWS]).rstrip("\n"),
    "header spelt loosely": csv_text([[" Date", "NETWORK ", *HEAD[2:]], *ROWS]),
    "columns in another order": csv_text([[HEAD[i] for i in (7, 4, 0, 1, 2, 3, 5, 6)]]
                                         + [[r[i] for i in (7, 4, 0, 1, 2, 3, 5, 6)] for r in ROWS]),
    "required columns only": csv_text([HEAD[:6], *(r[:6] for r in ROWS)]),
    "spaces around cells": csv_text(with_cell(0, "network", " meta ")[:1]
                                    + [[f" {c} " for c in r] for r in ROWS]),
    "no-break spaces around text": csv_text(with_cell(1, "segment", "\u00a0f-25-34\u202f")),
    "a tab that strips away": csv_text(with_cell(1, "network", "tiktok\t")),
    "thousands separators": csv_text(with_cell(2, "spend", "1,234.50")),
    "number forms": csv_text([HEAD, *([*r[:4], s, "1", *r[6:]] for r, s in
                                      zip(ROWS, ["+5", "-0", "00012.50"], strict=True))]),
    "exponents": csv_text(with_cell(0, "spend", "1.5E+2") [:2] + [ROWS[1], ROWS[2]]),
    "network aliases and currency case": csv_text(with_cell(0, "network", "Facebook Ads")[:1]
                                                  + [[*ROWS[0][:6], "eur", "x"], *ROWS[1:]]),
    "empty currency and campaign": csv_text(with_cell(0, "currency", "  ")),
    "text beyond ASCII": csv_text(with_cell(2, "campaign", "Café 🎉 Noël")),
    "missing markers in counts": csv_text(
        [[*HEAD, "impressions", "clicks"], *([*r, m, c] for r, m, c in
         zip(ROWS, ["—", "", "n/a"], ["-", "12", " "], strict=True))]
    ),
    "blank rows": csv_text([HEAD, ROWS[0], [""] * 8, ROWS[1], [" "] * 8, ROWS[2], [""] * 8]),
    "empty lines": csv_text([HEAD, ROWS[0]]) + "\n\n" + csv_text(ROWS[1:]) + "\n",
    "empty lines, CRLF": csv_text([HEAD, ROWS[0]], end="\r\n") + "\r\n" + csv_text(ROWS[1:], end="\r\n"),
    "an empty column without a header": csv_text([[*HEAD, ""], *([*r, ""] for r in ROWS)]),
    "a day pandas reads unpadded": csv_text(with_cell(0, "date", "2025-1-6")),
    "only blank rows": csv_text([HEAD, [""] * 8]),
}  # fmt: skip


@pytest.mark.parametrize("data", READ.values(), ids=READ.keys())
def test_what_pyarrow_reads_is_what_the_reference_reads(tmp_path, monkeypatch, data):
    got = check(write(tmp_path, data), monkeypatch, pyarrow=True)
    assert got[0] == "read"


def test_blank_rows_and_empty_lines_leave_rows_and_lines_as_numbered(tmp_path, monkeypatch):
    rows = [HEAD, ROWS[0], [""] * 8, ROWS[1]]
    data = csv_text(rows) + "\n" + csv_text([with_cell(2, "spend", "-3")[3]])
    path = write(tmp_path, data)
    got = check(path, monkeypatch, pyarrow=True)
    # the blank row and the empty line are not rows; the lines count them
    assert (
        got[1]
        == f"{path}: data row 3 (line 6), column \"spend\": negative spend '-3'; it cannot be < 0"
    )


# ---------------------------------------------------------------------------------------
# errors: the reference's, word for word
# ---------------------------------------------------------------------------------------

ERRORS = {
    "NUL in a network": ("network", "me\x00ta"),
    "tab inside a segment": ("segment", "a\tb"),
    "C1 control in a campaign": ("campaign", "Black\x85Friday"),
    "U+FFFE in a result type": ("result_type", "pur\ufffechases"),
    "control in a date": ("date", "2025-01-\x0706"),
    "control in a spend": ("spend", "1\x010.5"),
    "spend above 1e12": ("spend", "1e308"),
    "spend just above 1e12": ("spend", "1000000000000.5"),
    "results above 1e15": ("results", "1e16"),
    "results beyond float": ("results", "1e400"),
    "nan": ("spend", "nan"),
    "inf": ("results", "inf"),
    "negative": ("spend", "-1"),
    "decimal comma": ("spend", "1.234,5"),
    "text for a number": ("results", "douze"),
    "spend missing": ("spend", ""),
    "results a missing marker": ("results", "—"),
    "day 9999": ("date", "9999-12-31"),
    "day before 1900": ("date", "1899-12-31"),
    "30 February": ("date", "2024-02-30"),
    "month 13": ("date", "2025-13-01"),
    "day written the other way": ("date", "06/01/2025"),
    "date empty": ("date", "  "),
    "network empty": ("network", " "),
    "currency of four letters": ("currency", "EURO"),
    "a repeated key": ("campaign", "BF"),  # row 3 becomes row 1's key but for the date
}


@pytest.mark.parametrize(("column", "value"), ERRORS.values(), ids=ERRORS.keys())
def test_a_bad_cell_is_refused_as_the_reference_refuses_it(tmp_path, monkeypatch, column, value):
    rows = with_cell(2, column, value)
    if value == "BF":
        rows[3][0] = rows[1][0]
    got = check(write(tmp_path, csv_text(rows)), monkeypatch, pyarrow=True)
    assert got[0] == "error" and got[3] == 3


def test_the_first_error_of_the_file_wins(tmp_path, monkeypatch):
    # a bad spend on row 1 and a control character in a network on row 3: columns are read
    # in canonical order (network before spend), as the reference reads them
    rows = with_cell(0, "spend", "-1")
    rows[3][1] = "me\x00ta"
    got = check(write(tmp_path, csv_text(rows)), monkeypatch, pyarrow=True)
    assert got[5] == "network" and got[3] == 3


# ---------------------------------------------------------------------------------------
# files left whole to the reference
# ---------------------------------------------------------------------------------------

LEFT = {
    "a newline inside a value": csv_text(with_cell(1, "campaign", "Brand\nSummer")),
    "a newline that strips away": csv_text(with_cell(1, "campaign", "Brand\r\n")),
    "a row short of a cell": csv_text([HEAD, ROWS[0], ROWS[1][:7], ROWS[2]]),
    "a row with one cell too many": csv_text([HEAD, ROWS[0], [*ROWS[1], ""], ROWS[2]]),
    "lone CR line ends": csv_text([HEAD, *ROWS], end="\r"),
    "lines above the header": "History export\n" + csv_text([HEAD, *ROWS]),
    "semicolons": csv_text([HEAD, *ROWS]).replace(",", ";"),
    "a repeated column": csv_text([[*HEAD, "spend"], *([*r, "1"] for r in ROWS)]),
    "an unknown column": csv_text([[*HEAD, "spent"], *([*r, "1"] for r in ROWS)]),
    "values under no header": csv_text([[*HEAD, ""], *([*r, "x"] for r in ROWS)]),
    "a missing column": csv_text([HEAD[:5], *(r[:5] for r in ROWS)]),
    "a header alone": csv_text([HEAD]),
    "a quoted header going on": '"date\n",' + ",".join(HEAD[1:]) + "\n" + csv_text(ROWS),
}


@pytest.mark.parametrize("data", LEFT.values(), ids=LEFT.keys())
def test_other_files_are_left_whole_to_the_reference(tmp_path, monkeypatch, data):
    check(write(tmp_path, data), monkeypatch, pyarrow=False)


@pytest.mark.parametrize(
    "data",
    [
        csv_text([HEAD, *ROWS[:2], ["2025-01-20", "meta", "café", *ROWS[2][3:]]]).encode("cp1252"),
        csv_text([HEAD, *ROWS]).encode("utf-16"),
        csv_text([HEAD, *ROWS]).encode() + b"2025-02-03,meta,a\xed\xa0\x80b,purchases,1,1,EUR,x\n",
        csv_text([HEAD, *ROWS]).encode("utf-16-le"),
    ],
    ids=["Windows-1252", "UTF-16", "a lone surrogate", "UTF-16 without a BOM"],
)
def test_other_encodings_are_left_whole_to_the_reference(tmp_path, monkeypatch, data):
    check(write(tmp_path, data), monkeypatch, pyarrow=False)


def test_a_cell_over_the_csv_field_limit_is_left_to_the_reference(tmp_path, monkeypatch):
    path = write(tmp_path, csv_text(with_cell(1, "campaign", "x" * (csv.field_size_limit() + 1))))
    assert check(path, monkeypatch, pyarrow=False)[0] == "error"  # the csv module cannot split it


# ---------------------------------------------------------------------------------------
# any mix of cells
# ---------------------------------------------------------------------------------------

#: per column, cells that mostly read and sometimes do not; {d} is the row's day
CELLS = {
    "date": ["2025-03-{d:02d}", " 2025-03-{d:02d} ", "2025-3-{d}", "2025-02-30", "1899-12-31", ""],
    "network": ["meta", " Meta ", "Facebook", "tiktok", "", "me\x00ta", "snap\t"],
    "segment": ["all", "f-25-34", " x ", "", "seg,ment"],
    "result_type": ["purchases", "leads", "Purchases"],
    "spend": ["10.5", "0", "1e3", " 7 ", "1,234.5", "-1", "", "1e13", "abc", ".5", "1.", "+2"],
    "results": ["1", "0", "2.5", "—", "", "1e16", "3"],
    "impressions": ["100", "", "—", "n/a", "1e16", "5", "1 000"],
    "clicks": ["3", "", "-", "0.5"],
    "currency": ["EUR", "eur", "", "EURO", " usd "],
    "campaign": ["c1", "", "Brand, Summer", " c2 ", 'say "hi"', "c\x7f"],
}


@st.composite
def canonical_files(draw) -> str:
    optional = [c for c in ("impressions", "clicks", "currency", "campaign") if draw(st.booleans())]
    head = draw(st.permutations(HEAD[:6] + optional))
    rows: list[list[str]] = [head]
    for d in range(1, draw(st.integers(0, 7)) + 1):
        if draw(st.integers(0, 9)) == 0:
            rows.append([""] * len(head))  # a blank row
        row = []
        for col in head:
            pool = CELLS[col]
            pick = draw(st.integers(0, 4 * len(pool)))  # mostly the first (plain) cell
            row.append(pool[pick if pick < len(pool) else 0].format(d=d))
        rows.append(row)
    text = csv_text(rows, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return ("\ufeff" if draw(st.booleans()) else "") + text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=canonical_files())
def test_any_mix_of_cells_reads_as_the_reference_reads_it(tmp_path, monkeypatch, data):
    path = write(tmp_path, data)
    assert_same(outcome(path), reference(path, monkeypatch))


# ---------------------------------------------------------------------------------------
# large files: a bad cell deep inside; the totals
# ---------------------------------------------------------------------------------------

N = 120_000


def large_rows(n: int = N) -> list[list[str]]:
    """``n`` canonical rows (a day x 4 networks x campaigns), odd cents."""
    days = pd.date_range("2020-01-01", periods=n // 40 + 1, freq="D").strftime("%Y-%m-%d")
    i = np.arange(n)
    spend = np.round(np.random.default_rng(3).lognormal(3, 1, n), 2)
    return [
        [days[k // 40], f"net{k % 4}", f"seg{(k // 4) % 10}", "purchases", f"{s:.2f}",
         str(k % 9), "EUR", f"c{k % 40 // 40}"]
        for k, s in zip(i.tolist(), spend.tolist(), strict=True)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> tuple[Path, list[list[str]]]:
    rows = large_rows()
    return write(tmp_path_factory.mktemp("large"), csv_text([HEAD, *rows])), rows


@pytest.mark.parametrize(
    ("column", "value", "what"),
    [
        ("network", "me\x00ta", None),
        ("campaign", "Black\x1bFriday", None),
        ("spend", "1e13", too_large("spend", "1e13", MAX_SPEND)),
        ("results", "inf", "'inf' is not a number (expected the results)"),
        ("date", "2201-01-01", "2201-01-01 is outside 1900-2200"),
    ],
)
def test_a_bad_cell_deep_in_a_large_file_is_refused_by_row_and_column(
    large, tmp_path, column, value, what
):
    path, rows = large
    bad = [list(r) for r in rows]
    bad[100_000][HEAD.index(column)] = value
    bad.insert(50_000, [""] * len(HEAD))  # a blank row above: not counted as a row
    path = write(tmp_path, csv_text([HEAD, *bad]))
    where = f'{path}: data row 100001 (line 100003), column "{column}"'
    expected = control_char_message(value, where) if what is None else f"{where}: {what}"
    with pytest.raises(IngestError) as e:
        read_canonical_csv(str(path), path.read_bytes())  # refused by the pyarrow reader
    assert str(e.value) == expected
    with pytest.raises(IngestError) as e:
        load_history(path)
    assert str(e.value) == expected
    assert (e.value.row, e.value.line, e.value.column) == (100_001, 100_003, column)


def test_a_large_file_totals_what_the_file_holds(large):
    path, rows = large
    history = load_history(path)
    assert taken_by_pyarrow(path) and len(history) == len(rows)
    spend = sum(Decimal(r[4]) for r in rows)
    results = sum(Decimal(r[5]) for r in rows)
    report = ingest_files([path]).report
    assert Decimal(str(report.spend_by_result_type["purchases"])).quantize(
        Decimal("0.01")
    ) == spend.quantize(Decimal("0.01"))
    assert Decimal(str(report.results_by_result_type["purchases"])) == results
    assert report.rows_read == report.rows_written == len(rows)


def test_a_large_file_with_cells_left_to_the_reference_reads_as_the_reference(
    tmp_path, monkeypatch
):
    rows = large_rows(20_000)
    for k in range(0, len(rows), 7):  # every 7th row: grouped, spaced, or missing counts
        rows[k][4] = f"{float(rows[k][4]) * 1000:,.2f}"
        rows[k][1] = f" {rows[k][1]} "
    rows[5][6] = ""
    path = write(tmp_path, csv_text([HEAD, *rows]))
    fast = check(path, monkeypatch, pyarrow=True)
    assert fast[0] == "read" and len(fast[1]) == len(rows)


# ---------------------------------------------------------------------------------------
# the pieces: sorting, repeated keys
# ---------------------------------------------------------------------------------------


def test_sort_rows_orders_as_sort_values():
    rng = np.random.default_rng(0)
    n = 5000
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 9, n), "D"),
            "network": pd.Series(rng.choice(["meta", "tiktok", "Ä", "a"], n), dtype="str"),
            "segment": pd.Series(rng.choice(["x", "y", "é", "Z"], n), dtype="str"),
            "result_type": pd.Series(rng.choice(["leads", "purchases"], n), dtype="str"),
            "spend": rng.random(n),
            "campaign": pd.Series(rng.choice(["c", "b", None, "a"], n), dtype="str"),
            "_line": np.arange(n),
        }
    )
    by = ["date", "network", "segment", "result_type", "campaign"]
    want = frame.sort_values(by, kind="stable", na_position="first").reset_index(drop=True)
    pd.testing.assert_frame_equal(_sort_rows(frame.copy()), want)


def test_any_repeated_agrees_with_duplicated_beyond_64_bits():
    rng = np.random.default_rng(1)
    n = 20_000
    keys = pd.DataFrame({f"k{i}": rng.integers(0, 15_000, n) for i in range(5)})
    assert not keys.duplicated().any() and not _any_repeated(keys)
    keys.iloc[-1] = keys.iloc[123]
    assert _any_repeated(keys)
    with_na = pd.DataFrame({"a": pd.Series(["x", None, None], dtype="str"), "b": [1, 2, 2]})
    assert _any_repeated(with_na) == bool(with_na.duplicated().any())
