"""Honest backtests on every shared dataset: one table row each.

For each dataset in ``../shared/data`` (converted by :mod:`forecasting.datasets`, or read by
the importers for the Improvado exports) and for the sample history, run the nested backtest
with its default folds (:func:`forecasting.backtest.run_backtest`, 3 folds; the cross-sectional
KAG data by :func:`~forecasting.backtest.run_cross_validation`, 5 folds) and print:

- dataset, period, folds × horizon, history rows (and the line × periods scored);
- the final choice (``*``: a baseline, no model earned its place), the outer-fold WAPE of the
  nested choice, the best baseline out of sample and its outer WAPE;
- the 90% bootstrap interval (over lines) of the difference "choice − best baseline" (below
  0: the choice is better);
- the coverage of the chosen candidate's 10-90% ranges on the outer folds (all / small /
  large lines; 0.8 is the promise);
- the time, conversion included.

A dataset that cannot be backtested prints why (the error message). The Improvado files are
read together through :func:`forecasting.load_history`; each result type is backtested on its
own, by week if the history is long enough and by day otherwise (the row's notes say so).

    .venv/bin/python benchmarks/bench_forecast_real.py [DATA_DIR] [--markdown]

``DATA_DIR`` defaults to ``$ADPLAN_SHARED_DATA`` or the repository's ``../shared/data``.
``--markdown`` prints the table as Markdown (for docs/forecasting.md) instead of plain text.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecasting import datasets as D  # noqa: E402
from forecasting.backtest import (  # noqa: E402
    BacktestResult,
    HistoryTooShortError,
    run_backtest,
    run_cross_validation,
)
from forecasting.ingest import load_history  # noqa: E402
from forecasting.sample import generate_sample_history  # noqa: E402

HEADER = (
    "dataset",
    "period",
    "folds × horizon",
    "rows (scored)",
    "chosen",
    "outer WAPE of the choices",
    "best baseline",
    "baseline WAPE",
    "90% interval of difference",
    "coverage all / small / large",
    "time",
)
WIDTHS = (38, 6, 15, 15, 17, 10, 17, 13, 30, 28, 6)


def default_data_dir() -> Path:
    """``$ADPLAN_SHARED_DATA``, else ``../shared/data`` beside the repository."""
    env = os.environ.get("ADPLAN_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class Run:
    """One dataset to backtest: ``load`` returns the history, ``period`` None means CV."""

    name: str
    load: Callable[[], pd.DataFrame]
    period: str | None
    result_type: str | None = None
    fallback_day: bool = False  # too short by week: try by day
    notes: list[str] = field(default_factory=list)


def _fmt(x: float | None, nd: int = 3) -> str:
    return "–" if x is None else f"{x:.{nd}f}"


def _row(run: Run, hist_rows: int, r: BacktestResult, seconds: float) -> list[str]:
    d = r.to_dict()
    chosen = next(m for m in d["models"] if m["name"] == d["chosen"])
    cov = chosen["coverage"]
    o = d["outer"]
    if r.period is None:
        fh = f"{r.folds} (CV)"
    else:
        fh = f"{r.folds} × {r.horizon}"
    if o is None:
        outer = ["–", "–", "–", "–"]
        wapes = ", ".join(f"{m['name']} {_fmt(m['wape'], 2)}" for m in d["models"])
        run.notes.append(
            "no outer score: before every outer fold no candidate forecast better than "
            f"predicting zero (WAPE < 1), so none was chosen; WAPE over all folds: {wapes}"
        )
    else:
        iv = o["interval"]
        if iv:
            diff = f"{o['difference']:+.3f} [{iv[0]:+.3f}, {iv[1]:+.3f}]"
        else:
            diff = f"{o['difference']:+.3f} (no interval: {r.n_lines} line)"
        outer = [_fmt(o["wape"]), o["baseline"], _fmt(o["baseline_wape"]), diff]
    return [
        run.name,
        r.period or "CV",
        fh,
        f"{hist_rows:,} ({r.n_rows:,})",
        d["chosen"] + (" *" if d["chosen_is_baseline"] else ""),
        *outer,
        " / ".join(_fmt(cov[k], 2) for k in ("all", "small_lines", "large_lines")),
        f"{seconds:.1f}s",
    ]


def _backtest(run: Run, hist: pd.DataFrame) -> BacktestResult:
    if run.period is None:
        return run_cross_validation(hist, result_type=run.result_type)
    try:
        return run_backtest(hist, period=run.period, result_type=run.result_type)
    except HistoryTooShortError as e:
        if not (run.fallback_day and run.period == "week"):
            raise
        run.notes.append(f"by week: {e.reason}; backtested by day")
        run.period = "day"
        return run_backtest(hist, period="day", result_type=run.result_type)


def run_one(run: Run) -> list[str]:
    """Backtest one dataset; return its table row (the error in place of scores on failure)."""
    t = time.perf_counter()
    hist_rows = 0
    try:
        hist = run.load()
        if run.result_type is not None:
            hist_rows = int((hist["result_type"] == run.result_type).sum())
        else:
            hist_rows = len(hist)
        r = _backtest(run, hist)
    except Exception as e:  # a benchmark reports every dataset, whatever breaks one
        msg = f"{type(e).__name__}: {e}".replace("\n", " ")
        return [run.name, run.period or "CV", "–", f"{hist_rows:,}", f"not backtested: {msg}"]
    run.notes.extend(r.notes)
    run.notes.extend(f"warning: {w}" for w in r.warnings)
    return _row(run, hist_rows, r, time.perf_counter() - t)


def improvado_runs(data_dir: Path) -> list[Run]:
    """One run per result type of the four Improvado exports read together (most spend first)."""
    folder = data_dir / "improvado_mcdm_multiplatform"
    files = sorted(folder.glob("src_*.csv"))
    cache: dict[str, pd.DataFrame] = {}

    def load() -> pd.DataFrame:
        if "h" not in cache:
            cache["h"] = load_history(files)
        return cache["h"]

    try:
        h = load()
    except Exception:  # one row, whose load raises the error again
        return [Run("improvado (all 4 exports)", load, "week")]
    spend = h.groupby("result_type")["spend"].sum().sort_values(ascending=False)
    out = []
    for rtype in spend.index:
        sub = h[h["result_type"] == rtype]
        nets = ", ".join(sorted(sub["network"].unique()))
        out.append(
            Run(
                f"improvado {rtype} ({nets})",
                load,
                "week",
                result_type=str(rtype),
                fallback_day=True,
                notes=[
                    f"{sub['date'].nunique()} days, {sub['date'].min().date()}..{sub['date'].max().date()}"
                ],
            )
        )
    return out


def runs(data_dir: Path) -> list[Run]:
    """Every dataset's backtest, in the order of the table."""
    d = data_dir
    return [
        Run("online_ad_performance", lambda: D.online_ad_performance(d), "day"),
        Run("online_ad_performance", lambda: D.online_ad_performance(d), "week"),
        Run(
            "marketing_spend_feb2021 orders", lambda: D.marketing_spend_feb2021(d, "orders"), "day"
        ),
        Run("marketing_spend_feb2021 leads", lambda: D.marketing_spend_feb2021(d, "leads"), "day"),
        Run("kag_conversion (cross-sectional)", lambda: D.kag_conversion(d), None),
        *improvado_runs(d),
        Run("fb_vs_adwords_2019", lambda: D.fb_vs_adwords_2019(d), "day"),
        Run("meridian geo (40 geos, all channels)", lambda: D.meridian_geo(d), "week"),
        Run("robyn_simulated_weekly (1 series)", lambda: D.robyn_simulated_weekly(d), "week"),
        Run("pymc_mmm_example (1 series)", lambda: D.pymc_mmm_example(d), "week"),
        Run("sample history", generate_sample_history, "week"),
    ]


