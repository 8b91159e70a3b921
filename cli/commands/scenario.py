"""``adplan scenario run|compare`` and ``adplan replan``: what-ifs and mid-quarter re-plans.

Imports only typer, rich and the standard library at module top; the work happens in
``scenarios.runs``, ``scenarios.compare`` and ``scenarios.replan``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from ._common import (
    EXIT_INFEASIBLE,
    CapMultipleOpt,
    CarryoverOpt,
    EventsOpt,
    ExecutorOpt,
    IncrementalOpt,
    LiftOpt,
    PlatformsOpt,
    PriorsOpt,
    SeasonOpt,
    ShapeOpt,
    SolverOpt,
    TimeLimitOpt,
    WorkersOpt,
    cap_multiple_option,
    cli_errors,
    day_option,
    err,
    fail,
    open_executor,
    out,
    platform_minimums,
    print_json,
    progress_bar,
    response_option,
    warn,
)

OVER_UNDER = "Over/(under) base"
#: what a table shows where a total across periods of non-additive results (reach) would be
NOT_ADDITIVE = "not additive"


def _e(value) -> str:
    """User text (names, paths, messages) shown literally, never read as Rich markup."""
    return escape("" if value is None else str(value))


def _money(v, digits: int = 2) -> str:
    return "" if v is None else f"{v:,.{digits}f}"


def _signed(v, digits: int = 2) -> str:
    """Format ``v`` finance style: negatives in parentheses, "" for None."""
    if v is None:
        return ""
    if abs(v) < 0.5 * 10**-digits:
        return f"{0:,.{digits}f}"
    return f"({-v:,.{digits}f})" if v < 0 else f"{v:,.{digits}f}"


def _summed(comp: dict) -> bool:
    """Say whether the compared plans' results add up across periods (reach does not)."""
    return comp.get("results_additive") is not False


def comparison_table(comp: dict, title: str) -> Table:
    """Tabulate the totals per plan: status, spend, results and cost per result.

    Results that do not add up across periods (reach) show "not additive" where a total
    would be, and why in the caption (each period's: :func:`periods_table`).
    """
    t = Table(title=_e(title))
    for col in ("plan", "status", "spend", "results", "P10-P90", "cost/result"):
        t.add_column(
            col, justify="left" if col in ("plan", "status") else "right", no_wrap=col == "P10-P90"
        )
    summed = _summed(comp)
    for c in comp["cases"]:
        lo, hi = c.get("results_p10"), c.get("results_p90")
        results, cpr = _money(c.get("expected_results")), _money(c.get("cost_per_result"))
        if not summed and "error" not in c:  # a plan, of reach
            results = cpr = NOT_ADDITIVE
        t.add_row(
            _e(c["name"]),
            _e(c.get("status")),
            _money(c.get("total_spend")),
            results,
            "" if lo is None or hi is None else f"{lo:,.0f}-{hi:,.0f}",
            cpr,
        )
    if not summed:
        rt = _e(comp.get("result_type") or "results")
        t.caption = (
            f"{rt} cannot be added across periods (people reached in two periods would be "
            f"counted twice): no total across periods, each period's below; the plans "
            f"maximise the sum of the periods' {rt} (person-periods, not people)"
        )
    return t


def periods_table(comp: dict) -> Table | None:
    """Tabulate each plan's results per period when they do not add up across periods.

    None when they do (the totals say it all) or no plan has periods to show.
    """
    cases = [c for c in comp["cases"] if c.get("by_period")]
    if _summed(comp) or not cases:
        return None
    rtype = _e(comp.get("result_type") or "results")
    t = Table(title=f"{rtype} by period (not additive across periods)")
    t.add_column("period")
    for c in cases:
        t.add_column(_e(c["name"]), justify="right")
    periods = sorted({p for c in cases for p in c["by_period"]})
    for p in periods:
        cells = [(c["by_period"].get(p) or {}).get("expected_results") for c in cases]
        t.add_row(_e(p), *(_money(v) for v in cells))
    return t


