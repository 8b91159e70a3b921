"""Optimizer benchmark (issue 18): every kind of plan at four sizes, beside raw highspy.

    python benchmarks/bench_optimizer.py [--quick] [--sizes 21k,130k,624k,2M]

Sizes (networks x segments x periods x tiers, ``optimizer.synthetic``): 21k = 8x25x13x8,
130k = 10x100x13x10, 624k = 12x200x26x10, 2M = 16x250x52x10 variables. Per size, a table for:

1. a budget-only plan: the bare sort (tiers argsorted by slope, cumsum of widths,
   searchsorted of the budget, fill), timed with and without reading the curves' points
   (``optimizer.model._tiers``); ``allocate`` (the exact sort: method ``sort``), alone and
   with every line made (``tuple(plan.lines)``: a plan's lines, their reasons in words, its
   unfunded lines and curve-end limits are made when first read, ``optimizer/lazy.py``) and
   with ``to_dict``; ``allocate(fast=False)`` (the LP); raw highspy on the same LP;
2. a budget + line caps plan (caps at 30-90% of ``max_spend`` on 10% of the lines, seeded;
   the bare sort clips each line's tiers at its cap): the same;
3. the rule set of ``benchmark_spec_dict`` (~65 group rules, the LP path): allocate against
   raw highspy, and CBC (through PuLP) at 21k and 130k;
4. a 20-budget frontier (0.5x..1.5x the budget) of each spec against one allocate of the same
   spec, its points checked against fresh allocates;
5. ``adplan optimize`` end to end on the rules and budget-only specs: the real executable in
   a subprocess (wall, CPU and peak RSS of the child), against allocate + ``to_dict`` (the
   plan the CLI writes, made in memory: what is left is reading and writing files) and
   against allocate alone;
6. peak memory of a fresh process running allocate on the rules against a fresh process
   running raw highspy on the same model (and one that only builds the curves: the floor).

A summary of the ratios with their goals ends the run (``!``: over the goal).

Raw highspy: the model's arrays -> ``Highs.passModel`` -> ``run`` under each of
RAW_SETTINGS, each run capped at RAW_TIME_LIMIT seconds; the fastest is the baseline. HiGHS's
presolve grows about quadratically on the one-row LPs of 1 and 2 (5-14 s at 21k, printed
here), so those settings run there once at 21k only (and not with ``--quick``).

Times are wall and CPU seconds (CPU: this process, or the CLI's child), the median of the
repeats (5 at 21k, 3 at 130k, 2 at 624k, 1 at 2M; 2 with ``--quick``; the lesser of two).
A run over LONG_RUN seconds is not repeated; presolve-on settings run once at 624k and 2M.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from optimizer import PlanSpec, allocate, frontier  # noqa: E402
from optimizer.model import _tiers, build_model  # noqa: E402
from optimizer.solvers import HIGHS_LP_OPTIONS, HighsSolver, crash_basis  # noqa: E402
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves  # noqa: E402

SIZES = {
    "21k": (8, 25, 13, 8),
    "130k": (10, 100, 13, 10),
    "624k": (12, 200, 26, 10),
    "2M": (16, 250, 52, 10),
}
REPEATS = {"21k": 5, "130k": 3, "624k": 2, "2M": 1}
BIG = ("624k", "2M")
CBC_SIZES = ("21k", "130k")
RAW_SETTINGS = {
    "default (presolve on)": {},
    "presolve off, dual simplex": {"presolve": "off", "solver": "simplex", "simplex_strategy": 1},
    "presolve on, dual simplex": {"presolve": "on", "solver": "simplex", "simplex_strategy": 1},
    "presolve off, ipm": {"presolve": "off", "solver": "ipm"},
}
RAW_TIME_LIMIT = 120.0
#: at 2M only the raw setting that was fastest at 624k runs (IPM: 4.7-7.8 s there; the others
#: took 28 s or hit the 120 s limit), besides allocate's crash basis
SKIP_AT_2M = ("2M",)
FAST_RAW = ("presolve off, ipm",)
#: the largest one-row LP (budget, line caps) on which the presolve-on settings run
PRESOLVE_ON_MAX_COLS = 30_000
LONG_RUN = 20.0
FRONTIER_BUDGETS = np.linspace(0.5, 1.5, 20)
GOALS = {  # ratio -> goal (at most); the LP / raw goals are issue 3's
    "budget only: allocate (sort) / bare sort": 3.0,
    "budget only: allocate (LP) / raw best": 2.5,
    "line caps: allocate (sort) / bare sort": 3.0,
    "line caps: allocate (LP) / raw best": 2.5,
    "rules: allocate / raw best": 2.5,
    "frontier / allocate: budget only": 5.0,
    "frontier / allocate: line caps": 5.0,
    "frontier / allocate: rules": 5.0,
    "CLI / (allocate + to_dict): rules": 2.0,
    "CLI / (allocate + to_dict): budget only": 2.0,
    "peak memory: allocate / raw": 1.5,
}
#: ratios shown beside the goals, for what they tell (no goal of their own)
INFO = (
    "budget only: allocate + lines made / bare sort",
    "line caps: allocate + lines made / bare sort",
    "CLI / allocate: rules",
    "CLI / allocate: budget only",
)


class T(NamedTuple):
    """Wall and CPU seconds (or a ratio of both)."""

    wall: float
    cpu: float


@dataclass
class Ctx:
    """One size's state: its curves, repeats, specs, allocate times and the summary."""

    label: str
    curves: object
    reps: int
    quick: bool
    summary: dict
    specs: dict = field(default_factory=dict)  # kind -> PlanSpec
    alloc: dict = field(default_factory=dict)  # kind -> T of one allocate
    alloc_dict: dict = field(default_factory=dict)  # kind -> T of allocate + to_dict
    raw_best: dict = field(default_factory=dict)  # the rules' fastest raw setting's options

    @property
    def big(self) -> bool:
        """Return True at 624k and 2M (presolve-on settings run once)."""
        return self.label in BIG

    def add(self, name: str, value) -> None:
        """Record ``value`` (a T of ratios, or a float) under ``name`` for the summary."""
        self.summary.setdefault(name, {})[self.label] = value


