"""Infeasible rules explained by kind, with the smallest repairs in words, amounts by hand.

Each repair is found by the elastic LP with slack on one set of rows only (the budget, one
rule, one kind of rule, or all of them), so its amount is the least change that restores
feasibility; the amounts below are worked out by hand from the curves and the rules.
"""

from __future__ import annotations

import pytest

from optimizer import InfeasibleError, PlanSpec, allocate
from optimizer import diagnose as diagnose_mod
from optimizer.diagnose import MAX_RESOLVES, explain_infeasible
from optimizer.model import build_model

from .conftest import make_curves

REL = 1e-6


@pytest.fixture
def three():
    pts = [[0, 0], [40000, 2000], [80000, 3000]]
    return make_curves({(n, "all", "2027-01"): pts for n in ("meta", "tiktok", "x")})


def _error(curves, spec, solver) -> InfeasibleError:
    with pytest.raises(InfeasibleError) as e:
        allocate(curves, spec, solver=solver)
    return e.value


def _repairs(curves, spec) -> dict[str, dict]:
    """The repairs of ``spec``, by their words."""
    d = explain_infeasible(build_model(curves, PlanSpec.from_dict(spec)), spec["budget"])
    return {r["words"]: r for r in d.repairs}


def test_two_network_floors_over_the_budget(three, solver):
    # 8,000 + 14,000 = 22,000 of a 10,000 budget: 12,000 too much. TikTok's floor alone can
    # give the 12,000 (down to 2,000); Meta's alone cannot (down to 0 leaves 14,000 > 10,000)
    spec = {"budget": 10000, "networks": {"meta": {"min": 8000}, "tiktok": {"min": 14000}}}
    e = _error(three, spec, solver)
    assert str(e) == (
        "the Meta and TikTok network floors (network_min__meta, network_min__tiktok) need "
        "22,000 of a 10,000 budget: raise the budget by 12,000, or lower the TikTok network "
        "floor by 12,000, or lower the Meta and TikTok network floors by 12,000 together"
    )
    reps = _repairs(three, spec)
    assert list(reps) == [
        "raise the budget by 12,000",
        "lower the TikTok network floor by 12,000",
        "lower the Meta and TikTok network floors by 12,000 together",
    ]
    together = reps["lower the Meta and TikTok network floors by 12,000 together"]
    assert together["rules"] == ["network_min__meta", "network_min__tiktok"]
    assert together["family"] == "network_min" and together["kind"] == "family"
    assert together["unit"] == "EUR"
    assert together["amount"] == pytest.approx(12000, rel=REL)
    assert sum(together["by_rule"].values()) == pytest.approx(12000, rel=REL)
    budget = reps["raise the budget by 12,000"]
    assert budget["rules"] == ["budget"] and budget["amount"] == pytest.approx(12000, rel=REL)
    assert reps["lower the TikTok network floor by 12,000"]["amount"] == pytest.approx(
        12000, rel=REL
    )
    assert not any(r["rules"] == ["network_min__meta"] for r in reps.values())


def test_diagnosis_keeps_one_entry_per_rule_with_its_family_and_words(three, solver):
    spec = {"budget": 10000, "networks": {"meta": {"min": 8000}, "tiktok": {"min": 14000}}}
    diag = {d["rule"]: d for d in _error(three, spec, solver).diagnosis}
    assert set(diag) == {"budget", "network_min__meta", "network_min__tiktok"}
    keys = {"rule", "description", "relax_by", "relax_alone_by", "unit", "message"}
    for d in diag.values():
        assert keys | {"family", "words"} <= set(d)
    assert diag["budget"]["available"] == pytest.approx(10000, rel=REL)
    assert diag["budget"]["needed"] == pytest.approx(22000, rel=REL)
    meta, tiktok = diag["network_min__meta"], diag["network_min__tiktok"]
    assert (meta["family"], meta["words"]) == ("network_min", "the Meta network floor")
    assert meta["relax_alone_by"] is None
    assert "cannot restore feasibility alone" in meta["message"]
    assert tiktok["relax_alone_by"] == pytest.approx(12000, rel=REL)
    assert tiktok["message"] == "lower the TikTok network floor (network_min__tiktok) by 12,000"
    assert sum(d["relax_by"] for d in diag.values()) == pytest.approx(12000, rel=REL)


def test_fourteen_line_minimums_read_as_a_count(solver, monkeypatch):
    # 14 lines of at least 1,000 each: 14,000 of a 10,000 budget. No line alone can give
    # 4,000 (each has 1,000 to give); the budget alone or the 14 together can
    segs = [f"s{i:02d}" for i in range(7)]
    keys = [(n, s, "2027-01") for n in ("meta", "tiktok") for s in segs]
    curves = make_curves({k: [[0, 0], [5000, 500]] for k in keys})
    lines = [{"network": n, "segment": s, "period": p, "min": 1000} for n, s, p in keys]
    spec = {"budget": 10000, "lines": lines}
    tries = []
    real_try = diagnose_mod._try
    monkeypatch.setattr(diagnose_mod, "_try", lambda *a: tries.append(a) or real_try(*a))
    e = _error(curves, spec, solver)
    assert str(e) == (
        "14 line minimums need 14,000 of a 10,000 budget: raise the budget by 4,000, or "
        "lower the 14 line minimums by 4,000 together"
    )
    assert "line_min__" not in str(e)
    assert len(e.diagnosis) == 15  # the ids: in the diagnosis
    assert 0 < len(tries) <= MAX_RESOLVES
    reps = _repairs(curves, spec)
    together = reps["lower the 14 line minimums by 4,000 together"]
    assert len(together["rules"]) == 14 and together["family"] == "line_min"
    assert together["amount"] == pytest.approx(4000, rel=REL)
    assert reps["raise the budget by 4,000"]["amount"] == pytest.approx(4000, rel=REL)
    assert len(reps) == 2


