"""``adplan optimize`` and ``adplan frontier``: curves (or history) + spec -> plan / frontier."""

from __future__ import annotations

import csv
import gc
import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.commands._common import (
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
    json_bytes,
    open_executor,
    out,
    platform_minimums,
    print_json,
    response_option,
    warn,
)
from cli.commands.summary import fmt as _fmt
from cli.commands.summary import summed

FRONTIER_COLUMNS = (
    "budget",
    "expected_results",
    "results_p10",
    "results_p50",
    "results_p90",
    "total_spend",
    "cost_per_result",
    "marginal_cost_per_result",
    "status",
)
#: --out suffixes each command writes (checked before anything is read or solved)
PLAN_SUFFIXES = (".json", ".csv", ".xlsx", ".html")
FRONTIER_SUFFIXES = (".csv", ".json", ".png")
#: the most budgets one `adplan frontier` solves (the API allows 200)
MAX_FRONTIER_BUDGETS = 1000


def register(app: typer.Typer) -> None:
    """Add ``adplan optimize`` and ``adplan frontier`` to ``app``."""
    app.command("optimize")(optimize)
    app.command("frontier")(frontier_cmd)


CurvesOpt = Annotated[
    Path | None, typer.Option("--curves", help="Response curves JSON (see docs/design.md).")
]
SpecOpt = Annotated[
    Path, typer.Option("--spec", help="Plan spec (YAML or JSON): budget and rules.")
]
HistoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--history",
        help="Ad history (a platform export or canonical CSV/XLSX): forecast the curves first.",
    ),
]
FromOpt = Annotated[
    str | None,
    typer.Option("--from", help="With --history: first day planned (YYYY-MM-DD)."),
]
ToOpt = Annotated[
    str | None, typer.Option("--to", help="With --history: last day planned (YYYY-MM-DD).")
]
PeriodOpt = Annotated[str, typer.Option("--period", help="week or month.")]
ResultTypeOpt = Annotated[
    str | None, typer.Option("--result-type", help="Result type to plan (history mode).")
]


def _day(value: str | None, flag: str) -> date:
    """Return the day of --from or --to (required with --history): ``day_option``'s reading."""
    if not value:
        raise fail(f"{flag} is required with --history (YYYY-MM-DD, e.g. 2027-01-04)")
    return day_option(value, flag)


def _curves(
    curves: Path | None,
    history: Path | None,
    start,
    end,
    period,
    result_type,
    cap_multiple: float | None = None,
    response: dict | None = None,
):
    """Load --curves, or forecast the curves from --history (importing forecasting only then).

    The history is read by ``forecasting.load_history``: any export ``adplan ingest`` reads;
    the curves by ``scenarios.inputs.read_curves`` (``optimizer.load_curves``). Forecast
    curves end at --cap-multiple x each line's highest spend in one period; ``response``
    holds the response options as given (``--carryover`` ... ``--incremental``, read by
    ``response_option``; refused with --curves). Returns the curves and the history read
    (None with --curves): the plan's report compares it with the previous period's actuals.
    """
    from scenarios.inputs import read_curves

    if curves is not None and history is not None:
        raise fail("give --curves or --history, not both")
    cap = cap_multiple_option(cap_multiple, history)
    options = response_option(history, **(response or {}))
    if curves is not None:
        loaded = read_curves(curves)
        # the curves live as long as this process: out of the collector's passes over their
        # points, as the service freezes what start-up built (bench_optimizer.py's CLI rows)
        gc.freeze()
        return loaded, None
    if history is None:
        raise fail("give --curves FILE (response curves) or --history FILE with --from/--to")
    if period not in ("week", "month"):
        raise fail(f"--period must be week or month, got {period!r}")
    d0, d1 = _day(start, "--from"), _day(end, "--to")
    from forecasting import forecast_curves, load_history

    hist = load_history(history)
    fc = forecast_curves(
        hist,
        d0,
        d1,
        period=period,
        result_type=result_type,
        cap_multiple=cap,
        response=options,
    )
    for w in getattr(fc, "warnings", []) or []:
        warn(w)
    return fc.curves, hist