def measure(fn, reps: int) -> tuple[T, object]:
    """Return the median wall and CPU seconds of ``fn()`` (the lesser of two) and its result.

    A run over LONG_RUN seconds ends the repeats.
    """
    walls, cpus, out = [], [], None
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        if walls[-1] > LONG_RUN:
            break
    pick = statistics.median if len(walls) >= 3 else min
    return T(pick(walls), pick(cpus)), out


def ratio(a: T, b: T) -> T:
    """Return ``a / b`` for wall and CPU seconds."""
    return T(a.wall / b.wall, a.cpu / b.cpu)


def row(what: str, t: T, note: str = "") -> None:
    """Print one table row: what, wall s, CPU s and a note."""
    print(f"{what:60s} {t.wall:9.3f} {t.cpu:9.3f}  {note}".rstrip())


def header(title: str, model=None) -> None:
    """Print a table's title (with its model's size) and column names."""
    size = (
        ""
        if model is None
        else (f": {model.n_col:,} columns, {model.n_row:,} rows, {len(model.data):,} nonzeros")
    )
    print(f"\n-- {title}{size}\n{'what':60s} {'wall s':>9s} {'cpu s':>9s}")


def say_ratio(ctx: Ctx, name: str, r: T) -> None:
    """Print the ratio ``name`` with its goal and record it for the summary."""
    goal = (
        f" (goal <= {GOALS[name]:g}x)" if name in GOALS else " (no goal: shown for what it tells)"
    )
    print(f"{name}: wall {r.wall:.2f}x, cpu {r.cpu:.2f}x{goal}")
    ctx.add(name, r)


def total_cap(curves) -> float:
    """Return what all the lines can absorb."""
    return sum(ln.max_spend for ln in curves.lines)


def budget_only(curves) -> dict:
    """Return a spec of a budget alone: half of what the lines can absorb."""
    return {"budget": round(total_cap(curves) * 0.5, 2)}


def line_caps(curves, share: float = 0.1, seed: int = 0) -> tuple[dict, np.ndarray]:
    """Return the budget-only spec plus ``max`` caps on ``share`` of the lines (seeded).

    Each cap is 30-90% of its line's ``max_spend``. Also returns each line's cap (inf: none)
    for the bare sort.
    """
    rng = np.random.default_rng(seed)
    lines = curves.lines
    picked = np.sort(rng.choice(len(lines), size=max(1, int(len(lines) * share)), replace=False))
    cap = np.full(len(lines), np.inf)
    rules = []
    for i, f in zip(picked.tolist(), rng.uniform(0.3, 0.9, len(picked)), strict=True):
        ln = lines[i]
        cap[i] = round(ln.max_spend * f, 2)
        rules.append(
            {"network": ln.network, "segment": ln.segment, "period": ln.period, "max": cap[i]}
        )
    return {**budget_only(curves), "lines": rules}, cap


