"""The HTML report reads like the best peers': totals first, plan against last period, labelled charts.

Real reports of real plans: the bundled sample history, its Q1 2027 forecast by ISO week, the
demo's spec, a frontier; the previous period's actuals stored in the plan (``previous``).
The pages are parsed (``html.parser``), opened in headless Chromium, and a re-plan's page is
written by the real ``adplan replan`` executable.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from scenarios.exports.charts import frontier_figure, group_curve, tick_texts
from scenarios.exports.html import costs_something, plan_html_text, range_text
from scenarios.money import round_to_total
from scenarios.previous import plan_days, previous_actuals, previous_window

ADPLAN = Path(sys.executable).with_name("adplan")
EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"


class Node:
    """An element of the parsed page: tag, attributes, children and text."""

    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        """All the text inside, blanks collapsed."""
        inner = "".join(self.parts) + " ".join(c.text for c in self.children)
        return re.sub(r"\s+", " ", inner).strip()

    def find_all(self, tag: str) -> list[Node]:
        """Every element named ``tag`` below, in page order."""
        out = []
        for c in self.children:
            if c.tag == tag:
                out.append(c)
            out += c.find_all(tag)
        return out

    def inside(self, tag: str) -> bool:
        """Whether an ancestor is a ``tag`` element."""
        p = self.parent
        while p is not None:
            if p.tag == tag:
                return True
            p = p.parent
        return False


VOID = {"meta", "img", "br", "hr", "link", "input"}


class Tree(HTMLParser):
    """A small DOM of the page (html.parser), enough for these checks."""

    def __init__(self, text: str):
        super().__init__()
        self.root = Node("#root", {}, None)
        self.cur = self.root
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.parts.append(data)


def _rows(table: Node) -> list[list[str]]:
    """The texts of a table's body cells, row by row."""
    return [
        [td.text for td in tr.find_all("td")] for tr in table.find_all("tr") if tr.find_all("td")
    ]


def _heads(table: Node) -> list[str]:
    """The texts of a table's last header row."""
    rows = [tr for tr in table.find_all("tr") if tr.find_all("th")]
    return [th.text for th in rows[-1].find_all("th")]


def _num(text: str) -> float:
    """Read a shown number: "1,234", "(5.00)" or "+12 (+3.0%)" (the first figure)."""
    m = re.match(r"\s*([+-]?)\(?([\d,]+(?:\.\d+)?)\)?", text)
    assert m, text
    value = float(m.group(2).replace(",", ""))
    return -value if m.group(1) == "-" or text.strip().startswith("(") else value


@pytest.fixture(scope="module")
def sample():
    """The sample history, its weekly Q1 2027 curves, the demo's spec and its plan."""
    import forecasting
    from scenarios.demo import QUARTER, sample_spec
    from scenarios.runs import optimise
    from scenarios.solver import frontier_points

    history = forecasting.generate_sample_history(seed=7)
    curves = forecasting.forecast_curves(history, QUARTER[0], QUARTER[1], period="week").curves
    spec = sample_spec(curves, 250_000.0)
    plan = optimise(curves, spec).to_dict()
    first, last = plan_days(plan)
    plan["previous"] = previous_actuals(history, first, last, plan["result_type"])
    budgets = [0.5 * spec.budget, spec.budget, 1.5 * spec.budget]
    frontier = frontier_points(curves, spec, budgets)
    return history, curves, plan, frontier