def test_share_floor_against_a_share_cap(solver):
    # Meta is the prospecting segment: at least 60% of the spend as a network, at most 40% as
    # a segment, while TikTok (retargeting) spends at least t = 10,000. With m Meta's spend:
    # - the share floor gives 0.6(m + t) - m, least when m is at the cap (m = 2t/3): t/3;
    # - the share cap gives m - 0.4(m + t), least when m is at the floor (m = 1.5t): t/2;
    # - TikTok's floor gives all its 10,000 (nothing spent holds both shares).
    curves = make_curves(
        {
            ("meta", "prospecting", "2027-01"): [[0, 0], [40000, 2000]],
            ("tiktok", "retargeting", "2027-01"): [[0, 0], [40000, 2000]],
        }
    )
    spec = {
        "budget": 60000,
        "networks": {"meta": {"min_share": 0.6}, "tiktok": {"min": 10000}},
        "segments": {"prospecting": {"max_share": 0.4}},
    }
    e = _error(curves, spec, solver)
    assert str(e) == (
        "the Meta network share floor (network_share_min__meta), the TikTok network floor "
        "(network_min__tiktok) and the prospecting segment share cap "
        "(segment_share_max__prospecting) cannot all hold: loosen the Meta network share floor "
        "by 3,333 of spend, or loosen the prospecting segment share cap by 5,000 of spend, or "
        "lower the TikTok network floor by 10,000"
    )
    reps = list(_repairs(curves, spec).values())
    assert [r["rules"] for r in reps] == [
        ["network_share_min__meta"],
        ["segment_share_max__prospecting"],
        ["network_min__tiktok"],
    ]
    assert [r["amount"] for r in reps] == pytest.approx([10000 / 3, 5000, 10000], rel=REL)
    assert {r["unit"] for r in reps} == {"EUR"}


LEADS = {
    "result_type": "leads",
    "lines": [
        {
            "network": "meta",
            "segment": "all",
            "period": "2027-01",
            "points": [[0, 0], [10000, 1000]],
        },
        {
            "network": "tiktok",
            "segment": "all",
            "period": "2027-01",
            "points": [[0, 0], [10000, 500]],
        },
    ],
}


def test_results_floor_over_the_budget(three, solver):
    # 0.1 lead per EUR on Meta (the best): 5,000 bring 500 leads; 800 need 8,000
    spec = {
        "budget": 5000,
        "results_floors": [{"result_type": "leads", "min": 800, "curves": LEADS}],
    }
    e = _error(three, spec, solver)
    assert str(e) == (
        "the leads results floor (results_floor__leads) needs 8,000 of a 5,000 budget: "
        "raise the budget by 3,000, or lower the leads results floor by 300 leads"
    )
    reps = _repairs(three, spec)
    floor = reps["lower the leads results floor by 300 leads"]
    assert floor["unit"] == "leads" and floor["family"] == "results_floor"
    assert floor["amount"] == pytest.approx(300, rel=REL)
    assert reps["raise the budget by 3,000"]["amount"] == pytest.approx(3000, rel=REL)


def test_results_floor_against_a_network_cap_names_both_units(three, solver):
    # Meta capped at 5,000 (500 leads) and TikTok's curve ends at 500 leads: 1,000 of 1,200.
    # Raising Meta's cap by 2,000 brings the 200 missing (0.1 per EUR); or ask 200 fewer
    spec = {
        "budget": 50000,
        "networks": {"meta": {"max": 5000}},
        "results_floors": [{"result_type": "leads", "min": 1200, "curves": LEADS}],
    }
    e = _error(three, spec, solver)
    assert str(e) == (
        "the Meta network cap (network_max__meta) and the leads results floor "
        "(results_floor__leads) cannot all hold: raise the Meta network cap by 2,000, or "
        "lower the leads results floor by 200 leads"
    )
    reps = list(_repairs(three, spec).values())
    assert [(r["rules"], r["unit"]) for r in reps] == [
        (["network_max__meta"], "EUR"),
        (["results_floor__leads"], "leads"),
    ]
    assert [r["amount"] for r in reps] == pytest.approx([2000, 200], rel=REL)


def test_locked_lines_are_facts_never_repairs(three, solver):
    # X locked at 30,000 and Meta at least 40,000: 70,000 of a 60,000 budget
    spec = {
        "budget": 60000,
        "networks": {"meta": {"min": 40000}},
        "lines": [{"network": "x", "segment": "all", "period": "2027-01", "lock": 30000}],
    }
    e = _error(three, spec, solver)
    assert str(e) == (
        "the Meta network floor (network_min__meta) and the locked lines need 70,000 of a "
        "60,000 budget: raise the budget by 10,000, or lower the Meta network floor by 10,000"
    )
    reps = _repairs(three, spec)
    assert all(not rule.startswith("lock__") for r in reps.values() for rule in r["rules"])
    assert [r["amount"] for r in reps.values()] == pytest.approx([10000, 10000], rel=REL)


def test_on_off_limit_in_lines(three, solver):
    # two networks must spend, one line may be on: one more line
    spec = {
        "budget": 60000,
        "max_active_lines": 1,
        "networks": {"meta": {"min": 100}, "tiktok": {"min": 100}},
    }
    e = _error(three, spec, solver)
    assert "raise the limit on active lines by 1 line" in str(e)
    assert "(max_active_lines)" in str(e)
    rep = _repairs(three, spec)["raise the limit on active lines by 1 line"]
    assert rep["unit"] == "lines" and rep["amount"] == pytest.approx(1, rel=REL)