def _plain(cells: list[str]) -> str:
    if len(cells) < len(HEADER):  # an error row: the message runs on
        return (
            "  ".join(c.ljust(w) for c, w in zip(cells[:-1], WIDTHS, strict=False))
            + "  "
            + cells[-1]
        )
    return "  ".join(c.ljust(w) for c, w in zip(cells, WIDTHS, strict=True)).rstrip()


def _markdown(cells: list[str]) -> str:
    if len(cells) < len(HEADER):
        cells = cells + [""] * (len(HEADER) - len(cells))
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def main(argv: list[str] | None = None) -> None:
    """Backtest every dataset and print the table (plain, or Markdown with ``--markdown``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", nargs="?", type=Path, default=None, help="the shared datasets")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args(argv)
    data_dir = args.data_dir or default_data_dir()
    if not data_dir.is_dir():
        ap.error(
            f"the shared datasets are not at {data_dir}; give DATA_DIR or set ADPLAN_SHARED_DATA"
        )
    line = _markdown if args.markdown else _plain
    print(line(list(HEADER)), flush=True)
    if args.markdown:
        print("|" + "|".join("---" for _ in HEADER) + "|")
    notes: list[tuple[str, str, str]] = []
    total = time.perf_counter()
    for run in runs(data_dir):
        cells = run_one(run)
        print(line(cells), flush=True)
        notes.extend((run.name, run.period or "CV", n) for n in run.notes)
    print()
    print(
        "`*`: a baseline is used (no model beat the best baseline out of sample). Difference = "
        "outer WAPE of the nested choice − that of the best baseline, with its 90% bootstrap "
        "interval over lines (below 0: the choice is better). Coverage: share of outer-fold "
        "outcomes inside the chosen candidate's 10-90% ranges (promised: 0.8); – where no "
        f"line of that size was scored. Data: {data_dir}. Total {time.perf_counter() - total:.0f}s."
    )
    if notes:
        print()
        print("Notes:" if not args.markdown else "Notes:\n")
        for name, period, n in notes:
            print(f"- {name}, {period}: {n}")


if __name__ == "__main__":
    main()