def capped_widths(start, width, cap) -> np.ndarray:
    """Return each tier's width clipped so that its line's tiers stop at the line's cap."""
    line = np.repeat(np.arange(len(start) - 1), np.diff(start))
    cum = np.cumsum(width)
    before_line = np.concatenate(([0.0], cum))[start[:-1]]
    before = cum - width - before_line[line]  # the line's spend before this tier
    return np.clip(cap[line] - before, 0.0, width)


def bare_sort(budget: float, start, width, slope, cap=None) -> np.ndarray:
    """Fill the tiers best slope first until ``budget``; return the spend per tier.

    ``cap`` (each line's most spend, inf: none) clips the lines' tiers first.
    """
    if cap is not None:
        width = capped_widths(start, width, cap)
    order = np.argsort(-slope, kind="stable")
    cum = np.cumsum(width[order])
    k = int(np.searchsorted(cum, budget, side="left"))
    x = np.zeros_like(width)
    x[order[:k]] = width[order[:k]]
    if k < len(order):
        x[order[k]] = budget - (cum[k - 1] if k else 0.0)
    return x


def raw_highs(model, options: dict, crash: bool = False) -> str:
    """Run passModel + run on built arrays (what 'handing highspy the arrays' costs).

    The model goes in as allocate passes it (``HighsSolver``: output off, ``passModel``,
    ``options``, plus a RAW_TIME_LIMIT), then highspy runs it directly, without allocate's
    basis and result handling. With ``crash`` the greedy starting basis that allocate uses
    is set too. Returns HiGHS's model status in words.
    """
    h = HighsSolver(model, {**options, "time_limit": RAW_TIME_LIMIT}, crash=False).h
    if crash:
        h.setBasis(crash_basis(model))
    h.run()
    _ = h.getSolution().row_dual
    return h.modelStatusToString(h.getModelStatus())


def raw_rows(ctx: Ctx, model, one_row: bool) -> tuple[T, str]:
    """Print raw highspy's rows (each setting, then the crash basis); return the best."""
    best, best_name = T(float("inf"), float("inf")), ""
    for name, opts in RAW_SETTINGS.items():
        on = opts.get("presolve", "on") == "on"
        what = f"raw highspy, {name}"
        if on and one_row and (model.n_col > PRESOLVE_ON_MAX_COLS or ctx.quick):
            print(
                f"{what:60s} {'skipped':>9s}  (one-row LP: presolve grows ~quadratically; run at 21k, not --quick)"
            )
            continue
        if ctx.label in SKIP_AT_2M and name not in FAST_RAW:
            print(f"{what:60s} {'skipped':>9s}  (28-170 s at 624k, growing ~quadratically)")
            continue
        once = on and (ctx.big or one_row)
        t, status = measure(lambda o=opts: raw_highs(model, o), 1 if once else ctx.reps)
        row(what, t, "" if status == "Optimal" else f"NOT OPTIMAL: {status}")
        if status == "Optimal" and t.wall < best.wall:
            best, best_name = t, name
    crash = RAW_SETTINGS["presolve off, dual simplex"]
    t, status = measure(lambda: raw_highs(model, crash, crash=True), ctx.reps)
    note = "" if status == "Optimal" else f"NOT OPTIMAL: {status}"
    row("raw highspy, presolve off, dual simplex + allocate's crash", t, note)
    if not one_row:
        ctx.raw_best = RAW_SETTINGS[best_name]
    return best, best_name


def sort_rows(ctx: Ctx, spec: PlanSpec, cap) -> tuple[T, T, float]:
    """Print the bare sort's rows; return its times (with, without reading) and results."""
    lines = list(ctx.curves.lines)
    t_read, x = measure(lambda: bare_sort(spec.budget, *_tiers(lines), cap), ctx.reps)
    row("bare sort, reading the points (_tiers) + sort + fill", t_read)
    tiers = _tiers(lines)
    t_core, _ = measure(lambda: bare_sort(spec.budget, *tiers, cap), ctx.reps)
    row("bare sort, tiers already read", t_core)
    return t_read, t_core, float(np.sum(x * tiers[2]))  # (not @: BLAS threads spin after)


