"""``adplan forecast`` (history -> response curves) and ``adplan backtest`` (models vs baselines)."""

from __future__ import annotations

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
    PriorsOpt,
    SeasonOpt,
    ShapeOpt,
    WorkersOpt,
    cap_multiple_option,
    cli_errors,
    day_option,
    err,
    fail,
    open_executor,
    out,
    print_json,
    progress_bar,
    response_option,
    warn,
)


def register(app: typer.Typer) -> None:
    """Add ``adplan forecast`` and ``adplan backtest`` to ``app``."""
    app.command("forecast")(forecast)
    app.command("backtest")(backtest)


def forecast(
    history: Annotated[
        Path,
        typer.Option(
            "--history",
            help="Ad history: a platform export or canonical CSV/XLSX (see `adplan ingest`).",
        ),
    ],
    date_from: Annotated[str, typer.Option("--from", help="First day to plan (YYYY-MM-DD).")],
    date_to: Annotated[str, typer.Option("--to", help="Last day to plan (YYYY-MM-DD).")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Curves JSON to write.")] = Path(
        "curves.json"
    ),
    period: Annotated[str, typer.Option("--period", help="week (ISO weeks) or month.")] = "week",
    result_type: Annotated[
        str | None,
        typer.Option(
            "--result-type", help="Result type to forecast (default: the one with most spend)."
        ),
    ] = None,
    model: Annotated[
        str, typer.Option("--model", help="auto (best in a backtest), glm, gbm or glm_eb.")
    ] = "auto",
    cap_multiple: CapMultipleOpt = None,
    no_baseline: Annotated[
        bool,
        typer.Option(
            "--no-baseline",
            help="With --model auto: refuse (exit 2) rather than forecast with a naive flat "
            "cost per result when no model beats it out of sample.",
        ),
    ] = False,
    carryover: CarryoverOpt = None,
    season: SeasonOpt = None,
    shape: ShapeOpt = None,
    events: EventsOpt = None,
    priors: PriorsOpt = None,
    lift: LiftOpt = None,
    incremental: IncrementalOpt = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print only the forecast as JSON (model, response, lines, backtest, at_cap, "
            "warnings; the curves are written to --out).",
        ),
    ] = False,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Forecast cost per result for every network x segment and write response curves JSON.

    The curves are concave, one line per network x segment x period, ready for `adplan optimize --curves`. With --model auto the model is the best one in a backtest. Each curve ends at --cap-multiple (default 1.5) x its line's highest spend in one period of the history. The response (carry-over, season, shape, events, priors, lift tests, incremental results) is set by --carryover, --season, --shape, --events, --priors, --lift and --incremental; what the forecast chose is shown under the lines. Dates are YYYY-MM-DD.
    """
    with cli_errors():
        if out_path.suffix.lower() != ".json":
            got = repr(out_path.suffix) if out_path.suffix else "no suffix"
            raise fail(
                f"--out {out_path}: curves are written as JSON, so the file must end in .json "
                f"(it has {got}); e.g. --out {out_path.with_suffix('.json')}"
            )
        if period not in ("week", "month"):
            raise fail(f"--period must be week or month, got {period!r}")
        if model not in ("auto", "glm", "gbm", "glm_eb"):
            raise fail(f"--model must be auto, glm, gbm or glm_eb, got {model!r}")
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
        if no_baseline and model != "auto":
            raise fail(
                f"--no-baseline applies to --model auto (the backtest's choice); with --model "
                f"{model} no baseline is ever used: leave --no-baseline out"
            )
        day_option(date_from, "--from")  # bad dates are refused before the models load
        day_option(date_to, "--to")
        from forecasting import forecast_curves, load_history

        start, end = _dates(date_from, date_to)
        df = load_history(history)
        with (
            open_executor(executor, workers) as ex,
            progress_bar(model == "auto" and not as_json) as on_progress,
        ):
            result = forecast_curves(
                df,
                start,
                end,
                period=period,
                result_type=result_type,
                model=model,
                on_progress=on_progress,
                cap_multiple=cap,
                fallback="refuse" if no_baseline else "baseline",
                response=response,
                executor=ex,
            )
        for w in result.warnings:
            warn(w)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(result.curves.to_json(), encoding="utf-8")
        if as_json:
            d = result.to_dict()
            d.pop("curves", None)  # written to --out
            print_json({**d, "out": str(out_path)})
            return
        out.print(_lines_table(result))
        if (table := _response_table(result)) is not None:
            out.print(table)
        if (words := cap_words(result)) is not None:
            err.print(f"[dim]note:[/] {escape(words)}", highlight=False, soft_wrap=True)
        curves = result.curves
        err.print(
            escape(
                f"wrote {len(curves.lines)} curve lines ({len(result.lines)} network x segment, "
                f"{len(curves.periods)} {period}s, {curves.result_type}, {curves.currency}) "
                f"to {out_path}"
            ),
            highlight=False,
            soft_wrap=True,
        )


def _dates(date_from: str, date_to: str):
    """Parse --from and --to as days within 1900..2200, the end not before the start.

    Read by ``forecasting.features.plan_date`` (``optimizer.periods.plan_day``, the one date
    parser): anything but YYYY-MM-DD raises a ForecastingError naming the option and the
    value, with an example (exit 2).
    """
    from forecasting.features import plan_date, plan_window

    return plan_window(plan_date(date_from, "--from"), plan_date(date_to, "--to"))


def _lines_table(result) -> Table:
    bt = result.backtest
    title = escape(f"Forecast: {result.result_type} per {result.period}, model {result.model_name}")
    own = next((m for m in (bt or {}).get("models", []) if m["name"] == result.model_name), None)
    if own and own["outer_wape"] is not None:
        title += escape(f" (out-of-sample WAPE {own['outer_wape']:.3f})")
    caption = "CPR at the typical spend; results grow as spend^b (b ± its standard error)"
    if bt:
        caption += "\n" + outer_words(bt)
    t = Table(title=title, caption=escape(caption))
    # names are shown whole (other columns fold first): a user finds the line by its name
    widest = {
        "network": max((len(ln.network) for ln in result.lines), default=7),
        "segment": max((len(ln.segment) for ln in result.lines), default=7),
    }
    extra = _response_columns(result.lines)
    for col in ("network", "segment", "periods", "spend", "CPR", "b", "cap", *extra, "flags"):
        left = col in ("network", "segment", "shape", "flags")
        t.add_column(
            col,
            justify="left" if left else "right",
            overflow="fold",
            min_width=min(widest.get(col, 0), 30) or None,
        )
    capped = {(c["network"], c["segment"]) for c in (result.at_cap or {}).get("lines", [])}
    shown = _shown_lines(result.lines, capped)
    if len(shown) < len(result.lines):
        t.caption = escape(
            f"{caption}\n{len(result.lines) - len(shown)} more lines without a flag are in the "
            "curves JSON (line_forecasts)"
        )
    for ln in shown:
        flags = [f.replace("_", " ") for f in ln.flags if not f.startswith("extrapolated_above:")]
        if (ln.network, ln.segment) in capped:
            flags.append("reaches cap")
        t.add_row(
            escape(ln.network),
            escape(ln.segment),
            str(ln.history_periods),
            f"{ln.typical_spend:,.2f}",
            "-" if ln.cost_per_result is None else f"{ln.cost_per_result:,.4g}",
            f"{ln.elasticity:.2f}"
            + ("" if ln.elasticity_se is None else f" ± {ln.elasticity_se:.2f}"),
            f"{ln.cap_spend:,.0f}",
            *(_response_cell(ln, col) for col in extra),
            escape(", ".join(flags)),
        )
    return t


#: the per-line response columns, shown only when some line is not at the default (no
#: carry-over, a power curve, no prior, no lift test)
RESPONSE_COLUMNS = ("carry-over", "shape", "prior share", "lift")


def _response_columns(lines: list) -> list[str]:
    """Return the response columns some line has a non-default value for."""
    shown = []
    if any(getattr(ln, "carryover", 0.0) for ln in lines):
        shown.append("carry-over")
    if any(getattr(ln, "shape", "power") != "power" for ln in lines):
        shown.append("shape")
    if any(
        getattr(ln, "prior_share", None) is not None
        or getattr(ln, "prior_elasticity_share", None) is not None
        for ln in lines
    ):
        shown.append("prior share")
    if any(getattr(ln, "lift", None) is not None for ln in lines):
        shown.append("lift")
    return shown


def _response_cell(ln, col: str) -> str:
    """Return a line's value in one of the response columns ("-" for none)."""
    if col == "carry-over":
        return f"{getattr(ln, 'carryover', 0.0):.2f}"
    if col == "shape":
        return escape(str(getattr(ln, "shape", "power")))
    if col == "prior share":
        level = getattr(ln, "prior_share", None)
        slope = getattr(ln, "prior_elasticity_share", None)
        if level is None and slope is None:
            return "-"
        return " / ".join("-" if x is None else f"{x:.0%}" for x in (level, slope))
    lift = getattr(ln, "lift", None)
    return "-" if lift is None else f"{lift:.3g}"