def delta_table(comp: dict) -> Table | None:
    """Tabulate each plan's totals over/(under) the base; None when there is nothing to compare."""
    others = [c for c in comp["cases"][1:] if c.get("delta")]
    if not others:
        return None
    t = Table(title=f"{OVER_UNDER} ({_e(comp['base'])})")
    for col in ("plan", "spend", "results", "cost/result", "chance it beats the base"):
        t.add_column(col, justify="left" if col == "plan" else "right")
    summed = _summed(comp)
    for c in others:
        d, p = c["delta"], c.get("beats_base_probability")
        results, cpr = _signed(d.get("expected_results"), 1), _signed(d.get("cost_per_result"))
        t.add_row(
            _e(c["name"]),
            _signed(d.get("total_spend")),
            results if summed else NOT_ADDITIVE,
            cpr if summed else NOT_ADDITIVE,
            "-" if p is None else f"{p:.1%}",
        )
    t.caption = (
        "chance it beats the base: the share of simulated scenarios of the forecast's "
        "uncertainty, the same for every plan, in which the plan brings more results"
    )
    if not summed:  # (the null differences and chances: results are not additive)
        t.caption = (
            f"{_e(comp.get('result_type'))} cannot be added across periods: no difference in "
            "results nor chance of beating the base across periods (each period's above)"
        )
    return t


def moved_table(comp: dict, dim: str) -> Table | None:
    """Tabulate the spend moved between ``dim`` ("networks" or "segments"); None if none moved.

    One row per network or segment: the base's spend, then each plan's change over/(under) it.
    """
    others = [c for c in comp["cases"][1:] if c.get("moved")]
    if not others:
        return None
    t = Table(title=f"Money moved between {dim} ({OVER_UNDER})")
    t.add_column(dim[:-1])
    t.add_column(f"{_e(comp['base'])} spend", justify="right")
    for c in others:
        t.add_column(_e(c["name"]), justify="right")
    names: dict[str, float] = {}
    for c in others:
        for m in c["moved"][dim]:
            names.setdefault(m["name"], m["base_spend"])
    for n, base in sorted(names.items()):
        row = [_e(n), _money(base)]
        for c in others:
            m = next((m for m in c["moved"][dim] if m["name"] == n), None)
            row.append(_signed(m["change"]) if m else "")
        t.add_row(*row)
    return t


def changes_table(comp: dict) -> Table | None:
    """Tabulate each plan's spec changes, shadow prices and errors; None when there are none."""
    t = Table(title="Rule changes and shadow prices (results per extra unit of currency)")
    for col in ("plan", "rule", "base", "this plan"):
        t.add_column(col)
    n = 0
    for c in comp["cases"][1:]:
        for ch in c.get("spec_changes") or []:
            t.add_row(_e(c["name"]), _e(ch["path"]), _e(ch["base"]), _e(ch["variant"]))
            n += 1
        for r in c.get("rules") or []:
            t.add_row(
                _e(c["name"]),
                f"shadow price {_e(r['name'])}",
                "" if r["base_shadow_price"] is None else f"{r['base_shadow_price']:.4g}",
                "" if r["shadow_price"] is None else f"{r['shadow_price']:.4g}",
            )
            n += 1
        if c.get("error"):
            t.add_row(_e(c["name"]), "infeasible", "", _e(c["error"].splitlines()[0]))
            n += 1
    return t if n else None


def print_comparison(comp: dict, title: str) -> None:
    """Print a comparison (``compare_plans``): totals, deltas, money moved, rule changes."""
    out.print(comparison_table(comp, title))
    for part in (
        periods_table(comp),
        delta_table(comp),
        moved_table(comp, "networks"),
        moved_table(comp, "segments"),
        changes_table(comp),
    ):
        if part is not None:
            out.print(part)


def register(app: typer.Typer) -> None:
    """Add ``adplan scenario run``, ``adplan scenario compare`` and ``adplan replan`` to ``app``."""
    scenario = typer.Typer(
        help="What-if scenarios: run a scenario file's variants, compare scenario files.",
        no_args_is_help=True,
    )
    app.add_typer(scenario, name="scenario")
    scenario.command("run")(run_cmd)
    scenario.command("compare")(compare_cmd)
    app.command("replan")(replan_cmd)


