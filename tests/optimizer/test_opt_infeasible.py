"""Infeasible rules: the error names the conflicting rules and the smallest repairs."""

from __future__ import annotations

import pytest

from optimizer import InfeasibleError, SpecError, allocate, min_budget_for_results

from .conftest import make_curves


@pytest.fixture
def three():
    pts = [[0, 0], [40000, 2000], [80000, 3000]]
    return make_curves({(n, "all", "2027-01"): pts for n in ("meta", "tiktok", "x")})


def test_floors_over_budget(three):
    spec = {"budget": 60000, "networks": {"meta": {"min": 40000}, "tiktok": {"min": 32000}}}
    with pytest.raises(InfeasibleError) as e:
        allocate(three, spec)
    msg = str(e.value)
    assert "network_min__meta" in msg and "network_min__tiktok" in msg
    assert "need 72,000 of a 60,000 budget" in msg
    assert "raise the budget by 12,000" in msg
    assert "lower the Meta network floor by 12,000" in msg
    diag = {d["rule"]: d for d in e.value.diagnosis}
    assert set(diag) == {"budget", "network_min__meta", "network_min__tiktok"}
    assert diag["budget"]["needed"] == pytest.approx(72000)
    assert diag["budget"]["available"] == pytest.approx(60000)
    for d in diag.values():
        assert d["relax_alone_by"] == pytest.approx(12000)
    assert sum(d["relax_by"] for d in diag.values()) == pytest.approx(12000)


def test_lock_above_what_a_line_can_absorb(three):
    spec = {
        "budget": 200000,
        "lines": [{"network": "x", "segment": "all", "period": "2027-01", "lock": 90000}],
    }
    with pytest.raises(InfeasibleError) as e:
        allocate(three, spec, solver="cbc")
    assert "lock__x/all/2027-01" in str(e.value)
    (d,) = e.value.diagnosis
    assert d["relax_alone_by"] == pytest.approx(10000)


def test_share_floors_that_add_up_to_more_than_everything(three):
    # spending nothing would meet them: refused as a bad spec rather than an empty plan
    spec = {"budget": 60000, "networks": {"meta": {"min_share": 0.6}, "tiktok": {"min_share": 0.6}}}
    with pytest.raises(SpecError, match="add up to 120%"):
        allocate(three, spec)


def test_share_floor_against_a_cap(three):
    spec = {
        "budget": 60000,
        "networks": {"meta": {"min_share": 0.5, "max": 10000}, "tiktok": {"min": 30000}},
    }
    with pytest.raises(InfeasibleError) as e:
        allocate(three, spec)
    names = {d["rule"] for d in e.value.diagnosis}
    assert {"network_share_min__meta", "network_max__meta", "network_min__tiktok"} <= names


def test_milp_infeasible_is_diagnosed(three):
    spec = {
        "budget": 60000,
        "max_active_lines": 1,
        "networks": {"meta": {"min": 100}, "tiktok": {"min": 100}},
    }
    with pytest.raises(InfeasibleError) as e:
        allocate(three, spec)
    assert "max_active_lines" in str(e.value)


def test_unreachable_target_says_what_is_reachable(three):
    with pytest.raises(InfeasibleError) as e:
        min_budget_for_results(three, {"budget": 1000}, 10000)
    assert "at most 9,000" in str(e.value)
    assert e.value.diagnosis[0]["available"] == pytest.approx(9000)
