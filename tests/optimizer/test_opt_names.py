"""Typo help: spec network names matched to the curves' as ingest maps them, "did you mean".

A spec may name a network the way people write it (``facebook``, ``Facebook Ads``,
``twitter``): ``PlanSpec.for_curves`` matches it to the one curve network that ingest's
``normalise_network`` names the same (``meta``, ``x``), and the plan is the plan of the
canonical names. A name that matches nothing is refused with the close known names.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from optimizer import Curves, PlanSpec, allocate
from optimizer.errors import SpecError
from optimizer.names import (
    DISPLAY_NAMES,
    did_you_mean,
    display_network,
    normalise_network,
    same_network,
    suggestion,
)


def _line(network: str, segment: str, period: str, points: list) -> dict:
    return {"network": network, "segment": segment, "period": period, "points": points}


def _curves_data(meta: str = "meta") -> dict:
    """Three networks (``meta`` or another name for it, ``x``, ``tiktok``), two segments, two months."""
    return {
        "currency": "EUR",
        "result_type": "purchases",
        "lines": [
            _line(meta, "f-25-34", "2027-01", [[0, 0], [100, 200], [200, 300]]),
            _line(meta, "m-25-34", "2027-02", [[0, 0], [150, 240]]),
            _line("x", "f-25-34", "2027-01", [[0, 0], [100, 150]]),
            _line("x", "m-25-34", "2027-02", [[0, 0], [80, 130], [160, 170]]),
            _line("tiktok", "f-25-34", "2027-02", [[0, 0], [120, 160]]),
        ],
    }


@pytest.fixture
def curves() -> Curves:
    return Curves.from_dict(_curves_data())


def _same_plan(a, b) -> None:
    """Assert two plans are the same but for the solver's timings."""
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        d["solver"].pop("seconds", None)
        d["solver"].pop("solve_seconds", None)
    assert da == db


def _refusal(spec: dict, curves: Curves) -> str:
    with pytest.raises(SpecError) as e:
        PlanSpec.from_dict(spec, source="plan.yaml").check(curves)
    return str(e.value)


# -- the names module ------------------------------------------------------------------------


def test_normalise_network_moved_but_still_reachable_from_forecasting():
    import forecasting
    import forecasting.history

    assert forecasting.normalise_network is normalise_network
    assert forecasting.history.normalise_network is normalise_network
    assert normalise_network("Facebook Ads") == "meta"
    assert normalise_network("Twitter") == "x"
    # the display names are untouched
    assert DISPLAY_NAMES["tiktok"] == "TikTok" and display_network("tiktok") == "TikTok"
    assert display_network("my-dsp") == "my-dsp"


def test_same_network_and_did_you_mean():
    assert same_network("FB", ["facebook", "meta", "x"]) == ["facebook", "meta"]
    assert same_network("  ", ["meta"]) == []
    assert did_you_mean("tiktk", ["meta", "tiktok", "x"]) == ["tiktok"]
    assert did_you_mean("F 25 34", ["f-25-34", "m-25-34"]) == ["f-25-34"]
    assert did_you_mean("2027-1", [f"2027-{m:02d}" for m in range(1, 13)]) == ["2027-01"]
    assert did_you_mean("f-25-43", ["f-25-34", "m-25-34", "f-35-44"])[0] == "f-25-34"
    assert did_you_mean("zzzzzz", ["meta", "tiktok"]) == []
    assert did_you_mean("meta", ["meta"]) == []  # a name is no typo of itself
    assert len(did_you_mean("net0", [f"net{i:02d}" for i in range(20)])) <= 3
    assert did_you_mean("fb", ["facebook", "meta", "x"], networks=True) == ["facebook", "meta"]
    assert did_you_mean("x" * 5000, ["meta"]) == []  # long names are cheap too


def test_suggestion_wording():
    assert suggestion([]) == ""
    assert suggestion(["a"]) == "did you mean 'a'?"
    assert suggestion(["a", "b"]) == "did you mean 'a' or 'b'?"
    assert suggestion(["a", "b", "c"]) == "did you mean 'a', 'b' or 'c'?"


# -- platform names in a spec reach the curve network -----------------------------------------


