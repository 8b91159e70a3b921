"""``run_demo``: the whole pipeline on adplan's own sample history, written to one folder.

Steps (each records what it did and the files it wrote):

1. sample history (``forecasting.generate_sample_history``) -> ``sample-history.csv``
2. ingest it back (``forecasting.ingest_files``) -> ``ingest-report.json``
3. backtest summary (``forecasting.run_backtest``: GLM vs baselines, 2 folds) -> ``backtest.json``
4. forecast Q1 2027 by ISO week (``forecasting.forecast_curves``) -> ``curves.json``
5. optimise with a sample spec (floors, shares, pacing) -> ``spec.yaml``, ``plan.{json,csv,xlsx,html}``
6. a scenario with two what-ifs (budget -10%, TikTok 20% dearer) -> ``scenario.yaml`` and
   ``scenario/`` (plans per variant, ``workbook.xlsx``, ``report.html``, ``frontier.png``)

``on_progress(message, done, total)`` reports each step. A step whose part of adplan is not
installed is recorded as skipped and the steps that need it are skipped too.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from forecasting.progress import Progress, no_progress
from optimizer import Plan, PlanSpec

from .exports.write import json_safe

STEPS = 7
AS_OF = "2027-02-01"  # the demo re-plans after four weeks of (simulated) actual spend
QUARTER = ("2027-01-04", "2027-04-04")  # ISO weeks 2027-W01 .. 2027-W13


@dataclass
class DemoStep:
    """One step of the demo: what it did (or why it was skipped), its files and its time."""

    name: str
    status: str  # done | skipped
    detail: str
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class DemoResult:
    """The demo's folder and its steps in order."""

    out_dir: Path
    steps: list[DemoStep]

    @property
    def files(self) -> dict[str, Path]:
        """Every file the steps wrote, by label."""
        out: dict[str, Path] = {}
        for s in self.steps:
            out.update(s.files)
        return out

    def to_dict(self) -> dict:
        """Return the result as a JSON-ready dict (the ``--json`` output of ``adplan demo``)."""
        return json_safe(
            {
                "out_dir": str(self.out_dir),
                "steps": [
                    {
                        "name": s.name,
                        "status": s.status,
                        "detail": s.detail,
                        "seconds": round(s.seconds, 2),
                        "files": {k: str(v) for k, v in s.files.items()},
                    }
                    for s in self.steps
                ],
            }
        )


def sample_spec(curves, last_year_spend: float | None = None, *, source: str = "spec") -> PlanSpec:
    """Return a plan spec like an SMM's for the sample (its errors name ``source``).

    The budget is that of the same quarter last year, at most 80% of what the curves can
    absorb (45% of that without last year's spend), rounded to thousands; Meta gets at least
    25%, TikTok at most 20%, LinkedIn at least 5%, retargeting at most 15%, and every week
    stays within +-30% of an even share. Rules on networks or segments the curves lack are
    left out.
    """
    from optimizer.spec import GroupRule, Pacing

    cap = sum(ln.max_spend for ln in curves.lines)
    budget = 0.45 * cap if not last_year_spend else min(last_year_spend, 0.8 * cap)
    budget = round(budget, -3)
    nets = set(curves.networks)
    networks = {}
    if "meta" in nets:
        networks["meta"] = GroupRule(min_share=0.25)
    if "tiktok" in nets:
        networks["tiktok"] = GroupRule(max_share=0.2)
    if "linkedin" in nets:
        networks["linkedin"] = GroupRule(min=round(budget * 0.05, -2))
    segments = {}
    if "retargeting" in curves.segments:
        segments["retargeting"] = GroupRule(max_share=0.15)
    return PlanSpec(
        budget=budget,
        networks=networks,
        segments=segments,
        pacing=Pacing(tolerance=0.3),
        source=source,
    )


def simulated_actuals(plan: Plan, result_type: str, as_of: str, *, seed: int = 7):
    """Simulate the canonical history of what "really" ran before ``as_of``.

    Each planned weekly line's spend times a factor drawn from 0.7-1.3 (results likewise, with
    their own noise), dated on the week's Monday. Seeded, for the demo's re-plan.
    """
    import numpy as np
    import pandas as pd

    from optimizer.periods import period_bounds

    rng = np.random.default_rng(seed)
    cutoff = dt.date.fromisoformat(as_of)
    rows = []
    for ln in plan.lines:
        start, end = period_bounds(ln.period)
        if end > cutoff or ln.spend <= 0:
            continue
        f = rng.uniform(0.7, 1.3)
        rows.append(
            {
                "date": pd.Timestamp(start),
                "network": ln.network,
                "segment": ln.segment,
                "result_type": result_type,
                "spend": round(ln.spend * f, 2),
                "results": float(rng.poisson(max(ln.expected_results * f, 0.0))),
                "currency": "EUR",
            }
        )
    return pd.DataFrame(rows)


