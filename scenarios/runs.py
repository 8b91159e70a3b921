"""Run a scenario: the base and every variant through the optimizer, then the files.

``run_scenario(path_or_scenario, out_dir=None, on_progress=None)`` returns a
:class:`ScenarioRun`. With ``out_dir`` it writes::

    DIR/<variant>/plan.json, plan.csv   per variant (the base is named after the scenario)
    DIR/<variant>/infeasible.json       instead, for a variant whose rules cannot all hold
    DIR/workbook.xlsx                   for finance (see scenarios.workbook)
    DIR/report.html                     self-contained report with charts
    DIR/comparison.json                 the variants against the base
    DIR/frontier.png                    the base's budget frontier

An infeasible variant is reported with its diagnosis; the others still run.
``on_progress(message, done, total)`` is called as the work advances.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from forecasting.options import ResponseOptions
from forecasting.progress import Progress, no_progress
from optimizer import (
    CurveError,
    Curves,
    InfeasibleError,
    OptimizerError,
    Plan,
    PlanSpec,
    SpecError,
)
from optimizer.parallel import Executor, map_ordered

from .compare import PlanCase, compare_plans
from .errors import ScenarioError, ScenarioFileError
from .exports.write import json_safe, write_plan
from .files import Overrides, Scenario, deep_merge, load_scenario
from .forecast_inputs import DEFAULT_CAP_MULTIPLE
from .overrides import apply_overrides

#: frontier budgets as fractions of the base budget
FRONTIER_FRACTIONS = (0.5, 0.625, 0.75, 0.875, 1.0, 1.125, 1.25, 1.375, 1.5)


@dataclass
class VariantRun:
    """One optimised variant (the base is the first).

    ``spec`` is the spec it was solved with and ``plan`` its plan (None when its rules
    cannot all hold: see ``error`` and ``diagnosis``). ``written_spec`` is that spec as the
    scenario writes it (numbers as given: see :class:`~scenarios.overrides.Overridden`),
    what :meth:`to_dict` and the comparison show; None shows ``spec.to_dict()``.
    """

    name: str
    spec: PlanSpec
    overrides: Overrides
    curves: Curves
    plan: Plan | None = None
    error: str | None = None
    diagnosis: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    written_spec: Mapping[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Whether the variant got a plan (False: infeasible, see ``error`` and ``diagnosis``)."""
        return self.plan is not None

    @property
    def status(self) -> str:
        """The plan's status, or ``infeasible`` (with a diagnosis) or ``error`` without a plan."""
        if self.plan is not None:
            return self.plan.status
        return "infeasible" if self.diagnosis else "error"

    def spec_as_written(self) -> Mapping[str, Any]:
        """Return the spec as the scenario writes it (``spec.to_dict()`` when not known)."""
        return self.spec.to_dict() if self.written_spec is None else self.written_spec

    def case(self) -> PlanCase:
        """Return this variant as a :class:`PlanCase` for :func:`compare_plans`."""
        return PlanCase(
            name=self.name,
            spec=self.spec,
            plan=self.plan,
            overrides=self.overrides.to_dict(),
            error=self.error,
            diagnosis=self.diagnosis,
            written_spec=self.written_spec,
            curves=self.curves,
        )

    def to_dict(self) -> dict:
        """Return the variant as a JSON-ready dict: status, spec, plan or error, files..."""
        return json_safe(
            {
                "name": self.name,
                "status": self.status,
                "spec": self.spec_as_written(),
                "overrides": self.overrides.to_dict(),
                "notes": self.notes,
                "error": self.error,
                "diagnosis": self.diagnosis,
                "plan": None if self.plan is None else self.plan.to_dict(),
                "files": {k: str(v) for k, v in self.files.items()},
            }
        )