#: how the response table names the keys of ``ForecastResult.response`` it knows, in order;
#: these are always shown (other keys only when they hold something)
RESPONSE_LABELS = {
    "carryover": "carry-over",
    "shape": "shape",
    "season": "season",
    "events": "events",
    "priors": "priors",
    "lift": "lift tests",
    "basis": "results",
}


def _response_table(result) -> Table | None:
    """Tabulate what the forecast chose for the response (``ForecastResult.response``).

    One row per choice (carry-over, shape, season, events, priors, lift tests, results...):
    a value, a per-network mapping (``meta 0.3, tiktok 0``) or a list. None when the
    forecast says nothing of it.
    """
    response = getattr(result, "response", None) or {}
    if not response:
        return None
    t = Table(title="Response", title_justify="left")
    t.add_column("choice")
    t.add_column("value", overflow="fold")
    known = [k for k in RESPONSE_LABELS if k in response]
    others = [k for k in response if k not in RESPONSE_LABELS and response[k] not in ({}, [], None)]
    for key in (*known, *others):
        label = RESPONSE_LABELS.get(key, str(key).replace("_", " "))
        t.add_row(escape(label), escape(_response_words(response[key])))
    return t


#: the most items of a list or mapping one row of the response table names
RESPONSE_ITEMS = 12