def test_facebook_cap_is_the_meta_cap(curves):
    by_alias = PlanSpec.from_dict({"budget": 500, "networks": {"facebook": {"max": 100}}})
    canonical = PlanSpec.from_dict({"budget": 500, "networks": {"meta": {"max": 100}}})
    resolved = by_alias.for_curves(curves)
    assert resolved == canonical
    assert resolved.source == by_alias.source
    plan = allocate(curves, resolved)
    _same_plan(plan, allocate(curves, canonical))
    assert "network_max__meta" in {c.name for c in plan.constraints}


def test_every_spelling_of_meta_reaches_meta(curves):
    for name in ("facebook", "Facebook Ads", "FB", "Meta", "facebook_ads_manager"):
        spec = PlanSpec.from_dict({"budget": 500, "networks": {name: {"max": 100}}})
        assert list(spec.for_curves(curves).networks) == ["meta"], name


def test_line_rule_and_excluded_network_by_platform_names(curves):
    lines = [{"network": "Facebook Ads", "segment": "f-25-34", "period": "2027-01", "min": 150}]
    alias = {"budget": 400, "lines": lines, "exclude": {"networks": ["twitter"]}}
    canonical = {
        "budget": 400,
        "lines": [{**lines[0], "network": "meta"}],
        "exclude": {"networks": ["x"]},
    }
    resolved = PlanSpec.from_dict(alias).for_curves(curves)
    assert resolved == PlanSpec.from_dict(canonical)
    plan = allocate(curves, resolved)
    _same_plan(plan, allocate(curves, PlanSpec.from_dict(canonical)))
    assert {ln["network"] for ln in plan.excluded} == {"x"}


def test_excluded_line_by_platform_name(curves):
    ex = {"lines": [{"network": "Twitter Ads", "segment": "f-25-34", "period": "2027-01"}]}
    resolved = PlanSpec.from_dict({"budget": 300, "exclude": ex}).for_curves(curves)
    assert resolved.exclude.lines == (("x", "f-25-34", "2027-01"),)


def test_allocate_matches_the_names_itself(curves):
    """Needs ``spec = spec.for_curves(curves)`` at the start of ``build_model``."""
    spec = {
        "budget": 500,
        "networks": {"facebook": {"max": 100}},
        "exclude": {"networks": ["twitter"]},
    }
    canonical = {"budget": 500, "networks": {"meta": {"max": 100}}, "exclude": {"networks": ["x"]}}
    _same_plan(allocate(curves, PlanSpec.from_dict(spec)), allocate(curves, canonical))


def test_check_passes_on_the_matched_names(curves):
    PlanSpec.from_dict({"budget": 1, "networks": {"Facebook": {"min": 1}}}).check(curves)


def test_nothing_to_match_returns_the_spec_itself(curves):
    spec = PlanSpec.from_dict(
        {"budget": 500, "networks": {"meta": {"max": 100}}, "exclude": {"networks": ["x"]}}
    )
    assert spec.for_curves(curves) is spec
    bare = PlanSpec.from_dict({"budget": 500})
    assert bare.for_curves(curves) is bare
    unknown = PlanSpec.from_dict({"budget": 500, "networks": {"tiktk": {"max": 1}}})
    assert unknown.for_curves(curves) is unknown  # refused by check, not renamed


def test_two_names_for_one_network_are_refused(curves):
    msg = _refusal(
        {"budget": 500, "networks": {"facebook": {"max": 100}, "meta": {"min": 5}}}, curves
    )
    assert msg.startswith("plan.yaml: networks: 'facebook' and 'meta' both name the network 'meta'")
    assert "merge" in msg


def test_a_curve_network_called_facebook_keeps_its_name():
    curves = Curves.from_dict(_curves_data(meta="facebook"))
    spec = PlanSpec.from_dict({"budget": 500, "networks": {"facebook": {"max": 100}}})
    assert spec.for_curves(curves) is spec
    plan = allocate(curves, spec)
    assert "network_max__facebook" in {c.name for c in plan.constraints}
    # and "meta" in a spec reaches it the same way
    meta = PlanSpec.from_dict({"budget": 500, "networks": {"meta": {"max": 100}}})
    assert meta.for_curves(curves) == spec


def test_a_name_that_is_two_curve_networks_is_not_guessed():
    data = _curves_data(meta="facebook")
    data["lines"].append(_line("meta", "f-25-34", "2027-02", [[0, 0], [50, 60]]))
    curves = Curves.from_dict(data)
    msg = _refusal({"budget": 500, "networks": {"fb": {"max": 100}}}, curves)
    assert "no curve has network 'fb'; did you mean 'facebook' or 'meta'?" in msg