def _check_out(path: Path | None, suffixes: tuple[str, ...]) -> None:
    """Refuse an --out file whose suffix the command cannot write, before any work is done."""
    if path is not None and path.suffix.lower() not in suffixes:
        known = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}"
        raise fail(
            f"--out {path}: cannot write a {path.suffix or 'suffix-less'} file; use a {known} file"
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _check_out_not_input(out_path: Path | None, **inputs: Path | None) -> None:
    """Refuse an --out file that is one of the inputs: writing it would destroy the input."""
    if out_path is None:
        return
    for flag, path in inputs.items():
        if path is not None and _same_file(out_path, path):
            raise fail(
                f"--out {out_path} is the same file as --{flag} {path}; writing the result "
                "there would overwrite that input. Give another --out file"
            )


def _summary(plan) -> None:
    from cli.commands.summary import print_plan

    print_plan(plan)


def _plan_json(plan, hist) -> dict:
    """Return the Plan JSON, with the previous period's actuals when a history was read.

    The garbage collector pauses while the JSON is made (a dict or two per line, no cycles):
    its passes over the heap made it 0.7 to 0.9 s at 208,000 lines instead of 0.4 s.
    """
    from optimizer.curves import paused_gc

    with paused_gc():
        d = plan.to_dict()
    if hist is not None:
        from scenarios.previous import previous_period

        d["previous"] = previous_period(hist, d)
    return d


def _write_plan(d: dict, path: Path, curves=None) -> None:
    """Write the Plan JSON ``d`` to ``path`` (.json, .csv, .xlsx, .html; the curves to the HTML).

    JSON as :func:`~cli.commands._common.json_bytes` writes it.
    """
    _check_out(path, PLAN_SUFFIXES)
    if path.suffix.lower() == ".json":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(json_bytes(d))
        return
    from scenarios.exports import write_plan

    write_plan(d, path, curves=curves)


FromPlanOpt = Annotated[
    Path | None,
    typer.Option(
        "--from-plan",
        help="The current plan (the Plan JSON of adplan optimize --out plan.json or --json): "
        "with --extra, show where extra money (or a cut) goes against it.",
    ),
]
ExtraOpt = Annotated[
    float | None,
    typer.Option(
        "--extra",
        help="Money added to the --from-plan plan's budget (negative: a cut); the new plan is "
        "solved at that budget under the spec's rules.",
    ),
]


def optimize(
    spec: SpecOpt,
    curves: CurvesOpt = None,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the plan: .json, .csv, .xlsx or .html."),
    ] = None,
    solver: SolverOpt = None,
    time_limit: TimeLimitOpt = None,
    target_results: Annotated[
        float | None,
        typer.Option("--target-results", help="Find the smallest budget reaching N results."),
    ] = None,
    confidence: Annotated[
        float | None,
        typer.Option(
            "--confidence",
            help="With --target-results: the smallest budget reaching N with this probability "
            "(0.9: in 9 scenarios out of 10).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the plan JSON.")] = False,
    history: HistoryOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    period: PeriodOpt = "week",
    result_type: ResultTypeOpt = None,
    cap_multiple: CapMultipleOpt = None,
    from_plan: FromPlanOpt = None,
    extra: ExtraOpt = None,
    carryover: CarryoverOpt = None,
    season: SeasonOpt = None,
    shape: ShapeOpt = None,
    events: EventsOpt = None,
    priors: PriorsOpt = None,
    lift: LiftOpt = None,
    incremental: IncrementalOpt = False,
    platforms: PlatformsOpt = None,
) -> None:
    """Spread the budget over networks, segments and periods to get the most results.

    The plan is an exact LP under the spec's rules; the totals with their P10-P90 ranges and the rules that cost the most are printed. With --target-results, find the smallest budget that reaches that many results instead (with --confidence, that reaches them with that probability). Under objective: cvar in the spec, the plan raises its worst scenarios instead of its mean. With --from-plan and --extra, solve at that plan's budget plus the extra and show where the extra money (or the cut) goes, line by line.
    """
    with cli_errors():
        _check_out(out_path, PLAN_SUFFIXES)
        _check_out_not_input(
            out_path,
            curves=curves,
            spec=spec,
            history=history,
            events=events,
            priors=priors,
            lift=lift,
            **{"from-plan": from_plan},
        )
        current = _current_plan(from_plan, extra, target_results)
        if confidence is not None and target_results is None:
            raise fail("--confidence needs --target-results N (the results to reach)")
        import optimizer
        from scenarios.inputs import read_spec
        from scenarios.solver import choose_solver

        solver = choose_solver(solver)
        response = {
            "carryover": carryover,
            "season": season,
            "shape": shape,
            "events": events,
            "priors": priors,
            "lift": lift,
            "incremental": incremental,
        }
        c, hist = _curves(curves, history, start, end, period, result_type, cap_multiple, response)
        s = read_spec(spec)
        if platforms is not None:
            s = platform_minimums(s, c, platforms)
        if current is not None:
            _optimize_delta(
                c, s, current, float(extra or 0.0), solver, time_limit, out_path, as_json
            )
            return
        if target_results is not None:
            plan = optimizer.min_budget_for_results(
                c, s, target_results, solver=solver, time_limit=time_limit, confidence=confidence
            )
        else:
            plan = optimizer.allocate(c, s, solver=solver, time_limit=time_limit)
        d = _plan_json(plan, hist)
        if out_path is not None:
            _write_plan(d, out_path, c)
        for note in plan.notes:
            warn(note)
        if as_json:
            print_json(d)
            return
        if target_results is not None:
            sure = "" if confidence is None else f" with probability {confidence:g}"
            out.print(
                f"smallest budget for {target_results:,.0f} {summed(plan)}{sure}: "
                f"{plan.total_spend:,.2f} {escape(plan.currency)}",
                highlight=False,
            )
        _summary(plan)
        if out_path is not None:
            err.print(f"wrote {escape(str(out_path))}", highlight=False, soft_wrap=True)