def run_cmd(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for plans, workbook and report.")
    ] = Path("scenario-out"),
    solver: SolverOpt = None,
    time_limit: TimeLimitOpt = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON.")] = False,
) -> None:
    """Run a scenario file's base and every variant; write the plans, workbook and report.

    Writes DIR/<variant>/plan.json and plan.csv, DIR/workbook.xlsx, DIR/report.html, DIR/comparison.json and DIR/frontier.png, where DIR is --out. A variant whose rules cannot all hold gets DIR/<variant>/infeasible.json instead, with its diagnosis.
    """
    with cli_errors():
        from scenarios.runs import run_scenario
        from scenarios.solver import choose_solver

        solver = choose_solver(solver)
        with open_executor(executor, workers) as ex, progress_bar(not as_json) as on_progress:
            run = run_scenario(
                file, out_dir, on_progress, solver=solver, time_limit=time_limit, executor=ex
            )
        for w in run.warnings:
            warn(w)
        if as_json:
            print_json(
                {
                    "name": run.scenario.name,
                    "comparison": run.comparison,
                    "files": {k: str(v) for k, v in run.files.items()},
                    "variants": {
                        v.name: {k: str(p) for k, p in v.files.items()} for v in run.variants
                    },
                }
            )
        else:
            _print_run(run)
        _warn_infeasible(run)
        if not run.base.ok:
            raise typer.Exit(EXIT_INFEASIBLE)


def _print_run(run) -> None:
    """Print a scenario run's comparison and the files it wrote."""
    print_comparison(run.comparison, f"Scenario {run.scenario.name}")
    files = {f"{v.name} {k}": p for v in run.variants for k, p in v.files.items()}
    files.update(run.files)
    out.print("[bold]Files[/]")
    width = max(len(k) for k in files)
    for k, p in files.items():  # whole paths, never cut
        out.print(f"  {k:<{width}}  {p}", highlight=False, soft_wrap=True, markup=False)


def _warn_infeasible(run) -> None:
    """Warn of each variant without a plan, with its diagnosis."""
    for v in run.variants:
        if v.ok:
            continue
        warn(f"variant {v.name}: no plan: {v.error}")
        for item in v.diagnosis:
            msg = item.get("message") if isinstance(item, dict) else str(item)
            if msg:
                err.print(f"  - {escape(str(msg))}", highlight=False, soft_wrap=True)


def compare_cmd(
    files: Annotated[list[Path], typer.Argument(help="Scenario files; the first is the base.")],
    variants: Annotated[
        bool, typer.Option("--variants", help="Include every file's variants.")
    ] = False,
    solver: SolverOpt = None,
    time_limit: TimeLimitOpt = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON.")] = False,
) -> None:
    """Compare the base of each scenario file with the first file's base, side by side.

    Shows the money moved between networks and segments, the change in results and cost per result, and the rule changes (spec diff, shadow prices) that moved it. With --variants, every file's variants are compared too.
    """
    with cli_errors():
        from scenarios.runs import compare_files
        from scenarios.solver import choose_solver

        if len(files) < 2 and not variants:
            raise fail("compare needs at least two scenario files (or --variants)")
        solver = choose_solver(solver)
        with open_executor(executor, workers) as ex, progress_bar(not as_json) as on_progress:
            comp = compare_files(
                files,
                variants=variants,
                on_progress=on_progress,
                solver=solver,
                time_limit=time_limit,
                executor=ex,
            )
        if as_json:
            print_json(comp)
        else:
            print_comparison(comp, f"Compared with {comp['base']}")


