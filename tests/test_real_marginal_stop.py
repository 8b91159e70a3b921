"""On real Bing + TikTok exports, spend stops where the next result is not worth it.

The issue's probe: with a 20,000 budget the plan put most of it on TikTok, whose next
conversion cost thousands against tens on Bing, because only the whole budget stopped it.
The Improvado exports of ../shared/data are ingested and forecast as a user would; a marginal
ceiling, or the profit objective with a value per conversion, must stop every line where its
next conversion costs more, leave the rest unspent and say what stopped it.
"""

from __future__ import annotations

import pytest

from optimizer import allocate

CEILING = 100.0


@pytest.fixture(scope="module")
def curves(shared_data):
    from forecasting import forecast_curves, ingest_files

    d = shared_data / "improvado_mcdm_multiplatform"
    files = [d / "src_ads_bing_all_data.csv", d / "src_ads_tiktok_ads_all_data.csv"]
    history = ingest_files(files).history
    return forecast_curves(history, "2023-02-13", "2023-02-26", period="week").curves


def _by_network(plan) -> dict[str, float]:
    out: dict[str, float] = {}
    for ln in plan.lines:
        out[ln.network] = out.get(ln.network, 0.0) + ln.spend
    return out


def test_without_a_stop_the_budget_goes_where_results_are_dear(curves):
    plan = allocate(curves, {"budget": 20000})
    assert plan.total_spend == pytest.approx(20000)
    dear = [ln for ln in plan.lines if ln.spend > 0 and ln.marginal_cost_per_result > 1000]
    assert dear and {ln.network for ln in dear} == {"tiktok"}


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize(
    "stop",
    [
        {"max_marginal_cost_per_result": CEILING},
        {"objective": "profit", "value_per_result": CEILING},
    ],
    ids=["ceiling", "profit"],
)
def test_no_currency_goes_where_the_next_conversion_costs_more(curves, solver, stop):
    plan = allocate(curves, {"budget": 20000, **stop}, solver=solver)
    for ln in plan.lines:
        if ln.spend > 0:  # the last unit spent bought a conversion at the ceiling or less
            assert ln.marginal_cost_per_result <= CEILING * (1 + 1e-9), ln
    free = allocate(curves, {"budget": 20000})
    assert _by_network(plan)["tiktok"] < _by_network(free)["tiktok"] / 10
    assert plan.unspent["amount"] == pytest.approx(20000 - plan.total_spend)
    assert plan.unspent["amount"] > 10000
    causes = {g["rule"] or g["cause"] for g in plan.unspent["stopped_by"]}
    want = "max_marginal_cost" if "max_marginal_cost_per_result" in stop else "not_worth"
    assert want in causes
    assert plan.notes and "left" in plan.notes[0]