# -- delta plans: --from-plan and --extra ------------------------------------------------------

#: the most changed lines the "Where the extra goes" table shows (then "... and N more")
MAX_DELTA_ROWS = 20


def _current_plan(from_plan: Path | None, extra: float | None, target_results: float | None):
    """Read --from-plan and check --extra against its budget; None when neither is given.

    Exit 2 when only one of them is given, with --target-results, or when the new budget
    would not be above 0 and at most 1e12.
    """
    if from_plan is None and extra is None:
        return None
    if from_plan is None:
        raise fail("--extra needs --from-plan FILE (the current plan's JSON) to add the money to")
    if extra is None:
        raise fail("--from-plan needs --extra AMOUNT (the money to add to it; negative: a cut)")
    if target_results is not None:
        raise fail(
            "--target-results cannot be combined with --from-plan and --extra; give one or the "
            "other"
        )
    from scenarios.delta import delta_budget, read_current_plan
    from scenarios.errors import ScenarioError

    current = read_current_plan(from_plan)
    try:
        delta_budget(current.budget, extra)
    except ScenarioError as e:
        raise fail(f"--{e} (--from-plan {from_plan})") from None
    return current


def _optimize_delta(c, s, current, extra: float, solver, time_limit, out_path, as_json) -> None:
    """Solve at the current plan's budget + extra and show where the money goes.

    Writes --out, then prints the JSON (the Plan JSON with ``delta``), or the summary and the
    "Where the extra goes" table.
    """
    from scenarios.delta import delta_plan

    result = delta_plan(c, s, current, extra, solver=solver, time_limit=time_limit)
    if out_path is not None:
        _write_delta_plan(result, out_path)
    for note in (*result.plan.notes, *result.delta.notes):
        warn(note)
    if as_json:
        print_json(result.to_dict())
        return
    _summary(result.plan)
    _print_delta(result.delta)
    if out_path is not None:
        err.print(f"wrote {escape(str(out_path))}", highlight=False, soft_wrap=True)


