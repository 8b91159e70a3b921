"""``adplan export platforms`` and ``adplan optimize --platforms``, run as the real executable.

A small plan on weekly curves: tiktok/a/2027-W01 can absorb at most 100 EUR, below TikTok's
minimum of 20 EUR a day x 7 days (scenarios/platform_rules.yaml), so a plan made without the
platform rules is refused by the export; with ``--platforms`` the line is switched off.
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from scenarios.platforms import DEFAULT_RULES, LAYOUTS

ADPLAN = str(Path(sys.executable).with_name("adplan"))

CURVES = {
    "currency": "EUR",
    "result_type": "purchases",
    "lines": [
        {"network": "tiktok", "segment": "a", "period": "2027-W01", "points": [[0, 0], [100, 150]]},
        {"network": "tiktok", "segment": "a", "period": "2027-W02", "points": [[0, 0], [300, 360]]},
        {"network": "meta", "segment": "a", "period": "2027-W01",
         "points": [[0, 0], [500, 400], [1000, 600]]},
        {"network": "meta", "segment": "b", "period": "2027-W02",
         "points": [[0, 0], [500, 400], [1000, 600]]},
        {"network": "snapchat", "segment": "a", "period": "2027-W02",
         "points": [[0, 0], [200, 150]]},
    ],
}  # fmt: skip


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``adplan`` with ``args`` in ``cwd``; return the finished process."""
    return subprocess.run(
        [ADPLAN, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def half_up_cents(x: float) -> int:
    """Return ``x`` in cents, halves away from zero (as scenarios.money rounds)."""
    return int(math.floor(abs(x) * 100 + 0.5))


@pytest.fixture
def case(tmp_path: Path) -> Path:
    (tmp_path / "curves.json").write_text(json.dumps(CURVES))
    (tmp_path / "spec.yaml").write_text("budget: 1700\n")
    return tmp_path


def optimize(case: Path, out: str, *extra: str) -> dict:
    r = run("optimize", "--curves", "curves.json", "--spec", "spec.yaml", "--out", out, *extra,
            cwd=case)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads((case / out).read_text())


def spend_of(plan: dict) -> dict:
    return {(ln["network"], ln["segment"], ln["period"]): ln["spend"] for ln in plan["lines"]}


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return list(rows[0]) if rows else [], rows


def test_plan_without_the_rules_is_refused_with_the_lines_named(case):
    plan = optimize(case, "plain.json")
    assert spend_of(plan)[("tiktok", "a", "2027-W01")] == pytest.approx(100.0)
    r = run("export", "platforms", "plain.json", "--out", "out", cwd=case)
    assert r.returncode == 2
    msg = " ".join(r.stderr.split())
    assert "tiktok/a/2027-W01 gets 100.00 EUR, below 140.00" in msg
    assert "TikTok Ads Manager's minimum of 20.00 EUR a day x 7 days" in msg
    assert "adplan optimize ... --platforms bundled" in msg
    assert not (case / "out").exists()  # nothing half written
    # what the message says to do: the bundled rules switch the line off, the export works
    fixed = optimize(case, "fixed.json", "--platforms", "bundled")
    assert spend_of(fixed).get(("tiktok", "a", "2027-W01"), 0.0) == 0.0
    assert run("export", "platforms", "fixed.json", "--out", "out", cwd=case).returncode == 0


def test_platforms_on_optimize_switches_the_line_off_and_the_export_writes_all(case):
    plain = optimize(case, "plain.json")
    ruled = optimize(case, "ruled.json", "--platforms", str(DEFAULT_RULES))
    s = spend_of(ruled)
    assert s[("tiktok", "a", "2027-W01")] == 0.0
    assert s[("tiktok", "a", "2027-W02")] == pytest.approx(300.0)
    # the 100 EUR move to meta's next tier (slope 0.4 instead of 1.5): 110 results fewer
    assert ruled["expected_results"] == pytest.approx(plain["expected_results"] - 110.0)
    line = next(ln for ln in ruled["lines"] if ln["spend"] == 0.0 and ln["network"] == "tiktok")
    assert line["limited_by"]["cause"] == "on_off"
    assert "TikTok's minimum of 20 EUR a day x 7 days" in line["limited_by"]["words"]
    r = run("export", "platforms", "ruled.json", "--out", "out", cwd=case)
    assert r.returncode == 0, r.stderr
    assert "Daily budgets for the platforms" in r.stdout
    assert sorted(p.name for p in (case / "out").iterdir()) == [
        "meta.csv", "snapchat.csv", "tiktok.csv",
    ]  # fmt: skip
    _check_daily_files(case / "out", ruled)


def _check_daily_files(folder: Path, plan: dict) -> None:
    """Each file has its layout's columns; its day rows add up to the network's spend."""
    by_net: dict[str, float] = defaultdict(float)
    for ln in plan["lines"]:
        by_net[ln["network"]] += ln["spend"]
    budget_col = {"meta": "Ad Set Daily Budget", "tiktok": "Budget", "snapchat": "Daily Budget"}
    total = 0
    for net, col in budget_col.items():
        columns, rows = read_csv(folder / f"{net}.csv")
        assert tuple(columns) == tuple(h for h, _ in LAYOUTS[net].daily)
        cents = sum(int(r[col].replace(".", "")) for r in rows)
        assert cents == half_up_cents(by_net[net]), net
        total += cents
        funded = [k for k, v in spend_of(plan).items() if k[0] == net and v > 0]
        assert len(rows) == 7 * len(funded)  # one row per line and day of its week
    assert total == half_up_cents(plan["total_spend"])
    _, rows = read_csv(folder / "tiktok.csv")
    assert {r["Budget Mode"] for r in rows} == {"BUDGET_MODE_DAY"}
    assert {r["Campaign Budget Mode"] for r in rows} == {"BUDGET_MODE_INFINITE"}
    assert [r["Schedule Start Time"] for r in rows][:2] == ["2027-01-11 00:00", "2027-01-12 00:00"]
    assert all(float(r["Budget"]) >= 20 for r in rows)


def test_lifetime_budgets_one_row_per_line_and_period(case):
    optimize(case, "ruled.json", "--platforms", str(DEFAULT_RULES))
    r = run("export", "platforms", "ruled.json", "--out", "out", "--budget", "lifetime", cwd=case)
    assert r.returncode == 0, r.stderr
    columns, rows = read_csv(case / "out" / "meta.csv")
    assert "Ad Set Lifetime Budget" in columns and "Ad Set Daily Budget" not in columns
    assert [(r["Ad Set Name"], r["Ad Set Time Start"], r["Ad Set Time Stop"]) for r in rows] == [
        ("a 2027-W01", "2027-01-04 00:00", "2027-01-11 00:00"),
        ("b 2027-W02", "2027-01-11 00:00", "2027-01-18 00:00"),
    ]
    _, rows = read_csv(case / "out" / "tiktok.csv")
    assert [(r["Budget Mode"], r["Budget"]) for r in rows] == [("BUDGET_MODE_TOTAL", "300.00")]


@pytest.mark.parametrize(("per_day", "on"), [("14.28", True), ("14.29", False)])
def test_a_users_rules_file_just_below_and_above_the_line(case, per_day, on):
    """14.28 x 7 = 99.96 fits the line's 100 EUR: on; 14.29 x 7 = 100.03 does not: off."""
    (case / "mine.yaml").write_text(
        "networks:\n  tiktok:\n    layout: tiktok\n"
        f"    ad_group: {{min_daily: {{EUR: {per_day}}}}}\n"
    )
    plan = optimize(case, "p.json", "--platforms", "mine.yaml")
    spend = spend_of(plan)[("tiktok", "a", "2027-W01")]
    assert spend == (pytest.approx(100.0) if on else 0.0)
    r = run("export", "platforms", "p.json", "--out", "out", "--platforms", "mine.yaml", cwd=case)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (case / "out").iterdir()) == [
        "meta.csv", "snapchat.csv", "tiktok.csv",
    ]  # fmt: skip
    columns, _ = read_csv(case / "out" / "meta.csv")  # not in the file: the generic layout
    assert columns == [h for h, _ in LAYOUTS["generic"].daily]


def test_the_specs_own_minimum_wins(case):
    (case / "spec.yaml").write_text("budget: 1700\nmin_daily_spend: {tiktok: 10}\n")
    plan = optimize(case, "p.json", "--platforms", str(DEFAULT_RULES))
    assert spend_of(plan)[("tiktok", "a", "2027-W01")] == pytest.approx(100.0)  # 70 < 100: on


def test_bad_rules_files_exit_2_naming_file_and_key(case):
    optimize(case, "p.json")
    (case / "usd.yaml").write_text("networks:\n  tiktok:\n    ad_group: {min_daily: {USD: 20}}\n")
    r = run("optimize", "--curves", "curves.json", "--spec", "spec.yaml", "--platforms",
            "usd.yaml", cwd=case)  # fmt: skip
    assert r.returncode == 2
    assert "networks.tiktok.ad_group.min_daily has no minimum in EUR" in r.stderr
    assert "add EUR: <amount>" in " ".join(r.stderr.split())
    (case / "bad.yaml").write_text("networks:\n  tiktok:\n    ad_group: {min_daily: {EUR: -1}}\n")
    r = run("export", "platforms", "p.json", "--out", "o", "--platforms", "bad.yaml", cwd=case)
    assert r.returncode == 2
    assert "bad.yaml: networks.tiktok.ad_group.min_daily.EUR: must be an amount" in r.stderr
    r = run("export", "platforms", "p.json", "--out", "o", "--budget", "weekly", cwd=case)
    assert r.returncode == 2 and "--budget must be daily or lifetime" in r.stderr
    r = run("export", "platforms", "spec.yaml", "--out", "o", cwd=case)
    assert r.returncode == 2 and "not valid JSON" in r.stderr


def test_every_layout_and_the_library_errors(tmp_path):
    """Each layout's rows, the lifetime-only minimum and what the library refuses."""
    from scenarios.errors import ExportError, ScenarioFileError
    from scenarios.platforms import (
        file_name,
        load_platform_rules,
        platform_budgets,
        read_plan_json,
        write_budgets,
    )

    rules = load_platform_rules()
    nets = ["meta", "tiktok", "google", "linkedin", "snapchat", "pinterest", "x", "=odd"]
    plan = {
        "currency": "EUR",
        "lines": [
            {"network": n, "segment": "s", "period": "2027-02", "spend": 1000.01} for n in nets
        ]
        + [{"network": "meta", "segment": "s", "period": "2027-03", "spend": 0.0}],
    }
    for mode in ("daily", "lifetime"):
        budgets = platform_budgets(plan, rules, mode)
        assert sorted(budgets) == sorted(nets)
        for n, nb in budgets.items():
            assert nb.layout == (n if n != "=odd" else "generic")
            assert nb.total == 1000.01 and nb.lines == 1
            assert len(nb.rows) == (28 if mode == "daily" else 1) and nb.days == 28
        google = dict(zip(budgets["google"].columns, budgets["google"].rows[-1], strict=True))
        assert google["End Date"] == "2027-02-28"
        assert budgets["=odd"].rows[0][0] == "'=odd"  # neutralised
    paths = write_budgets(platform_budgets(plan, rules), tmp_path / "o")
    assert "odd.csv" in [p.name for p in paths]
    assert file_name("meta", ["meta.csv"]) == "meta-2.csv"
    (tmp_path / "life.yaml").write_text(
        "networks:\n  x:\n    layout: x\n    campaign: {min_lifetime: {EUR: 2000}}\n"
    )
    mine = load_platform_rules(tmp_path / "life.yaml")
    platform_budgets(plan, mine, "daily")  # no daily minimum
    with pytest.raises(ExportError, match=r"x/s/2027-02 gets 1,000.01 EUR.*lifetime minimum"):
        platform_budgets(plan, mine, "lifetime")
    with pytest.raises(ExportError, match="budget mode 'weekly'"):
        platform_budgets(plan, rules, "weekly")
    with pytest.raises(ExportError, match="'currency' is missing"):
        platform_budgets({"lines": []}, rules)
    with pytest.raises(ExportError, match="period 'Q1' cannot be told"):
        platform_budgets(
            {"currency": "EUR", "lines": [{**plan["lines"][0], "period": "Q1"}]}, rules
        )
    with pytest.raises(ExportError, match=r"lines\[0\] needs network"):
        platform_budgets({"currency": "EUR", "lines": [{"network": "x"}]}, rules)
    with pytest.raises(ScenarioFileError, match="cannot read the platform rules file"):
        load_platform_rules(tmp_path / "none.yaml")
    for text, key in [
        ("[1", "not valid YAML"),
        ("networks: []", "networks: must map"),
        ("networks: {a: 1}", "networks.a: must be a mapping"),
        ("networks: {a: {colour: red}}", "networks.a.colour: unknown key"),
        ("networks: {a: {layout: fax}}", "networks.a.layout: 'fax' is not a layout"),
        ("networks: {a: {also: meta}}", "networks.a.also: must be a list"),
        ("networks: {a: {ad_group: 5}}", "networks.a.ad_group: must be a mapping"),
        ("networks: {a: {ad_group: {min: 5}}}", "networks.a.ad_group.min: unknown key"),
        ("networks: {a: {ad_group: {min_daily: 5}}}", "min_daily: must map currencies"),
        ("networks: {a: {ad_group: {min_daily: {eur: 5}}}}", "min_daily.eur: a currency is"),
    ]:
        (tmp_path / "r.yaml").write_text(text)
        with pytest.raises(ScenarioFileError, match=key):
            load_platform_rules(tmp_path / "r.yaml")
    (tmp_path / "p.json").write_text("[1]")
    with pytest.raises(ScenarioFileError, match="not a plan"):
        read_plan_json(tmp_path / "p.json")


def test_the_networks_add_up_to_the_plans_total_to_the_cent():
    """Three networks of 100/3 each: rounded one by one they would show 99.99 of 100.00."""
    from scenarios.platforms import load_platform_rules, platform_budgets

    third = 100 / 3
    plan = {
        "currency": "EUR",
        "lines": [
            {"network": n, "segment": "s", "period": "2027-W01", "spend": third}
            for n in ("google", "linkedin", "x")  # no minimum in the bundled rules
        ],
    }
    budgets = platform_budgets(plan, load_platform_rules(), "daily")
    assert round(sum(nb.total for nb in budgets.values()), 2) == 100.0
    assert sorted(nb.total for nb in budgets.values()) == [33.33, 33.33, 33.34]
    for nb in budgets.values():  # each network's days add up to its total
        cents = [int(c.replace(".", "")) for row in nb.rows for c in row if _is_money(c)]
        assert sum(cents) == round(nb.total * 100)


def _is_money(cell) -> bool:
    return isinstance(cell, str) and re.fullmatch(r"\d+\.\d\d", cell) is not None


def _replan(rows: list[tuple], as_of: str = "2027-01-18") -> dict:
    """A re-plan's JSON: lines at their re-planned spend, rows (key, status, actual, replanned)."""
    lines = [
        {"network": n, "segment": s, "period": p, "spend": re_}
        for (n, s, p), _st, _act, re_ in rows
    ]
    return {
        "currency": "EUR",
        "lines": lines,
        "replan": {
            "as_of": as_of,
            "rows": [
                {"network": n, "segment": s, "period": p, "status": st, "planned": re_,
                 "actual": act, "replanned": re_}
                for (n, s, p), st, act, re_ in rows
            ],
            "off_plan": [],
        },
    }  # fmt: skip


def test_a_replan_gets_budgets_from_its_as_of_on_only():
    """Elapsed periods get none; the running one what is left over the days left (14)."""
    from scenarios.platforms import load_platform_rules, platform_budgets

    plan = _replan(
        [
            (("tiktok", "a", "2026-12"), "elapsed", 300.0, 300.0),
            (("tiktok", "a", "2027-01"), "current", 600.0, 880.0),  # 280 left: 20 a day
            (("meta", "a", "2027-01"), "current", 500.0, 600.0),
            (("meta", "a", "2027-02"), "open", None, 560.0),
        ]
    )
    budgets = platform_budgets(plan, load_platform_rules(), "daily")
    tiktok = [dict(zip(budgets["tiktok"].columns, r, strict=True)) for r in budgets["tiktok"].rows]
    assert [r["Schedule Start Time"][:10] for r in tiktok] == [
        f"2027-01-{d:02d}" for d in range(18, 32)
    ]
    assert {r["Budget"] for r in tiktok} == {"20.00"} and budgets["tiktok"].total == 280.0
    assert budgets["meta"].total == 100.0 + 560.0 and budgets["meta"].days == 14 + 28
    life = platform_budgets(plan, load_platform_rules(), "lifetime")
    row = dict(zip(life["tiktok"].columns, life["tiktok"].rows[0], strict=True))
    assert (row["Budget"], row["Schedule Start Time"]) == ("280.00", "2027-01-18 00:00")
    assert len(life["tiktok"].rows) == 1


def test_a_replan_below_the_minimum_over_the_days_left_is_refused():
    """20 EUR more over the 14 days left is 1.43 a day: below TikTok's 20 (280 needed)."""
    from scenarios.errors import ExportError
    from scenarios.platforms import load_platform_rules, platform_budgets

    plan = _replan([(("tiktok", "a", "2027-01"), "current", 600.0, 620.0)])
    with pytest.raises(ExportError) as e:
        platform_budgets(plan, load_platform_rules(), "daily")
    msg = str(e.value)
    assert "tiktok/a/2027-01 from 2027-01-18 gets 20.00 EUR, below 280.00" in msg
    assert "20.00 EUR a day x 14 days" in msg
    assert "`adplan optimize ... --platforms bundled`" in msg
    assert "`adplan replan ... --platforms bundled`" in msg


@pytest.mark.parametrize(
    ("spend", "words"),
    [
        (float("nan"), "spend is nan, not an amount of 0 or more"),
        (-5.0, "spend is -5.0, not an amount"),
        (float("inf"), "spend is inf, not an amount"),
        ("ten", "spend is 'ten', not an amount"),
    ],
)
def test_a_bad_spend_is_refused_naming_the_line(spend, words):
    from scenarios.errors import ExportError
    from scenarios.platforms import load_platform_rules, platform_budgets

    plan = {
        "currency": "EUR",
        "lines": [
            {"network": "google", "segment": "s", "period": "2027-W01", "spend": 70.0},
            {"network": "google", "segment": "t", "period": "2027-W01", "spend": spend},
        ],
    }
    with pytest.raises(ExportError, match=re.escape(f"line google/t/2027-W01: {words}")):
        platform_budgets(plan, load_platform_rules(), "daily")


def test_bad_spend_and_overlapping_lines_exit_2_from_the_real_adplan(tmp_path):
    """Infinity used to crash (exit 3); a line twice was written twice."""
    line = {"network": "google", "segment": "s", "period": "2027-W01", "spend": 70.0}
    (tmp_path / "inf.json").write_text(
        '{"currency": "EUR", "lines": [{"network": "google", "segment": "s", '
        '"period": "2027-W01", "spend": Infinity}]}'
    )
    r = run("export", "platforms", "inf.json", "--out", "o", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "google/s/2027-W01: spend is inf" in " ".join(r.stderr.split())
    for other, words in [
        ("2027-W01", "line google/s/2027-W01 is there twice"),
        ("2027-01", "lines google/s/2027-01 and google/s/2027-W01 share days"),
    ]:
        plan = {"currency": "EUR", "lines": [line, {**line, "period": other}]}
        (tmp_path / "dup.json").write_text(json.dumps(plan))
        r = run("export", "platforms", "dup.json", "--out", "o", cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert words in " ".join(r.stderr.split())
        assert not (tmp_path / "o").exists()


def test_no_day_is_rounded_below_its_minimum():
    """139.996 + 50.007: by largest remainder alone TikTok got 139.99, one day at 19.99."""
    from scenarios.platforms import load_platform_rules, platform_budgets

    plan = {
        "currency": "EUR",
        "lines": [
            {"network": "tiktok", "segment": "a", "period": "2027-W01", "spend": 139.996},
            {"network": "google", "segment": "a", "period": "2027-W01", "spend": 50.007},
        ],
    }
    budgets = platform_budgets(plan, load_platform_rules(), "daily")
    days = [int(r[4].replace(".", "")) for r in budgets["tiktok"].rows]
    assert min(days) == 2000 and sum(days) == 14000
    assert budgets["google"].total == 50.0  # the cent comes from the line rounded up
    assert round(sum(nb.total for nb in budgets.values()), 2) == 190.0  # the plan's 190.003


#: months of January (31 days) and February; the re-plan runs on 2027-01-18 (14 days left)
MONTHS = {
    "currency": "EUR",
    "result_type": "purchases",
    "lines": [
        {"network": "tiktok", "segment": "a", "period": "2027-01", "points": [[0, 0], [2000, 1000]]},
        {"network": "tiktok", "segment": "a", "period": "2027-02", "points": [[0, 0], [2000, 800]]},
        {"network": "meta", "segment": "a", "period": "2027-01",
         "points": [[0, 0], [600, 900], [3000, 1500]]},
        {"network": "meta", "segment": "a", "period": "2027-02",
         "points": [[0, 0], [600, 900], [3000, 1500]]},
    ],
}  # fmt: skip


@pytest.fixture
def months(tmp_path: Path) -> Path:
    """Curves, a budget of 1,900 and actuals to 2027-01-17: tiktok 600, meta 500 in January."""
    (tmp_path / "curves.json").write_text(json.dumps(MONTHS))
    (tmp_path / "spec.yaml").write_text("budget: 1900\n")
    rows = ["date,network,segment,result_type,spend,results"]
    for day in range(1, 18):
        rows.append(f"2027-01-{day:02d},tiktok,a,purchases,{600 / 17!r},1")
        rows.append(f"2027-01-{day:02d},meta,a,purchases,{500 / 17!r},1")
    (tmp_path / "actuals.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def replan_cli(folder: Path, out: str, *extra: str) -> subprocess.CompletedProcess:
    return run("replan", "--spec", "spec.yaml", "--actuals", "actuals.csv", "--curves",
               "curves.json", "--as-of", "2027-01-18", "--out", out, *extra, cwd=folder)  # fmt: skip


def test_replan_takes_platforms_as_optimize_does(months):
    r = replan_cli(months, "rp.json", "--platforms", "bundled")
    assert r.returncode == 0, r.stderr
    assert "minimum daily spend per line switched on: meta 1.00 EUR, tiktok 20.00 EUR" in (
        " ".join(r.stderr.split())
    )
    mine = months / "mine.yaml"
    mine.write_text("networks:\n  meta:\n    layout: meta\n    ad_group: {min_daily: {EUR: 7}}\n")
    r = replan_cli(months, "rp2.json", "--platforms", str(mine))
    assert r.returncode == 0, r.stderr
    assert "minimum daily spend per line switched on: meta 7.00 EUR" in " ".join(r.stderr.split())
    r = replan_cli(months, "rp3.json", "--platforms", "none.yaml")
    assert r.returncode == 2 and "cannot read the platform rules file" in r.stderr


def test_a_replan_with_platforms_exports_from_its_as_of(months):
    """Without the rule the re-plan gave tiktok January 100 more: 7.14 a day for 14 days."""
    r = replan_cli(months, "plain.json")
    assert r.returncode == 0, r.stderr
    r = run("export", "platforms", "plain.json", "--out", "o", cwd=months)
    assert r.returncode == 2
    assert "tiktok/a/2027-01 from 2027-01-18 gets 100.00 EUR, below 280.00" in r.stderr
    assert "adplan replan ... --platforms bundled" in " ".join(r.stderr.split())
    r = replan_cli(months, "rp.json", "--platforms", "bundled")
    assert r.returncode == 0, r.stderr
    plan = json.loads((months / "rp.json").read_text())
    assert spend_of(plan)[("tiktok", "a", "2027-01")] == pytest.approx(600.0)  # stops
    r = run("export", "platforms", "rp.json", "--out", "o", cwd=months)
    assert r.returncode == 0, r.stderr
    _, rows = read_csv(months / "o" / "meta.csv")
    assert rows[0]["Ad Set Time Start"] == "2027-01-18 00:00"  # nothing before as_of
    cents = sum(int(r["Ad Set Daily Budget"].replace(".", "")) for r in rows)
    left = sum(ln["spend"] for ln in plan["lines"] if ln["network"] == "meta") - 500.0
    assert cents == half_up_cents(left)


def test_a_flat_lifetime_minimum_is_kept_by_optimize_and_the_export_agrees(case):
    """min_lifetime 250 on Snapchat ad sets: 250/7 a day on weeks, so its line (max 200) is off.

    Before, --platforms ignored min_lifetime: the plan gave it 200 and `--budget lifetime`
    refused the plan made with the same rules file.
    """
    (case / "life.yaml").write_text(
        "networks:\n  snapchat:\n    layout: snapchat\n    ad_group: {min_lifetime: {EUR: 250}}\n"
    )
    r = run("optimize", "--curves", "curves.json", "--spec", "spec.yaml", "--out", "p.json",
            "--platforms", "life.yaml", cwd=case)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "snapchat 35.71 EUR" in r.stderr  # 250 / 7
    plan = json.loads((case / "p.json").read_text())
    assert spend_of(plan)[("snapchat", "a", "2027-W02")] == 0.0
    for mode in ("daily", "lifetime"):
        r = run("export", "platforms", "p.json", "--out", f"o-{mode}", "--budget", mode,
                "--platforms", "life.yaml", cwd=case)  # fmt: skip
        assert r.returncode == 0, r.stderr


def test_a_replan_after_a_networks_last_period_keeps_the_others_minimums(tmp_path):
    """Meta has lines in January only; re-planned on 2027-02-10 its minimum has nothing left.

    Before, the open part's spec kept min_daily_spend.meta and was refused ("no curve has
    network 'meta'", exit 2): --platforms could not re-plan once a network's lines elapsed.
    """
    curves = {**MONTHS, "lines": [ln for ln in MONTHS["lines"] if ln["period"] == "2027-01"]}
    curves["lines"].append(MONTHS["lines"][1])  # tiktok February
    (tmp_path / "curves.json").write_text(json.dumps(curves))
    (tmp_path / "spec.yaml").write_text("budget: 1900\n")
    (tmp_path / "actuals.csv").write_text(
        "date,network,segment,result_type,spend,results\n"
        "2027-01-05,tiktok,a,purchases,600,1\n2027-01-05,meta,a,purchases,500,1\n"
    )
    r = run("replan", "--spec", "spec.yaml", "--actuals", "actuals.csv", "--curves",
            "curves.json", "--as-of", "2027-02-10", "--out", "rp.json", "--platforms",
            "bundled", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    plan = json.loads((tmp_path / "rp.json").read_text())
    assert spend_of(plan)[("tiktok", "a", "2027-02")] == pytest.approx(800.0)  # what is left
    r = run("export", "platforms", "rp.json", "--out", "o", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    _, rows = read_csv(tmp_path / "o" / "tiktok.csv")
    assert len(rows) == 19  # 2027-02-10 to 2027-02-28, 800 / 19 = 42.11 a day >= 20


#: TikTok ad groups with a flat lifetime minimum of 250 (bundled's figures): 250 / 7 a day on
#: weeks; re-planned on 2027-01-09 (2 of W01's 7 days left) after 100 spent on each network
LIFETIME_RULES = (
    "networks:\n  tiktok:\n    layout: tiktok\n    ad_group:\n"
    "      min_daily: {EUR: 20}\n      min_lifetime_per_day: {EUR: 20}\n"
    "      min_lifetime: {EUR: 250}\n  meta:\n    layout: meta\n    ad_group:\n"
    "      min_daily: {EUR: 1}\n      min_lifetime_per_day: {EUR: 1}\n"
)
WEEKS = {
    "currency": "EUR",
    "result_type": "purchases",
    "lines": [
        {"network": n, "segment": "a", "period": p, "points": pts}
        for n, pts in (("tiktok", [[0, 0], [300, 900], [1200, 1300]]),
                       ("meta", [[0, 0], [500, 600], [900, 700]]))
        for p in ("2027-W01", "2027-W02")
    ],
}  # fmt: skip


@pytest.mark.parametrize("budget", [900, 700, 520])
def test_a_replan_with_a_flat_lifetime_minimum_is_exported_lifetime_too(tmp_path, budget):
    """The re-plan asks 100 + 250/7 x 2 days left of tiktok W01; the lifetime export asked 250.

    Before, `--budget lifetime` with the same rules file refused the re-plan (tiktok W01 from
    2027-01-09 gets 200.00, below 250.00); now it checks 250 x 2 / 7 = 71.43 there.
    """
    (tmp_path / "curves.json").write_text(json.dumps(WEEKS))
    (tmp_path / "spec.yaml").write_text(f"budget: {budget}\n")
    (tmp_path / "rules.yaml").write_text(LIFETIME_RULES)
    (tmp_path / "actuals.csv").write_text(
        "date,network,segment,result_type,spend,results\n"
        "2027-01-04,tiktok,a,purchases,100,1\n2027-01-04,meta,a,purchases,100,1\n"
    )
    r = run("replan", "--spec", "spec.yaml", "--actuals", "actuals.csv", "--curves",
            "curves.json", "--as-of", "2027-01-09", "--out", "rp.json", "--platforms",
            "rules.yaml", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "tiktok 35.71 EUR" in " ".join(r.stderr.split())
    plan = json.loads((tmp_path / "rp.json").read_text())
    w01 = spend_of(plan)[("tiktok", "a", "2027-W01")]
    assert w01 == pytest.approx(100.0) or w01 >= 100.0 + 250 / 7 * 2 - 1e-6
    for mode in ("daily", "lifetime"):
        r = run("export", "platforms", "rp.json", "--out", f"o-{mode}", "--budget", mode,
                "--platforms", "rules.yaml", cwd=tmp_path)  # fmt: skip
        assert r.returncode == 0, r.stderr


def test_the_running_periods_lifetime_check_is_the_flat_minimum_for_the_days_left(tmp_path):
    """71.43 = 250 x 2 / 7 passes; a cent less is refused, naming the days left."""
    from scenarios.errors import ExportError
    from scenarios.platforms import load_platform_rules, platform_budgets

    (tmp_path / "rules.yaml").write_text(LIFETIME_RULES)
    rules = load_platform_rules(tmp_path / "rules.yaml")
    ok = _replan([(("tiktok", "a", "2027-W01"), "current", 100.0, 171.43)], "2027-01-09")
    life = platform_budgets(ok, rules, "lifetime")
    assert life["tiktok"].total == 71.43
    low = _replan([(("tiktok", "a", "2027-W01"), "current", 100.0, 171.41)], "2027-01-09")
    with pytest.raises(ExportError) as e:
        platform_budgets(low, rules, "lifetime")
    msg = str(e.value)
    assert "tiktok/a/2027-W01 from 2027-01-09 gets 71.41 EUR, below 71.43" in msg
    assert "lifetime minimum of 250.00 EUR x the 2 days left of the period's 7" in msg
    whole = _replan([(("tiktok", "a", "2027-W02"), "open", None, 240.0)], "2027-01-09")
    with pytest.raises(ExportError, match="below 250.00"):  # a whole period: all of it
        platform_budgets(whole, rules, "lifetime")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"rows": {"x": 1}}, "replan.rows is dict {'x': 1}, not a list"),
        ({"rows": "abc"}, "replan.rows is str 'abc', not a list"),
        ({"rows": [7]}, "replan.rows[0] is 7, not an object"),
        ({"off_plan": 7}, "replan.off_plan is int 7, not a list"),
        ({"off_plan": [{"spend": "x"}]}, "replan.off_plan[0].spend is 'x', not a number"),
        ({"as_of": 20270110}, "replan.as_of is 20270110, not a date"),
        ({"as_of": "20270110"}, "replan.as_of is '20270110', not a date"),
    ],
)
def test_a_malformed_replan_json_exits_2_naming_the_key(tmp_path, change, words):
    """A dict for rows, a number for off_plan used to crash (exit 3); 20270110 was a day."""
    plan = _replan([(("tiktok", "a", "2027-01"), "current", 100.0, 900.0)], "2027-01-10")
    plan["replan"].update(change)
    (tmp_path / "bad.json").write_text(json.dumps(plan))
    r = run("export", "platforms", "bad.json", "--out", "o", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert words in " ".join(r.stderr.split())
    assert "export the re-plan JSON" in r.stderr
    assert not (tmp_path / "o").exists()