@pytest.fixture(scope="module")
def report(sample, tmp_path_factory):
    """The plan's report written to a file, its text and its parsed tree."""
    _, curves, plan, frontier = sample
    path = tmp_path_factory.mktemp("report") / "plan.html"
    path.write_text(plan_html_text(plan, curves=curves, frontier=frontier), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    return path, text, Tree(text).root


def test_the_report_opens_with_totals_and_their_p10_p90(sample, report):
    _, _, plan, _ = sample
    _, text, root = report
    body = next(n for n in root.find_all("body"))
    first = next(c for c in body.children if c.tag not in ("h1",))
    assert first.tag == "section" and first.attrs.get("id") == "totals"
    words = first.text
    r = plan["ranges"]
    assert f"{plan['total_spend']:,.0f} EUR" in words  # 250,000 EUR
    assert f"{plan['expected_results']:,.0f}" in words
    assert f"P10-P90 {range_text(r['total']['p10'], r['total']['p90'])}" in words
    cpr = r["cost_per_result"]
    assert f"P10-P90 {range_text(cpr['p10'], cpr['p90'], 2)}" in words
    assert f"{plan['cost_per_result']:,.2f} EUR" in words
    # before anything else: the totals section comes before every chart and table of lines
    assert text.index('id="totals"') < text.index("<img") < text.index("<h3>Lines</h3>")


def _group_tables(root: Node) -> dict[str, Node]:
    section = next(s for s in root.find_all("section") if s.attrs.get("id") == "groups")
    return {_heads(t)[0]: t for t in section.find_all("table")}


def _independent_previous(history, plan) -> tuple[dt.date, dt.date, dict]:
    """The previous period's sums, computed here from the history (not by scenarios.previous)."""
    weeks = sorted({ln["period"] for ln in plan["lines"]})
    first = dt.datetime.strptime(weeks[0] + "-1", "%G-W%V-%u").date()  # its Monday
    last = dt.datetime.strptime(weeks[-1] + "-7", "%G-W%V-%u").date()  # its Sunday
    days = (last - first).days + 1
    start, end = first - dt.timedelta(days=days), first - dt.timedelta(days=1)
    h = history[(history["date"] >= str(start)) & (history["date"] <= str(end))]
    h = h[h["result_type"] == plan["result_type"]]
    sums = {
        "network": h.groupby("network")[["spend", "results"]].sum(),
        "segment": h.groupby("segment")[["spend", "results"]].sum(),
    }
    return start, end, sums


def test_the_group_tables_add_up_and_match_the_history(sample, report):
    history, _, plan, _ = sample
    _, _, root = report
    start, end, sums = _independent_previous(history, plan)
    assert (start, end) == (dt.date(2026, 10, 5), dt.date(2027, 1, 3))  # the 13 weeks before
    assert plan["previous"]["from"] == "2026-10-05" and plan["previous"]["to"] == "2027-01-03"
    tables = _group_tables(root)
    assert set(tables) == {"network", "segment"}
    for field, t in tables.items():
        heads, rows = _heads(t), _rows(t)
        body, total = rows[:-1], rows[-1]
        assert total[0] == "total"
        col = {h: i for i, h in reversed(list(enumerate(heads)))}  # first of each name
        spend_cols = [i for i, h in enumerate(heads) if h == "spend (EUR)"]
        res_cols = [i for i, h in enumerate(heads) if h == "purchases"]
        assert len(spend_cols) == 2 and len(res_cols) == 2  # planned, previous
        for j in (*spend_cols, *res_cols):  # every shown column adds up to its shown total
            assert sum(_num(r[j]) for r in body) == _num(total[j]), heads[j]
        # the plan's shown total is the plan's total rounded
        assert _num(total[spend_cols[0]]) == round(plan["total_spend"])
        assert _num(total[res_cols[0]]) == round(plan["expected_results"])
        # the previous period: the history's own sums, rounded by largest remainder
        exact = sums[field]
        names = [r[0] for r in body]
        assert set(names) == set(exact.index)
        for k, j in (("spend", spend_cols[1]), ("results", res_cols[1])):
            want = round_to_total([float(exact.loc[n, k]) for n in names], 0)
            assert [_num(r[j]) for r in body] == want, (field, k)
            assert _num(total[j]) == round(float(exact[k].sum()))
        # the change is planned less previous, as shown
        for r in rows:
            assert _num(r[col["spend change"]]) == _num(r[spend_cols[0]]) - _num(r[spend_cols[1]])


def test_charts_are_embedded_with_alt_text_naming_their_axes(report):
    _, _, root = report
    imgs = root.find_all("img")
    alts = [i.attrs.get("alt", "") for i in imgs]
    assert len(imgs) == 3, alts  # spend, response curves, frontier
    for i in imgs:
        src = i.attrs["src"]
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        alt = i.attrs["alt"]
        assert "x axis" in alt and "y axis" in alt, alt
    curves = next(a for a in alts if a.startswith("Response curves"))
    assert "spend (EUR)" in curves and "purchases" in curves and "cap" in curves
    assert "planned point" in curves
    frontier = next(a for a in alts if a.startswith("Budget frontier"))
    assert "budget (EUR) from 0" in frontier and "from 0" in frontier.split("y axis")[1]


def test_only_rules_that_bind_or_cost_are_shown_the_rest_folded(sample, report):
    _, _, plan, _ = sample
    _, _, root = report
    cons = plan["constraints"]
    costly = {c["name"] for c in cons if costs_something(c)}
    free = {c["name"] for c in cons if not costs_something(c)}
    assert costly and free  # the sample plan has both (the pacing rules mostly do not bind)
    rules = [
        t for t in root.find_all("table") if _heads(t)[:3] == ["rule", "description", "binding"]
    ]
    open_names = {r[0] for t in rules if not t.inside("details") for r in _rows(t)}
    folded = {r[0] for t in rules if t.inside("details") for r in _rows(t)}
    assert open_names == costly and folded == free
    summary = next(s.text for s in root.find_all("summary") if "do not bind" in s.text)
    assert summary.startswith(f"{len(free)} rules")


def test_the_report_is_self_contained(report):
    _, text, root = report
    for node in root.find_all("img") + root.find_all("a") + root.find_all("link"):
        for attr in ("src", "href"):
            v = node.attrs.get(attr) or ""
            assert not re.match(r"\s*(https?:)?//", v), v
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text)
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is not installed (apt-get install chromium); the report test needs it"
    return exe


