"""A plan's lines, unfunded lines and curve-end limits are made when first read (optimizer/lazy.py).

What a caller reads before they are made (totals, totals by network, segment or period,
ranges) must equal, to the last bit, what the made lines add up to; the made lines must be
those an eager read gives; a plan sent to another process carries its lines, not its model.
"""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from optimizer import allocate
from optimizer.curves import CurveLine
from optimizer.lazy import Lazy, LineColumns, grouped_sums, line_totals, mapped
from optimizer.plan import _response_kinds
from optimizer.risk import curves_uncertain
from optimizer.synthetic import synthetic_curves


@pytest.fixture(scope="module")
def curves():
    return synthetic_curves(3, 4, 5, 4, seed=3)


def _half(curves) -> float:
    return round(sum(ln.max_spend for ln in curves.lines) * 0.5, 2)


def _caps(curves) -> dict:
    """A budget past what the lines absorb with caps on two lines: curve ends, unspent money."""
    a, b = curves.lines[0], curves.lines[5]
    return {
        "budget": round(sum(ln.max_spend for ln in curves.lines) * 1.1, 2),
        "lines": [
            {"network": a.network, "segment": a.segment, "period": a.period, "max": 1.0},
            {"network": b.network, "segment": b.segment, "period": b.period, "max": 2.0},
        ],
    }


def test_allocate_leaves_the_lines_to_make(curves, solver):
    plan = allocate(curves, {"budget": _half(curves)}, solver=solver)
    assert plan.solver["method"] == "sort"
    for seq in (plan.lines, plan.unfunded, plan.constraints):
        assert isinstance(seq, Lazy) and not seq.made
    assert len(plan.lines) == len(curves.lines) and not plan.lines.made
    assert plan.lines[0].network == curves.lines[0].network and plan.lines.made


@pytest.mark.parametrize("fast", [True, False])
def test_totals_read_before_the_lines_are_made_equal_their_sums(curves, solver, fast):
    spec = {"budget": _half(curves)}
    plan = allocate(curves, spec, solver=solver, fast=fast)
    before = {k: plan.totals_by(k) for k in ("network", "segment", "period")}
    ranges = plan.ranges
    assert not plan.lines.made
    lines = tuple(plan.lines)
    assert plan.total_spend == sum(ln.spend for ln in lines)  # exactly: same floats, same order
    assert plan.expected_results == sum(ln.expected_results for ln in lines)
    for kind, got in before.items():
        made = plan.totals_by(kind)  # now from the lines
        assert got == made and list(got) == list(made), kind
    assert ranges == allocate(curves, spec, solver=solver, fast=fast).ranges


def _without_times(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "solver"}


def test_the_lines_made_late_are_the_lines_made_at_once(curves, solver):
    spec = _caps(curves)
    early = allocate(curves, spec, solver=solver)
    _ = tuple(early.lines)  # made before anything else is read
    late = allocate(curves, spec, solver=solver)
    assert late.unspent == early.unspent and late.notes == early.notes
    assert _without_times(late.to_dict()) == _without_times(early.to_dict())
    ends = late.curve_ends()
    assert ends and all(c.family == "curve_end" for c in ends)
    capped = {(ln.network, ln.segment, ln.period) for ln in curves.lines[:6:5]}
    held = [ln for ln in late.lines if (ln.network, ln.segment, ln.period) in capped]
    assert [ln.limited_by.cause for ln in held] == ["rule", "rule"]


def test_a_plan_sent_to_another_process_carries_its_lines(curves):
    plan = allocate(curves, {"budget": _half(curves)})
    back = pickle.loads(pickle.dumps(plan))
    assert type(back.lines) is tuple and type(back.unfunded) is tuple
    assert back == plan and back.to_dict() == plan.to_dict()


def test_uncertain_curves_rank_the_lines_when_made():
    curves = synthetic_curves(2, 3, 4, 4, seed=5, spread=True)
    assert curves_uncertain(curves)
    plan = allocate(curves, {"budget": _half(curves)})
    assert isinstance(plan.lines, Lazy) and not plan.lines.made
    assert all(ln.results_p10 <= ln.expected_results <= ln.results_p90 for ln in plan.lines)
    assert plan.ranges["scenarios"] > 0


def test_a_lazy_tuple_reads_as_its_tuple():
    made = []

    def make():
        made.append(1)
        return [1, 2, 3]

    lazy = Lazy(make, 3)
    assert len(lazy) == 3 and not made
    assert lazy == (1, 2, 3) and (1, 2, 3) == lazy and lazy != (1, 2)
    assert lazy + (4,) == (1, 2, 3, 4) and (0,) + lazy == (0, 1, 2, 3)
    assert list(reversed(lazy)) == [3, 2, 1] and 2 in lazy and lazy.index(3) == 2
    assert hash(lazy) == hash((1, 2, 3)) and repr(lazy) == "(1, 2, 3)"
    assert made == [1]  # made once, then kept
    assert len(Lazy(lambda: [1])) == 1  # no count announced: made to tell it
    with pytest.raises(AssertionError, match="2 items made, 3 announced"):
        Lazy(lambda: [1, 2], 3).items()