def _response_words(value) -> str:
    """Return one value of ``ForecastResult.response`` in words (long lists shortened)."""
    if value is None or value == {} or value == []:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        items = list(value.items())
        nested = any(isinstance(v, dict | list) for _, v in items)
        sep = "; " if nested else ", "
        words = [f"{k}{':' if nested else ''} {_response_words(v)}" for k, v in items]
        return _shortened(words, sep)
    if isinstance(value, list | tuple):
        words = [_item_words(v) if isinstance(v, dict) else _response_words(v) for v in value]
        return _shortened(words, "; " if any(isinstance(v, dict) for v in value) else ", ")
    return str(value)


def _shortened(words: list[str], sep: str) -> str:
    """Join at most ``RESPONSE_ITEMS`` words, saying how many more there are."""
    more = len(words) - RESPONSE_ITEMS
    return sep.join(words[:RESPONSE_ITEMS]) + (f" and {more} more" if more > 0 else "")


def _item_words(item: dict) -> str:
    """Return a list item of the response (an event...) in words: its name, else its values."""
    name = item.get("name")
    if name is not None:
        rest = [str(item[k]) for k in ("network", "start", "end") if item.get(k) is not None]
        return f"{name} ({', '.join(rest)})" if rest else str(name)
    return " ".join(f"{k}={_response_words(v)}" for k, v in item.items())


#: the forecast table shows at most this many lines (flagged ones first); all are in the JSON
TABLE_LINES = 40


def _shown_lines(lines: list, capped: set) -> list:
    """Return the lines the table shows: every line with a flag, then others up to the limit."""
    if len(lines) <= TABLE_LINES:
        return lines

    def flagged(ln) -> bool:
        own = [f for f in ln.flags if not f.startswith("extrapolated_above:")]
        return bool(own) or (ln.network, ln.segment) in capped

    first = [ln for ln in lines if flagged(ln)]
    rest = [ln for ln in lines if not flagged(ln)]
    return first + rest[: max(TABLE_LINES - len(first), 0)]


def cap_words(result) -> str | None:
    """Say which lines a plan at the history's usual budget would spend up to their cap."""
    at = result.at_cap or {}
    lines = at.get("lines") or []
    if not lines:
        return None
    names = ", ".join(f"{c['network']}/{c['segment']}" for c in lines[:10])
    more = f" and {len(lines) - 10} more" if len(lines) > 10 else ""
    return (
        f"at the history's usual budget ({at['budget_per_period']:,.2f} a {result.period}), "
        f"{len(lines)} line(s) would be planned up to their cap ({at['cap_multiple']:g} x "
        f"their highest spend): {names}{more}. Their curves end there; raise --cap-multiple "
        "to let them take more, beyond what the history shows"
    )