def _write_delta_plan(result, path: Path) -> None:
    """Write the new plan: as JSON with its ``delta`` key, else as :func:`_write_plan` does."""
    if path.suffix.lower() != ".json":
        _write_plan(result.plan.to_dict(), path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(json_bytes(result.to_dict()))


def _print_delta(delta) -> None:
    """Print the delta's headline, then the table of the lines that changed."""
    cur, rtype = escape(delta.currency), escape(delta.result_type)
    cpr = delta.cost_per_extra_result
    per = "per extra result" if delta.spend_change > 0 else "saved per result given up"
    each = "" if cpr is None else f" ({cpr:,.2f} {cur} {per})"
    gain = (
        f"{delta.results_change:+,.1f} {rtype}"
        if delta.additive
        else f"{rtype} per line and period below (not added across periods)"
    )
    out.print(
        f"[bold]budget {_fmt(delta.from_budget)} -> {_fmt(delta.to_budget)} {cur}[/]: spend "
        f"{delta.spend_change:+,.0f} {cur} -> {gain}" + each,
        highlight=False,
    )
    if not delta.changed:
        out.print("no line's spend changes.", highlight=False)
        return
    out.print(_delta_table(delta))


def _delta_rows(delta) -> list[tuple[str, str, str, float, float, float]]:
    """Return the rows to show: the first changed lines, then one row for the rest.

    Each row is (network, segment, period, current spend, change, results change).
    """
    changed = delta.changed
    rows = [
        (ln.network, ln.segment, ln.period, ln.current_spend, ln.change, ln.results_change)
        for ln in changed[:MAX_DELTA_ROWS]
    ]
    rest = changed[MAX_DELTA_ROWS:]
    if rest:
        rows.append(
            (
                f"... and {len(rest)} more",
                "",
                "",
                sum(ln.current_spend for ln in rest),
                sum(ln.change for ln in rest),
                sum(ln.results_change for ln in rest),
            )
        )
    return rows


def _delta_table(delta) -> Table:
    """Tabulate the changed lines, largest change first, with totals.

    Money is rounded to whole units by largest remainder (``scenarios.money.round_to_total``)
    so the shown lines add up to the shown totals; the new spend is the shown current spend
    plus the shown change.
    """
    from scenarios.money import round_to_total

    cur, rtype = escape(delta.currency), escape(delta.result_type)
    goes = "goes" if delta.extra >= 0 else "comes from"
    what = f"extra {delta.extra:,.0f}" if delta.extra >= 0 else f"cut of {-delta.extra:,.0f}"
    t = Table(title=f"Where the {what} {cur} {goes}", title_justify="left")
    for col in ("network", "segment", "period"):
        t.add_column(col)
    for col in (f"current ({cur})", f"new ({cur})", f"change ({cur})", f"{rtype} change"):
        t.add_column(col, justify="right")
    rows = _delta_rows(delta)
    now = round_to_total([r[3] for r in rows])
    change = round_to_total([r[4] for r in rows])
    results = (  # reach: no total to add up to, each line rounded on its own
        round_to_total([r[5] for r in rows], 1)
        if delta.additive
        else [round(r[5], 1) for r in rows]
    )
    # reach is never added across periods: no total, nor a sum over the remaining lines
    shown = (
        [f"{x:+,.1f}" for x in results]
        if delta.additive
        else [f"{x:+,.1f}" if r[2] else "" for r, x in zip(rows, results, strict=True)]
    )
    for r, a, d, x in zip(rows, now, change, shown, strict=True):
        t.add_row(escape(r[0]), escape(r[1]), escape(r[2]), _fmt(a), _fmt(a + d), f"{d:+,.0f}", x)
    t.add_section()
    t.add_row(
        "total",
        "",
        "",
        _fmt(sum(now)),
        _fmt(sum(now) + sum(change)),
        f"{sum(change):+,.0f}",
        f"{sum(results):+,.1f}" if delta.additive else "not additive",
    )
    n = len(delta.changed)
    t.caption = (
        f"{n} {'line changes' if n == 1 else 'lines change'}; amounts rounded so that the "
        "lines add up to the totals"
    )
    return t


def _check_count(n: int) -> None:
    if n > MAX_FRONTIER_BUDGETS:
        raise fail(
            f"--budgets asks for {n:,} budgets, more than the limit of "
            f"{MAX_FRONTIER_BUDGETS:,}; give fewer (LO:HI:N with N <= {MAX_FRONTIER_BUDGETS:,})"
        )


def _budgets(text: str) -> list[float]:
    parts = text.split(":")
    try:
        if len(parts) == 3:
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
            if n < 1 or lo <= 0 or hi < lo:
                raise ValueError
            _check_count(n)
            if n == 1:
                return [lo]
            return [lo + (hi - lo) * i / (n - 1) for i in range(n)]
        vals = [float(p) for p in text.split(",")]
        if not vals or any(v <= 0 for v in vals):
            raise ValueError
        _check_count(len(vals))
        return vals
    except ValueError:
        raise fail(
            f"--budgets {text!r}: give LO:HI:N (0 < LO <= HI, N >= 1) or a list like 40000,50000"
        ) from None


def _raise_infeasible_everywhere(
    optimizer, curves, spec, budgets: list[float], solver, time_limit
) -> None:
    """Raise the diagnosis at the largest budget when every budget is infeasible (exit 1)."""
    top = max(budgets)
    try:
        optimizer.allocate(curves, spec.with_budget(top), solver=solver, time_limit=time_limit)
    except optimizer.InfeasibleError as e:
        raise optimizer.InfeasibleError(
            f"the rules cannot hold at any budget given; at the largest, {top:,.0f}: {e}",
            e.diagnosis,
        ) from None


def frontier_cmd(
    spec: SpecOpt,
    budgets: Annotated[
        str, typer.Option("--budgets", help="LO:HI:N (N budgets evenly spaced) or B1,B2,...")
    ],
    curves: CurvesOpt = None,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the frontier: .csv, .json or .png (chart)."),
    ] = None,
    solver: SolverOpt = None,
    time_limit: TimeLimitOpt = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the points as JSON.")] = False,
    history: HistoryOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    period: PeriodOpt = "week",
    result_type: ResultTypeOpt = None,
    cap_multiple: CapMultipleOpt = None,
    carryover: CarryoverOpt = None,
    season: SeasonOpt = None,
    shape: ShapeOpt = None,
    events: EventsOpt = None,
    priors: PriorsOpt = None,
    lift: LiftOpt = None,
    incremental: IncrementalOpt = False,
) -> None:
    """Show the expected results at each budget (the budget frontier), exact at every budget.

    Each point is optimal under the spec's rules and shows its marginal cost per result. With --out, write the points as CSV or JSON, or the chart as PNG.
    """
    with cli_errors():
        import optimizer
        from scenarios.inputs import read_spec
        from scenarios.solver import choose_solver, frontier_points

        _check_out(out_path, FRONTIER_SUFFIXES)
        _check_out_not_input(
            out_path,
            curves=curves,
            spec=spec,
            history=history,
            events=events,
            priors=priors,
            lift=lift,
        )
        solver = choose_solver(solver)
        bs = _budgets(budgets)
        response = {
            "carryover": carryover,
            "season": season,
            "shape": shape,
            "events": events,
            "priors": priors,
            "lift": lift,
            "incremental": incremental,
        }
        c, _hist = _curves(curves, history, start, end, period, result_type, cap_multiple, response)
        s = read_spec(spec)
        with open_executor(executor, workers) as ex:
            points = frontier_points(c, s, bs, solver=solver, time_limit=time_limit, executor=ex)
        if all(p.get("status") == "infeasible" for p in points):
            _raise_infeasible_everywhere(optimizer, c, s, bs, solver, time_limit)
        if out_path is not None:
            if out_path.suffix.lower() == ".png" and not c.additive:
                raise fail(
                    f"--out {out_path.name}: {c.result_type} cannot be added across periods, so "
                    "the frontier has no total results to draw; write .csv or .json (each "
                    "point's by_period)"
                )
            _write_frontier(points, out_path, c.currency)
        if as_json:
            print_json(points)
            return
        out.print(_frontier_table(points, c.result_type, c.currency))
        if not c.additive:
            warn(
                f"{c.result_type} cannot be added across periods: no total per budget (each "
                "point's by_period, in --json or --out .json, holds the periods' results)"
            )
        bad = [p["budget"] for p in points if p.get("status") == "infeasible"]
        if bad:
            warn(f"the rules cannot hold at budgets {', '.join(f'{b:,.0f}' for b in bad)}")
        if out_path is not None:
            err.print(f"wrote {escape(str(out_path))}", highlight=False, soft_wrap=True)


