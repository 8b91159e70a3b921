"""``adplan ingest`` as a user runs it (CliRunner on the real app, real files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.main import app
from forecasting import read_history

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
runner = CliRunner()


def test_ingest_merges_files_and_prints_the_summary(tmp_path):
    out = tmp_path / "history.csv"
    files = [FIX / "meta_en.csv", FIX / "meta_fr.csv", FIX / "google_ads.csv", FIX / "tiktok.csv"]
    res = runner.invoke(app, ["ingest", *map(str, files), "--out", str(out)])
    assert res.exit_code == 0, res.output + res.stderr
    h = read_history(out)
    assert set(h["network"]) == {"meta", "instagram", "google", "youtube", "tiktok"}
    text = res.stdout
    for words in ("Files", "Skipped rows", "summary row", "total row", "no result type",
                  "Networks", "purchases", "conversions", f"Wrote {len(h)} rows"):  # fmt: skip
        assert words in text, words
    assert "empty results cell read as 0" in res.stderr  # notes are warnings, on stderr


def test_ingest_json_prints_only_json(tmp_path):
    out = tmp_path / "h.csv"
    res = runner.invoke(app, ["ingest", str(FIX / "linkedin.csv"), "--out", str(out), "--json"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["out"] == str(out) and data["rows_written"] == 4
    assert data["files"][0]["source"] == "linkedin"
    assert data["spend_by_result_type"] == {"demo_request": 2437.65, "whitepaper_download": 1050.25}
    assert len(read_history(out)) == 4


def test_ingest_with_forced_source(tmp_path):
    out = tmp_path / "h.csv"
    res = runner.invoke(
        app, ["ingest", str(FIX / "meta.xlsx"), "--source", "meta", "--out", str(out), "--json"]
    )
    assert res.exit_code == 0
    assert json.loads(res.stdout)["skipped"] == {"summary_row": 1}
    assert pd.read_csv(out)["currency"].unique().tolist() == ["USD"]


def test_help_does_not_import_pandas():
    code = (
        "import sys, cli.main; "
        "print('pandas' in sys.modules, 'sklearn' in sys.modules, 'forecasting.ingest' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "False"]
    res = runner.invoke(app, ["ingest", "--help"])
    assert res.exit_code == 0 and "--source" in res.stdout


def test_without_out_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "history.csv").write_text("keep me\n")  # a file the user already has
    res = runner.invoke(app, ["ingest", str(FIX / "tiktok.csv")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "history.csv").read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv"]
    assert "nothing written" in res.stderr and "--out" in res.stderr
    assert "Read 3 rows" in res.stdout and "Wrote" not in res.stdout
    res = runner.invoke(app, ["ingest", str(FIX / "tiktok.csv"), "--json"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["out"] is None and data["rows_written"] == 3


@pytest.mark.parametrize("name", ["h.xlsx", "h.json", "history"])
def test_out_must_be_a_csv_and_is_checked_before_reading(tmp_path, name):
    out = tmp_path / name
    missing = tmp_path / "not-there.csv"  # the suffix is refused before inputs are read
    res = runner.invoke(app, ["ingest", str(missing), "--out", str(out)])
    assert res.exit_code == 2
    assert "no such file" not in res.stderr and ".csv" in res.stderr
    assert (f'"{out.suffix}"' if out.suffix else "no suffix") in res.stderr
    assert not out.exists()
    res = runner.invoke(app, ["ingest", str(FIX / "tiktok.csv"), "--out", str(tmp_path / "h.CSV")])
    assert res.exit_code == 0 and (tmp_path / "h.CSV").exists()


def test_user_text_is_not_read_as_markup(tmp_path):
    p = tmp_path / "[red]e.csv"
    p.write_text(
        "date,network,segment,result_type,spend,results\n"
        "2026-11-02,[b]n,[/x],[/x],4.5,1\n"
        "2026-11-09,[b]n,[/x],[/x],5,2\n",
        encoding="utf-8",
    )
    out = tmp_path / "[/i]" / "h.csv"
    res = runner.invoke(app, ["ingest", str(p), "--out", str(out)])
    assert res.exit_code == 0, res.output + res.stderr
    text = res.stdout.replace("\n", "")  # long lines wrap
    for words in ("[red]e.csv", "[b]n", "[/x]", f"to {out}"):
        assert words in text, words
    assert read_history(out)["segment"].tolist() == ["[/x]", "[/x]"]


HEADER = "date,network,segment,result_type,spend,results\n"
ROW = "2026-11-02,meta,all,purchases,10.5,2\n"


def test_out_naming_an_input_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = HEADER + ROW
    (tmp_path / "history.csv").write_text(text, encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(tmp_path / "history.csv")
    (tmp_path / "sub").mkdir()
    for files, out in [
        (["history.csv"], "history.csv"),  # the same name
        ([str(FIX / "tiktok.csv"), "history.csv"], str(tmp_path / "sub" / ".." / "history.csv")),
        (["link.csv"], "history.csv"),  # a link to the output
    ]:
        res = runner.invoke(app, ["ingest", *files, "--out", out])
        assert res.exit_code == 2, (files, out, res.output)
        msg = res.stderr.replace("\n", " ")
        assert f"--out {out} is also an input" in msg and "another file name" in msg, msg
    assert (tmp_path / "history.csv").read_text(encoding="utf-8") == text


def test_header_only_file_is_said_and_nothing_is_written(tmp_path):
    empty = tmp_path / "headeronly.csv"
    empty.write_text(HEADER, encoding="utf-8")
    out = tmp_path / "h0.csv"
    res = runner.invoke(app, ["ingest", str(empty), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert f"no rows to write: {empty} has only a header" in res.stderr.replace("\n", "")
    assert "None" not in res.output and not out.exists()
    res = runner.invoke(app, ["ingest", str(empty)])
    assert res.exit_code == 2 and "no data rows" in res.stderr
    # beside a file with rows: written, with a warning naming the header-only file
    good = tmp_path / "good.csv"
    good.write_text(HEADER + ROW, encoding="utf-8")
    res = runner.invoke(app, ["ingest", str(empty), str(good), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert f"{empty}: only a header, no data rows" in res.stderr.replace("\n", "")
    assert len(read_history(out)) == 1


def test_all_rows_skipped_is_refused_with_the_reasons(tmp_path):
    p = tmp_path / "zero.csv"
    p.write_text(
        "Day,Campaign name,Ad set name,Amount spent (EUR),Results,Result type,Impressions\n"
        "2026-11-02,c,s,0,0,Purchases,0\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["ingest", str(p), "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 2, res.output
    msg = res.stderr.replace("\n", "")
    assert f"no rows to write: all 1 rows of {p} were skipped (zero_activity: 1)" in msg, msg
