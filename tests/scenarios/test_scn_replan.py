"""Re-planning mid-quarter: locked periods equal the actuals, the total stays in budget."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from optimizer import PlanSpec, load_curves
from optimizer.synthetic import synthetic_curves
from scenarios.errors import ActualsError
from scenarios.replan import period_bounds, replan

ACTUALS = [
    {
        "date": "2027-01-05",
        "network": "meta",
        "segment": "f-25-34",
        "result_type": "purchases",
        "spend": 3000.0,
    },
    {
        "date": "2027-01-19",
        "network": "meta",
        "segment": "f-25-34",
        "result_type": "purchases",
        "spend": 500.0,
    },
    {
        "date": "2027-01-12",
        "network": "tiktok",
        "segment": "m-25-34",
        "result_type": "purchases",
        "spend": 2500.0,
    },
    {
        "date": "2027-02-03",
        "network": "google",
        "segment": "retargeting",
        "result_type": "purchases",
        "spend": 1500.0,
    },
    {
        "date": "2027-01-08",
        "network": "snapchat",
        "segment": "f-25-34",
        "result_type": "purchases",
        "spend": 700.0,
    },
    {
        "date": "2027-02-20",
        "network": "meta",
        "segment": "m-25-34",
        "result_type": "purchases",
        "spend": 999.0,
    },
]


@pytest.fixture(scope="module")
def result(examples_dir):
    curves = load_curves(examples_dir / "curves.json")
    spec = yaml.safe_load((examples_dir / "plan.yaml").read_text())
    return curves, spec, replan(curves, PlanSpec.from_dict(spec), ACTUALS, dt.date(2027, 2, 15))


def test_elapsed_periods_are_locked_at_actuals(result):
    curves, spec, res = result
    spend = {(ln.network, ln.segment, ln.period): ln.spend for ln in res.plan.lines}
    jan = [k for k in spend if k[2] == "2027-01"]
    assert jan
    for k in jan:
        want = {("meta", "f-25-34"): 3500.0, ("tiktok", "m-25-34"): 2500.0}.get(k[:2], 0.0)
        assert spend[k] == pytest.approx(want, abs=1e-6), k
    # the current month: what was spent is a floor
    assert spend[("google", "retargeting", "2027-02")] >= 1500.0 - 1e-6
    rows = {(r["network"], r["segment"], r["period"]): r for r in res.rows}
    assert rows[("meta", "f-25-34", "2027-01")]["actual"] == 3500.0
    assert rows[("meta", "f-25-34", "2027-01")]["status"] == "elapsed"
    assert rows[("meta", "f-25-34", "2027-03")]["actual"] is None
    r = rows[("meta", "f-25-34", "2027-01")]
    assert r["over_under_plan"] == pytest.approx(r["replanned"] - r["planned"])


def test_total_within_budget_with_off_plan_spend(result):
    curves, spec, res = result
    # snapchat has no curve: its 700 is off-plan and taken off the budget
    assert res.off_plan_spend == pytest.approx(700.0)
    assert res.plan.total_spend + res.off_plan_spend <= spec["budget"] + 1e-6
    assert res.plan.total_spend == pytest.approx(spec["budget"] - 700.0, rel=1e-6)
    assert any("snapchat" in w for w in res.warnings)
    assert any("on or after 2027-02-15" in w for w in res.warnings)  # the 999 after as-of
    d = res.to_dict()
    assert d["replan"]["actual_spend"] == pytest.approx(3500 + 2500 + 1500 + 700)
    # locking January at less than planned cannot find more results than the free plan
    assert res.plan.expected_results <= res.original.expected_results + 1e-6


def test_period_helpers():
    assert period_bounds("2027-W01") == (dt.date(2027, 1, 4), dt.date(2027, 1, 11))
    assert period_bounds("2027-12") == (dt.date(2027, 12, 1), dt.date(2028, 1, 1))
    with pytest.raises(ActualsError, match="ISO weeks"):
        period_bounds("Q1-2027")


# ---- the re-plan spends the rest of the budget under rules rewritten for the open periods

WEEKLY_SPEC = {
    "budget": 150000,
    "pacing": {"tolerance": 0.2},
    "max_period_change": 0.3,
    "networks": {"net00": {"min_share": 0.2}, "net01": {"max_share": 0.4, "min": 5000}},
}
AS_OF = dt.date(2027, 2, 1)  # 2027-W01 .. W04 have ended


@pytest.fixture(scope="module")
def weekly():
    curves = synthetic_curves(4, 3, 13, 6, seed=3)
    from scenarios.runs import optimise

    plan = optimise(curves, PlanSpec.from_dict(WEEKLY_SPEC))
    assert plan.total_spend == pytest.approx(WEEKLY_SPEC["budget"], rel=1e-6)
    return curves, plan


def _actuals(plan, share, keep=lambda ln: True):
    rows = []
    for ln in plan.lines:
        start = dt.date.fromisoformat(f"{ln.period[:4]}-01-04")  # a day inside the week
        week = int(ln.period[-2:])
        day = start + dt.timedelta(days=7 * (week - 1))
        if day < AS_OF and ln.spend > 0 and keep(ln):
            rows.append(
                {
                    "date": day.isoformat(),
                    "network": ln.network,
                    "segment": ln.segment,
                    "result_type": "purchases",
                    "spend": ln.spend * share,
                }
            )
    return rows


def _period_spend(plan):
    out = {}
    for ln in plan.lines:
        out[ln.period] = out.get(ln.period, 0.0) + ln.spend
    return out


@pytest.mark.parametrize(
    "share, keep",
    [(0.8, lambda ln: True), (1.0, lambda ln: ln.network in ("net00", "net02"))],
    ids=["80pct-of-plan", "partial-actuals"],
)
def test_replan_spends_the_rest_of_the_budget_under_pacing(weekly, share, keep):
    curves, plan = weekly
    acts = _actuals(plan, share, keep)
    res = replan(curves, PlanSpec.from_dict(WEEKLY_SPEC), acts, AS_OF)
    spent = sum(r["spend"] for r in acts)
    assert spent < 0.95 * sum(v for p, v in _period_spend(plan).items() if p <= "2027-W04")
    assert res.plan.total_spend == pytest.approx(WEEKLY_SPEC["budget"], rel=1e-6)
    assert not any("unspent" in w for w in res.warnings)
    by_period = _period_spend(res.plan)
    assert sum(v for p, v in by_period.items() if p <= "2027-W04") == pytest.approx(spent)
    # pacing re-spread over the nine weeks left: each within +-20% of an even ninth
    rest = sum(v for p, v in by_period.items() if p > "2027-W04")
    for p, v in by_period.items():
        if p > "2027-W04":
            assert 0.8 * rest / 9 - 1e-6 <= v <= 1.2 * rest / 9 + 1e-6, p
    weeks = sorted(p for p in by_period if p > "2027-W04")
    for a, b in zip(weeks, weeks[1:], strict=False):
        assert 0.7 * by_period[a] - 1e-6 <= by_period[b] <= 1.3 * by_period[a] + 1e-6
    # share floors and caps count the spend already made
    nets = {}
    for ln in res.plan.lines:
        nets[ln.network] = nets.get(ln.network, 0.0) + ln.spend
    assert nets["net00"] >= 0.2 * WEEKLY_SPEC["budget"] - 1e-3
    assert nets["net01"] <= 0.4 * WEEKLY_SPEC["budget"] + 1e-3
    # the rules shown are those of the open part: no pacing row on an elapsed week
    names = {c.name for c in res.plan.constraints}
    assert "pacing_max__2027-W05" in names
    assert not any(n.endswith("__2027-W02") and n.startswith("pacing") for n in names)


def test_actual_spend_counts_the_excess_over_a_curve_once(examples_dir):
    curves = load_curves(examples_dir / "curves.json")
    spec = PlanSpec.from_dict(yaml.safe_load((examples_dir / "plan.yaml").read_text()))
    ln = next(x for x in curves.lines if x.period == "2027-01")
    other = next(x for x in curves.lines if x.period == "2027-01" and x.network != ln.network)
    over = ln.max_spend + 5000.0
    acts = [
        {"date": "2027-01-05", "network": ln.network, "segment": ln.segment, "spend": over},
        {"date": "2027-01-06", "network": other.network, "segment": other.segment, "spend": 0.005},
        {"date": "2027-01-07", "network": other.network, "segment": other.segment, "spend": 0.005},
    ]
    res = replan(curves, spec, acts, dt.date(2027, 2, 15))
    assert res.off_plan_spend == pytest.approx(5000.0)
    assert res.actual_spend == pytest.approx(over + 0.01, abs=1e-9)
    assert res.to_dict()["replan"]["actual_spend"] == res.actual_spend


def test_spend_repeated_per_result_type_is_counted_once(examples_dir):
    curves = load_curves(examples_dir / "curves.json")
    spec = PlanSpec.from_dict(yaml.safe_load((examples_dir / "plan.yaml").read_text()))
    acts = [
        {
            "date": "2027-01-05",
            "network": "linkedin",
            "segment": "b2b-it",
            "campaign": "c1",
            "result_type": rt,
            "spend": 1000.0,
        }
        for rt in ("leads", "signups")
    ]
    res = replan(curves, spec, acts, dt.date(2027, 2, 15))
    assert res.actual_spend == pytest.approx(1000.0)
    assert any("counted once" in w for w in res.warnings)


def test_spend_from_before_the_plan_is_ignored_not_charged(examples_dir):
    """A whole ad history given as actuals: only the plan's own periods count."""
    curves = load_curves(examples_dir / "curves.json")
    spec = PlanSpec.from_dict(yaml.safe_load((examples_dir / "plan.yaml").read_text()))
    ln = next(x for x in curves.lines if x.period == "2027-01")
    acts = [
        {"date": "2026-11-02", "network": ln.network, "segment": ln.segment, "spend": 50_000.0},
        {"date": "2027-01-05", "network": ln.network, "segment": ln.segment, "spend": 700.0},
    ]
    res = replan(curves, spec, acts, dt.date(2027, 2, 15))
    assert res.actual_spend == pytest.approx(700.0)
    assert res.off_plan_spend == 0.0
    assert any("before the plan starts" in w and "50,000.00" in w for w in res.warnings)