def backtest(
    history: Annotated[
        Path,
        typer.Option("--history", help="Ad history: a platform export or canonical CSV/XLSX."),
    ],
    period: Annotated[str, typer.Option("--period", help="day, week or month.")] = "week",
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            help="Periods per test block (default: a quarter; shortened for short history).",
        ),
    ] = None,
    folds: Annotated[
        int, typer.Option("--folds", help="Number of rolling-origin test blocks.")
    ] = 3,
    result_type: Annotated[
        str | None, typer.Option("--result-type", help="Result type to score.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON result.")] = False,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Score the models against naive baselines (last CPR, trailing 4 and 13 periods).

    A rolling-origin backtest: WAPE and bias of predicted results at the spend actually made, and coverage of the low/high bounds. History on a single date is cross-validated.
    """
    with cli_errors():
        if period not in ("day", "week", "month"):
            raise fail(f"--period must be day, week or month, got {period!r}")
        if folds < 1 or (horizon is not None and horizon < 1):
            raise fail("--folds and --horizon must be at least 1")
        from forecasting import load_history, run_backtest
        from forecasting.backtest import run_cross_validation

        df = load_history(history)
        with open_executor(executor, workers) as ex, progress_bar() as on_progress:
            if df["date"].nunique() == 1:
                result = run_cross_validation(
                    df,
                    folds=max(folds, 2),
                    result_type=result_type,
                    on_progress=on_progress,
                    executor=ex,
                )
            else:
                result = run_backtest(
                    df,
                    period=period,
                    horizon=horizon,
                    folds=folds,
                    result_type=result_type,
                    on_progress=on_progress,
                    executor=ex,
                )
        if as_json:
            print_json(result.to_dict())
            return
        for w in result.warnings:
            warn(w)
        for n in result.notes:
            err.print(f"[dim]note:[/] {escape(str(n))}", highlight=False, soft_wrap=True)
        out.print(_backtest_table(result))


def _backtest_table(result) -> Table:
    d = result.to_dict()
    how = (
        f"{d['folds']} folds x {d['horizon']} {d['period']}s"
        if d["method"] == "rolling-origin"
        else f"{d['folds']}-fold cross-validation"
    )
    t = Table(
        title=escape(f"Backtest ({d['result_type']}, {how}, {d['n_rows']} line-periods)"),
        caption=escape(outer_words(d)),
    )
    cols = (
        "model",
        "kind",
        "WAPE",
        "slope WAPE",
        "outer WAPE",
        "bias",
        "cover small",
        "cover large",
    )
    wide = max(len(m["name"]) for m in d["models"]) + len(" (chosen)")
    for col in cols:
        left = col in ("model", "kind")
        t.add_column(
            col, justify="left" if left else "right", min_width=wide if col == "model" else None
        )
    for m in sorted(d["models"], key=lambda m: (m["score"] is None, m["score"] or 0)):
        name = escape(m["name"])
        if m["name"] == d["chosen"]:
            name = f"[bold]{name}[/] (chosen)"
        cov = m["coverage"]
        t.add_row(
            name,
            "baseline" if m["baseline"] else "model",
            _num(m["wape"]),
            _num(m["slope_wape"]),
            _num(m["outer_wape"]),
            "-" if m["bias"] is None else f"{m['bias']:+.4f}",
            _num(cov["small_lines"], 2),
            _num(cov["large_lines"], 2),
        )
    return t


def _num(x, nd: int = 4) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def outer_words(d: dict) -> str:
    """Say how the nested choice did out of sample, against the best baseline."""
    o = d.get("outer")
    if not o or o["wape"] is None or o["baseline_wape"] is None:
        why = "one fold" if d.get("folds") == 1 else "no outer fold was scored"
        return f"chosen: {d['chosen']} (no out-of-sample score: {why})"
    folds = ", ".join(str(k) for k in o["folds"])
    ci = o["interval"]
    ci_words = (
        "" if ci is None else f"; {o['interval_level']:.0%} bootstrap {ci[0]:+.3f} to {ci[1]:+.3f}"
    )
    kind = "the baseline" if d["chosen_is_baseline"] else "model"
    return (
        f"Chosen on earlier folds, scored on fold(s) {folds}: the choices' WAPE {o['wape']:.3f} against "
        f"{o['baseline_wape']:.3f} for the best baseline {o['baseline']} (difference "
        f"{o['difference']:+.3f}{ci_words}). Forecasts use {kind} {d['chosen']}. Coverage of "
        "the 10-90% ranges is out of sample, small lines (< 20 results a week) and large apart."
    )
