"""Forecast benchmark: fit models and write curves for about one million history rows.

History: 300 lines (10 networks x 30 segments) x 3 years of days x 3 campaigns = 986,400
rows drawn from a known cost-per-result law (elasticity per network, segment factors,
yearly season, weekday effect, Poisson noise). Then:

1. ``forecast_curves(..., period="week", model="glm")`` for the next quarter (13 weeks);
2. the same with ``model="auto"`` (a 3-fold backtest of GLM, GBM and the baselines first),
   once with ``n_jobs=1`` and once with ``n_jobs=2`` (joblib processes over fold x model);
3. writing the curves JSON.

Prints wall time per step, peak resident memory, and the accuracy of the GLM curves against
the true expected results (WAPE at 1x the line's usual weekly spend).

    .venv/bin/python benchmarks/bench_forecast.py [--quick]
    .venv/bin/python benchmarks/bench_forecast.py --real [../shared/data]   # per-dataset backtests
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecasting.curves import forecast_curves  # noqa: E402


def make_history(n_networks=10, n_segments=30, days=1096, campaigns=3, seed=0):
    """Draw daily history from a known cost-per-result law; return it and the law's truth.

    One row per network x segment x day x campaign; ``truth`` holds the elasticities, base
    CPRs, segment factors and reference spends needed by :func:`true_weekly_results`.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    dates = start + pd.to_timedelta(np.arange(days), unit="D")
    nets = [f"net{i:02d}" for i in range(n_networks)]
    segs = [f"seg{j:02d}" for j in range(n_segments)]
    elasticity = rng.uniform(0.15, 0.5, n_networks)  # CPR ∝ spend^e
    base_cpr = rng.uniform(4, 20, n_networks)
    seg_factor = np.exp(rng.normal(0, 0.3, (n_networks, n_segments)))
    ref = rng.uniform(50, 500, (n_networks, n_segments))  # daily spend per campaign
    L = n_networks * n_segments
    li = np.repeat(np.arange(L), days * campaigns)
    di = np.tile(np.repeat(np.arange(days), campaigns), L)
    ni, si = li // n_segments, li % n_segments
    spend = ref[ni, si] * np.exp(rng.normal(0, 0.4, li.size))
    doy = dates.day_of_year.to_numpy()[di] / 365.25
    dow = dates.day_of_week.to_numpy()[di]
    season = np.exp(0.2 * np.sin(2 * np.pi * doy) + 0.05 * (dow >= 5))
    cpr = base_cpr[ni] * seg_factor[ni, si] * (spend / ref[ni, si]) ** elasticity[ni] * season
    mu = spend / cpr
    truth = {
        "elasticity": dict(zip(nets, elasticity, strict=True)),
        "base_cpr": base_cpr,
        "seg_factor": seg_factor,
        "ref": ref,
        "nets": nets,
        "segs": segs,
        "campaigns": campaigns,
    }
    df = pd.DataFrame(
        {
            "date": dates[di],
            "network": np.array(nets)[ni],
            "segment": np.array(segs)[si],
            "result_type": "purchases",
            "spend": spend.round(2),
            "results": rng.poisson(mu).astype(float),
            "currency": "EUR",
            "campaign": np.char.add("c", (np.arange(li.size) % campaigns).astype(str)),
        }
    )
    return df, truth


def true_weekly_results(truth, net_i, seg_i, week_start, weekly_spend):
    """Return the expected results of a week at a weekly spend spread over days and campaigns."""
    e = truth["elasticity"][truth["nets"][net_i]]
    ref = truth["ref"][net_i, seg_i]
    per = weekly_spend / (7 * truth["campaigns"])
    days = pd.date_range(week_start, periods=7)
    season = np.exp(
        0.2 * np.sin(2 * np.pi * days.day_of_year.to_numpy() / 365.25)
        + 0.05 * (days.day_of_week >= 5)
    )
    cpr = truth["base_cpr"][net_i] * truth["seg_factor"][net_i, seg_i] * (per / ref) ** e * season
    return float((per / cpr).sum() * truth["campaigns"])


