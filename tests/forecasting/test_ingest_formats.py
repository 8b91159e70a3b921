"""Every importer on a small fixture of its format (tests/fixtures/ingest/).

Totals are checked against sums computed here, independently, from the raw files with the
csv module and Decimal: the spend written plus the spend of skipped activity rows equals
the spend of the file's data rows to the cent.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from forecasting import detect_source, ingest_files, read_history
from forecasting.history import validate_history
from forecasting.ingest import SOURCE_NAMES
from forecasting.ingest._table import norm_header

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"


def _cents(x) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"))


def _raw_rows(name: str, *, encoding="utf-8-sig", delimiter=",", skip=0) -> list[dict]:
    text = (FIX / name).read_bytes().decode(encoding)
    lines = text.splitlines(keepends=True)[skip:]
    reader = csv.DictReader(io.StringIO("".join(lines)), delimiter=delimiter)
    return [{norm_header(k): v for k, v in row.items()} for row in reader]


def _dec(text: str, french=False) -> Decimal:
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if text in ("", "—", "--"):
        return Decimal(0)
    if french:
        text = text.replace(",", ".")
    else:
        text = text.replace(",", "")
    return Decimal(text)


def _report(name: str, **kw):
    result = ingest_files([FIX / name], **kw)
    return result, result.report.files[0]


def _written_plus_skipped(f) -> Decimal:
    written = sum(Decimal(str(v)) for v in f.spend_by_result_type.values())
    skipped = sum(
        Decimal(str(v)) for k, v in f.skipped_spend.items() if k not in ("summary_row", "total_row")
    )
    return _cents(written + skipped)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("meta_en.csv", "meta"),
        ("meta_fr.csv", "meta"),
        ("meta.xlsx", "meta"),
        ("google_ads.csv", "google"),
        ("google_ads_excel_utf16.csv", "google"),
        ("linkedin.csv", "linkedin"),
        ("tiktok.csv", "tiktok"),
        ("canonical.csv", "canonical"),
    ],
)
def test_detects_format_from_headers(name, source):
    assert detect_source(FIX / name) == source
    # forcing the right source gives the same history
    auto = ingest_files([FIX / name]).history
    forced = ingest_files([FIX / name], source=source).history
    pd.testing.assert_frame_equal(auto, forced)
    # every result is a valid canonical history
    pd.testing.assert_frame_equal(validate_history(auto), auto)


def test_meta_english():
    result, f = _report("meta_en.csv")
    h = result.history
    assert f.rows_read == 9 and f.rows_written == 6
    assert f.skipped == {"summary_row": 1, "zero_activity": 1, "missing_result_type": 1}
    assert f.skipped_spend["missing_result_type"] == pytest.approx(240.85)
    assert sorted(h["segment"].unique()) == ["f-25-34", "f-35-44", "m-25-34", "m-35-44"]
    assert set(h["network"]) == {"meta"} and set(h["currency"]) == {"EUR"}
    assert h["date"].min() == pd.Timestamp("2026-11-02")  # the Day column, not the range
    assert h["date"].max() == pd.Timestamp("2026-11-03")
    assert f.results_by_result_type == {"leads": 57.0, "purchases": 31.0}
    # "—" results with a result type: kept as 0 results and said so
    row = h[(h["segment"] == "m-25-34") & (h["date"] == "2026-11-02")].iloc[0]
    assert row["results"] == 0 and row["spend"] == 120.25
    assert any("empty results cell" in n for n in f.notes)
    raw = _raw_rows("meta_en.csv")
    data = [r for r in raw if r["campaign name"]]
    assert _written_plus_skipped(f) == _cents(sum(_dec(r["amount spent (eur)"]) for r in data))
    summary = [r for r in raw if not r["campaign name"]]
    assert len(summary) == 1
    assert _written_plus_skipped(f) == _cents(_dec(summary[0]["amount spent (eur)"]))


def test_meta_french_headers_commas_and_platforms():
    text = (FIX / "meta_fr.csv").read_text(encoding="utf-8")
    assert "\u2019" in text and "\u00a0" in text  # the fixture keeps what Meta writes
    result, f = _report("meta_fr.csv")
    h = result.history
    assert f.skipped == {"summary_row": 1}
    assert set(h["network"]) == {"meta", "instagram"}  # Plateforme: Facebook, Instagram
    assert set(h["result_type"]) == {"purchases", "leads"}  # Achats, Prospects
    assert "retargeting-30j" in set(h["segment"])
    big = h[h["segment"] == "lookalike-1-%"].iloc[0]
    assert big["spend"] == 1178.10 and big["impressions"] == 120000 and big["clicks"] == 1500
    assert h["date"].min() == pd.Timestamp("2026-10-05")  # Début des rapports
    raw = _raw_rows("meta_fr.csv", delimiter=";")
    spend_col = "montant dépensé (eur)"
    data = [r for r in raw if r["nom de la campagne"]]
    total = sum(_dec(r[spend_col], french=True) for r in data)
    assert _written_plus_skipped(f) == _cents(total) == _cents("2431.96")
    assert not any("summary row says" in n for n in f.notes)


def test_meta_xlsx():
    result, f = _report("meta.xlsx")
    h = result.history
    assert f.skipped == {"summary_row": 1} and f.rows_written == 3
    assert set(h["currency"]) == {"USD"}  # from "Amount spent (USD)"
    assert sorted(h["segment"]) == ["broad-fr", "lookalike-1%", "retargeting-30d"]
    assert f.spend_by_result_type == {"leads": 604.4, "purchases": 1235.0}
    import openpyxl

    ws = openpyxl.load_workbook(FIX / "meta.xlsx", read_only=True).active
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert _written_plus_skipped(f) == _cents(sum(Decimal(str(r[7])) for r in rows))


def test_meta_summary_mismatch_is_noted(tmp_path):
    text = (FIX / "meta_en.csv").read_text(encoding="utf-8-sig")
    p = tmp_path / "m.csv"
    p.write_text(text.replace('"1733.37"', '"1800.00"'), encoding="utf-8")
    f = ingest_files([p]).report.files[0]
    assert any("summary row says spend 1800.00" in n for n in f.notes)


def test_google_ads_csv():
    result, f = _report("google_ads.csv")
    h = result.history
    assert f.skipped == {"total_row": 3, "zero_activity": 1}
    assert set(h["network"]) == {"google", "youtube"}  # the Video campaign is YouTube
    assert set(h["result_type"]) == {"conversions"}
    brand = h[(h["segment"] == "brand-exact") & (h["date"] == "2026-11-02")].iloc[0]
    assert brand["spend"] == 1234.56 and brand["results"] == 41.5
    assert brand["impressions"] == 10500
    assert f.results_by_result_type["conversions"] == pytest.approx(112.75)
    raw = _raw_rows("google_ads.csv", skip=2)
    data = [r for r in raw if not r["campaign"].startswith("Total")]
    assert _written_plus_skipped(f) == _cents(sum(_dec(r["cost"]) for r in data))
    totals = [r for r in raw if r["campaign"] == "Total: Account"]
    assert _written_plus_skipped(f) == _cents(_dec(totals[0]["cost"]))


def test_google_ads_excel_utf16_tab():
    raw_bytes = (FIX / "google_ads_excel_utf16.csv").read_bytes()
    assert raw_bytes[:2] == b"\xff\xfe"
    result, f = _report("google_ads_excel_utf16.csv")
    h = result.history
    assert f.skipped == {"total_row": 2, "zero_activity": 1}
    assert h["date"].tolist() == [pd.Timestamp("2026-11-02")] * 2 + [pd.Timestamp("2026-11-09")]
    assert h["results"].sum() == pytest.approx(41.5 + 38.25 + 30.33)  # fractions kept
    raw = _raw_rows("google_ads_excel_utf16.csv", encoding="utf-16", delimiter="\t", skip=2)
    data = [r for r in raw if not r["campaign"].startswith("Total")]
    assert _written_plus_skipped(f) == _cents(sum(_dec(r["cost"]) for r in data))


def test_google_without_date_column_uses_the_range_line(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text(
        "Campaign report\n"
        '"November 1, 2026 - November 30, 2026"\n'
        "Campaign,Currency code,Cost,Impr.,Clicks,Conversions\n"
        'Brand,EUR,"1,000.00",100,10,3.5\n',
        encoding="utf-8",
    )
    h = ingest_files([p]).history
    assert h["date"].tolist() == [pd.Timestamp("2026-11-01")]
    assert h["segment"].tolist() == ["brand"]


def test_linkedin_conversion_names_become_result_types():
    result, f = _report("linkedin.csv")
    h = result.history
    assert set(h["network"]) == {"linkedin"}
    assert set(h["result_type"]) == {"demo_request", "whitepaper_download"}
    assert h["date"].min() == pd.Timestamp("2026-10-05")  # 10/5/2026 is M/D/YYYY
    assert set(h["campaign"]) == {"Q4 B2B"}
    assert set(h["segment"]) == {"it-decision-makers-fr", "hr-managers"}
    raw = _raw_rows("linkedin.csv", skip=6)
    for rt, label in (
        ("demo_request", "Demo request"),
        ("whitepaper_download", "Whitepaper download"),
    ):
        rows = [r for r in raw if r["conversion name"] == label]
        assert _cents(f.spend_by_result_type[rt]) == _cents(
            sum(_dec(r["total spent"]) for r in rows)
        )
        assert f.results_by_result_type[rt] == sum(int(r["conversions"]) for r in rows)


def test_tiktok():
    result, f = _report("tiktok.csv")
    h = result.history
    assert f.skipped == {"total_row": 1, "zero_activity": 1}
    assert sorted(h["segment"].unique()) == ["f-18-24", "m-18-24"]
    assert set(h["network"]) == {"tiktok"} and set(h["result_type"]) == {"conversions"}
    raw = _raw_rows("tiktok.csv")
    data = [r for r in raw if not r["campaign name"].startswith("Total")]
    assert _written_plus_skipped(f) == _cents(sum(_dec(r["cost"]) for r in data))
    assert f.results_by_result_type["conversions"] == 64


def test_canonical_file_equals_read_history():
    result, f = _report("canonical.csv")
    assert f.skipped == {}  # a zero week is information in canonical history
    read = read_history(FIX / "canonical.csv")  # keeps the file's order; ingest sorts
    by = ["date", "network", "segment", "result_type"]
    pd.testing.assert_frame_equal(
        result.history, read.sort_values(by, ignore_index=True), check_exact=True
    )


def test_ingest_output_round_trips(tmp_path):
    from forecasting import write_history

    files = sorted(p for p in FIX.iterdir() if p.suffix in (".csv", ".xlsx"))
    assert len(files) >= 8
    result = ingest_files(files)
    assert [f.source for f in result.report.files] == [detect_source(p) for p in files]
    out = write_history(result.history, tmp_path / "h.csv")
    pd.testing.assert_frame_equal(read_history(out), result.history)
    # report totals = per-file totals, and every row read is accounted for
    r = result.report
    for f in r.files:
        assert f.rows_read == f.rows_written + f.rows_merged + f.rows_skipped
    assert r.rows_written == len(result.history) == sum(f.rows_written for f in r.files)
    d = r.to_dict()
    assert d["rows_read"] == sum(x["rows_read"] for x in d["files"])
    assert set(SOURCE_NAMES) >= {x["source"] for x in d["files"]}


def test_google_cost_with_currency_in_header(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text(
        "Ad group report\n"
        "All time\n"
        "Day,Campaign,Ad group,Cost (USD),Impr.,Clicks,Conversions\n"
        '2026-11-02,Brand,Exact,"1,000.50",100,10,3.5\n'
        'Total: Account,--,--,"1,000.50",100,10,3.5\n',
        encoding="utf-8",
    )
    result = ingest_files([p])
    h = result.history
    assert h["currency"].tolist() == ["USD"] and h["spend"].tolist() == [1000.5]
    assert result.report.files[0].skipped == {"total_row": 1}


def test_meta_summary_row_when_the_name_column_comes_first(tmp_path):
    p = tmp_path / "meta.csv"
    p.write_text(
        "Campaign name,Reporting starts,Reporting ends,Result type,Results,Amount spent (GBP)\n"
        ",2026-09-01,2026-09-30,,,300\n"
        "Autumn,2026-09-01,2026-09-30,Reach,10000,100\n"
        "Winter,2026-09-01,2026-09-30,Reach,15000,200\n",
        encoding="utf-8",
    )
    result = ingest_files([p])
    f = result.report.files[0]
    assert f.skipped == {"summary_row": 1}
    assert result.history["segment"].tolist() == ["autumn", "winter"]  # no ad set: campaign
    assert f.spend_by_result_type == {"reach": 300.0} and set(f.currencies) == {"GBP"}