def _write_frontier(points: list[dict], out_path: Path, currency: str) -> None:
    """Write the frontier's points as CSV or JSON, or its chart as PNG (by the suffix)."""
    suffix = out_path.suffix.lower()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        with out_path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=FRONTIER_COLUMNS, extrasaction="ignore")
            w.writeheader()
            for p in points:
                w.writerow({k: ("" if p.get(k) is None else p[k]) for k in FRONTIER_COLUMNS})
    elif suffix == ".json":
        out_path.write_text(json.dumps(points, indent=2) + "\n", encoding="utf-8")
    else:  # .png, the suffix was checked first
        from scenarios.exports import write_frontier_chart

        write_frontier_chart(points, out_path, currency=currency)


def _frontier_table(points: list[dict], result_type: str, currency: str) -> Table:
    """Tabulate the frontier: budget, results, spend, cost per result (average, marginal)."""
    t = Table(
        title=f"Budget frontier ({escape(result_type)}, {escape(currency)})",
        title_justify="left",
    )
    heads = ("budget", "results", "P10", "P90", "spend", "cost/result", "marginal")
    for col in (*heads, "status"):
        t.add_column(col, justify="right")
    t.caption = (
        "P10-P90: the results' range in 500 simulated scenarios of the forecast (P50 in the "
        "CSV and JSON); marginal: the cost of one more result"
    )
    for p in points:
        t.add_row(
            _fmt(p["budget"]),
            _fmt(p["expected_results"], 1),
            _fmt(p.get("results_p10")),
            _fmt(p.get("results_p90")),
            _fmt(p["total_spend"]),
            _fmt(p["cost_per_result"], 2),
            _fmt(p["marginal_cost_per_result"], 2),
            p.get("status", "optimal"),
        )
    return t
