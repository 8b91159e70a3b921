"""The reader is chosen by content (zip magic for XLSX), not by the file name."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from typer.testing import CliRunner

from cli.main import app
from forecasting import IngestError, ingest_files, read_history

CSV = (
    "date,network,segment,result_type,spend,results\n"
    "2026-11-02,meta,all,purchases,10.5,2\n"
    "2026-11-09,meta,all,purchases,12,3\n"
)


def _readers(path):
    return [lambda: read_history(path), lambda: ingest_files([path])]


def test_csv_named_xlsx_is_refused_by_both_readers(tmp_path):
    p = tmp_path / "history.xlsx"
    p.write_text(CSV, encoding="utf-8")
    for read in _readers(p):
        with pytest.raises(IngestError) as ei:
            read()
        assert str(ei.value).startswith(
            f"{p}: is named .xlsx but is not an Excel workbook (it looks like CSV text)"
        ), str(ei.value)
    res = CliRunner().invoke(app, ["ingest", str(p)])
    assert res.exit_code == 2 and "it looks like CSV text" in res.stderr


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01garbage\xff\xfe\x00 not a workbook",
        b"PK\x03\x04 a broken zip",
        b"\xd0\xcf\x11\xe0old",
    ],
)
def test_corrupt_workbook_is_not_a_readable_workbook(tmp_path, content):
    p = tmp_path / "fake.xlsx"
    p.write_bytes(content)
    for read in _readers(p):
        with pytest.raises(IngestError) as ei:
            read()
        msg = str(ei.value)
        assert msg.startswith(f"{p}: not a readable Excel workbook"), msg
        assert "missing column" not in msg


def test_workbook_is_read_whatever_its_name(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["date", "network", "segment", "result_type", "spend", "results"])
    ws.append([dt.datetime(2026, 11, 2), "Facebook", "all", "purchases", 10.5, 2])
    ws.append([dt.datetime(2026, 11, 9), "meta", "all", "purchases", 12, 3])
    p = tmp_path / "history.csv"  # an XLSX named .csv
    wb.save(p)
    (tmp_path / "ok.csv").write_text(CSV, encoding="utf-8")
    from_csv = read_history(tmp_path / "ok.csv")
    for got in (read_history(p), ingest_files([p]).history):
        assert got.equals(from_csv), got
