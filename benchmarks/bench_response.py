"""Response options benchmark: what choosing carry-over, shape and season costs, and priors.

    .venv/bin/python benchmarks/bench_response.py [--quick]

``forecasting.forecast_curves(history, "2027-01-04", "2027-03-31", period="week",
model="auto", response=...)`` (docs/forecasting.md, "Carry-over, seasons, events, shapes,
priors and lift tests"), with the options "auto" (the backtest chooses them: the default)
against every option named off (``ResponseOptions(carryover=0.0, season="common",
shape="power")``: no choice to make), so that the cost of choosing them is visible:

1. **small**: the laws of ``tests/forecasting/response_truth.py`` (12 lines x 104 weeks:
   adstock 0.5, a season per network, Hill curves, promotion weeks), each forecast both
   ways, with what was chosen (decays, Hill networks with kappa / half-saturation, season);
   the promotions law also with an events file flagging its promotion weeks;
2. **larger**: 120 lines (6 networks x 20 segments) x 156 weeks of a seeded power law with
   adstock 0.5 on every network (the same kind of law as response_truth's carryover), each
   case in a fresh process: model auto with options auto, with options off, and model glm
   with ``ResponseOptions(carryover=0.5)``; wall seconds, the process's peak resident memory
   (``VmHWM``, as bench_ingest.py measures a child) and its memory before the forecast (after
   the imports, the history and a small warm-up forecast), and the decays chosen;
3. **priors**: reading a priors mapping of 5,000 entries
   (``forecasting.options.response_options(priors={"priors": [...]})``, median of 3), and
   forecasting the small carryover law (options off) with 200 priors naming new segments
   against the same without them.

The first forecast of a process pays for imports, so each process forecasts once before it
is timed. Single runs (the machine may be shared): a backtest's time varies by ~10%.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import forecasting  # noqa: E402
from forecasting.options import ResponseOptions, response_options  # noqa: E402

# the laws with the effects a plain power law leaves out (the response tests' known truth)
from tests.forecasting.response_truth import promotion_weeks, truth  # noqa: E402

START, END = "2027-01-04", "2027-03-31"
OFF = ResponseOptions(carryover=0.0, season="common", shape="power")
LAWS = ("carryover", "seasons", "hill", "promotions")
LARGE_CASES = {
    "auto, options auto": ("auto", {}),
    "auto, options off": ("auto", {"carryover": 0.0, "season": "common", "shape": "power"}),
    "glm, carryover 0.5": ("glm", {"carryover": 0.5}),
}


def make_history(
    n_networks: int = 6, n_segments: int = 20, weeks: int = 156, decay: float = 0.5, seed: int = 0
) -> pd.DataFrame:
    """Draw weekly history ending the week before 2027-01-04 from a power law with adstock.

    Per network a base cost per result and an elasticity (CPR ∝ spend^e), per line a segment
    factor and a reference spend; a ±25% yearly season, a 5%/year trend, spend ±45% week to
    week. The spend of week τ brings ``L_τ = spend/CPR`` results over its lifetime,
    ``(1 - decay)·decay^k`` of them k weeks later (the weeks before the history saw the
    first week's spend); Poisson results.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(START) - pd.Timedelta(weeks=weeks)
    dates = start + pd.to_timedelta(7 * np.arange(weeks), unit="D")
    nets = np.array([f"net{i}" for i in range(n_networks)])
    segs = np.array([f"seg{j:02d}" for j in range(n_segments)])
    cpr0 = rng.uniform(4, 14, n_networks)[:, None, None]
    e = rng.uniform(0.15, 0.45, n_networks)[:, None, None]
    factor = np.exp(rng.normal(0, 0.3, (n_networks, n_segments)))[:, :, None]
    ref = rng.uniform(500, 8000, (n_networks, n_segments))[:, :, None]
    doy = (dates + pd.Timedelta(days=3.5)).day_of_year.to_numpy() / 365.25
    years = (dates - start).days.to_numpy() / 365.25
    season = np.exp(0.25 * np.sin(2 * np.pi * doy) + 0.05 * years)
    spend = ref * np.exp(rng.normal(0, 0.45, (n_networks, n_segments, weeks)))
    lifetime = spend / (cpr0 * factor * (spend / ref) ** e * season)
    mu = np.empty_like(lifetime)
    seen = lifetime[:, :, 0]
    for w in range(weeks):
        seen = (1 - decay) * lifetime[:, :, w] + decay * seen
        mu[:, :, w] = seen
    ni, si, wi = np.indices(spend.shape).reshape(3, -1)
    return pd.DataFrame(
        {
            "date": dates[wi],
            "network": nets[ni],
            "segment": segs[si],
            "result_type": "purchases",
            "spend": spend.ravel().round(2),
            "results": rng.poisson(mu).ravel().astype(float),
            "currency": "EUR",
        }
    )


def forecast(history: pd.DataFrame, model: str = "auto", response=None):
    """Return the forecast and its wall seconds."""
    t = time.perf_counter()
    result = forecasting.forecast_curves(
        history, START, END, period="week", model=model, response=response
    )
    return result, time.perf_counter() - t


def chosen(response: dict) -> str:
    """Return what a forecast's response used, in a few words."""
    carry = response["carryover"]
    decays = set(carry.values())
    if decays == {0.0}:
        words = ["no carry-over"]
    elif len(decays) == 1:
        words = [f"decay {decays.pop():g} on every network"]
    else:
        words = ["decays " + ", ".join(f"{n} {d:g}" for n, d in carry.items())]
    hill = response["hill"]
    if hill:
        words.append(
            "hill "
            + ", ".join(
                f"{n} k={h['kappa']:g} c={h['half_saturation']:.2f}" for n, h in hill.items()
            )
        )
    words.append(f"season {response['season']}")
    if response.get("events"):
        words.append("events " + ", ".join(response["events"]))
    return "; ".join(words)


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB (``VmHWM``; see bench_ingest.py)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def measure_large(path: str, case: str) -> None:
    """Forecast the pickled history of ``path`` as ``case`` says; print JSON figures."""
    history = pd.read_pickle(path)
    model, options = LARGE_CASES[case]
    warm = history[history["segment"].isin(["seg00", "seg01"])]
    forecast(warm, "glm", OFF)  # the imports a first forecast pays for
    before = peak_rss_mb()
    result, wall = forecast(history, model, ResponseOptions(**options))
    print(
        json.dumps(
            {
                "wall": wall,
                "peak_mb": peak_rss_mb(),
                "before_mb": before,
                "model": result.model_name,
                "carryover": result.response["carryover"],
                "chosen": chosen(result.response),
            }
        )
    )


def in_child(path: Path, case: str) -> dict:
    """Run :func:`measure_large` in a fresh process; return the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, __file__, "--measure-large", str(path), case],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"{case} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(what: str, wall: float | None, mb: str, note: str) -> None:
    """Print one table row: what was timed, wall seconds, memory, what was chosen."""
    secs = "" if wall is None else f"{wall:.2f}"
    print(f"{what:52s} {secs:>8s} {mb:>15s}  {note}", flush=True)


def header(title: str) -> None:
    """Print a section's title and the table's column names."""
    print(f"\n{title}")
    print(f"{'':52s} {'wall s':>8s} {'MB peak/before':>15s}  chosen")


def small_laws() -> dict:
    """Forecast each response_truth law with options auto and off; print the rows."""
    header("1. small: response_truth's laws (12 lines x 104 weeks), model auto")
    forecast(truth("promotions"), "glm", OFF)  # the imports a first forecast pays for
    off_wall = {}
    for kind in LAWS:
        history = truth(kind)
        auto, t_auto = forecast(history)
        off, t_off = forecast(history, response=OFF)
        off_wall[kind] = t_off
        row(f"{kind}: options auto ({auto.model_name})", t_auto, "", chosen(auto.response))
        row(
            f"{kind}: options off ({off.model_name})",
            t_off,
            "",
            f"options auto took {t_auto / t_off:.1f}x this",
        )
    weeks = [{"name": "promo", "date": str(d.date())} for d in promotion_weeks()]
    for w in weeks:  # each promotion is its ISO week
        w["end"] = str((pd.Timestamp(w["date"]) + pd.Timedelta(days=6)).date())
        w["start"] = w.pop("date")
        w["promotion"] = "yes"
    ev = response_options(events=weeks)
    got, t_ev = forecast(truth("promotions"), response=ResponseOptions(events=ev.events))
    row(f"promotions + events ({len(weeks)} weeks flagged)", t_ev, "", chosen(got.response))
    return off_wall


def larger(quick: bool) -> None:
    """Forecast the larger adstock history in a fresh process per case; print the rows."""
    kw = {"n_networks": 3, "n_segments": 10, "weeks": 104} if quick else {}
    history = make_history(**kw)
    lines = history.groupby(["network", "segment"]).ngroups
    weeks = history["date"].nunique()
    header(f"2. larger: {lines} lines x {weeks} weeks ({len(history):,} rows), adstock 0.5")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "history.pkl"
        history.to_pickle(path)
        walls = {}
        for case in LARGE_CASES:
            got = in_child(path, case)
            walls[case] = got["wall"]
            mb = f"{got['peak_mb']:,.0f}/{got['before_mb']:,.0f}"
            row(f"{case} ({got['model']})", got["wall"], mb, got["chosen"])
    ratio = walls["auto, options auto"] / walls["auto, options off"]
    print(f"choosing the options: {ratio:.1f}x the forecast with them off")


def priors(off_wall: dict) -> None:
    """Time reading 5,000 priors and a forecast with 200 priors for new segments."""
    header("3. priors")
    entries = [
        {
            "network": f"net{i % 50:02d}",
            "segment": f"seg{i // 50:03d}",
            "cpr": 5.0 + i % 17,
            "elasticity": 0.5 + (i % 7) / 20,
            "weight": 100.0,
            "spend": 1000.0,
        }
        for i in range(5000)
    ]
    walls = []
    for _ in range(3):
        t = time.perf_counter()
        opts = response_options(priors={"priors": entries})
        walls.append(time.perf_counter() - t)
    row(f"read {len(opts.priors.entries):,} priors (median of 3)", statistics.median(walls), "", "")
    nets = ("meta", "tiktok", "google")
    new = [
        {
            "network": nets[i % 3],
            "segment": f"new{i:03d}",
            "cpr": 8.0 + i % 5,
            "elasticity": 0.6,
            "weight": 50.0,
            "spend": 2000.0,
            "max_spend": 4000.0,
        }
        for i in range(200)
    ]
    with_priors = ResponseOptions(
        carryover=0.0,
        season="common",
        shape="power",
        priors=response_options(priors={"priors": new}).priors,
    )
    got, wall = forecast(truth("carryover"), response=with_priors)
    flagged = sum("prior_only" in s.flags or "new_line" in s.flags for s in got.lines)
    row(
        "carryover law, options off, 200 new-segment priors",
        wall,
        "",
        f"{len(got.lines)} lines ({flagged} new); without priors {off_wall['carryover']:.2f} s",
    )


def main() -> None:
    """Run the three sections; print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the larger history at 30 lines x 2 years")
    ap.add_argument("--measure-large", nargs=2, metavar=("PICKLE", "CASE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure_large:
        measure_large(*args.measure_large)
        return
    t = time.perf_counter()
    off_wall = small_laws()
    larger(args.quick)
    priors(off_wall)
    print(f"\ntotal {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