@dataclass
class ScenarioRun:
    """A scenario run: the curves, every variant (the base first), their comparison, the files."""

    scenario: Scenario
    curves: Curves
    variants: list[VariantRun]
    comparison: dict
    frontier: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def base(self) -> VariantRun:
        """The base variant (named after the scenario)."""
        return self.variants[0]

    def to_dict(self) -> dict:
        """Return the run as a JSON-ready dict (variants, comparison, frontier, warnings, files)."""
        return json_safe(
            {
                "name": self.scenario.name,
                "variants": [v.to_dict() for v in self.variants],
                "comparison": self.comparison,
                "frontier": self.frontier,
                "warnings": self.warnings,
                "files": {k: str(v) for k, v in self.files.items()},
            }
        )


def curves_from_history(
    path,
    start,
    end,
    period: str,
    result_type: str | None = None,
    on_progress: Progress = no_progress,
    *,
    cap_multiple: float = DEFAULT_CAP_MULTIPLE,
    response: ResponseOptions | None = None,
    threads: int | None = None,
    executor: Executor | None = None,
) -> tuple[Curves, list[str]]:
    """Read an ad history file (``forecasting.load_history``) and forecast its curves.

    Each curve ends at ``cap_multiple`` x its line's highest spend in one period; the
    response is modelled as ``response`` says (None: the defaults). ``threads`` is the
    backtest's threads (None: the forecast's choice; a batch worker uses 1); with an
    ``executor`` the backtest's fits run on it instead.
    """
    import forecasting

    on_progress(f"reading history {Path(path).name}", 0, 1)
    history = forecasting.load_history(path)
    on_progress(f"forecasting {start} to {end} by {period}", 0, 1)
    fr = forecasting.forecast_curves(
        history,
        start,
        end,
        period=period,
        result_type=result_type,
        cap_multiple=cap_multiple,
        response=response,
        n_jobs=threads,
        executor=executor,
    )
    return fr.curves, list(fr.warnings)


def scenario_curves(
    sc: Scenario,
    on_progress: Progress = no_progress,
    threads: int | None = None,
    executor: Executor | None = None,
) -> tuple[Curves, list[str]]:
    """Return the scenario's response curves: read from ``curves`` or forecast from ``history``.

    Also returns the forecast's warnings (none for curves read from a file); ``threads`` as
    :func:`curves_from_history`.
    """
    if sc.curves_path is not None:
        from .inputs import read_curves

        return read_curves(sc.curves_path), []
    if sc.period is None:  # load_scenario requires it with history
        raise ScenarioFileError(
            f"{sc.source}: period: is required with 'history'", file=sc.source, key="period"
        )
    return curves_from_history(
        sc.history_path,
        sc.start,
        sc.end,
        sc.period,
        sc.result_type,
        on_progress,
        cap_multiple=sc.cap_multiple,
        response=sc.response,
        threads=threads,
        executor=executor,
    )


def optimise(
    curves: Curves,
    spec: PlanSpec,
    *,
    solver: str | None = None,
    time_limit: float | None = None,
) -> Plan:
    """Return ``allocate(curves, spec)``, solved with ``solver`` within ``time_limit`` seconds.

    Errors pass through.
    """
    from optimizer import allocate

    return allocate(curves, spec, solver=solver, time_limit=time_limit)


def run_variant(
    sc: Scenario,
    curves: Curves,
    name: str,
    patch: Mapping[str, Any],
    overrides: Overrides,
    solver: str | None = None,
    time_limit: float | None = None,
) -> VariantRun:
    """Optimise one variant: the base spec with ``patch`` merged in, then ``overrides``.

    An infeasible variant comes back with its error and diagnosis instead of a plan; a spec
    or curve error (a rule naming nothing...) raises ScenarioFileError naming the variant.
    """
    where = sc.source if name == sc.name else f"{sc.source}: variant {name}"
    label = "overrides" if name == sc.name else f"variant {name} overrides"
    try:
        ov = apply_overrides(
            curves,
            deep_merge(sc.spec, patch),
            overrides,
            source=f"{sc.source}: {label}",
            spec_source=f"{where} spec",
        )
        run = VariantRun(
            name=name,
            spec=ov.spec,
            overrides=overrides,
            curves=ov.curves,
            notes=ov.notes,
            written_spec=ov.written,
        )
        try:
            run.plan = optimise(ov.curves, ov.spec, solver=solver, time_limit=time_limit)
        except InfeasibleError as e:
            run.error = str(e)
            run.diagnosis = list(e.diagnosis)
    except (SpecError, CurveError) as e:  # a rule naming nothing etc.: say which variant
        msg = str(e)
        if not msg.startswith(sc.source):
            msg = f"{where}: {msg}"
        raise ScenarioFileError(msg, file=sc.source) from None
    return run