@pytest.mark.parametrize("objective", ["value", "profit"])
def test_a_value_or_profit_spec_re_plans(examples_dir, objective):
    """Mutation: the whole re-plan's spec dropping value_per_result (it refused the spec)."""
    curves = load_curves(examples_dir / "curves.json")
    raw = yaml.safe_load((examples_dir / "plan.yaml").read_text())
    spec = PlanSpec.from_dict({**raw, "objective": objective, "value_per_result": 60})
    res = replan(curves, spec, ACTUALS, dt.date(2027, 2, 15))
    assert res.plan.objective == objective and res.plan.expected_value > 0


def test_open_lines_say_why_as_re_planned_not_that_they_are_locked(result):
    """The whole re-plan locks every line at its new spend; open lines keep the open part's
    reasons (price, rules, curve ends), elapsed ones their locks (spend already made).
    """
    _, _, res = result
    plan = res.plan
    for ln in plan.lines:
        cause = ln.limited_by.cause, ln.limited_by.rule or ""
        if ln.period in ("2027-01",):  # elapsed by 2027-02-15
            assert cause[1].startswith("lock__"), ln
    open_lines = [ln for ln in plan.lines if ln.period == "2027-03"]
    assert open_lines and not any(
        (ln.limited_by.rule or "").startswith("lock__") for ln in open_lines
    )
    zero = {(u["network"], u["segment"], u["period"]) for u in plan.unfunded}
    for ln in plan.lines:
        if (ln.network, ln.segment, ln.period) in zero:
            (u,) = [
                u
                for u in plan.unfunded
                if (u["network"], u["segment"], u["period"]) == (ln.network, ln.segment, ln.period)
            ]
            assert u["cause"] == ln.limited_by.cause


def test_rows_keep_their_keys_and_say_when_actual_results_are_unknown(result):
    """ACTUALS carry no results: the rows say None, the elapsed lines stay at the forecast."""
    _, spec, res = result
    keys = {"network", "segment", "period", "status", "planned", "actual", "replanned"}
    keys |= {"over_under_plan", "planned_results", "replanned_results"}
    for r in res.rows:
        assert keys | {"actual_results", "results_over_under_plan"} == set(r)
        assert r["actual_results"] is None
    assert any("valued at the forecast" in w for w in res.warnings)
    assert res.to_dict()["replan"]["budget_as_set"] == spec["budget"]
    assert not res.forecast_results