def method_row(what: str, t: T, plan, want: str) -> None:
    """Print an allocate row with its method; say so loudly when it is not ``want``."""
    got = plan.solver.get("method")
    row(what, t, f"method {got}" + ("" if got == want else f"  CHECK FAILED: expected {want}"))


def sorted_table(ctx: Ctx, kind: str, spec_dict: dict, cap) -> None:
    """Print the table of a spec the sort solves: bare sort, allocate sort and LP, raw."""
    spec = PlanSpec.from_dict(spec_dict)
    ctx.specs[kind] = spec
    curves = ctx.curves
    model = build_model(curves, spec)
    header(f"{ctx.label}, {kind}", model)
    t_read, t_core, bare_results = sort_rows(ctx, spec, cap)
    t_sort, plan = measure(lambda: allocate(curves, spec), ctx.reps)
    method_row("allocate(fast=True)", t_sort, plan, "sort")
    t_made, _ = measure(lambda: tuple(allocate(curves, spec).lines), ctx.reps)
    row("allocate(fast=True), then every line made (reasons in words)", t_made)
    t_dict, _ = measure(lambda: allocate(curves, spec).to_dict(), ctx.reps)
    row("allocate(fast=True) + to_dict (the Plan JSON's objects)", t_dict)
    ctx.alloc_dict[kind] = t_dict
    t_lp, plan_lp = measure(lambda: allocate(curves, spec, fast=False), ctx.reps)
    method_row("allocate(fast=False): the LP", t_lp, plan_lp, "lp")
    best, best_name = raw_rows(ctx, model, one_row=True)
    ctx.alloc[kind] = t_sort
    er = plan.expected_results
    print(
        f"rel. diff of results: bare sort {abs(bare_results - er) / er:.1e}, "
        f"LP {abs(plan_lp.expected_results - er) / er:.1e}"
    )
    r = ratio(t_sort, t_core)
    print(f"allocate (sort) / bare sort without reading: wall {r.wall:.2f}x, cpu {r.cpu:.2f}x")
    say_ratio(ctx, f"{kind}: allocate (sort) / bare sort", ratio(t_sort, t_read))
    say_ratio(ctx, f"{kind}: allocate + lines made / bare sort", ratio(t_made, t_read))
    print(f"raw best: {best_name}")
    say_ratio(ctx, f"{kind}: allocate (LP) / raw best", ratio(t_lp, best))


def rules_table(ctx: Ctx) -> None:
    """Print the rules plan's table: raw highspy, allocate's steps, allocate, CBC."""
    curves = ctx.curves
    spec = PlanSpec.from_dict(benchmark_spec_dict(curves))
    ctx.specs["rules"] = spec
    model = build_model(curves, spec)
    header(
        f"{ctx.label}, rules ({len(spec.networks) + len(spec.segments) + len(spec.periods)}"
        " group rules)",
        model,
    )
    best, best_name = raw_rows(ctx, model, one_row=False)
    t, _ = measure(lambda: build_model(curves, spec), ctx.reps)
    row("allocate step: build arrays (spec checks + model)", t)
    t, _ = measure(lambda: HighsSolver(model).solve(), ctx.reps)
    row("allocate step: pass + solve (tuned, crash basis)", t)
    t_alloc, plan = measure(lambda: allocate(curves, spec), ctx.reps)
    method_row("allocate (HiGHS)", t_alloc, plan, "lp")
    ctx.alloc["rules"] = t_alloc
    t_dict, _ = measure(lambda: allocate(curves, spec).to_dict(), ctx.reps)
    row("allocate (HiGHS) + to_dict (the Plan JSON's objects)", t_dict)
    ctx.alloc_dict["rules"] = t_dict
    if ctx.label in CBC_SIZES:
        t, cbc = measure(lambda: allocate(curves, spec, solver="cbc"), 1)
        gap = abs(plan.expected_results - cbc.expected_results) / plan.expected_results
        row("allocate(solver='cbc') (PuLP build + CBC)", t, f"rel. gap to HiGHS {gap:.1e}")
    print(f"raw best: {best_name}")
    say_ratio(ctx, "rules: allocate / raw best", ratio(t_alloc, best))


