"""Bad input: one clear message naming file, data row, line, column and what is wrong;
exit code 2 from ``adplan ingest``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from forecasting import detect_source, ingest_files
from forecasting.errors import IngestError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
runner = CliRunner()


def _variant(tmp_path, fixture, old, new, name=None, encoding="utf-8") -> Path:
    text = (FIX / fixture).read_text(encoding="utf-8-sig")
    assert old in text, "the fixture changed; update the test"
    p = tmp_path / (name or fixture)
    p.write_text(text.replace(old, new, 1), encoding=encoding)
    return p


# (fixture, old, new, row, line, column, words)
CASES = {
    "text_in_number": (
        "meta_en.csv", '"14","23.50"', '"douze","23.50"',
        2, 3, "Results", "'douze' is not a number",
    ),
    "negative_spend": (
        "meta_en.csv", '"300.50"', '"-300.50"',
        3, 4, "Amount spent (EUR)", "negative spend",
    ),
    "french_text_in_spend": (
        "meta_fr.csv", "430,10", "quatre cents",
        2, 3, "Montant\u00a0dépensé (EUR)", "'quatre cents' is not a number",
    ),
    "bad_date_linkedin": (
        "linkedin.csv", "10/12/2026,Acme SAS,Q4 B2B,HR", "13/45/2026,Acme SAS,Q4 B2B,HR",
        4, 11, "Start Date (in UTC)", "'13/45/2026' is not a date (expected M/D/YYYY)",
    ),
    "bad_date_google": (
        "google_ads.csv", "Running shoes,2026-11-03", "Running shoes,yesterday",
        4, 7, "Day", "'yesterday' is not a date",
    ),
    "negative_tiktok_cost": (
        "tiktok.csv", "295.10", "-295.10", 2, 3, "Cost", "negative cost",
    ),
    "canonical_text": (
        "canonical.csv", "987.4,4.5", "987.4,four", 4, 5, "results", "'four' is not a number",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_cell_names_file_row_line_column(tmp_path, case):
    fixture, old, new, row, line, column, words = CASES[case]
    p = _variant(tmp_path, fixture, old, new)
    with pytest.raises(IngestError) as e:
        ingest_files([p])
    err = e.value
    assert (err.file, err.row, err.line, err.column) == (str(p), row, line, column)
    msg = str(err)
    assert msg.startswith(f'{p}: data row {row} (line {line}), column "{column}": ')
    assert words in msg
    # the CLI: exit code 2, the same message on stderr, nothing written
    out = tmp_path / "h.csv"
    res = runner.invoke(app, ["ingest", str(p), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert words in res.stderr and "data row" in res.stderr
    assert not out.exists()


def test_unknown_format_lists_formats_and_suggests_source(tmp_path):
    p = tmp_path / "export.csv"
    p.write_text("Week,Channel,Money\n2026-01-05,meta,100\n", encoding="utf-8")
    with pytest.raises(IngestError) as e:
        ingest_files([p])
    msg = str(e.value)
    assert msg.startswith(f"{p}: unknown format")
    for name in ("meta", "google", "linkedin", "tiktok", "canonical", "improvado-bing"):
        assert name in msg
    assert "--source" in msg
    res = runner.invoke(app, ["ingest", str(p), "--out", str(tmp_path / "h.csv")])
    assert res.exit_code == 2 and "unknown format" in res.stderr


@pytest.mark.parametrize(
    ("fixture", "old", "new", "source", "column"),
    [
        ("meta_en.csv", '"Amount spent (EUR)"', '"Spend"', None, "Amount spent (EUR)"),
        ("linkedin.csv", ",Total Spent,", ",Spent,", None, "Total Spent"),
        ("google_ads.csv", ",Cost,", ",Costs,", "google", "Cost"),
        ("tiktok.csv", ",By Day,", ",When,", None, "By Day"),
        ("meta_fr.csv", ";Résultats;", ";Nombre;", None, "Results"),
    ],
)
def test_missing_column(tmp_path, fixture, old, new, source, column):
    p = _variant(tmp_path, fixture, old, new)
    with pytest.raises(IngestError) as e:
        ingest_files([p], source=source)
    msg = str(e.value)
    assert f'missing column "{column}"' in msg and "header on line" in msg
    assert e.value.column == column and e.value.line is not None
    args = ["ingest", str(p), "--out", str(tmp_path / "h.csv")]
    res = runner.invoke(app, args + (["--source", source] if source else []))
    assert res.exit_code == 2 and "missing column" in res.stderr


def test_google_without_cost_is_unknown_until_forced(tmp_path):
    p = _variant(tmp_path, "google_ads.csv", ",Cost,", ",Costs,")
    with pytest.raises(IngestError, match="unknown format"):
        ingest_files([p])


def test_forcing_the_wrong_source_says_what_is_missing():
    with pytest.raises(IngestError) as e:
        ingest_files([FIX / "linkedin.csv"], source="meta")
    assert 'missing column "Amount spent (EUR)"' in str(e.value)


def test_unknown_source_name():
    res = runner.invoke(app, ["ingest", str(FIX / "tiktok.csv"), "--source", "myspace"])
    assert res.exit_code == 2 and "unknown source 'myspace'" in res.stderr


def test_missing_file_and_empty_file(tmp_path):
    res = runner.invoke(app, ["ingest", str(tmp_path / "nope.csv")])
    assert res.exit_code == 2 and "no such file" in res.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    res = runner.invoke(app, ["ingest", str(empty), "--out", str(tmp_path / "h.csv")])
    assert res.exit_code == 2 and "empty" in res.stderr


def test_same_rows_in_two_files_are_refused(tmp_path):
    copy = tmp_path / "again.csv"
    copy.write_bytes((FIX / "tiktok.csv").read_bytes())
    with pytest.raises(IngestError) as e:
        ingest_files([FIX / "tiktok.csv", copy])
    msg = str(e.value)
    assert msg.startswith(f"{copy}: line 2 repeats a row of {FIX / 'tiktok.csv'} (line 2)")
    assert "network=tiktok" in msg


def test_canonical_duplicates_are_refused(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(
        "date,network,segment,result_type,spend,results\n"
        "2026-01-05,meta,a,purchases,1,1\n"
        "2026-01-05,Facebook,a,purchases,2,1\n"
    )
    with pytest.raises(IngestError, match=r"data rows 1 \(line 2\), 2 \(line 3\) repeat"):
        ingest_files([p])


def test_row_with_more_cells_than_the_header(tmp_path):
    p = tmp_path / "t.csv"
    text = (FIX / "tiktok.csv").read_text(encoding="utf-8")
    p.write_text(text.replace("310.40,52000", "310,40,52000", 1), encoding="utf-8")
    with pytest.raises(IngestError) as e:
        ingest_files([p])
    assert str(e.value).startswith(f"{p}: data row 1 (line 2): 12 cells where the header")


def test_canonical_with_an_unknown_column_is_named_without_forcing(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(
        "date,network,segment,result_type,spend,results,spent\n2026-01-05,meta,a,purchases,1,1,3\n"
    )
    for source in (None, "canonical"):
        with pytest.raises(IngestError, match="unknown column.*'spent'") as e:
            ingest_files([p], source=source)
        assert e.value.column == "spent" and e.value.line == 1


@pytest.mark.parametrize(
    ("header", "missing", "words"),
    [
        ("date,network,segment,result_type,spend", "results", ""),
        ("date,network,segment,spend,results", "result_type", ""),
        ("date,network,segment,result_type,spend,reslts", "results", '"reslts" for "results"'),
        ("date;network;segment;result_type;results", "spend", ""),
    ],
)
def test_canonical_with_a_missing_column_names_it(tmp_path, header, missing, words):
    p = tmp_path / "h.csv"
    sep = ";" if ";" in header else ","
    n = len(header.split(sep))
    p.write_text(header + "\n" + sep.join(["2026-01-05", "meta", "a", "b", "1", "1"][:n]) + "\n")
    assert detect_source(p) == "canonical"
    with pytest.raises(IngestError) as e:
        ingest_files([p])
    msg = str(e.value)
    assert f'missing column "{missing}" in the canonical history header on line 1' in msg
    assert "unknown format" not in msg and words in msg
    assert (e.value.column, e.value.line) == (missing, 1)
    res = runner.invoke(app, ["ingest", str(p)])
    assert res.exit_code == 2 and f'missing column "{missing}"' in res.stderr