def test_results_floor_curves_are_left_alone(curves):
    floor = Curves.from_dict(
        {
            "result_type": "leads",
            "lines": [_line("facebook", "f-25-34", "2027-01", [[0, 0], [100, 10]])],
        }
    )
    spec = PlanSpec.from_dict(
        {
            "budget": 500,
            "networks": {"facebook": {"max": 100}},
            "results_floors": [{"result_type": "leads", "min": 1, "curves": floor.to_dict()}],
        }
    )
    resolved = spec.for_curves(curves)
    assert list(resolved.networks) == ["meta"]
    assert resolved.results_floors[0].curves.networks == ["facebook"]


# -- did you mean -----------------------------------------------------------------------------


def test_network_typo_gets_did_you_mean(curves):
    msg = _refusal({"budget": 500, "networks": {"tiktk": {"max": 100}}}, curves)
    assert msg.startswith("plan.yaml: networks.tiktk: no curve has network 'tiktk'; ")
    assert "did you mean 'tiktok'?" in msg
    assert "(known networks: meta, tiktok, x); fix the name or drop the rule" in msg


def test_segment_typo_gets_did_you_mean(curves):
    msg = _refusal({"budget": 500, "segments": {"f-25-43": {"max": 100}}}, curves)
    assert "no curve has segment 'f-25-43'; did you mean 'f-25-34'" in msg
    assert "known segments: f-25-34, m-25-34" in msg


def test_period_typo_gets_did_you_mean(curves):
    msg = _refusal({"budget": 500, "periods": {"2027-1": {"max": 100}}}, curves)
    assert "no curve has period '2027-1'; did you mean '2027-01'?" in msg
    assert "known periods: 2027-01, 2027-02" in msg


def test_typo_in_a_line_rule_and_an_exclusion(curves):
    line = {"network": "meta", "segment": "f-25-34", "period": "2027-1", "max": 5}
    msg = _refusal({"budget": 500, "lines": [line]}, curves)
    assert "did you mean '2027-01'?" in msg
    msg = _refusal({"budget": 500, "exclude": {"networks": ["tik-tk"]}}, curves)
    assert msg.startswith("plan.yaml: exclude.networks: no curve has network 'tik-tk'; ")
    assert "did you mean 'tiktok'?" in msg


def test_exclusion_by_platform_name_is_matched(curves):
    spec = PlanSpec.from_dict({"budget": 500, "exclude": {"networks": ["tik tok ads"]}})
    # "tik tok ads" is what ingest calls tiktok: matched, not refused
    assert spec.for_curves(curves).exclude.networks == ("tiktok",)


def test_far_name_gets_no_suggestion_but_the_known_names(curves):
    msg = _refusal({"budget": 500, "networks": {"pinterest": {"max": 100}}}, curves)
    assert "did you mean" not in msg
    assert msg == (
        "plan.yaml: networks.pinterest: no curve has network 'pinterest' "
        "(known networks: meta, tiktok, x); fix the name or drop the rule"
    )


# -- the command line ------------------------------------------------------------------------


def _write(tmp_path, spec: str):
    c = tmp_path / "curves.json"
    c.write_text(json.dumps(_curves_data()))
    s = tmp_path / "plan.yaml"
    s.write_text(spec)
    return c, s


def test_cli_typo_exits_2_with_did_you_mean(tmp_path):
    c, s = _write(tmp_path, "budget: 500\nnetworks:\n  tiktk: {max: 100}\n")
    r = CliRunner().invoke(app, ["optimize", "--curves", str(c), "--spec", str(s), "--json"])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert "no curve has network 'tiktk'; did you mean 'tiktok'?" in text


def test_cli_platform_name_plans_like_the_canonical_one(tmp_path):
    """Needs ``spec = spec.for_curves(curves)`` at the start of ``build_model``."""
    c, s = _write(tmp_path, "budget: 500\nnetworks:\n  Facebook Ads: {max: 100}\n")
    r = CliRunner().invoke(app, ["optimize", "--curves", str(c), "--spec", str(s), "--json"])
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert "network_max__meta" in {x["name"] for x in plan["constraints"]}