def frontier_check(ctx: Ctx, spec: PlanSpec, budgets, points) -> str:
    """Return the largest relative difference of frontier points from fresh allocates."""
    picks = [3, 16] if ctx.big else [0, 6, 13, 19]
    errs = []
    for i in picks:
        if points[i]["status"] != "optimal":
            continue
        fresh = allocate(ctx.curves, spec.with_budget(float(budgets[i])), with_ranges=False)
        errs.append(
            abs(points[i]["expected_results"] - fresh.expected_results) / fresh.expected_results
        )
    return f"{max(errs):.1e} ({len(errs)} budgets)" if errs else "none optimal"


def frontier_table(ctx: Ctx) -> None:
    """Print each spec's 20-budget frontier against one allocate of the same spec."""
    header(f"{ctx.label}, frontier: 20 budgets, 0.5x..1.5x (one warm model)")
    for kind, spec in ctx.specs.items():
        budgets = FRONTIER_BUDGETS * spec.budget
        t, pts = measure(lambda s=spec, b=budgets: frontier(ctx.curves, s, b), ctx.reps)
        bad = sum(p["status"] != "optimal" for p in pts)
        row(f"frontier, {kind}", t, f"{bad} points not optimal")
        print(f"  max rel. diff vs fresh allocates: {frontier_check(ctx, spec, budgets, pts)}")
        say_ratio(ctx, f"frontier / allocate: {kind}", ratio(t, ctx.alloc[kind]))


CLI_WRAPPER = """\
import resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
w = time.perf_counter() - t
if p.returncode:
    sys.exit(p.stderr)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(w, r.ru_utime + r.ru_stime, r.ru_maxrss)
"""