def base_frontier(
    run: VariantRun,
    solver: str | None = None,
    time_limit: float | None = None,
    executor: Executor | None = None,
) -> list[dict]:
    """Return the budget frontier of ``run`` at ``FRONTIER_FRACTIONS`` of its budget.

    Solved with ``solver`` (None: the optimizer's default), on ``executor``; each point
    names its solver.
    """
    from .solver import frontier_points

    budgets = [round(run.spec.budget * f, 2) for f in FRONTIER_FRACTIONS]
    return frontier_points(
        run.curves, run.spec, budgets, solver=solver, time_limit=time_limit, executor=executor
    )


def _variant_task(args: tuple) -> VariantRun:
    sc, curves, name, patch, ov, solver, time_limit = args
    return run_variant(sc, curves, name, patch, ov, solver=solver, time_limit=time_limit)


def run_scenario(
    path_or_scenario: str | Path | Scenario,
    out_dir: str | Path | None = None,
    on_progress: Progress | None = None,
    *,
    solver: str | None = None,
    time_limit: float | None = None,
    curves: Curves | None = None,
    frontier: bool = True,
    report: bool = True,
    executor: Executor | None = None,
    threads: int | None = None,
) -> ScenarioRun:
    """Run the base and every variant of a scenario; write the files when ``out_dir`` is set.

    ``curves`` skips reading or forecasting them (the demo passes the ones it forecast).
    With an ``executor`` (``optimizer.parallel``) the variants, and the frontier's budgets,
    run on its workers; ``threads`` is the forecast's (see :func:`curves_from_history`).
    """
    progress = on_progress or no_progress
    sc = (
        path_or_scenario
        if isinstance(path_or_scenario, Scenario)
        else load_scenario(path_or_scenario)
    )
    warnings: list[str] = []
    if curves is None:
        curves, warnings = scenario_curves(sc, progress, threads, executor)
    todo: list[tuple[str, Mapping[str, Any], Overrides]] = [(sc.name, {}, sc.overrides)] + [
        (v.name, v.spec_patch, sc.overrides.then(v.overrides)) for v in sc.variants
    ]
    total = len(todo) + (1 if frontier else 0) + (1 if out_dir is not None else 0)
    runs = _variants(sc, curves, todo, progress, total, solver, time_limit, executor)
    done = len(todo)
    points: list[dict] = []
    if frontier and runs[0].ok:
        progress("budget frontier", done, total)
        try:
            points = base_frontier(runs[0], solver, time_limit, executor=executor)
        except (ScenarioError, OptimizerError) as e:  # reported, not fatal
            warnings.append(f"frontier skipped: {e}")
        done += 1
    elif frontier:
        done += 1
    comparison = compare_plans([r.case() for r in runs])
    result = ScenarioRun(sc, curves, runs, comparison, points, warnings)
    if out_dir is not None:
        progress("writing files", done, total)
        write_run(result, Path(out_dir), report=report)
        done += 1
    progress("done", total, total)
    return result


def _variants(  # noqa: PLR0913
    sc, curves, todo, progress, total, solver, time_limit, executor
) -> list[VariantRun]:
    """Optimise every variant of ``todo``: here, one by one, or on ``executor``."""
    if executor is None or executor.workers < 2:
        runs = []
        for i, (name, patch, ov) in enumerate(todo):
            progress(f"optimising {name}", i, total)
            runs.append(
                run_variant(sc, curves, name, patch, ov, solver=solver, time_limit=time_limit)
            )
        return runs
    progress(f"optimising {len(todo)} variants on {executor!r}", 0, total)
    tasks = [(sc, curves, name, patch, ov, solver, time_limit) for name, patch, ov in todo]
    return map_ordered(executor, _variant_task, tasks)


