"""Model choice that is honest: nested, scored on the slope too, never worse than the baseline.

The choice rules are checked on hand-made prediction frames (each fold's winner is known),
and end to end on a history whose cost per result wanders week to week as a random walk:
there the best forecast of next week's cost is last week's, every model lags behind it out
of sample, and ``adplan forecast`` says so and plans with that baseline (or refuses, with
``--no-baseline``).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.main import app
from forecasting import scoring
from forecasting.curves import NoModelError, forecast_curves
from forecasting.history import write_history
from forecasting.scoring import Candidate
from tests.test_cli_json import run

RUNNER = CliRunner()


def cli(*args: str, code: int = 0):
    """Run adplan in process (the real executable is for what users pipe)."""
    r = RUNNER.invoke(app, list(args))
    assert r.exit_code == code, f"exit {r.exit_code}\n{r.stdout}\n{r.stderr}"
    return r


CANDS = [Candidate("m1", False), Candidate("m2", False), Candidate("base", True)]


def _preds(errors: dict[str, list[float]], *, spend=None, usual=None) -> pd.DataFrame:
    """Two lines × 4 periods per fold; ``errors[name][fold]`` is the candidate's relative error."""
    rows = []
    folds = len(next(iter(errors.values())))
    for k in range(folds):
        for line in ("a", "b"):
            for t in range(4):
                rows.append({"fold": k, "network": "n", "segment": line, "t": t, "results": 100.0})
    df = pd.DataFrame(rows)
    df["spend"] = 1000.0 if spend is None else spend
    df["usual"] = 1000.0 if usual is None else usual
    for name, errs in errors.items():
        df[f"pred:{name}"] = 100.0 * (1 + np.array([errs[k] for k in df["fold"]]))
    return df


def test_each_outer_fold_is_chosen_on_the_folds_before_it():
    preds = _preds({"m1": [0.05, 0.30, 0.30], "m2": [0.10, 0.10, 0.10], "base": [0.5, 0.5, 0.5]})
    picks = scoring.nested_picks(preds, CANDS, time_ordered=True)
    # fold 1 sees only fold 0 (m1 best there); fold 2 sees folds 0-1 (m2 best overall)
    assert picks == {1: "m1", 2: "m2"}
    mask, p = scoring.outer_predictions(preds, picks)
    assert mask.sum() == 16 and np.allclose(p[:8], 130.0) and np.allclose(p[8:], 110.0)


def test_the_baseline_is_used_when_no_model_beats_it():
    preds = _preds({"m1": [0.2, 0.2], "m2": [0.3, 0.3], "base": [0.1, 0.1]})
    assert scoring.choose(preds, CANDS) == "base"


def test_a_model_worse_than_predicting_zero_is_never_chosen():
    # m1 over-forecasts threefold (WAPE 2), the baseline too (WAPE 1.5): nothing is usable
    preds = _preds({"m1": [2.0], "m2": [2.0], "base": [1.5]})
    assert scoring.choose(preds, CANDS) is None
    preds = _preds({"m1": [1.0], "m2": [0.9], "base": [1.2]})
    assert scoring.choose(preds, CANDS) == "m2"  # WAPE 1 is no better than zero


def test_choice_weighs_the_slope_not_only_the_level():
    """m1 wins on WAPE by a hair but gets the response to spend wrong; m2 is chosen."""
    spend = np.tile([500.0, 1000.0, 1000.0, 2000.0], 2)  # two periods moved from the usual
    preds = _preds({"m1": [0.0], "m2": [0.0], "base": [0.0]}, spend=spend)
    truth = np.array([60.0, 100.0, 100.0, 160.0] * 2)  # results ∝ spend^0.7 around 1000
    preds["results"] = truth
    preds["pred:m2"] = truth * 1.08  # right slope, an 8% level error
    preds["pred:m1"] = np.array([70.0, 100.0, 100.0, 145.0] * 2)  # too flat a response
    preds["pred:base"] = truth.mean() * spend / spend.mean()  # slope 1
    w1 = scoring.wape_bias(truth, preds["pred:m1"].to_numpy())[0]
    w2 = scoring.wape_bias(truth, preds["pred:m2"].to_numpy())[0]
    s1, s2 = scoring.slope_wape(preds, "m1"), scoring.slope_wape(preds, "m2")
    assert s2 < 1e-9 < s1  # the level error is removed: m2's slope is exact
    assert w1 < w2 and scoring.choose(preds, CANDS) == "m2"


def test_bootstrap_interval_holds_the_difference_and_needs_two_lines():
    rng = np.random.default_rng(0)
    preds = _preds({"m1": [0.0], "m2": [0.0], "base": [0.0]})
    y = preds["results"].to_numpy()
    a, b = y * (1 + rng.normal(0, 0.1, len(y))), y * (1 + rng.normal(0, 0.3, len(y)))
    lo, hi = scoring.bootstrap_difference(preds, a, b)
    diff = scoring.wape_bias(y, a)[0] - scoring.wape_bias(y, b)[0]
    assert lo < diff < hi < 0
    mask = (preds["segment"] == "a").to_numpy()
    assert scoring.bootstrap_difference(preds[mask], a[mask], b[mask]) is None


