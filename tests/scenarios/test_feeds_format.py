"""Spreadsheet feeds: each feed of a real plan, read back as a spreadsheet reads it.

The CSV text is parsed back with the csv module and the locale's separator; the localised
French feed is also opened by LibreOffice Calc in a French locale (its numbers must be
numbers); the .odc is parsed as XML and its embedded Power Query formula read back.
Excel itself is not available here: what Excel does with the .odc is not run.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import math
import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import openpyxl
import pytest
import yaml

from optimizer import PlanSpec, allocate, load_curves
from optimizer.synthetic import synthetic_curves
from scenarios.compare import PlanCase, compare_plans
from scenarios.errors import ExportError
from scenarios.exports import plan_csv_text
from scenarios.exports.feeds import (
    FEEDS,
    LOCALES,
    check_locale,
    feed_csv_text,
    feed_table,
    odc_text,
)
from scenarios.exports.plan import ledger_entries, plan_rows
from scenarios.exports.replan import REPLAN_COLUMNS, replan_lines
from scenarios.money import round_to_total
from scenarios.replan import replan

FR = check_locale("fr")
CENTS = Decimal("0.01")
NUMBER_FR = re.compile(r"-?\d+,\d{2}")  # money and results in a decimal-comma feed
ACTUALS = [
    {"date": "2027-01-05", "network": "meta", "segment": "f-25-34", "spend": 3000.0},
    {"date": "2027-01-12", "network": "tiktok", "segment": "m-25-34", "spend": 2500.0},
    {"date": "2027-02-03", "network": "google", "segment": "retargeting", "spend": 1500.0},
]


@pytest.fixture(scope="module")
def plan(examples_dir) -> dict:
    """The plan of the bundled sample curves and spec (60,000 EUR over three months)."""
    curves = load_curves(examples_dir / "curves.json")
    spec = PlanSpec.from_dict(yaml.safe_load((examples_dir / "plan.yaml").read_text()))
    return allocate(curves, spec).to_dict()


@pytest.fixture(scope="module")
def replanned(examples_dir) -> dict:
    """A re-plan of the sample plan as of 2027-02-15, January and part of February spent."""
    curves = load_curves(examples_dir / "curves.json")
    spec = PlanSpec.from_dict(yaml.safe_load((examples_dir / "plan.yaml").read_text()))
    rows = [{**a, "result_type": "purchases"} for a in ACTUALS]
    return replan(curves, spec, rows, dt.date(2027, 2, 15)).to_dict()


@pytest.fixture(scope="module")
def comparison() -> dict:
    """A comparison of two plans on curves with spread: ranges and a chance to beat the base."""
    curves = synthetic_curves(3, 2, 2, 4, spread=True)
    cap = sum(ln.max_spend for ln in curves.lines)
    cases = []
    for name, share in (("base", 0.5), ("=cut", 0.499)):
        spec = PlanSpec.from_dict({"budget": cap * share})
        cases.append(PlanCase(name, spec, allocate(curves, spec), curves=curves))
    return compare_plans(cases)


def _read(text: str, delimiter: str = ",") -> list[dict]:
    """Parse feed text as a spreadsheet would: a header, then rows by column name."""
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # CRLF only
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _fr(text: str) -> Decimal:
    """Read a decimal-comma number (no thousands separators)."""
    assert NUMBER_FR.fullmatch(text), text
    return Decimal(text.replace(",", "."))


def _rounded(values) -> Decimal:
    """Return the exact sum of ``values`` rounded to cents (halves away from zero)."""
    return Decimal(repr(math.fsum(values))).quantize(CENTS, ROUND_HALF_UP)


def _assert_column_adds_up(rows: list[dict], column: str, exact: list[float]) -> None:
    """The shown cells add up to the exact total rounded; each within a cent of its value."""
    shown = [_fr(r[column]) for r in rows]
    assert sum(shown) == _rounded(exact), column
    for s, x in zip(shown, exact, strict=True):
        assert abs(s - Decimal(repr(x))) < CENTS, (column, s, x)


def test_feeds_are_the_five_named():
    assert FEEDS == ("plan", "flighting", "ledger", "plan-vs-actual", "comparison")
    with pytest.raises(ExportError, match="unknown feed 'lines'.*plan, flighting, ledger"):
        feed_table("lines", {"lines": []})


def test_plan_feed_without_locale_is_the_plan_csv(plan):
    text = feed_csv_text("plan", plan)
    assert text == plan_csv_text(plan)
    rows = _read(text)
    assert [float(r["spend"]) for r in rows] == [r["spend"] for r in plan_rows(plan)]
    assert text.startswith("network,segment,period,spend,expected_results,")


def test_plan_feed_in_french_rounds_to_cents_that_add_up(plan):
    text = feed_csv_text("plan", plan, locale=FR)
    assert text.splitlines()[0].split(";")[:4] == ["network", "segment", "period", "spend"]
    rows = _read(text, ";")
    exact = plan_rows(plan)
    assert len(rows) == len(exact) == 33
    _assert_column_adds_up(rows, "spend", [r["spend"] for r in exact])
    _assert_column_adds_up(rows, "expected_results", [r["expected_results"] for r in exact])
    # the plan's total, 59999.999999999956 EUR exact, shows as 60000,00 added up
    assert sum(_fr(r["spend"]) for r in rows) == Decimal("60000.00")
    for r, x in zip(rows, exact, strict=True):  # prices each rounded to the nearest cent
        if x["cost_per_result"] is None:  # no results: no price
            assert r["cost_per_result"] == ""
            continue
        want = Decimal(repr(x["cost_per_result"])).quantize(CENTS, ROUND_HALF_UP)
        assert _fr(r["cost_per_result"]) == want
    for r in rows:  # every number: digits, a decimal comma, never an exponent or a point
        for column, cell in list(r.items())[3:]:
            assert cell == "" or re.fullmatch(r"-?\d+,\d+", cell), (column, cell)


def test_a_float_off_by_one_ulp_shows_as_its_cents():
    d = {
        "currency": "EUR",
        "lines": [
            {
                "network": "meta",
                "segment": "=1+2",
                "period": "2027-01",
                "spend": 986.6700000000001,
                "expected_results": 33.333333333333336,
            },
            {
                "network": "x",
                "segment": "@a",
                "period": "2027-01",
                "spend": 0.1 + 0.2,
                "expected_results": 1e-05,
            },
        ],
    }
    en = _read(feed_csv_text("plan", d))
    assert en[0]["spend"] == "986.6700000000001"
    assert en[1]["expected_results"] == "0.00001"  # exact, and never 1e-05
    assert [r["segment"] for r in en] == ["'=1+2", "'@a"]
    fr = _read(feed_csv_text("plan", d, locale=FR), ";")
    assert fr[0]["spend"] == "986,67"
    assert fr[1]["spend"] == "0,30"
    assert fr[0]["expected_results"] == "33,33"
    assert fr[1]["expected_results"] == "0,00"
    assert fr[0]["cost_per_result"] == "29,60"
    assert [r["segment"] for r in fr] == ["'=1+2", "'@a"]


def test_flighting_columns_add_up_to_the_plan_in_french(plan):
    headers, table = feed_table("flighting", plan)
    assert headers == ["network", "segment", "2027-01", "2027-02", "2027-03", "total"]
    assert all(math.isclose(r[-1], math.fsum(r[2:-1])) for r in table)
    en = _read(feed_csv_text("flighting", plan))
    assert len(en) == len(table) and not any(r["network"].lower() == "total" for r in en)
    rows = _read(feed_csv_text("flighting", plan, locale=FR), ";")
    for j, column in enumerate(headers[2:], start=2):
        _assert_column_adds_up(rows, column, [r[j] for r in table])
    assert sum(_fr(r["total"]) for r in rows) == Decimal("60000.00")
    for r in rows:  # each line's periods add up to its total, as the workbook shows it
        assert sum(_fr(r[p]) for p in headers[2:-1]) == _fr(r["total"]), r
    by_line = {}
    for r in plan_rows(plan):
        key = (r["network"], r["segment"], r["period"])
        by_line[key] = by_line.get(key, 0.0) + r["spend"]
    for r in en:
        for p in headers[2:-1]:
            assert float(r[p]) == by_line.get((r["network"], r["segment"], p), 0.0)


def test_ledger_feed_keeps_rates_significant(plan):
    entries = ledger_entries(plan)
    en = _read(feed_csv_text("ledger", plan))
    assert list(en[0]) == [
        "rule",
        "words",
        "gain_if_removed",
        "gain_proven",
        "shadow_price",
        "unit",
        "per_1000",
        "next_result_cost",
    ]
    assert [r["rule"] for r in en] == [e["rule"] for e in entries]
    assert float(en[0]["shadow_price"]) == entries[0]["shadow_price"]
    assert en[0]["gain_proven"] == "true"
    fr = _read(feed_csv_text("ledger", plan, locale=FR), ";")
    assert fr[0]["words"] == "the budget of 60,000 EUR"  # text keeps its commas
    assert fr[0]["shadow_price"] == "0,0319408"  # 0.03194083905543461 to 6 significant digits
    assert fr[0]["per_1000"] == "31,9408"
    assert fr[0]["gain_if_removed"] == "2216,90"
    assert fr[1]["next_result_cost"] == ""  # unknown stays empty


def test_plan_vs_actual_of_a_replan_adds_up(replanned):
    lines = replan_lines(replanned)
    en = _read(feed_csv_text("plan-vs-actual", replanned))
    assert list(en[0]) == list(REPLAN_COLUMNS)
    assert len(en) == len(lines)
    assert {r["status"] for r in en} >= {"elapsed", "current", "open"}
    jan = [r for r in en if r["period"] == "2027-01" and float(r["actual_spend"]) > 0]
    assert {(r["network"], r["segment"]) for r in jan} == {
        ("meta", "f-25-34"),
        ("tiktok", "m-25-34"),
    }
    assert all(r["actual_spend"] == "" for r in en if r["status"] == "open")
    fr = _read(feed_csv_text("plan-vs-actual", replanned, locale=FR), ";")
    for column in ("planned_spend", "replanned_spend", "spend_variance"):
        _assert_column_adds_up(fr, column, [x[column] for x in lines])
    spent = [i for i, x in enumerate(lines) if x["actual_spend"] is not None]
    shown = [_fr(fr[i]["actual_spend"]) for i in spent]
    assert sum(shown) == _rounded([lines[i]["actual_spend"] for i in spent])


def test_plan_vs_actual_before_any_replan_is_all_open(plan):
    rows = _read(feed_csv_text("plan-vs-actual", plan))
    assert list(rows[0]) == list(REPLAN_COLUMNS)
    for r, x in zip(rows, plan_rows(plan), strict=True):
        assert r["status"] == "open"
        assert float(r["planned_spend"]) == float(r["replanned_spend"]) == x["spend"]
        assert r["actual_spend"] == r["actual_results"] == ""
        assert float(r["spend_variance"]) == 0.0


def test_comparison_feed(comparison):
    en = _read(feed_csv_text("comparison", None, comparison=comparison))
    assert list(en[0]) == [
        "variant",
        "status",
        "total_spend",
        "spend_vs_base",
        "expected_results",
        "results_vs_base",
        "cost_per_result",
        "cost_per_result_vs_base",
        "results_p10",
        "results_p90",
        "chance_beats_base",
    ]
    base, cut = comparison["cases"]
    assert en[0]["variant"] == "base" and en[1]["variant"] == "'=cut"
    assert en[0]["spend_vs_base"] == en[0]["chance_beats_base"] == ""
    assert float(en[1]["spend_vs_base"]) == cut["delta"]["total_spend"]
    assert float(en[1]["results_p10"]) == cut["results_p10"]
    chance = cut["beats_base_probability"]
    assert 0 < chance < 1 and float(en[1]["chance_beats_base"]) == chance
    fr = _read(feed_csv_text("comparison", None, comparison=comparison, locale=FR), ";")
    want = Decimal(repr(chance)).quantize(Decimal("0.000001"), ROUND_HALF_UP).normalize()
    assert Decimal(fr[1]["chance_beats_base"].replace(",", ".")) == want
    assert _fr(fr[0]["total_spend"]) == Decimal(repr(base["total_spend"])).quantize(
        CENTS, ROUND_HALF_UP
    )


def test_comparison_feed_needs_a_scenario_run(plan):
    with pytest.raises(ExportError, match="no scenario run"):
        feed_csv_text("comparison", plan)


def test_reach_comparison_has_no_results_totals(comparison):
    reach = copy.deepcopy(comparison)
    reach["results_additive"] = False
    _, rows = feed_table("comparison", None, comparison=reach)
    assert all(r[2] is not None and r[4:] == [None] * 7 for r in rows)


@pytest.mark.parametrize(
    ("text", "name", "delimiter", "decimal"),
    [
        ("en", "en", ",", "."),
        ("FR", "fr", ";", ","),
        ("fr-FR", "fr-FR", ";", ","),
        ("fr_ca", "fr-CA", ";", ","),
        ("de-CH", "de-CH", ";", "."),
        ("de_at", "de-AT", ";", ","),
        ("es-MX", "es-MX", ",", "."),
        ("pt-BR", "pt-BR", ";", ","),
        ("sv", "sv", ";", ","),
    ],
)
def test_locales(text, name, delimiter, decimal):
    loc = check_locale(text)
    assert (loc.name, loc.delimiter, loc.decimal) == (name, delimiter, decimal)


def test_no_locale_and_unknown_locales():
    assert check_locale(None) is None and check_locale(" ") is None
    assert {"en", "fr", "de", "es", "it", "nl", "pt", "pl", "sv"} <= set(LOCALES)
    for bad in ("xx", "en-ZA", "fr-CH", "french"):
        with pytest.raises(ExportError, match=r"unknown locale.*fr \(fr-FR.*de-CH"):
            check_locale(bad)


def test_swiss_feed_keeps_the_decimal_point(plan):
    rows = _read(feed_csv_text("plan", plan, locale=check_locale("de-CH")), ";")
    assert rows[0]["spend"] == "3587.02"


@pytest.fixture(scope="module")
def soffice():
    found = shutil.which("soffice") or shutil.which("libreoffice")
    assert found, "LibreOffice (soffice) is needed: make test installs it (.ci/system-packages)"
    return found


def _calc(soffice, tmp_path, text: str, options: str) -> list[tuple]:
    """Open CSV text in LibreOffice Calc with CSV filter ``options``; return its rows."""
    src = tmp_path / "feed.csv"
    src.write_bytes(text.encode("utf-8"))
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            f"--infilter=CSV:{options}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    ws = openpyxl.load_workbook(tmp_path / "feed.xlsx").active
    return list(ws.iter_rows(values_only=True))


def test_french_calc_reads_the_french_feed_as_numbers(plan, soffice, tmp_path):
    # ';' (59), '"' (34), UTF-8 (76), from line 1, language French (1036)
    rows = _calc(soffice, tmp_path, feed_csv_text("flighting", plan, locale=FR), "59,34,76,1,,1036")
    assert rows[0] == ("network", "segment", "2027-01", "2027-02", "2027-03", "total")
    body = rows[1:]
    assert all(isinstance(v, int | float) for r in body for v in r[2:])
    assert round(sum(r[-1] for r in body), 2) == 60000.0
    assert body[0][2] == 2140.05


def test_odc_loads_the_feed_through_power_query():
    url = "https://adplan.example/v1/feeds/q1-2027/plan.csv?token=abc&t=2"
    text = odc_text(url, "q1-2027 plan")
    HTMLParser().feed(text)  # HTML Excel reads ...
    root = ET.fromstring(text)  # ... that also parses as XML
    ns = {"odc": "urn:schemas-microsoft-com:office:odc"}
    conn = root.find(".//odc:PowerQueryConnection", ns)
    assert conn.get("{urn:schemas-microsoft-com:office:odc}Type") == "OLEDB"
    cs = conn.find("odc:ConnectionString", ns).text
    assert cs.startswith(
        'Provider=Microsoft.Mashup.OleDb.1;Data Source=$Workbook$;Location="q1-2027 plan"'
    )
    assert conn.find("odc:CommandText", ns).text == "SELECT * FROM [q1-2027 plan]"
    mashup = ET.fromstring(root.find(".//odc:PowerQueryMashupData", ns).text)
    dm = {"m": "http://schemas.microsoft.com/DataMashup"}
    assert mashup.find("m:Client", dm).text == "EXCEL"
    query = mashup.find("m:Items/m:Query", dm)
    assert query.get("Name") == "q1-2027 plan"
    formula = query.find("m:Formula", dm).text
    assert formula.count(url) == 1 and text.count(url) == 0  # the & is escaped in the file
    assert text.count(url.replace("&", "&amp;")) == 1
    assert f'Csv.Document(Web.Contents("{url}"), [Delimiter=",", Encoding=65001' in formula
    assert "Table.PromoteHeaders(Source, [PromoteAllScalars=true])" in formula
    assert '"en-US")' in formula  # numbers read with the feed's decimal point
    feed = feed_csv_text("ledger", {"lines": [], "ledger": []})
    assert feed.split("\r\n")[0].count(",") == 7  # the feed it reads is comma-separated


def test_odc_of_a_localised_feed_reads_its_separator():
    url = "https://adplan.example/v1/feeds/q1-2027/flighting.csv?locale=fr_FR&token=x"
    formula = (
        ET.fromstring(
            ET.fromstring(odc_text(url, "flighting"))
            .find(".//{urn:schemas-microsoft-com:office:odc}PowerQueryMashupData")
            .text
        )
        .find(".//{http://schemas.microsoft.com/DataMashup}Formula")
        .text
    )
    assert '[Delimiter=";", Encoding=65001' in formula and '"fr-FR")' in formula
    assert "Location=flighting;" in odc_text(url, "flighting")


@pytest.mark.parametrize(
    ("url", "name", "message"),
    [
        ("ftp://x/plan.csv", "plan", "absolute http"),
        ("/v1/feeds/plan.csv", "plan", "absolute http"),
        ("https://x/plan.csv", "plan]; drop", "query name"),
        ("https://x/plan.csv?locale=xx", "plan", "unknown locale"),
    ],
)
def test_odc_refuses_bad_input(url, name, message):
    with pytest.raises(ExportError, match=message):
        odc_text(url, name)


def test_round_to_total_is_what_the_columns_use(plan):
    rows = _read(feed_csv_text("plan", plan, locale=FR), ";")
    want = round_to_total([r["spend"] for r in plan_rows(plan)], 2)
    assert [_fr(r["spend"]) for r in rows] == [Decimal(f"{v:.2f}") for v in want]


def test_thirds_add_up_to_the_whole_in_every_summed_column():
    third = 100 / 3  # 33.333333333333336: three cells of 33,33 would show 99,99
    d = {
        "lines": [
            {
                "network": "meta",
                "segment": s,
                "period": "2027-01",
                "spend": third,
                "expected_results": third,
            }
            for s in ("a", "b", "c")
        ]
    }
    for kind, columns in (
        ("plan", ("spend", "expected_results")),
        ("flighting", ("2027-01", "total")),
        ("plan-vs-actual", ("planned_spend", "replanned_spend", "planned_results")),
    ):
        rows = _read(feed_csv_text(kind, d, locale=FR), ";")
        for column in columns:
            cells = sorted(r[column] for r in rows)
            assert cells == ["33,33", "33,33", "33,34"], (kind, column)


def test_odc_takes_the_longest_names_the_service_makes():
    name = f"adplan {'a' * 64} plan-vs-actual"  # a 64-character plan name and the longest feed
    text = odc_text("https://adplan.example/v1/feeds/x/plan-vs-actual.csv?token=t", name)
    assert f"Location=&quot;{name}&quot;;" in text