def write_run(run: ScenarioRun, out: Path, *, report: bool = True) -> dict[str, Path]:
    """Write a scenario run's files into ``out`` (see the module docstring)."""
    from .workbook import scenario_workbook_bytes

    out.mkdir(parents=True, exist_ok=True)
    for v in run.variants:
        d = out / v.name
        d.mkdir(parents=True, exist_ok=True)
        if v.plan is not None:
            v.files["json"] = write_plan(v.plan, d / "plan.json")
            v.files["csv"] = write_plan(v.plan, d / "plan.csv")
            stale = d / "infeasible.json"
        else:
            p = d / "infeasible.json"
            p.write_text(json.dumps(json_safe(v.to_dict()), indent=2) + "\n", encoding="utf-8")
            v.files["infeasible"] = p
            stale = d / "plan.json"
        if stale.exists():  # a file from an earlier run would contradict this one
            stale.unlink()
    files: dict[str, Path] = {}
    p = out / "workbook.xlsx"
    p.write_bytes(scenario_workbook_bytes(run))
    files["workbook"] = p
    p = out / "comparison.json"
    p.write_text(json.dumps(json_safe(run.comparison), indent=2) + "\n", encoding="utf-8")
    files["comparison"] = p
    if any(p.get("expected_results") is not None for p in run.frontier):
        # reach's points carry no total across periods: no frontier to draw
        from .exports.charts import write_frontier_chart

        files["frontier"] = write_frontier_chart(
            run.frontier, out / "frontier.png", run.curves.currency
        )
    if report:
        from .report import scenario_html_text

        p = out / "report.html"
        p.write_text(scenario_html_text(run), encoding="utf-8")
        files["report"] = p
    run.files.update(files)
    return files


def _file_cases(args: tuple) -> list[PlanCase]:
    """Run one scenario file's base (and variants); return its cases, not yet renamed."""
    path, variants, solver, time_limit, threads = args
    sc = load_scenario(path)
    if not variants:
        sc = Scenario(**{**{f: getattr(sc, f) for f in sc.__slots__}, "variants": ()})
    run = run_scenario(
        sc, None, None, solver=solver, time_limit=time_limit, frontier=False, threads=threads
    )
    return [v.case() for v in run.variants]


def compare_files(  # noqa: PLR0913 (one argument per option)
    paths: Sequence[str | Path],
    *,
    variants: bool = False,
    on_progress: Progress | None = None,
    solver: str | None = None,
    time_limit: float | None = None,
    executor: Executor | None = None,
) -> dict:
    """Run the base of each scenario file and compare them all with the first file's base.

    With ``variants=True`` every file's variants run and are compared too (see
    :func:`compare_plans`). Files are not written. With an ``executor`` the files run on its
    workers.
    """
    if len(paths) < 2 and not variants:
        raise ScenarioError("compare: give at least two scenario files (or --variants)")
    progress = on_progress or no_progress
    for path in paths:  # every file checked before any runs
        load_scenario(path)
    # on workers: whole paths (a worker's folder is not this one's) and one thread each
    threads = None if executor is None else 1
    tasks = [(Path(p).resolve(), variants, solver, time_limit, threads) for p in paths]
    if executor is None:
        per_file = []
        for i, t in enumerate(tasks):
            progress(f"running {Path(t[0]).name}", i, len(paths))
            per_file.append(_file_cases(t))
    else:
        progress(f"running {len(paths)} files on {executor!r}", 0, len(paths))
        per_file = map_ordered(executor, _file_cases, tasks, batch_size=1)
    cases: list[PlanCase] = []
    seen: set[str] = set()
    for path, file_cases in zip(paths, per_file, strict=True):
        for c in file_cases:
            name = c.name if c.name not in seen else f"{c.name} ({Path(path).name})"
            seen.add(name)
            cases.append(replace(c, name=name, source=str(path)))
    progress("compared", len(paths), len(paths))
    return json_safe(compare_plans(cases))
