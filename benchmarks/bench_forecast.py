"""Forecast benchmark through the command line: ``adplan forecast`` on a million-row CSV.

History: 300 lines (10 networks x 30 segments) x 3 years of days x 3 campaigns = 986,400
rows drawn from a known cost-per-result law (elasticity per network, segment factors,
yearly season, weekday effect, Poisson noise), written as a canonical CSV. Then the real
executable, as a user runs it, for the next quarter in ISO weeks:

1. ``adplan forecast --model glm``;
2. ``adplan forecast`` (model auto: the nested backtest of glm and glm_eb against the
   baselines first; its fits spread over two processes on a panel this size).

Each prints its wall time, the peak resident memory of the adplan process (``wait4``), and
the peak of the whole process tree (the workers too; /proc sampled every 20 ms), then the
accuracy of the GLM curves against the true expected results (WAPE at the line's usual
weekly spend). The per-dataset backtests are ``benchmarks/bench_forecast_real.py``.

    .venv/bin/python benchmarks/bench_forecast.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ADPLAN = Path(sys.executable).with_name("adplan")


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


def _tree(pid: int) -> list[int]:
    """Return ``pid`` and its descendants (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parents.get(p, []))
    return out


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return int(status.split("VmRSS:")[1].split()[0]) / 1024 if "VmRSS:" in status else 0.0


def run_cli(args: list[str]) -> tuple[float, float, float, str]:
    """Run adplan; return wall seconds, its own peak RSS (MB), the tree's peak, its stderr."""
    t = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([str(ADPLAN), *args], stdout=subprocess.DEVNULL, stderr=err)
        tree_peak = 0.0
        while True:
            done, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if done:
                break
            tree_peak = max(tree_peak, sum(_rss_mb(p) for p in _tree(proc.pid)))
            time.sleep(0.02)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read()
    if proc.returncode != 0:
        sys.exit(f"adplan {' '.join(args)} failed ({proc.returncode}):\n{text}")
    own = usage.ru_maxrss / 1024
    return wall, own, max(tree_peak, own), text


def accuracy(curves: dict, truth) -> tuple[float, float]:
    """Return the curves' WAPE against the true expected results at each line's usual spend."""
    ni = {n: i for i, n in enumerate(truth["nets"])}
    si = {s: i for i, s in enumerate(truth["segs"])}
    typical = {(s["network"], s["segment"]): s["typical_spend"] for s in curves["line_forecasts"]}
    err = tot = 0.0
    for ln in curves["lines"]:
        s = typical[(ln["network"], ln["segment"])]
        wk = pd.Timestamp.fromisocalendar(int(ln["period"][:4]), int(ln["period"][6:]), 1)
        true = true_weekly_results(truth, ni[ln["network"]], si[ln["segment"]], wk, s)
        xs, ys = zip(*ln["points"], strict=True)
        err += abs(float(np.interp(s, xs, ys)) - true)
        tot += true
    est_b = {s["network"]: s["elasticity"] for s in curves["line_forecasts"]}
    b_err = max(abs(est_b[n] - (1 - e)) for n, e in truth["elasticity"].items())
    return err / tot, b_err


def main() -> None:
    """Write the history, run ``adplan forecast`` twice, print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100 lines x 1 year (a smoke run)")
    args = ap.parse_args()
    kw = dict(n_networks=5, n_segments=20, days=366) if args.quick else {}
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        hist, truth = make_history(**kw)
        csv = Path(d) / "history.csv"
        hist.to_csv(csv, index=False)
        print(
            f"history: {len(hist):,} rows, {hist.groupby(['network', 'segment']).ngroups} lines, "
            f"{csv.stat().st_size / 1e6:.0f} MB CSV ({time.perf_counter() - t:.1f} s to write)"
        )
        end = hist["date"].max()
        window = ["--from", str((end + pd.Timedelta(days=1)).date())]
        window += ["--to", str((end + pd.Timedelta(days=91)).date())]
        del hist
        times = {}
        for model in ("glm", "auto"):
            out = Path(d) / f"curves_{model}.json"
            cmd = ["forecast", "--history", str(csv), *window, "--model", model, "-o", str(out)]
            wall, own, tree, _ = run_cli(cmd)
            times[model] = wall
            curves = json.loads(out.read_text())
            extra = ""
            if bt := curves.get("backtest"):
                o = bt["outer"]
                extra = (
                    f"; chosen {bt['chosen']}, outer WAPE {o['wape']:.3f} against "
                    f"{o['baseline']} {o['baseline_wape']:.3f}"
                )
            print(
                f"adplan forecast --model {model}: {wall:.1f} s, peak RSS {own:,.0f} MB "
                f"(process tree {tree:,.0f} MB); {len(curves['lines']):,} curve lines, "
                f"{out.stat().st_size / 1e6:.1f} MB JSON{extra}"
            )
            if model == "glm":
                wape, b_err = accuracy(curves, truth)
                print(
                    f"GLM curves vs true expected results: WAPE {wape:.4f}; "
                    f"max |b - true b| {b_err:.3f}"
                )
        print(f"model choice (auto) / GLM alone: {times['auto'] / times['glm']:.1f}x")


if __name__ == "__main__":
    main()
