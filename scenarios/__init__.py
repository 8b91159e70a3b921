"""adplan's scenarios: what-if files, runs, comparisons, re-plans and exports.

::

    load_scenario("q1.yaml")                       # validated Scenario (errors name file + key)
    run = run_scenario("q1.yaml", "out/")          # base + variants, plans, workbook, report
    compare_files(["a.yaml", "b.yaml"])            # money moved, deltas, rule changes
    scenarios.replan.replan(curves, spec, actuals, "2027-02-15")   # lock spend, re-optimise
    write_plan(plan, "plan.xlsx")                  # .json .csv .xlsx .html
    run_demo("adplan-demo")                        # the whole pipeline on the sample

Errors::

    ScenarioError
    ├── ScenarioFileError   a scenario file is malformed (file and key path)
    ├── ExportError         a plan cannot be exported
    └── ActualsError        actuals cannot be matched to the plan

Names load lazily (PEP 562) so that ``adplan --help`` stays free of pandas and matplotlib.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ScenarioError": "errors",
    "ScenarioFileError": "errors",
    "ExportError": "errors",
    "ActualsError": "errors",
    "Scenario": "files",
    "Variant": "files",
    "Overrides": "files",
    "load_scenario": "files",
    "scenario_from_dict": "files",
    "run_scenario": "runs",
    "ScenarioRun": "runs",
    "VariantRun": "runs",
    "compare_files": "runs",
    "compare_plans": "compare",
    "PlanCase": "compare",
    "ReplanResult": "replan",
    "write_plan": "exports",
    "plan_csv_text": "exports",
    "plan_xlsx_bytes": "exports",
    "neutralise_cell": "exports",
    "write_frontier_chart": "exports",
    "run_demo": "demo",
    "DemoResult": "demo",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'scenarios' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"scenarios.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