def replan_cmd(
    spec: Annotated[Path, typer.Option("--spec", help="Plan spec (YAML or JSON).")],
    actuals: Annotated[
        list[Path],
        typer.Option("--actuals", help="Spend so far: platform export or canonical CSV."),
    ],
    as_of: Annotated[
        str, typer.Option("--as-of", help="Date YYYY-MM-DD; spend before it is locked.")
    ],
    curves: Annotated[Path | None, typer.Option("--curves", help="Curves JSON.")] = None,
    history: Annotated[
        Path | None, typer.Option("--history", help="Ad history to forecast curves from.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First day to forecast (YYYY-MM-DD).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day to forecast (YYYY-MM-DD).")
    ] = None,
    period: Annotated[str, typer.Option("--period", help="week or month.")] = "week",
    result_type: Annotated[
        str | None,
        typer.Option(
            "--result-type",
            help="Result type to forecast (with --history; default: the one with most spend).",
        ),
    ] = None,
    cap_multiple: CapMultipleOpt = None,
    carryover: CarryoverOpt = None,
    season: SeasonOpt = None,
    shape: ShapeOpt = None,
    events: EventsOpt = None,
    priors: PriorsOpt = None,
    lift: LiftOpt = None,
    incremental: IncrementalOpt = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Re-plan file (.json .csv .xlsx .html).")
    ] = None,
    solver: SolverOpt = None,
    time_limit: TimeLimitOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON.")] = False,
    platforms: PlatformsOpt = None,
) -> None:
    """Lock the periods before --as-of at the spend actually made and re-optimise the rest.

    Shows plan vs actual vs re-plan per line and period, then the totals. In the period running on --as-of the spend already made is a minimum; spend the plan cannot hold is taken off the budget, with a warning.
    """
    with cli_errors():
        day, window = _replan_dates(out_file, curves, history, start, end, as_of)
        cap = cap_multiple_option(cap_multiple, history)
        response = response_option(
            history,
            carryover=carryover,
            season=season,
            shape=shape,
            events=events,
            priors=priors,
            lift=lift,
            incremental=incremental,
        )
        import forecasting
        from scenarios.exports import write_plan
        from scenarios.inputs import read_spec
        from scenarios.replan import replan
        from scenarios.solver import choose_solver

        solver = choose_solver(solver)
        plan_spec = read_spec(spec)  # read and checked as `adplan optimize --spec` reads it
        with progress_bar(not as_json) as on_progress:
            c, warnings = _replan_curves(
                curves, history, window, period, result_type, cap, on_progress, response
            )
            if on_progress:
                on_progress("reading actuals", 0, 2)
            acts = forecasting.load_history(actuals)
            if platforms is not None:
                plan_spec = platform_minimums(plan_spec, c, platforms)
            if on_progress:
                on_progress("re-optimising", 1, 2)
            res = replan(
                c, plan_spec, acts, day, solver=solver, time_limit=time_limit, source=str(spec)
            )
        for w in warnings + res.warnings:
            warn(w)
        d = res.to_dict()  # the re-plan's JSON: what --out and --json write
        if out_file is not None:
            write_plan(d, out_file, curves=c)
        if as_json:
            print_json(d)
            return
        out.print(_replan_table(res, day, c.currency))
        out.print(_replan_totals(res, d))
        if not (res.original.results_additive and res.plan.results_additive):
            out.print(_replan_periods(res))
        if out_file is not None:
            err.print(f"wrote {out_file}", highlight=False, markup=False)


def _replan_dates(
    out_file: Path | None,
    curves: Path | None,
    history: Path | None,
    start: str | None,
    end: str | None,
    as_of: str,
) -> tuple[dt.date, tuple[dt.date, dt.date] | None]:
    """Check the re-plan's arguments before anything is read.

    Return the --as-of date and, with --history, the --from and --to dates (else None), each
    read by ``day_option`` (the one date parser).
    """
    if out_file is not None:
        from scenarios.exports.write import SUFFIXES

        if out_file.suffix.lower() not in SUFFIXES:
            raise fail(
                f"--out {out_file}: cannot write a "
                f"{out_file.suffix or 'suffix-less'} file; the re-plan is written as "
                f"{', '.join(SUFFIXES[:-1])} or {SUFFIXES[-1]}: name the file with one "
                "of these suffixes"
            )
    if (curves is None) == (history is None):
        raise fail("give exactly one of --curves FILE or --history FILE")
    if history is not None and (start is None or end is None):
        raise fail("--history needs --from and --to (and --period week|month)")
    day = day_option(as_of, "--as-of")
    if start is None or end is None or history is None:
        return day, None
    return day, (day_option(start, "--from"), day_option(end, "--to"))


def _replan_curves(
    curves: Path | None,
    history: Path | None,
    window: tuple[dt.date, dt.date] | None,
    period: str,
    result_type: str | None,
    cap_multiple: float,
    on_progress,
    response=None,
):
    """Read --curves, or forecast them from --history; return them and the forecast's warnings.

    ``response``: the forecast's ``forecasting.options.ResponseOptions`` (None: the defaults).
    """
    from forecasting.progress import no_progress
    from scenarios.inputs import read_curves
    from scenarios.runs import curves_from_history

    if curves is not None:
        return read_curves(curves), []
    # --history: _replan_dates read --from and --to
    assert window is not None
    return curves_from_history(
        history,
        *window,
        period,
        result_type,
        on_progress or no_progress,
        cap_multiple=cap_multiple,
        response=response,
    )


