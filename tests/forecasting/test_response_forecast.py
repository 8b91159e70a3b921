"""New lines, priors, lift tests and reach in forecasts, on the known law.

The law is ``test_known_truth_law``'s: per network a cost level c_n and elasticity e_n on
CPR (results ∝ spend^(1 - e_n)), segment factors, a ±25% season, a 5%/year trend, Poisson
results, two years of weeks. Each test states what it changes.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest

from forecasting.curves import forecast_curves
from forecasting.errors import ForecastingError
from forecasting.options import response_options

from . import test_known_truth_law as law
from .known_truth_tools import week_start

FROM, TO = "2027-01-04", "2027-03-31"


@functools.cache
def _history() -> pd.DataFrame:
    return law.history(seed=0)


def _true_cpr(network: str, segment: str, period: str, spend: float) -> float:
    return spend / float(law.expected_results(network, segment, week_start(period), spend))


def test_a_segment_without_history_in_a_known_network_gets_the_pooled_curve():
    # meta/m-45-54 has rows of another result type only: no purchases history
    h = _history()
    extra = h[(h["network"] == "meta") & (h["segment"] == "m-25-34")].assign(
        segment="m-45-54", result_type="leads"
    )
    r = forecast_curves(pd.concat([h, extra]), FROM, TO, period="week", model="glm")
    new = [ln for ln in r.curves.lines if ln.segment == "m-45-54"]
    assert len(new) == 13 and all(ln.flags == ("new_line",) for ln in new)
    assert any("meta/m-45-54" in w and "pooled curve" in w for w in r.warnings)
    s = next(x for x in r.lines if x.segment == "m-45-54")
    # the network's pooled estimate: a CPR among its segments' (factors 0.6 to 1.25)
    cprs = [x.cost_per_result for x in r.lines if x.network == "meta" and x.segment != "m-45-54"]
    assert min(cprs) * 0.8 <= s.cost_per_result <= max(cprs) * 1.2
    # its cap: the median of the network's lines' caps
    caps = sorted(x.cap_spend for x in r.lines if x.network == "meta" and x.segment != "m-45-54")
    assert s.cap_spend == pytest.approx((caps[1] + caps[2]) / 2, rel=1e-9)


def _thin_tiktok() -> pd.DataFrame:
    h = _history()
    last = h["date"].max()
    keep = (h["network"] != "tiktok") | (h["date"] > last - pd.Timedelta(days=14))
    return h[keep]


def test_a_prior_pulls_a_thin_network_toward_the_benchmark_and_says_how_much():
    # tiktok has two weeks of history; the prior is the law's own CPR at the line's usual
    # spend and its elasticity, worth 500 results
    h = _thin_tiktok()
    plain = forecast_curves(h, FROM, TO, period="week", model="glm")
    ref = law.ref_spend("tiktok", "f-25-34")
    truth = _true_cpr("tiktok", "f-25-34", "2027-W01", ref)
    b = 1 - law.NETWORKS["tiktok"][1]
    opts = response_options(
        priors={"priors": [{"network": "tiktok", "cpr": truth, "elasticity": b, "weight": 500}]}
    )
    r = forecast_curves(h, FROM, TO, period="week", model="glm", response=opts)
    line = next(x for x in r.lines if (x.network, x.segment) == ("tiktok", "f-25-34"))
    old = next(x for x in plain.lines if (x.network, x.segment) == ("tiktok", "f-25-34"))
    assert 0.5 < line.prior_share < 1.0 and 0.0 < line.prior_elasticity_share <= 1.0
    assert abs(line.elasticity - b) < abs(old.elasticity - b) or abs(old.elasticity - b) < 0.02
    at = lambda s: _true_cpr("tiktok", "f-25-34", "2027-W01", s.typical_spend)  # noqa: E731
    assert abs(math.log(line.cost_per_result / at(line))) < abs(
        math.log(old.cost_per_result / at(old))
    )
    no_prior = [x for x in r.lines if x.network == "meta"]
    assert all(x.prior_share is None for x in no_prior)
    # the share is the precision weighting of docs/forecasting.md: weight / (weight + 1/v0),
    # v0 the level's variance without the prior (a thin line: its network's pooled 0.3125)
    key = ("tiktok", "f-25-34", "2027-W01")
    before = next(ln for ln in plain.curves.lines if ln.key == key).spread.level_var
    assert line.prior_share == pytest.approx(500 / (500 + 1 / before), rel=1e-9)
    after = next(ln for ln in r.curves.lines if ln.key == key).spread.level_var
    assert after == pytest.approx(line.prior_share / 500, rel=1e-9)  # 1 / (500 + 1/v0)


def test_a_brand_new_network_works_from_its_prior_alone():
    opts = response_options(
        priors={
            "priors": [
                {
                    "network": "threads",
                    "segment": "all",
                    "cpr": 20.0,
                    "elasticity": 0.8,
                    "spend": 1000,
                    "max_spend": 2500,
                    "weight": 50,
                }
            ]
        }
    )
    r = forecast_curves(_history(), FROM, TO, period="week", model="glm", response=opts)
    lines = [ln for ln in r.curves.lines if ln.network == "threads"]
    assert len(lines) == 13 and all(ln.flags == ("prior_only",) for ln in lines)
    ln = lines[0]
    assert ln.max_spend == pytest.approx(2500)
    # results = spend/cpr at the prior's spend, spend^0.8 around it, read between the points
    for s in (500.0, 1000.0, 2500.0):
        want = 1000 / 20.0 * (s / 1000) ** 0.8
        assert ln.results_at(s) == pytest.approx(want, rel=0.01)
    assert ln.spread.level_var == pytest.approx(1 / 50)
    assert ln.spread.elasticity_se == pytest.approx(0.15)  # the prior's default sd
    s = next(x for x in r.lines if x.network == "threads")
    assert s.prior_share == 1.0 and s.history_periods == 0


def test_a_new_network_prior_without_spend_is_refused_naming_the_entry():
    opts = response_options(priors={"priors": [{"network": "threads", "segment": "all", "cpr": 5}]})
    with pytest.raises(ForecastingError, match=r"priors\[0\].*threads/all.*elasticity.*spend"):
        forecast_curves(_history(), FROM, TO, period="week", model="glm", response=opts)


LIFT = [
    {"network": "meta", "incremental_per_result": 0.6, "low": 0.45, "high": 0.75},
    {"network": "tiktok", "incremental_per_result": 0.4, "low": 0.3, "high": 0.5},
    {
        "network": "google",
        "segment": "retargeting",
        "incremental_per_result": 0.2,
        "low": 0.1,
        "high": 0.3,
    },
    {"network": "google", "incremental_per_result": 0.9, "low": 0.8, "high": 1.0},
]


def test_incremental_curves_are_the_attributed_ones_times_the_lift():
    h = _history()
    att = forecast_curves(
        h, FROM, TO, period="week", model="glm", response=response_options(lift=LIFT)
    )
    inc = forecast_curves(
        h,
        FROM,
        TO,
        period="week",
        model="glm",
        response=response_options(lift=LIFT, basis="incremental"),
    )
    assert att.curves.meta.get("results_basis", "attributed") == "attributed"
    assert inc.curves.meta["results_basis"] == "incremental"
    ratio = {("google", "retargeting"): 0.2, ("google", "f-18-24"): 0.9, ("meta", "f-18-24"): 0.6}
    by = {ln.key: ln for ln in att.curves.lines}
    for ln in inc.curves.lines:
        a = by[ln.key]
        assert ln.lift.ratio == a.lift.ratio
        want = ratio.get((ln.network, ln.segment))
        if want is not None:
            assert ln.lift.ratio == want
        assert np.allclose([y for _, y in ln.points], [y * a.lift.ratio for _, y in a.points])
        assert [x for x, _ in ln.points] == [x for x, _ in a.points]


def test_incremental_results_without_a_lift_for_a_line_are_refused():
    opts = response_options(lift=LIFT[:2], basis="incremental")
    with pytest.raises(ForecastingError, match=r"lift test for every line.*google/"):
        forecast_curves(_history(), FROM, TO, period="week", model="glm", response=opts)


def _reach(h: pd.DataFrame) -> pd.DataFrame:
    return h.assign(result_type="reach", results=h["results"] * 40)


def test_weekly_reach_is_modelled_and_marked_not_additive():
    r = forecast_curves(_reach(_history()), FROM, TO, period="week", model="glm")
    assert r.curves.meta["additive"] is False


def test_daily_reach_planned_per_week_is_refused_with_what_to_export():
    h = _reach(_history())
    days = h.loc[h.index.repeat(7)].copy()
    days["date"] = days["date"] + pd.to_timedelta(np.tile(np.arange(7), len(h)), unit="D")
    with pytest.raises(ForecastingError, match=r"reach.*(export|Export).*week"):
        forecast_curves(days, FROM, TO, period="week", model="glm")


def test_an_event_in_the_plan_never_seen_in_the_history_is_warned_of():
    opts = response_options(events=[{"name": "launch", "start": "2027-02-01", "end": "2027-02-07"}])
    r = forecast_curves(_history(), FROM, TO, period="week", model="glm", response=opts)
    assert any("event[launch]" in w and "never in the history" in w for w in r.warnings)


def test_a_prior_moves_a_hill_curve_by_its_level_and_keeps_its_shape():
    # the Hill law of response_truth; a prior half the line's fitted CPR, worth 10^6 results
    from . import response_truth as rt

    h = rt.truth("hill")
    opts = response_options(shape="hill")
    plain = forecast_curves(h, FROM, TO, period="week", model="glm", response=opts)
    line = next(x for x in plain.lines if (x.network, x.segment) == ("meta", "f-25-34"))
    assert line.shape == "hill"
    prior = {
        "network": "meta",
        "segment": "f-25-34",
        "cpr": line.cost_per_result / 2,
        "elasticity": 0.9,
        "weight": 1e6,
    }
    r = forecast_curves(
        h,
        FROM,
        TO,
        period="week",
        model="glm",
        response=response_options(shape="hill", priors={"priors": [prior]}),
    )
    got = next(x for x in r.lines if (x.network, x.segment) == ("meta", "f-25-34"))
    assert got.prior_share == pytest.approx(1.0, abs=0.005)
    assert got.prior_elasticity_share is None  # a Hill line keeps its own shape
    key = ("meta", "f-25-34", "2027-W01")
    a = next(ln for ln in plain.curves.lines if ln.key == key)
    b = next(ln for ln in r.curves.lines if ln.key == key)
    ratio = np.array([y for _, y in b.points[1:]]) / np.array([y for _, y in a.points[1:]])
    assert np.allclose(ratio, 2.0, rtol=0.01)
    assert [x for x, _ in b.points] == [x for x, _ in a.points]


def test_a_prior_worth_nothing_changes_no_curve_even_when_elasticities_vary_by_period():
    # the GBM's elasticity differs from period to period: the prior pivots at the typical
    # spend with the first period's, so a prior of weight 1e-9 moves nothing
    h = _history()
    prior = {"network": "meta", "cpr": 1.0, "weight": 1e-9}
    a = forecast_curves(h, FROM, TO, period="week", model="gbm")
    b = forecast_curves(
        h,
        FROM,
        TO,
        period="week",
        model="gbm",
        response=response_options(priors={"priors": [prior]}),
    )
    for x, y in zip(a.curves.lines, b.curves.lines, strict=True):
        assert np.allclose([p[1] for p in x.points], [p[1] for p in y.points], rtol=1e-6)


def test_a_prior_keeps_the_spend_history_and_adds_no_flat_spend_flag():
    # tiktok: 10 weeks and a twentieth of the results, so its elasticity is uncertain
    h = _history().copy()
    last = h["date"].max()
    h = h[(h["network"] != "tiktok") | (h["date"] > last - pd.Timedelta(weeks=10))].copy()
    tk = h["network"] == "tiktok"
    h.loc[tk, "results"] = (h.loc[tk, "results"] / 20).round()
    opts = response_options(priors={"priors": [{"network": "tiktok", "cpr": 50.0, "weight": 5}]})
    plain = forecast_curves(h, FROM, TO, period="week", model="glm")
    r = forecast_curves(h, FROM, TO, period="week", model="glm", response=opts)
    line = next(x for x in r.lines if (x.network, x.segment) == ("tiktok", "m-25-34"))
    assert line.prior_share is not None and line.elasticity_se > 0.1  # a prior, a wide slope
    flags = lambda res: {(x.network, x.segment): x.flags for x in res.lines}  # noqa: E731
    assert flags(r) == flags(plain)
    assert not any("spent about the same" in w for w in r.warnings)


def test_a_network_wide_prior_for_a_network_without_history_is_warned_of():
    opts = response_options(priors={"priors": [{"network": "threads", "cpr": 5.0}]})
    r = forecast_curves(_history(), FROM, TO, period="week", model="glm", response=opts)
    assert any("network threads has no history" in w and "name a segment" in w for w in r.warnings)
    assert "threads" not in r.curves.networks


def test_a_season_per_network_that_the_history_cannot_support_is_warned_of():
    h = _history()
    one = h[h["network"] == "meta"]
    r = forecast_curves(
        one, FROM, TO, period="week", model="glm", response=response_options(season="network")
    )
    assert r.response["season"] == "common"
    assert any("--season network needs" in w for w in r.warnings)


def test_reach_gets_no_carry_over():
    h = _reach(_history())
    with pytest.raises(ForecastingError, match="carry-over 0.5 adds a period's results"):
        forecast_curves(
            h, FROM, TO, period="week", model="glm", response=response_options(carryover=0.5)
        )
    r = forecast_curves(h, FROM, TO, period="week", model="auto")
    assert set(r.response["carryover"].values()) == {0.0}
    assert all(ln.inside is None for ln in r.curves.lines)


def test_a_network_that_stopped_before_the_backtest_blocks_keeps_no_carry_over():
    from . import response_truth as rt

    h = rt.truth("carryover")
    stop = h["date"].max() - pd.Timedelta(weeks=45)
    h = h[(h["network"] != "tiktok") | (h["date"] <= stop)]
    r = forecast_curves(h, FROM, TO, period="week", model="auto")
    assert r.response["carryover"]["tiktok"] == 0.0
    assert abs(r.response["carryover"]["meta"] - 0.5) <= 0.125


def test_lift_tests_and_events_that_nothing_uses_are_warned_of():
    lift = [*LIFT, {"network": "snapchat", "incremental_per_result": 0.5, "low": 0.4, "high": 0.6}]
    events = [
        {"name": "snap day", "start": "2026-05-01", "end": "2026-05-02", "network": "snapchat"},
        {"name": "old sale", "start": "2019-05-01", "end": "2019-05-02"},
        {"name": "late sale", "start": "2028-05-01", "end": "2028-05-02"},
    ]
    r = forecast_curves(
        _history(),
        FROM,
        TO,
        period="week",
        model="glm",
        response=response_options(lift=lift, events=events),
    )
    text = "\n".join(r.warnings)
    assert "lift test of snapchat calibrates no line planned" in text
    assert "lift test of meta" not in text and "lift test of google" not in text
    assert "'snap day' is for network snapchat, which the history lacks" in text
    assert "'old sale'" in text and "'late sale'" in text and "neither in the history" in text


def test_an_event_inside_the_last_history_week_is_not_called_unused():
    h = _history()
    last = h["date"].max()  # a Monday: its week runs to the Sunday
    wed, fri = last + pd.Timedelta(days=2), last + pd.Timedelta(days=4)
    events = [{"name": "last week", "start": str(wed.date()), "end": str(fri.date())}]
    r = forecast_curves(
        h, FROM, TO, period="week", model="glm", response=response_options(events=events)
    )
    assert not any("last week" in w for w in r.warnings), r.warnings


def test_a_lift_test_names_its_result_type_as_the_export_does():
    lift = [{"network": n, "result_type": "Purchases", "incremental_per_result": 0.5,
             "low": 0.4, "high": 0.6} for n in ("meta", "tiktok", "google")]  # fmt: skip
    r = forecast_curves(
        _history(), FROM, TO, period="week", model="glm", response=response_options(lift=lift)
    )
    assert all(ln.lift is not None and ln.lift.ratio == 0.5 for ln in r.curves.lines)
    assert not any("calibrates no line" in w for w in r.warnings)