def peak_mb() -> float:
    """Return the process's peak resident memory in MB (Linux ``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_datasets(data_dir: Path) -> None:
    """Print the backtest figures per shared dataset (the tables of docs/forecasting.md)."""
    from forecasting import datasets as D
    from forecasting.backtest import run_backtest, run_cross_validation
    from forecasting.sample import generate_sample_history

    runs = [
        (
            "online_ad_performance, daily",
            lambda: run_backtest(D.online_ad_performance(data_dir), period="day"),
        ),
        (
            "online_ad_performance, weekly",
            lambda: run_backtest(D.online_ad_performance(data_dir), period="week"),
        ),
        (
            "marketing_spend_feb2021 orders, daily",
            lambda: run_backtest(D.marketing_spend_feb2021(data_dir, "orders"), period="day"),
        ),
        (
            "marketing_spend_feb2021 leads, daily",
            lambda: run_backtest(D.marketing_spend_feb2021(data_dir, "leads"), period="day"),
        ),
        (
            "sample history (generate_sample_history()), weekly",
            lambda: run_backtest(generate_sample_history(), period="week"),
        ),
        (
            "kag_conversion conversions, 5-fold CV",
            lambda: run_cross_validation(D.kag_conversion(data_dir)),
        ),
    ]
    for name, run in runs:
        t = time.perf_counter()
        r = run()
        print(
            f"{name}: {r.method}, horizon {r.horizon}, folds {r.folds}, {r.n_rows} rows, chosen "
            f"{r.chosen}, beats every baseline: {r.beats_baselines} ({time.perf_counter() - t:.1f} s)"
        )
        for m in r.models:
            cov = "" if m.coverage is None else f"  coverage {m.coverage:.2f}"
            kind = "baseline" if m.baseline else "model   "
            print(f"    {kind} {m.name:13s} WAPE {m.wape:.3f}  bias {m.bias:+.3f}{cov}")


def main() -> None:
    """Run the benchmark (or, with ``--real``, the per-dataset backtests) and print figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100 lines x 1 year (a smoke run)")
    ap.add_argument(
        "--real",
        metavar="DATA_DIR",
        nargs="?",
        const=str(Path(__file__).resolve().parents[2] / "shared" / "data"),
        help="print the backtest figures per shared dataset instead",
    )
    args = ap.parse_args()
    if args.real:
        real_datasets(Path(args.real))
        return
    kw = dict(n_networks=5, n_segments=20, days=366) if args.quick else {}
    t = time.perf_counter()
    hist, truth = make_history(**kw)
    print(
        f"history: {len(hist):,} rows, {hist.groupby(['network', 'segment']).ngroups} lines, "
        f"{hist['date'].min().date()}..{hist['date'].max().date()} ({time.perf_counter() - t:.1f} s to generate)"
    )
    print(f"peak memory after generating: {peak_mb():,.0f} MB")
    start, end = (
        hist["date"].max() + pd.Timedelta(days=1),
        hist["date"].max() + pd.Timedelta(days=91),
    )

    t = time.perf_counter()
    res = forecast_curves(hist, start, end, period="week", model="glm")
    t_glm = time.perf_counter() - t
    print(
        f"forecast_curves(model=glm): {t_glm:.1f} s, {len(res.curves.lines):,} curve lines; peak {peak_mb():,.0f} MB"
    )

    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        path = Path(d) / "curves.json"
        path.write_text(json.dumps(res.curves.to_dict()))
        print(
            f"write curves JSON: {time.perf_counter() - t:.2f} s, {path.stat().st_size / 1e6:.1f} MB"
        )

    # accuracy against the truth at the line's usual weekly spend
    err = tot = 0.0
    ni = {n: i for i, n in enumerate(truth["nets"])}
    si = {s: i for i, s in enumerate(truth["segs"])}
    typical = {(ln.network, ln.segment): ln.typical_spend for ln in res.lines}
    for ln in res.curves.lines:
        s = typical[(ln.network, ln.segment)]
        wk = pd.Timestamp.fromisocalendar(int(ln.period[:4]), int(ln.period[6:]), 1)
        true = true_weekly_results(truth, ni[ln.network], si[ln.segment], wk, s)
        err += abs(ln.results_at(s) - true)
        tot += true
    est_b = {ln.network: ln.elasticity for ln in res.lines}
    b_err = max(abs(est_b[n] - (1 - e)) for n, e in truth["elasticity"].items())
    print(
        f"GLM curves vs true expected results: WAPE {err / tot:.4f}; max |b - true b| {b_err:.3f}"
    )

    for n_jobs in (1, 2):
        t = time.perf_counter()
        res2 = forecast_curves(hist, start, end, period="week", model="auto", n_jobs=n_jobs)
        bt = res2.backtest
        print(
            f"forecast_curves(model=auto, n_jobs={n_jobs}): {time.perf_counter() - t:.1f} s; chosen "
            f"{bt['chosen']}; "
            + ", ".join(f"{m['name']} {m['wape']:.3f}" for m in bt["models"])
            + f"; peak {peak_mb():,.0f} MB"
        )


if __name__ == "__main__":
    main()