def test_sums_from_columns_equal_the_sums_over_lines(curves):
    plan = allocate(curves, {"budget": _half(curves)})
    cols = plan.lines.columns
    assert isinstance(cols, LineColumns)
    assert line_totals(plan.lines) == (plan.total_spend, plan.expected_results)
    keys = [ln.period for ln in cols.curve_lines]
    sums = grouped_sums("period", cols)
    assert sums == grouped_sums("period", replace(cols, curves=None))  # found, not memo'd
    assert list(sums) == list(dict.fromkeys(keys))  # first appearance
    lines = tuple(plan.lines)
    assert line_totals(lines) == (plan.total_spend, plan.expected_results)
    for period, t in sums.items():
        mine = [ln for ln in lines if ln.period == period]
        assert t["spend"] == sum(ln.spend for ln in mine)
        assert t["expected_results"] == sum(ln.expected_results for ln in mine)
    doubled = mapped(plan.lines, lambda ln: replace(ln, results_p10=1.0))
    assert type(doubled) is tuple  # the lines were made: mapped at once
    assert {ln.results_p10 for ln in doubled} == {1.0}


def test_facts_about_curves_are_found_again_for_new_lines(curves):
    assert _response_kinds(curves, curves.lines) == (False, False)
    ln = curves.lines[0]
    inside = CurveLine(ln.network, ln.segment, ln.period, ln.points, inside=0.5)
    other = replace(curves, lines=(inside, *curves.lines[1:]))
    assert _response_kinds(other, other.lines) == (True, False)
    assert _response_kinds(curves, curves.lines) == (False, False)
    assert other.networks == curves.networks and other.networks is not other.networks


def test_threads_reading_at_once_get_the_same_lines(curves):
    plan = allocate(curves, {"budget": _half(curves)})
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: tuple(plan.lines), range(32)))
    assert all(g == got[0] for g in got) and len(got[0]) == len(curves.lines)


def test_totals_of_a_plan_with_lines_excluded_are_its_own(curves):
    gone = curves.lines[0]
    spec = {"budget": _half(curves), "exclude": {"lines": [
        {"network": gone.network, "segment": gone.segment, "period": gone.period}]}}  # fmt: skip
    plan = allocate(curves, spec)
    assert plan.lines.columns.curves is None and len(plan.lines) == len(curves.lines) - 1
    before = plan.totals_by("segment")
    _ = tuple(plan.lines)
    assert before == plan.totals_by("segment")
    assert list(before) == list(dict.fromkeys(ln.segment for ln in curves.lines[1:]))


def test_pauses_of_the_collector_in_several_threads_end_with_it_running():
    import gc
    import threading

    from optimizer.curves import paused_gc

    assert gc.isenabled()
    inside, leave = threading.Barrier(3), threading.Event()

    def pause():
        with paused_gc():
            inside.wait()
            leave.wait()

    threads = [threading.Thread(target=pause) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()  # both paused at once
    assert not gc.isenabled()
    leave.set()
    for t in threads:
        t.join()
    assert gc.isenabled()
    with paused_gc(active=False):
        assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # off before: left off
    finally:
        gc.enable()


def test_curves_pickle_without_what_they_found(curves):
    _ = curves.networks, curves.keys(), curves.index()
    back = pickle.loads(pickle.dumps(curves))
    assert back == curves and back._memo == {} and back.networks == curves.networks
    assert len(pickle.dumps(curves)) == len(pickle.dumps(back))


def test_a_spec_whose_networks_are_renamed_is_matched_once(curves, monkeypatch):
    from optimizer import spec as spec_module

    net = curves.lines[0].network
    alias = net.upper()  # matched to the curve network by name
    spec = spec_module.PlanSpec.from_dict(
        {"budget": _half(curves), "networks": {alias: {"max": 1e9}}}
    )
    made = []
    real = spec_module.PlanSpec.from_dict.__func__
    monkeypatch.setattr(
        spec_module.PlanSpec,
        "from_dict",
        classmethod(lambda cls, *a: made.append(1) or real(cls, *a)),
    )
    matched = spec.for_curves(curves)
    assert list(matched.networks) == [net] and made == [1]
    assert spec.for_curves(curves) is matched and matched.for_curves(curves) is matched
    assert made == [1]