def random_walk_history(seed: int = 0, weeks: int = 80, lines: int = 8) -> pd.DataFrame:
    """Weekly history whose log cost per result is a random walk (sd 0.25 a week) per line."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-06-02")
    rows = []
    for line in range(lines):
        log_cpr = np.log(20.0) + np.cumsum(rng.normal(0, 0.25, weeks))
        for w in range(weeks):
            s = 3000 * float(np.exp(rng.normal(0, 0.3)))
            mu = s / float(np.exp(log_cpr[w]))
            net = "meta" if line < lines // 2 else "tiktok"
            rows.append((start + pd.Timedelta(weeks=w), net, f"s{line}", "purchases", round(s, 2), float(rng.poisson(mu)), "EUR"))  # fmt: skip
    cols = ["date", "network", "segment", "result_type", "spend", "results", "currency"]
    return pd.DataFrame(rows, columns=cols)


@pytest.fixture(scope="module")
def walk_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("walk") / "walk.csv"
    write_history(random_walk_history(), path)
    return path


def test_forecast_falls_back_to_the_baseline_and_says_so(walk_csv, tmp_path):
    out = tmp_path / "c.json"
    p = cli("forecast", "--history", str(walk_csv), "--from", "2027-01-04", "--to", "2027-02-28", "--out", str(out))  # fmt: skip
    assert "no model beat the best naive baseline" in p.stderr and "'last_cpr'" in p.stderr
    curves = json.loads(out.read_text())
    assert curves["model"] == "last_cpr"
    assert curves["backtest"]["chosen_is_baseline"] is True
    outer = curves["backtest"]["outer"]
    assert outer["wape"] >= outer["baseline_wape"] and outer["baseline"] == "last_cpr"
    # a flat cost per result, so no elasticity to be unsure of, nor flat spend to flag
    assert all(
        s["elasticity"] == 1 and s["elasticity_se"] is None for s in curves["line_forecasts"]
    )
    assert "flat_spend" not in p.stderr
    # every curve is a straight line from 0 to its cap
    for ln in curves["lines"]:
        (s1, r1), (s2, r2) = ln["points"][1], ln["points"][-1]
        assert r2 / s2 == pytest.approx(r1 / s1, rel=1e-9)


def test_no_baseline_refuses_instead(walk_csv, tmp_path):
    out = tmp_path / "c.json"
    p = run("forecast", "--history", str(walk_csv), "--from", "2027-01-04", "--to", "2027-02-28", "--out", str(out), "--no-baseline", code=2)  # fmt: skip
    assert "Refused (--no-baseline)" in p.stderr and not out.exists()
    with pytest.raises(NoModelError, match="no model beat"):
        forecast_curves(random_walk_history(), "2027-01-04", "2027-02-28", fallback="refuse")


def test_lines_reaching_their_cap_are_listed_and_move_with_the_cap():
    from forecasting.sample import generate_sample_history

    h = generate_sample_history()
    low = forecast_curves(h, "2027-01-04", "2027-03-28", model="glm", cap_multiple=1.0)
    high = forecast_curves(h, "2027-01-04", "2027-03-28", model="glm", cap_multiple=4.0)
    capped = {(c["network"], c["segment"]) for c in low.at_cap["lines"]}
    assert capped and low.curves.meta["at_cap"] == low.at_cap
    assert len(high.at_cap["lines"]) < len(capped)
    for c in low.at_cap["lines"]:  # the cap is cap_multiple x the line's highest spend
        line = next(s for s in low.lines if (s.network, s.segment) == (c["network"], c["segment"]))
        assert c["cap_spend"] == pytest.approx(line.history_max_spend, abs=0.01)


def test_slope_wape_reads_rows_by_position_whatever_their_index():
    """Cross-validation scores subsets of the predictions (gaps in the index)."""
    spend = np.tile([500.0, 1000.0, 1000.0, 2000.0], 6)
    preds = _preds({"m1": [0.0, 0.1, 0.2], "m2": [0, 0, 0], "base": [0, 0, 0]}, spend=spend)
    preds["pred:m1"] *= np.tile([0.8, 1.0, 1.1, 1.3], 6)
    subset = preds[preds["fold"] != 1]
    assert scoring.slope_wape(subset, "m1") == pytest.approx(
        scoring.slope_wape(subset.reset_index(drop=True), "m1"), abs=1e-12
    )


def test_no_baseline_is_refused_beside_a_named_model(walk_csv, tmp_path):
    p = cli("forecast", "--history", str(walk_csv), "--from", "2027-01-04", "--to", "2027-02-28", "--out", str(tmp_path / "c.json"), "--model", "glm", "--no-baseline", code=2)  # fmt: skip
    assert "--no-baseline applies to --model auto" in p.stderr


def test_outer_folds_without_results_are_reported_not_a_crash(tmp_path):
    h = random_walk_history(weeks=40)
    h.loc[h["date"] >= h["date"].min() + pd.Timedelta(weeks=28), "results"] = 0.0
    path = tmp_path / "stopped.csv"
    write_history(h, path)
    p = cli("backtest", "--history", str(path))
    assert "WAPE" in p.stdout
    cli("forecast", "--history", str(path), "--from", "2026-03-09", "--to", "2026-04-28", "--out", str(tmp_path / "z.json"))  # fmt: skip