def _replan_table(res, day: dt.date, currency: str) -> Table:
    """Tabulate plan vs actual vs re-plan per line and period."""
    status = {r["period"]: r["status"] for r in res.rows}
    t = Table(
        title=f"Plan vs actual vs re-plan as of {day} ({_e(currency)})",
        box=box.SIMPLE_HEAD,
        caption="periods: "
        + ", ".join(f"{_e(p)} {st}" for p, st in sorted(status.items()))
        + " (elapsed = locked at actual spend)",
    )
    for col in ("line", "period", "planned", "actual", "re-plan", "Over/(under)\nplan"):
        t.add_column(
            col,
            justify="left" if col in ("line", "period") else "right",
            no_wrap=col == "line",
        )
    for r in res.rows:
        t.add_row(
            _e(f"{r['network']}/{r['segment']}"),
            _e(r["period"]),
            _money(r["planned"], 0),
            _money(r["actual"], 0),
            _money(r["replanned"], 0),
            _signed(r["over_under_plan"], 0),
        )
    for x in res.off_plan:  # spend the plan cannot hold: its own lines, planned 0
        t.add_row(
            _e(f"{x['network']}/{x['segment']} (off-plan)"),
            _e(x["period"]),
            _money(0.0, 0),
            _money(x["spend"], 0),
            _money(x["spend"], 0),
            _signed(x["spend"], 0),
        )
    return t


def _replan_periods(res) -> Table:
    """Tabulate each period's results, plan and re-plan (reach: the only totals it has)."""
    rtype = _e(res.plan.result_type)
    t = Table(title=f"{rtype} by period (not additive across periods)")
    for col in ("period", "plan", "re-plan"):
        t.add_column(col, justify="left" if col == "period" else "right")
    before, after = res.original.by_period(), res.plan.by_period()
    for period in sorted(set(before) | set(after)):
        cells = ((x.get(period) or {}).get("expected_results") for x in (before, after))
        t.add_row(_e(period), *(_money(v) for v in cells))
    return t


def _replan_totals(res, d: dict) -> Table:
    """Tabulate the budget as set, the plan, the actuals so far and the re-plan.

    ``d`` is the re-plan's JSON (``res.to_dict()``). The off-plan spend (lines the plan
    cannot hold) has its own line; the re-plan's results value the elapsed periods at their
    actual results where the actuals carry them.
    """
    from scenarios.exports.replan import OFF_PLAN, replan_lines

    s = Table(title="Totals")
    for col in ("", "spend", "results"):
        s.add_column(col, justify="right" if col else "left")
    o, p = res.original, res.plan
    summed = o.results_additive and p.results_additive
    shown = _money if summed else (lambda _: NOT_ADDITIVE)  # reach: no total across periods
    off = res.off_plan_spend
    budget = res.budget_as_set if res.budget_as_set is not None else p.budget + off
    rows = [r for r in replan_lines(d) if r["actual_results"] is not None]
    actual = [r["actual_results"] for r in rows]
    off_res = [r["actual_results"] for r in rows if r["status"] == OFF_PLAN]
    known = bool(actual)
    s.add_row("budget as set", _money(budget), "")
    s.add_row("plan", _money(o.total_spend), shown(o.expected_results))
    s.add_row("actual so far", _money(res.actual_spend), shown(sum(actual)) if known else "")
    s.add_row("  of which off-plan", _money(off), shown(sum(off_res)) if off_res else "")
    s.add_row("re-plan (plan lines)", _money(p.total_spend), shown(p.expected_results))
    s.add_row("re-plan + off-plan", _money(p.total_spend + off), "")
    s.add_row("left unspent", _signed(budget - p.total_spend - off), "")
    if not summed:
        s.caption = _e(p.results_note)
    elif res.forecast_results:
        s.caption = "re-plan results: elapsed periods at their actual results, the rest forecast"
    return s
