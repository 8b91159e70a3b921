"""Typed to the edges: scenarios/ and service/ pass Plan, PlanSpec and Curves objects around.

Dicts appear only where a file or a request is read (scenario YAML, spec and curves files,
HTTP bodies) and where JSON, CSV, XLSX or HTML is written or an HTTP response is built. The
last tests read every signature of scenarios/ and service/ to keep it that way.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime as dt
import importlib
import inspect
import pkgutil
import re
import typing

import pytest
import yaml

from optimizer import Curves, Plan, PlanSpec, load_curves
from scenarios.compare import PlanCase, compare_plans
from scenarios.files import Overrides, load_scenario
from scenarios.overrides import apply_overrides
from scenarios.replan import ReplanResult, replan
from scenarios.runs import VariantRun, optimise, run_scenario

ACTUALS = [
    {"date": "2027-01-05", "network": "meta", "segment": "f-25-34", "spend": 3000.0},
    {"date": "2027-01-12", "network": "tiktok", "segment": "m-25-34", "spend": 2500.0},
    {"date": "2027-02-03", "network": "google", "segment": "retargeting", "spend": 1500.0},
]


@pytest.fixture(scope="module")
def curves(examples_dir) -> Curves:
    return load_curves(examples_dir / "curves.json")


@pytest.fixture(scope="module")
def spec(examples_dir) -> PlanSpec:
    data = yaml.safe_load((examples_dir / "plan.yaml").read_text())
    return PlanSpec.from_dict(data, source="plan.yaml")


@pytest.fixture(scope="module")
def run(examples_dir):
    return run_scenario(examples_dir / "q1-2027.yaml", None, frontier=False, report=False)


def test_optimise_returns_a_plan(curves, spec):
    plan = optimise(curves, spec)
    assert isinstance(plan, Plan)
    assert plan.total_spend == pytest.approx(spec.budget, rel=1e-6)


def test_the_variants_hold_plans_and_specs(run):
    assert len(run.variants) == 4
    for v in run.variants:
        assert isinstance(v, VariantRun)
        assert isinstance(v.spec, PlanSpec) and isinstance(v.plan, Plan), v.name
        assert isinstance(v.curves, Curves)
    base, cut = run.variants[:2]
    assert cut.spec.budget == pytest.approx(0.9 * base.spec.budget)
    assert cut.plan.budget == cut.spec.budget
    # the JSON shows the spec as the scenario writes it: 60000 stays an int
    assert base.to_dict()["spec"]["budget"] == 60000
    assert type(base.to_dict()["spec"]["budget"]) is int
    assert base.to_dict()["plan"] == base.plan.to_dict()


def test_overrides_return_a_plan_spec(curves, examples_dir):
    sc = load_scenario(examples_dir / "q1-2027.yaml")
    ov = apply_overrides(curves, sc.spec, Overrides(budget="-10%", exclude_networks=("linkedin",)))
    assert isinstance(ov.spec, PlanSpec) and isinstance(ov.curves, Curves)
    assert ov.spec.budget == pytest.approx(54000)
    assert "linkedin" not in ov.spec.networks and ov.spec.exclude.networks == ("linkedin",)
    assert ov.written["budget"] == 54000.0 and "linkedin" not in ov.written["networks"]
    assert any("linkedin" in n for n in ov.notes)


def test_overrides_keep_the_spec_errors(curves):
    from optimizer import SpecError

    with pytest.raises(SpecError, match=r"^s\.yaml spec: spec\.networks\.meta\.min: must be >= 0"):
        apply_overrides(
            curves, {"budget": 10, "networks": {"meta": {"min": -1}}}, Overrides(),
            spec_source="s.yaml spec",
        )  # fmt: skip


def test_replan_result_holds_plans_and_a_spec(curves, spec):
    res = replan(curves, spec, ACTUALS, dt.date(2027, 2, 15))
    assert isinstance(res, ReplanResult)
    assert isinstance(res.plan, Plan) and isinstance(res.original, Plan)
    assert isinstance(res.spec, PlanSpec)
    # the open part is optimised from what is left of the budget
    assert res.spec.budget == pytest.approx(spec.budget - 3000 - 2500)
    assert "(re-plan as of 2027-02-15)" in res.spec.source
    d = res.to_dict()
    assert d["replan"]["original_total_spend"] == res.original.total_spend
    assert {k: v for k, v in d.items() if k != "replan"} == res.plan.to_dict()


def test_replan_after_every_period_holds_the_whole_spec(curves, spec):
    res = replan(curves, spec, ACTUALS, dt.date(2027, 6, 1))
    assert isinstance(res.spec, PlanSpec)
    assert all(ln.lock is not None for ln in res.spec.lines)
    assert any("every period ended" in w for w in res.warnings)


def test_compare_accepts_plans(run):
    comp = compare_plans([v.case() for v in run.variants])
    assert [c["name"] for c in comp["cases"]] == [v.name for v in run.variants]
    base, cut = run.variants[:2]
    delta = comp["cases"][1]["delta"]
    assert delta["total_spend"] == pytest.approx(cut.plan.total_spend - base.plan.total_spend)
    # without the spec as written, the comparison diffs the PlanSpecs' own mappings
    plain = compare_plans([PlanCase(v.name, v.spec, v.plan) for v in run.variants[:2]])
    changes = {c["path"]: c for c in plain["cases"][1]["spec_changes"]}
    assert changes["budget"]["base"] == 60000.0 and changes["budget"]["variant"] == 54000.0


def test_compare_an_infeasible_case_reads_the_budget_from_its_spec(run):
    base = run.variants[0]
    bad = PlanCase("bad", base.spec.with_budget(1234.5), None, error="no")
    case = compare_plans([base.case(), bad])["cases"][1]
    assert case["status"] == "error" and case["budget"] == 1234.5


# -- no plan or spec dicts between functions ----------------------------------------------

#: parameters and fields that hold a plan, a spec or curves
TYPED_NAMES = {"spec", "plan", "curves", "original", "sub_plan", "sub_spec", "whole"}
#: the edges, where request JSON or files are read and responses are built: pydantic models
#: (checked separately) and these modules
EDGE_MODULES = ("service.schemas", "service.routers")
#: the scenario file's base spec stays as written: variants patch it, and it may even lack a
#: budget that the overrides give; it becomes a PlanSpec per variant (apply_overrides)
ALLOWED = {("scenarios.files", "Scenario", "spec")}
_DICTS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)
_DICT_TEXT = re.compile(r"\b(dict|Dict|Mapping|MutableMapping)\b")


def _modules():
    import scenarios
    import service

    for pkg in (scenarios, service):
        yield importlib.import_module(pkg.__name__)
        for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            yield importlib.import_module(m.name)


def _is_dict(hint) -> bool:
    if isinstance(hint, str | typing.ForwardRef):
        return bool(_DICT_TEXT.search(getattr(hint, "__forward_arg__", hint)))
    if hint in _DICTS:
        return True
    origin = typing.get_origin(hint)
    if origin in _DICTS:
        return True
    return any(_is_dict(a) for a in typing.get_args(hint))


def _hints(obj) -> dict:
    try:
        return typing.get_type_hints(obj)
    except NameError:  # a name imported only for the type checker: read the text
        return dict(getattr(obj, "__annotations__", {}))


def _functions(mod):
    """Yield (owner, name, function) for every function and method defined in ``mod``."""
    for attr, obj in vars(mod).items():
        if getattr(obj, "__module__", None) != mod.__name__:
            continue
        if inspect.isfunction(obj):
            yield "", attr, obj
        elif inspect.isclass(obj):
            for name, f in vars(obj).items():
                if inspect.isfunction(f):
                    yield attr, name, f


def _function_offences(mod) -> list[str]:
    out = []
    for owner, name, fn in _functions(mod):
        hints = _hints(fn)
        for param, hint in hints.items():
            if param in TYPED_NAMES and (mod.__name__, owner, param) not in ALLOWED:
                if _is_dict(hint):
                    out.append(f"{mod.__name__}.{owner}.{name}({param}: {hint})")
        returns = hints.get("return")
        if re.search(r"(^|_)(spec|plan|optimise|replan)$", name) and _is_dict(returns):
            out.append(f"{mod.__name__}.{owner}.{name} -> {returns}")
    return out


def _field_offences(mod) -> list[str]:
    out = []
    for attr, cls in vars(mod).items():
        if not (inspect.isclass(cls) and dataclasses.is_dataclass(cls)):
            continue
        if cls.__module__ != mod.__name__:
            continue
        hints = _hints(cls)
        for f in dataclasses.fields(cls):
            allowed = (mod.__name__, attr, f.name) in ALLOWED
            if f.name in TYPED_NAMES and not allowed and _is_dict(hints.get(f.name)):
                out.append(f"{mod.__name__}.{attr}.{f.name}: {hints.get(f.name)}")
    return out


def _offences() -> list[str]:
    out = []
    for mod in _modules():
        if not mod.__name__.startswith(EDGE_MODULES):
            out += _function_offences(mod) + _field_offences(mod)
    return out


def test_no_function_or_field_takes_a_plan_or_spec_dict():
    assert _offences() == []


def test_the_check_catches_a_dict():
    assert _is_dict(dict) and _is_dict(dict[str, typing.Any]) and _is_dict("Mapping | None")
    assert _is_dict(collections.abc.Mapping[str, float] | None)
    assert not _is_dict(PlanSpec) and not _is_dict(Plan | None) and not _is_dict("Plan")


@pytest.mark.parametrize(
    "fn, param, want",
    [
        (optimise, "spec", PlanSpec),
        (optimise, "curves", Curves),
        (optimise, "return", Plan),
        (replan, "spec", PlanSpec),
        (replan, "return", ReplanResult),
        (apply_overrides, "curves", Curves),
    ],
    ids=lambda x: getattr(x, "__name__", str(x)),
)
def test_the_key_signatures_are_typed(fn, param, want):
    assert typing.get_type_hints(fn)[param] is want


def test_the_results_hold_typed_fields():
    assert typing.get_type_hints(VariantRun)["spec"] is PlanSpec
    assert typing.get_type_hints(VariantRun)["plan"] == Plan | None
    assert typing.get_type_hints(PlanCase)["plan"] == Plan | None
    hints = typing.get_type_hints(ReplanResult)
    assert (hints["plan"], hints["original"], hints["spec"]) == (Plan, Plan, PlanSpec)
    from scenarios.solver import frontier_points
    from service.operations import request_spec

    assert typing.get_type_hints(frontier_points)["spec"] is PlanSpec
    assert typing.get_type_hints(request_spec)["return"] is PlanSpec
