"""The rule families are the one place a rule lives: fields, keys, names and re-plan agree."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer import PlanSpec, SpecError, allocate
from optimizer.lp import rule_name
from optimizer.rules import BY_FAMILY, FAMILIES, SPEC_FIELDS, SPEC_KEYS

from .conftest import make_curves

DOCUMENTED_KEYS = {
    "budget", "objective", "alpha", "networks", "segments", "periods", "lines", "exclude",
    "max_cost_per_result", "pacing", "max_period_change", "results_floors",
    "min_line_spend", "min_daily_spend", "max_active_lines", "value_per_result", "max_marginal_cost_per_result",
}  # fmt: skip


def test_every_plan_spec_field_belongs_to_exactly_one_family():
    fields = [f.name for f in dataclasses.fields(PlanSpec) if f.name != "source"]
    assert sorted(SPEC_FIELDS) == sorted(fields)
    assert len(SPEC_FIELDS) == len(set(SPEC_FIELDS))


def test_the_families_read_every_documented_key_and_no_other():
    assert set(SPEC_KEYS) == DOCUMENTED_KEYS
    with pytest.raises(SpecError, match=r"unknown keys \['budgett'\]"):
        PlanSpec.from_dict({"budget": 1, "budgett": 2})


def test_every_row_family_has_one_unit():
    families = [f for fam in FAMILIES for f in fam.families]
    assert len(families) == len(set(families))
    assert set(BY_FAMILY) == set(families)


@pytest.fixture
def brand():
    """A network and a segment both called 'brand'."""
    return make_curves(
        {
            ("brand", "brand", "2027-01"): [[0, 0], [100, 200]],
            ("brand", "other", "2027-01"): [[0, 0], [100, 150]],
            ("meta", "brand", "2027-01"): [[0, 0], [100, 120]],
            ("meta", "other", "2027-01"): [[0, 0], [100, 100]],
        }
    )


def test_a_network_and_a_segment_of_the_same_name_get_their_own_rules(brand, solver):
    spec = {
        "budget": 200,
        "networks": {"brand": {"max_share": 0.6, "min_share": 0.1}},
        "segments": {"brand": {"max_share": 0.55, "min_share": 0.2}},
    }
    plan = allocate(brand, spec, solver=solver)
    names = [c.name for c in plan.constraints]
    assert len(names) == len(set(names))
    for name in ("network_share_max__brand", "segment_share_max__brand",
                 "network_share_min__brand", "segment_share_min__brand"):  # fmt: skip
        assert name in names
    # both caps bind here, each with its own price
    by = {c.name: c for c in plan.constraints}
    assert by["network_share_max__brand"].binding and by["segment_share_max__brand"].binding


def test_line_names_never_collide_whatever_the_names():
    a = rule_name("line_min", "a/b", "c", "2027-01")
    b = rule_name("line_min", "a", "b/c", "2027-01")
    assert a != b
    assert rule_name("line_min", "a%2Fb", "c", "2027-01") not in (a, b)
    assert rule_name("network_max", "a/b") == "network_max__a/b"  # one part: as written


def test_a_cost_per_result_ceiling_of_zero_is_refused_with_a_reason():
    with pytest.raises(SpecError, match="max_cost_per_result: must be above 0"):
        PlanSpec.from_dict({"budget": 100, "max_cost_per_result": 0})
    with pytest.raises(SpecError, match="max_cost_per_result: must be above 0"):
        PlanSpec(budget=100, max_cost_per_result=0.0)


def test_to_dict_round_trips_through_the_families(brand):
    spec = PlanSpec.from_dict(
        {
            "budget": 200,
            "objective": "results",
            "networks": {"brand": {"max_share": 0.6}},
            "lines": [{"network": "meta", "segment": "other", "period": "2027-01", "min": 10}],
            "exclude": {"segments": ["other"]},
            "max_cost_per_result": 5,
            "pacing": {"tolerance": 0.2},
            "max_period_change": 0.3,
            "min_line_spend": 5,
            "max_active_lines": 3,
        }
    )
    assert PlanSpec.from_dict(spec.to_dict()) == spec