def _model_kwargs(chosen: str | None) -> dict:
    """Pass the backtest's chosen model on to forecast_curves when forecasting knows it."""
    from forecasting.models import MODELS

    return {"model": chosen} if chosen in MODELS else {}


def _part(module, name: str):
    """Return ``module.name``, or None while that part of adplan is not written yet.

    The lazy exports of ``forecasting`` raise ModuleNotFoundError for a missing module.
    Errors raised by the part itself are never hidden: only the lookup is guarded.
    """
    try:
        return getattr(module, name)
    except (ModuleNotFoundError, AttributeError):
        return None


def run_demo(
    out_dir: str | Path = "adplan-demo",
    on_progress: Progress | None = None,
    *,
    seed: int = 7,
    solver: str | None = None,
    time_limit: float | None = None,
) -> DemoResult:
    """Run the pipeline end to end on the sample history; write everything to ``out_dir``.

    ``solver`` solves the plan, the scenario (and its frontier) and the re-plan (None: the
    optimizer's default).
    """
    import yaml

    progress = on_progress or no_progress
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps: list[DemoStep] = []

    def step(name: str, i: int):
        progress(name, i, STEPS)
        return time.perf_counter()

    def record(name, status, detail, files=None, t0=None):
        steps.append(
            DemoStep(name, status, detail, files or {}, time.perf_counter() - t0 if t0 else 0.0)
        )

    import forecasting

    # 1. sample history
    t0 = step("generating the sample history", 0)
    hist_path = out / "sample-history.csv"
    df = forecasting.generate_sample_history(seed=seed)
    forecasting.write_history(df, hist_path)
    record(
        "sample history",
        "done",
        f"{len(df):,} rows: {df['network'].nunique()} networks x {df['segment'].nunique()} "
        f"segments, {df['date'].min().date()} to {df['date'].max().date()}",
        {"sample history": hist_path},
        t0,
    )

    # 2. ingest
    t0 = step("ingesting it", 1)
    res = forecasting.ingest_files([hist_path])
    history = res.history
    rep = res.report.to_dict()
    p = out / "ingest-report.json"
    p.write_text(json.dumps(json_safe(rep), indent=2) + "\n", encoding="utf-8")
    record(
        "ingest",
        "done",
        f"{rep.get('rows_read')} rows read, {rep.get('rows_written')} written, "
        f"spend {history['spend'].sum():,.2f} EUR",
        {"ingest report": p},
        t0,
    )

    # 3. backtest
    t0 = step("backtesting the cost-per-result model", 2)
    run_backtest = _part(forecasting, "run_backtest")
    if run_backtest is None:
        record("backtest", "skipped", "not available: forecasting.run_backtest", t0=t0)
    else:
        bt = run_backtest(history, period="week", folds=2, models=("glm",))
        d = bt.to_dict()
        p = out / "backtest.json"
        p.write_text(json.dumps(json_safe(d), indent=2) + "\n", encoding="utf-8")
        scores = ", ".join(f"{m['name']} {m['wape']:.1%}" for m in d["models"])
        record("backtest", "done", f"WAPE {scores}; chosen {d['chosen']}", {"backtest": p}, t0)

    # 4. forecast
    t0 = step("forecasting Q1 2027 by week", 3)
    chosen = next(
        (
            s.detail.rsplit("chosen ", 1)[-1]
            for s in steps
            if s.name == "backtest" and s.status == "done"
        ),
        None,
    )
    forecast_curves = _part(forecasting, "forecast_curves")
    if forecast_curves is None:
        record("forecast", "skipped", "not available: forecasting.forecast_curves", t0=t0)
        return DemoResult(out, steps)
    kwargs = _model_kwargs(chosen)
    fr = forecast_curves(history, QUARTER[0], QUARTER[1], period="week", **kwargs)
    curves = fr.curves
    p = out / "curves.json"
    p.write_text(json.dumps(json_safe(curves.to_dict()), indent=1) + "\n", encoding="utf-8")
    warn = f"; {len(fr.warnings)} warnings" if fr.warnings else ""
    record(
        "forecast",
        "done",
        f"{len(curves.lines)} curve lines, periods {curves.periods[0]} to {curves.periods[-1]}"
        + warn,
        {"curves": p},
        t0,
    )

    # 5. optimise
    t0 = step("optimising the plan", 4)
    from .exports import write_plan
    from .runs import optimise

    start, end = (dt.date.fromisoformat(d) for d in QUARTER)
    year_ago = history[
        (history["date"] >= str(start - dt.timedelta(weeks=52)))
        & (history["date"] < str(end - dt.timedelta(weeks=52)))
    ]
    spec_path = out / "spec.yaml"
    spec = sample_spec(curves, float(year_ago["spend"].sum()), source=str(spec_path))
    spec_path.write_text(
        "# sample plan spec written by adplan demo; see docs/optimizer.md\n"
        + yaml.safe_dump(spec.to_dict(), sort_keys=False),
        encoding="utf-8",
    )
    plan = optimise(curves, spec, solver=solver, time_limit=time_limit)
    files = {"spec": spec_path}
    from .exports.html import plan_html_text
    from .previous import previous_period

    plan_json = plan.to_dict()  # with the previous period's actuals, for the report
    plan_json["previous"] = previous_period(history, plan_json)
    for suffix in ("json", "csv", "xlsx"):
        files[f"plan {suffix}"] = write_plan(plan_json, out / f"plan.{suffix}")
    files["plan html"] = out / "plan.html"
    files["plan html"].write_text(plan_html_text(plan_json, curves=curves), encoding="utf-8")
    record(
        "optimise",
        "done",
        f"budget {spec.budget:,.0f}: {plan.expected_results:,.0f} {curves.result_type} "
        f"at {plan.cost_per_result:,.2f} per result ({plan.status})",
        files,
        t0,
    )

    # 6. scenario with two what-ifs
    t0 = step("running the what-if scenario", 5)
    from .runs import run_scenario

    scenario = {
        "name": "q1-2027",
        "description": "adplan demo: the sample plan and two what-ifs.",
        "curves": "curves.json",
        "spec": "spec.yaml",
        "variants": [
            {"name": "budget-minus-10", "overrides": {"budget": "-10%"}},
            {"name": "tiktok-dearer", "overrides": {"cost_per_result": {"tiktok": 1.2}}},
        ],
    }
    sc_path = out / "scenario.yaml"
    sc_path.write_text(
        "# what-if scenario written by adplan demo; rerun it with\n"
        f"#   adplan scenario run {sc_path} --out {out / 'scenario'}\n"
        + yaml.safe_dump(scenario, sort_keys=False),
        encoding="utf-8",
    )
    run = run_scenario(
        sc_path, out / "scenario", curves=curves, solver=solver, time_limit=time_limit
    )
    files = {"scenario": sc_path}
    for v in run.variants:
        files.update({f"scenario {v.name} {k}": p for k, p in v.files.items()})
    files.update({f"scenario {k}": v for k, v in run.files.items()})
    parts = []
    for c in run.comparison["cases"][1:]:
        d = c.get("delta") or {}
        if d:
            parts.append(f"{c['name']}: results {d['expected_results']:+,.0f}")
        else:
            parts.append(f"{c['name']}: {c.get('status')}")
    record("scenario", "done", "; ".join(parts), files, t0)

    # 7. mid-quarter re-plan from simulated actuals
    t0 = step("re-planning after four weeks of actual spend", 6)
    from .replan import replan

    actuals = simulated_actuals(plan, curves.result_type, AS_OF, seed=seed)
    actuals_path = out / "actuals.csv"
    forecasting.write_history(actuals, actuals_path)
    rp = replan(
        curves,
        spec,
        forecasting.load_history(actuals_path),
        AS_OF,
        solver=solver,
        time_limit=time_limit,
    )
    p = out / "replan.json"
    p.write_text(json.dumps(json_safe(rp.to_dict()), indent=2) + "\n", encoding="utf-8")
    record(
        "replan",
        "done",
        f"{rp.actual_spend:,.0f} spent before {AS_OF}; re-plan "
        f"{rp.plan.expected_results:,.0f} {curves.result_type} "
        f"(plan {plan.expected_results:,.0f})",
        {"actuals": actuals_path, "replan": p},
        t0,
    )
    progress("done", STEPS, STEPS)
    return DemoResult(out, steps)