def cli_once(args: list[str]) -> tuple[T, float]:
    """Run ``args`` under a fresh wrapper; return the child's wall, CPU and peak RSS (MB).

    The wrapper is a small process, so RUSAGE_CHILDREN holds the CLI's own peak (a process
    started by this one would carry this one's peak over exec).
    """
    out = subprocess.run([sys.executable, "-c", CLI_WRAPPER, *args], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{' '.join(args)} failed: {out.stderr}")
    wall, cpu, kib = out.stdout.split()
    return T(float(wall), float(cpu)), int(kib) / 1024


def cli_table(ctx: Ctx, tmp: Path) -> None:
    """Print ``adplan optimize`` end to end (wall, CPU, peak RSS) against allocate."""
    exe = str(Path(sys.executable).with_name("adplan"))
    curves = tmp / "curves.json"
    curves.write_text(ctx.curves.to_json())
    header(f"{ctx.label}, CLI: adplan optimize --curves --spec --out plan.json (subprocess)")
    t, mb = cli_once([exe, "optimize", "--help"])
    row("adplan optimize --help (start-up: Python, Typer, no solve)", t, f"peak RSS {mb:,.0f} MB")
    for kind, name in (("rules", "rules"), ("budget only", "budget")):
        spec = tmp / f"{name}.json"
        d = benchmark_spec_dict(ctx.curves) if kind == "rules" else budget_only(ctx.curves)
        spec.write_text(json.dumps(d))
        args = [
            exe,
            "optimize",
            "--curves",
            str(curves),
            "--spec",
            str(spec),
            "--out",
            str(tmp / f"plan-{name}.json"),
        ]
        runs = [cli_once(args) for _ in range(1 if ctx.big else min(ctx.reps, 3))]
        pick = statistics.median if len(runs) >= 3 else min
        t = T(pick(r[0].wall for r in runs), pick(r[0].cpu for r in runs))
        row(f"adplan optimize, {kind}", t, f"peak RSS {max(r[1] for r in runs):,.0f} MB")
        say_ratio(ctx, f"CLI / (allocate + to_dict): {kind}", ratio(t, ctx.alloc_dict[kind]))
        say_ratio(ctx, f"CLI / allocate: {kind}", ratio(t, ctx.alloc[kind]))


def child_peak(kind: str, dims: list[int], opts: dict) -> None:
    """Print this process's peak RSS (MB) after ``kind`` on the rules spec at ``dims``.

    ``curves``: build the curves only; ``allocate``: allocate + ``to_dict``; ``raw``: build
    the model, pass it to highspy under ``opts``, drop the arrays, run, read the solution.
    """
    curves = synthetic_curves(*dims)
    spec = PlanSpec.from_dict(benchmark_spec_dict(curves))
    if kind == "allocate":
        allocate(curves, spec).to_dict()
    elif kind == "raw":
        model = build_model(curves, spec)
        h = HighsSolver(model, opts, crash=False).h
        del model
        h.run()
        _ = h.getSolution().col_value
    status = Path("/proc/self/status").read_text()  # VmHWM: this process's own peak
    print(int(status.split("VmHWM:")[1].split()[0]) / 1024)


def peak_mb(kind: str, dims, opts: dict) -> float:
    """Return the peak RSS (MB) of a fresh process running :func:`child_peak`."""
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from bench_optimizer import child_peak\n"
        f"child_peak({kind!r}, {list(dims)!r}, {opts!r})\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def memory_table(ctx: Ctx) -> None:
    """Print the peak memory of fresh processes: curves only, raw highspy, allocate."""
    dims = SIZES[ctx.label]
    print(f"\n-- {ctx.label}, peak memory of a fresh process (VmHWM), rules spec")
    mb = {k: peak_mb(k, dims, ctx.raw_best) for k in ("curves", "raw", "allocate")}
    print(f"{'build the curves only (the floor)':60s} {mb['curves']:9,.0f} MB")
    print(f"{'raw highspy (build model, pass, drop arrays, run)':60s} {mb['raw']:9,.0f} MB")
    print(f"{'allocate + to_dict':60s} {mb['allocate']:9,.0f} MB")
    r = mb["allocate"] / mb["raw"]
    above = (mb["allocate"] - mb["curves"]) / max(mb["raw"] - mb["curves"], 1.0)
    print(f"peak memory: allocate / raw: {r:.2f}x (goal <= 1.5x); above the floor {above:.2f}x")
    ctx.add("peak memory: allocate / raw", r)


def bench_size(label: str, quick: bool, summary: dict) -> None:
    """Print every table of one size and add its ratios to ``summary``."""
    t0 = time.perf_counter()
    curves = synthetic_curves(*SIZES[label])
    reps = min(REPEATS[label], 2) if quick else REPEATS[label]
    ctx = Ctx(label, curves, reps, quick, summary)
    n_var = sum(len(ln.points) - 1 for ln in curves.lines)
    ctx.add("variables", n_var)
    print(
        f"\n==== {label}: {'x'.join(map(str, SIZES[label]))}, {n_var:,} tier variables, "
        f"{len(curves.lines):,} lines ===="
    )
    sorted_table(ctx, "budget only", budget_only(curves), None)
    sorted_table(ctx, "line caps", *line_caps(curves))
    rules_table(ctx)
    frontier_table(ctx)
    with tempfile.TemporaryDirectory() as tmp:
        cli_table(ctx, Path(tmp))
    memory_table(ctx)
    print(f"\n({label} took {time.perf_counter() - t0:.0f} s)")


def fmt_cell(name: str, value) -> str:
    """Return one summary cell: wall (cpu) ratio, ``!`` when over the goal."""
    if value is None:
        return "-"
    if name == "variables":
        return f"{value:,}"
    wall = value.wall if isinstance(value, T) else value
    text = f"{wall:.2f}" + (f" ({value.cpu:.2f})" if isinstance(value, T) else "")
    return text + ("!" if name in GOALS and wall > GOALS[name] else "")


def print_summary(summary: dict, labels: list[str]) -> None:
    """Print the ratios (wall, CPU in brackets) per size, with their goals."""
    print("\n==== summary: ratio wall (cpu); ! over the goal ====")
    print(f"{'ratio':42s} {'goal':>6s}" + "".join(f" {lb:>14s}" for lb in labels))
    for name in ["variables", *GOALS, *INFO]:
        goal = f"{GOALS[name]:g}x" if name in GOALS else ""
        cells = [fmt_cell(name, summary.get(name, {}).get(lb)) for lb in labels]
        print(f"{name:42s} {goal:>6s}" + "".join(f" {c:>14s}" for c in cells))


def main() -> None:
    """Run the benchmark for the sizes asked and print the tables and the summary."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="21k only (unless --sizes), 2 repeats")
    ap.add_argument("--sizes", help=f"comma-separated, of {','.join(SIZES)} (default: all)")
    args = ap.parse_args()
    labels = args.sizes.split(",") if args.sizes else (["21k"] if args.quick else list(SIZES))
    unknown = [lb for lb in labels if lb not in SIZES]
    if unknown:
        ap.error(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    print(f"HiGHS settings used by allocate: {HIGHS_LP_OPTIONS}")
    summary: dict = {}
    for label in labels:
        bench_size(label, args.quick, summary)
    print_summary(summary, labels)


if __name__ == "__main__":
    main()