def test_chromium_screenshot_is_a_full_non_blank_page(report, tmp_path):
    path, _, _ = report
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1280,1800",
            path.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1280, 1800)
    img = mpimg.imread(shot)
    gray = img[..., :3].mean(axis=2)
    assert gray.std() > 0.05  # not one flat colour
    assert 0.005 < (gray < 0.5).mean() < 0.6  # text and charts, not a black page
    assert (np.ptp(img[..., :3], axis=2) > 0.3).mean() > 0.005  # the charts' colours
    assert len(np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50


def test_frontier_axes_start_at_zero_with_money_ticks():
    points = [
        {"budget": b, "expected_results": r, "marginal_cost_per_result": m}
        for b, r, m in (
            (1_000_000, 40_000, 30.0),
            (1_200_000, 45_000, 41.0),
            (1_400_000, 48_500, 55.0),
        )
    ]
    fig = frontier_figure(points, "EUR", 1_200_000)
    ax = fig.axes[0]
    assert ax.get_xlim()[0] == 0 and ax.get_ylim()[0] == 0
    assert fig.axes[1].get_ylim()[0] == 0  # the marginal cost axis too
    assert ax.get_xlabel() == "budget (EUR)" and ax.get_ylabel() == "expected results"
    ticks = tick_texts(fig)
    assert ticks["offsets"] == ["", "", "", ""]  # no "1e6" above an axis
    for key in ("x0", "y0", "y1"):
        labels = [t for t in ticks[key] if t]
        assert labels and not any(re.search(r"\d[eE][+-]?\d", t) for t in labels), labels
    xs = [t for t in ticks["x0"] if t and t != "0"]
    assert all(t.endswith(" EUR") for t in xs) and "1.2M EUR" in xs, xs
    assert "40,000" in ticks["y0"]


def test_a_network_curve_ends_at_its_cap_and_holds_the_plan_below_it(sample):
    _, curves, plan, _ = sample
    for net in curves.networks:
        lines = [ln for ln in curves.lines if ln.network == net]
        xs, ys = group_curve(lines)
        assert xs[-1] == pytest.approx(sum(ln.max_spend for ln in lines))
        slopes = np.diff(ys) / np.maximum(np.diff(xs), 1e-12)
        assert np.all(np.diff(slopes) <= 1e-9)  # concave: cheapest results first
        spend = sum(ln["spend"] for ln in plan["lines"] if ln["network"] == net)
        results = sum(ln["expected_results"] for ln in plan["lines"] if ln["network"] == net)
        assert results <= np.interp(spend, xs, ys) + 1e-6 * max(1.0, results)


def test_without_history_the_report_says_so(sample):
    _, _, plan, _ = sample
    bare = {k: v for k, v in plan.items() if k != "previous"}
    root = Tree(plan_html_text(bare)).root
    words = next(s for s in root.find_all("section") if s.attrs.get("id") == "totals").text
    assert "No history was given" in words
    tables = _group_tables(root)
    assert "spend change" not in _heads(tables["network"])


def test_previous_window_and_filters(sample):
    history, _, _, _ = sample
    assert previous_window("2027-03-01", "2027-03-31") == (
        dt.date(2027, 1, 29),
        dt.date(2027, 2, 28),
    )
    prev = previous_actuals(history, "2027-01-04", "2027-04-04", "purchases")
    assert prev["rows"] == 13 * 6 * 8 and prev["first_row"] == "2026-10-05"
    assert prev["total"]["spend"] == pytest.approx(
        sum(v["spend"] for v in prev["networks"].values())
    )
    none = previous_actuals(history, "2027-01-04", "2027-04-04", "leads")
    assert none["rows"] == 0 and none["total"] == {"spend": 0.0, "results": 0.0}
    early = previous_actuals(history, "2025-01-06", "2025-01-12", "purchases")
    assert early["rows"] == 0 and early["to"] == "2025-01-05"


ACTUALS = """date,network,segment,result_type,spend,results
2027-01-05,meta,f-25-34,purchases,3000,120
2027-01-19,meta,f-25-34,purchases,500,20
2027-01-12,tiktok,m-25-34,purchases,2500,90
2027-02-03,google,retargeting,purchases,1500,40
2027-01-08,snapchat,f-25-34,purchases,700,15
"""


def test_a_replan_report_shows_plan_against_actual(tmp_path):
    acts = tmp_path / "actuals.csv"
    acts.write_text(ACTUALS)
    out = tmp_path / "r.html"
    r = subprocess.run(
        [
            str(ADPLAN),
            "replan",
            "--spec",
            str(EXAMPLES / "plan.yaml"),
            "--curves",
            str(EXAMPLES / "curves.json"),
            "--actuals",
            str(acts),
            "--as-of",
            "2027-02-15",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    root = Tree(out.read_text(encoding="utf-8")).root
    sec = next(s for s in root.find_all("section") if s.attrs.get("id") == "replan")
    assert sec.find_all("h2")[0].text == "Plan against actual, as of 2027-02-15"
    budget, periods, lines = sec.find_all("table")
    items = {row[0]: _num(row[1]) for row in _rows(budget)}
    # snapchat has no curve: its 700 are off-plan, on their own line
    assert list(items)[0] == "budget as set" and items["off-plan spend"] == 700.0
    assert round(sum(list(items.values())[1:]), 2) == items["budget as set"]
    assert lines.inside("details")  # the lines are folded, the periods are not
    heads, rows = _heads(periods), _rows(periods)
    body, total = rows[:-1], rows[-1]
    for h in ("planned spend", "actual spend", "re-planned spend", "actual results"):
        j = heads.index(h)
        assert round(sum(_num(x[j]) for x in body if x[j]), 2) == _num(total[j]), h
    status, actual = heads.index("status"), heads.index("actual spend")
    assert {x[status] for x in body} >= {"elapsed", "open"}
    assert all(x[actual] == "" for x in body if x[status] == "open")
    assert _num(total[actual]) == 3000 + 500 + 2500 + 1500 + 700  # every actual, off-plan too


def test_the_scenario_report_folds_rules_and_labels_charts(example_run):
    run, out, _ = example_run
    root = Tree((out / "report.html").read_text(encoding="utf-8")).root
    body = root.find_all("body")[0]
    first = next(c for c in body.children if c.tag == "section")
    assert first.attrs.get("id") == "totals" and "total spend" in first.text
    sections = [s for s in root.find_all("section") if s.attrs.get("class") == "variant"]
    assert len(sections) == len(run.variants)
    for v, sec in zip(run.variants, sections, strict=True):
        if v.plan is None:
            continue
        cons = v.plan.to_dict()["constraints"]
        costly = {c["name"] for c in cons if costs_something(c)}
        shown = {
            r[0]
            for t in sec.find_all("table")
            if _heads(t)[:3] == ["rule", "description", "binding"] and not t.inside("details")
            for r in _rows(t)
        }
        assert shown == costly, v.name
    for i in root.find_all("img"):
        assert "x axis" in i.attrs["alt"] and "y axis" in i.attrs["alt"], i.attrs["alt"]


#: a re-plan whose off-plan spend (snapchat: no curve) ends in half a unit: 174.50 EUR
HALF_ACTUALS = [
    {"date": d, "network": n, "segment": s, "result_type": "purchases", "spend": x, "results": r}
    for d, n, s, x, r in (
        ("2027-01-05", "meta", "f-25-34", 3000.0, 41.0),
        ("2027-01-12", "tiktok", "m-25-34", 2500.0, 12.0),
        ("2027-01-08", "snapchat", "f-25-34", 174.5, 3.0),
        ("2027-02-03", "google", "retargeting", 1500.0, 20.0),
    )
]


@pytest.fixture(scope="module")
def half_replan():
    """The re-plan of a 20,000 budget with 174.50 spent off the plan, as a Plan JSON."""
    from optimizer import PlanSpec, load_curves
    from scenarios.replan import replan

    curves = load_curves(EXAMPLES / "curves.json")
    spec = PlanSpec.from_dict({"budget": 20000, "networks": {"meta": {"min_share": 0.25}}})
    return replan(curves, spec, HALF_ACTUALS, dt.date(2027, 2, 15)).to_dict()


def test_a_replan_headline_says_the_off_plan_spend_in_cents(half_replan):
    root = Tree(plan_html_text(half_replan)).root
    kpi = next(d for d in root.find_all("div") if d.attrs.get("class") == "kpi")
    assert kpi.text == (
        "total spend 19,825.50 EUR plus 174.50 EUR off-plan, of a 20,000.00 EUR budget as set"
    )


def test_the_replan_tables_show_each_figure_as_the_workbook_does(half_replan, tmp_path):
    from openpyxl import load_workbook

    from scenarios.exports import write_plan

    root = Tree(plan_html_text(half_replan)).root
    sec = next(s for s in root.find_all("section") if s.attrs.get("id") == "replan")
    _, periods, _ = sec.find_all("table")
    heads, rows = _heads(periods), _rows(periods)
    ws = load_workbook(write_plan(half_replan, tmp_path / "r.xlsx"))["Plan vs actual"]
    cells = ws[ws.tables["ReplanPeriods"].ref]
    xl_heads = [c.value for c in cells[0]]
    shown = {"#,##0.00": 2, "#,##0.0": 1}  # the decimals of the workbook's formats
    for row, xl in zip(rows[:-1], cells[1:], strict=True):  # the HTML's last row: its total
        for h in ("planned spend", "actual spend", "planned results", "actual results"):
            c, text = xl[xl_heads.index(h)], row[heads.index(h)]
            if c.value is None:  # an open period's actuals
                assert text == "", (h, row)
                continue
            digits = shown[c.number_format.split(";")[0].split(" ")[0]]
            assert digits == (2 if "spend" in h else 1), h
            assert text == f"{c.value:,.{digits}f}", (h, row)


def test_html_rounds_halves_away_from_zero_as_every_export():
    from scenarios.exports.html import chance_text, change_text, fmt, money

    assert (fmt(0.125), fmt(174.5, 0), fmt(-2.5, 0)) == ("0.13", "175", "-3")
    assert money(174.5, "EUR") == "175 EUR"  # as round_half: Python's round says 174
    assert change_text(1174.5, 1000) == "+175 (+17.5%)"
    assert chance_text(0.0625) == "6.3%"
