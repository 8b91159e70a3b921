"""Every rule family's optimum and shadow prices against an independent SciPy solve.

The independent model is written here from docs/optimizer.md alone (never from
``optimizer.model``): one column per curve tier (spend in that segment, 0..width, results =
slope x spend), one row per rule as the docs define it, binaries per line for the on/off rules.
LPs go to ``scipy.optimize.linprog(method="highs")``, MILPs to ``scipy.optimize.milp``.

For random small instances (a seeded numpy Generator per case) and both solvers, adplan's plan
must reach the independent optimum (1e-6 relative), keep every rule (recomputed from
``plan.lines``) and, for the rules under test, report the shadow price the independent LP
measures by moving the rule's limit by +-eps: always inside [right, left] difference quotients
(the value function is concave in a limit, so every optimal dual lies there), and equal to it
where both agree (a non-degenerate vertex). MILP prices are measured on the LP with the on/off
choices fixed at the optimum, as adplan does. An instance the independent solve finds
infeasible must raise ``InfeasibleError``.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from optimizer import Curves, InfeasibleError, Plan, PlanConstraint, allocate

NETWORKS = ("meta", "tiktok", "linkedin")
SEGMENTS = ("f-25-34", "retargeting")
PERIODS = ("2027-01", "2027-02", "2027-03")
KINDS = {"network": ("networks", 0), "segment": ("segments", 1), "period": ("periods", 2)}
FLOOR_TYPE = "leads"
INF = math.inf
EPS_REL = 1e-4  # limit moves: eps = EPS_REL x scale (budget for currency, the floor for results)


# --------------------------------------------------------------------------- rule names
def rule_name(family: str, target) -> str:
    """The constraint name adplan gives the rule (family, target) today.

    ``<family>`` alone for plan-wide rules (budget, max_cost_per_result, max_active_lines),
    else ``<family>__<target>``, a line's target as ``network/segment/period`` (``%`` and ``/``
    inside a name percent-encoded): ``network_share_min__meta``, ``line_min__meta/all/2027-01``,
    ``pacing_max__2027-01``, ``results_floor__leads``, ``min_line_spend__meta/all/2027-01``
    (docs/optimizer.md "Rule names"; before the rules refactor: ``share_min__meta``,
    ``line_min__meta__all__2027-01``).
    """
    if target is None:
        return family
    parts = target if isinstance(target, tuple) else (target,)
    return f"{family}__" + "/".join(p.replace("%", "%25").replace("/", "%2F") for p in parts)


def rule_row(plan: Plan, family: str, target) -> PlanConstraint:
    """The plan's constraint for the rule (family, target); exactly one must exist."""
    name = rule_name(family, target)
    found = [c for c in plan.constraints if c.name == name]
    assert len(found) == 1, f"no single rule {name} in {[c.name for c in plan.constraints]}"
    return found[0]


# --------------------------------------------------------------------------- instances
@dataclass(frozen=True)
class Line:
    """A curve line parsed from the curves data: tier widths and slopes."""

    key: tuple[str, str, str]
    width: np.ndarray
    slope: np.ndarray
    vpr: float | None

    @property
    def cap(self) -> float:
        return float(self.width.sum())


def parse_points(points) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(points, dtype=float)
    width = np.diff(p[:, 0])
    return width, np.diff(p[:, 1]) / width


def parse_curves(cd: dict) -> list[Line]:
    out = []
    for d in cd["lines"]:
        width, slope = parse_points(d["points"])
        key = (d["network"], d["segment"], d["period"])
        out.append(Line(key, width, slope, d.get("value_per_result")))
    return out


def curve_value(points, spend: float) -> float:
    """Results on a piecewise-linear curve at ``spend`` (flat beyond its last point)."""
    p = np.asarray(points, dtype=float)
    return float(np.interp(spend, p[:, 0], p[:, 1]))


def random_points(rng, cap: float, n_tiers: int, first_slope: float) -> list[list[float]]:
    """A concave curve: integer widths adding up to about ``cap``, slopes falling each tier."""
    widths = rng.dirichlet(np.ones(n_tiers)) * cap
    widths = np.maximum(np.round(widths), 50.0)
    slope, x, y, pts = first_slope, 0.0, 0.0, [[0.0, 0.0]]
    for w in widths:
        x, y = x + float(w), round(y + float(w) * slope, 3)
        pts.append([x, y])
        slope *= rng.uniform(0.3, 0.9)
    return pts


def random_curves(rng, *, value: bool) -> dict:
    nets = NETWORKS[: rng.integers(2, 4)]
    pers = PERIODS[: rng.integers(2, 4)]
    lines = []
    for n in nets:
        for s in SEGMENTS:
            for p in pers:
                d = {
                    "network": n,
                    "segment": s,
                    "period": p,
                    "points": random_points(
                        rng, rng.uniform(800, 3000), int(rng.integers(2, 5)), rng.uniform(0.02, 0.1)
                    ),
                }
                if value:
                    d["value_per_result"] = round(float(rng.uniform(0.5, 4.0)), 3)
                lines.append(d)
    return {"currency": "EUR", "result_type": "purchases", "lines": lines}


# --------------------------------------------------------------------------- the independent model
@dataclass
class Model:
    """Maximise c.x, lb <= x <= ub, lo <= A x <= hi, ``integer`` columns binary."""

    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    A: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    integer: np.ndarray
    index: dict  # (family, target) -> row
    lines: list[Line]
    tier0: np.ndarray  # first tier column of each planned line
    floor_cols: dict  # line key -> (column, floor curve points)
    bin0: int  # first binary column (-1 if none)


def is_excluded(key, spec: dict) -> bool:
    ex = spec.get("exclude") or {}
    lines = {(d["network"], d["segment"], d["period"]) for d in ex.get("lines", [])}
    return key[0] in ex.get("networks", []) or key[1] in ex.get("segments", []) or key in lines


def formulate(cd: dict, spec: dict, on: np.ndarray | None = None) -> Model:  # noqa: C901
    """The plan's LP/MILP as docs/optimizer.md defines each rule (``on``: fix the on/off)."""
    lines = [ln for ln in parse_curves(cd) if not is_excluded(ln.key, spec)]
    tier0 = np.concatenate([[0], np.cumsum([len(ln.width) for ln in lines])]).astype(int)
    nt = int(tier0[-1])
    floors = spec.get("results_floors", [])
    keys = [ln.key for ln in lines]
    n_floor = sum(
        (d["network"], d["segment"], d["period"]) in keys
        for fl in floors
        for d in fl["curves"]["lines"]
    )
    mip = spec.get("min_line_spend") is not None or spec.get("max_active_lines") is not None
    n = nt + n_floor + (len(lines) if mip else 0)
    c, lb, ub = np.zeros(n), np.zeros(n), np.zeros(n)
    integer = np.zeros(n, dtype=bool)
    slope = np.concatenate([ln.slope for ln in lines])
    ub[:nt] = np.concatenate([ln.width for ln in lines])
    if spec.get("objective") == "value":
        c[:nt] = np.concatenate([ln.slope * ln.vpr for ln in lines])
    else:
        c[:nt] = slope
    S = {}  # spend of each line as a row vector
    for i, ln in enumerate(lines):
        S[ln.key] = np.zeros(n)
        S[ln.key][tier0[i] : tier0[i + 1]] = 1.0
    T = np.zeros(n)
    T[:nt] = 1.0
    rows, lo, hi, index = [], [], [], {}

    def add(a, lower, upper, key=None):
        if key is not None:
            index[key] = len(rows)
        rows.append(np.asarray(a, dtype=float))
        lo.append(lower)
        hi.append(upper)

    def group(pos: int, name: str) -> np.ndarray:
        return sum((S[k] for k in keys if k[pos] == name), np.zeros(n))

    add(T, -INF, spec["budget"], ("budget", None))
    for word, (kind, pos) in KINDS.items():
        for name, r in (spec.get(kind) or {}).items():
            g = group(pos, name)
            if "min" in r:
                add(g, r["min"], INF, (f"{word}_min", name))
            if "max" in r:
                add(g, -INF, r["max"], (f"{word}_max", name))
            if "min_share" in r:  # spend_g - share x total >= 0
                add(g - r["min_share"] * T, 0.0, INF, (f"{word}_share_min", name))
            if "max_share" in r:
                add(g - r["max_share"] * T, -INF, 0.0, (f"{word}_share_max", name))
    for r in spec.get("lines", []):
        k = (r["network"], r["segment"], r["period"])
        if "lock" in r:
            add(S[k], r["lock"], r["lock"], ("lock", k))
        if "min" in r:
            add(S[k], r["min"], INF, ("line_min", k))
        if "max" in r:
            add(S[k], -INF, r["max"], ("line_max", k))
    if spec.get("max_cost_per_result") is not None:  # spend - cpr x results <= 0
        results = np.zeros(n)
        results[:nt] = slope
        add(T - spec["max_cost_per_result"] * results, -INF, 0.0, ("max_cost_per_result", None))
    periods = sorted({k[2] for k in keys})
    if spec.get("pacing") is not None:
        tol = spec["pacing"]["tolerance"]
        w = spec["pacing"].get("weights") or {p: 1.0 for p in periods}
        tot = sum(w[p] for p in periods)
        for p in periods:
            share = w[p] / tot
            add(group(2, p) - (1 + tol) * share * T, -INF, 0.0, ("pacing_max", p))
            add(group(2, p) - max(0.0, 1 - tol) * share * T, 0.0, INF, ("pacing_min", p))
    if spec.get("max_period_change") is not None:
        ch = spec["max_period_change"]
        for p0, p1 in zip(periods, periods[1:], strict=False):
            add(group(2, p1) - (1 + ch) * group(2, p0), -INF, 0.0, ("change_max", p1))
            add(group(2, p1) - max(0.0, 1 - ch) * group(2, p0), 0.0, INF, ("change_min", p1))
    col = nt
    floor_cols = {}
    for fl in floors:
        total_r = np.zeros(n)
        for d in fl["curves"]["lines"]:
            k = (d["network"], d["segment"], d["period"])
            if k not in S:
                continue
            pts = np.asarray(d["points"], dtype=float)
            ub[col] = pts[-1, 1]  # flat beyond the curve's last point
            for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
                s = (y1 - y0) / (x1 - x0)
                a = -s * S[k]
                a[col] = 1.0
                add(a, -INF, y0 - s * x0)  # r_l <= y0 + s (spend_l - x0)
            total_r[col] = 1.0
            floor_cols[k] = (col, d["points"])
            col += 1
        add(total_r, fl["min"], INF, ("results_floor", fl["result_type"]))
    bin0 = -1
    if mip:
        bin0 = col
        ub[bin0 : bin0 + len(lines)] = 1.0
        if on is None:
            integer[bin0 : bin0 + len(lines)] = True
        else:
            lb[bin0 : bin0 + len(lines)] = ub[bin0 : bin0 + len(lines)] = on
        m = spec.get("min_line_spend")
        for i, ln in enumerate(lines):
            a = S[ln.key].copy()
            a[bin0 + i] = -ln.cap
            add(a, -INF, 0.0)  # spend only on lines switched on
            if m is not None and (on is None or on[i]):
                a = S[ln.key].copy()
                a[bin0 + i] = -m
                add(a, 0.0, INF, ("min_line_spend", ln.key))  # spend 0 or >= m
        if spec.get("max_active_lines") is not None:
            a = np.zeros(n)
            a[bin0 : bin0 + len(lines)] = 1.0
            add(a, -INF, float(spec["max_active_lines"]), ("max_active_lines", None))
    return Model(
        c, lb, ub, np.array(rows), np.array(lo), np.array(hi), integer, index, lines, tier0,
        floor_cols, bin0,
    )  # fmt: skip


def solve(m: Model, shift: tuple[int, float] | None = None) -> tuple[float | None, np.ndarray]:
    """Optimum (None if infeasible) and solution, with row ``shift[0]``'s limits moved."""
    lo, hi = m.lo.copy(), m.hi.copy()
    if shift is not None:
        lo[shift[0]] += shift[1]
        hi[shift[0]] += shift[1]
    if m.integer.any():
        res = milp(
            -m.c,
            constraints=LinearConstraint(m.A, lo, hi),
            bounds=Bounds(m.lb, m.ub),
            integrality=m.integer.astype(int),
            options={"mip_rel_gap": 1e-10},
        )
        assert res.status in (0, 2), res.message
        return (None, np.zeros(0)) if res.status == 2 else (-res.fun, res.x)
    eq = lo == hi
    up = np.isfinite(hi) & ~eq
    dn = np.isfinite(lo) & ~eq
    res = linprog(
        -m.c,
        A_ub=np.vstack([m.A[up], -m.A[dn]]),
        b_ub=np.concatenate([hi[up], -lo[dn]]),
        A_eq=m.A[eq] if eq.any() else None,
        b_eq=lo[eq] if eq.any() else None,
        bounds=np.column_stack([m.lb, m.ub]),
        method="highs",
    )
    assert res.status in (0, 2), res.message
    return (None, np.zeros(0)) if res.status == 2 else (-res.fun, res.x)


def line_spend(m: Model, x: np.ndarray) -> dict:
    return {ln.key: float(x[m.tier0[i] : m.tier0[i + 1]].sum()) for i, ln in enumerate(m.lines)}


def quotients(m: Model, row: int, eps: float, v0: float) -> tuple[float, float]:
    """(right, left) difference quotients of the optimum in the row's limit."""
    up, _ = solve(m, (row, eps))
    down, _ = solve(m, (row, -eps))
    right = -INF if up is None else (up - v0) / eps
    left = INF if down is None else (v0 - down) / eps
    return right, left


# --------------------------------------------------------------------------- rule draws
def groups(cd: dict, pos: int) -> list[str]:
    return sorted({d[("network", "segment", "period")[pos]] for d in cd["lines"]})


def group_total(by_key: dict, pos: int, name: str) -> float:
    return sum(v for k, v in by_key.items() if k[pos] == name)


def draw_group(rng, family, cd, spec, base) -> None:
    word, limit = family.split("_", 1)
    kind, pos = KINDS[word]
    name = str(rng.choice(groups(cd, pos)))
    caps = {ln.key: ln.cap for ln in parse_curves(cd)}
    got, cap = group_total(base, pos, name), group_total(caps, pos, name)
    spent = sum(base.values())
    share = got / spent
    key, rule = {
        "min": ("min", round(got + rng.uniform(-0.2, 1.15) * (min(cap, spec["budget"]) - got), 2)),
        "max": ("max", round(got * rng.uniform(0.2, 1.1), 2)),
        "share_min": (
            "min_share",
            round(float(np.clip(share + rng.uniform(-0.05, 0.3), 0, 0.95)), 4),
        ),
        "share_max": ("max_share", round(share * rng.uniform(0.3, 1.1), 4)),
    }[limit]
    spec[kind] = {name: {key: rule}}
    spec["_tests"] = [(family, name)]


def pick_lines(rng, cd, k: int) -> list[tuple[str, str, str]]:
    keys = [(d["network"], d["segment"], d["period"]) for d in cd["lines"]]
    return [keys[i] for i in rng.choice(len(keys), size=k, replace=False)]


def draw_line(rng, family, cd, spec, base) -> None:
    caps = {ln.key: ln.cap for ln in parse_curves(cd)}
    rules, tests = [], []
    for k in pick_lines(rng, cd, int(rng.integers(1, 3))):
        got, cap = base[k], caps[k]
        if family == "line_min":
            v = got + rng.uniform(-0.1, 1.2) * (cap - got)
        elif family == "line_max":
            v = got * rng.uniform(0.0, 1.1)
        else:
            u = rng.random()  # 0, above what the curve absorbs (infeasible), or in between
            v = 0.0 if u < 0.15 else cap * 1.05 if u < 0.3 else cap * rng.uniform(0.0, 1.0)
        key = "lock" if family == "lock" else family.split("_")[1]
        rules.append({"network": k[0], "segment": k[1], "period": k[2], key: round(v, 2)})
        tests.append((family, k))
    spec["lines"], spec["_tests"] = rules, tests


def draw_exclude(rng, cd, spec) -> None:
    ex: dict = {}
    if rng.random() < 0.5:
        ex["networks"] = [str(rng.choice(groups(cd, 0)))]
    if rng.random() < 0.4:
        ex["segments"] = [str(rng.choice(groups(cd, 1)))]
    left = [k for k in pick_lines(rng, cd, len(cd["lines"])) if not is_excluded(k, {"exclude": ex})]
    ex["lines"] = [{"network": n, "segment": s, "period": p} for n, s, p in left[:2]]
    spec["exclude"] = ex


def draw_floor(rng, cd, spec, base) -> None:
    flines, got = [], 0.0
    for d in cd["lines"]:
        if rng.random() < 0.3:
            continue  # some lines bring no leads
        k = (d["network"], d["segment"], d["period"])
        cap = d["points"][-1][0] * rng.uniform(0.6, 1.3)
        pts = random_points(rng, cap, int(rng.integers(2, 4)), rng.uniform(0.002, 0.02))
        flines.append({"network": k[0], "segment": k[1], "period": k[2], "points": pts})
        got += curve_value(pts, base[k])
    floor = round(got * rng.uniform(0.8, 1.45), 3)
    curves = {"currency": "EUR", "result_type": FLOOR_TYPE, "lines": flines}
    spec["results_floors"] = [{"result_type": FLOOR_TYPE, "min": floor, "curves": curves}]
    spec["_tests"] = [("results_floor", FLOOR_TYPE)]


def draw_spec(family: str, rng, cd: dict) -> dict:  # noqa: C901
    """The budget and the rule(s) of ``family``; ``_tests`` lists the rules whose prices to pin."""
    cap = sum(ln.cap for ln in parse_curves(cd))
    spec: dict = {"budget": round(cap * rng.uniform(0.3, 0.75), 2)}
    if family == "budget" and rng.random() < 0.25:
        spec["budget"] = round(cap * 1.1, 2)  # more than the curves absorb
    base_v, x = solve(formulate(cd, spec))
    base = line_spend(formulate(cd, spec), x)
    spent = sum(base.values())
    results = base_v
    spec["_tests"] = []
    if family == "budget":
        pass
    elif family.split("_")[0] in KINDS:
        draw_group(rng, family, cd, spec, base)
    elif family in ("line_min", "line_max", "lock"):
        draw_line(rng, family, cd, spec, base)
    elif family == "exclude":
        draw_exclude(rng, cd, spec)
    elif family == "max_cost_per_result":
        spec[family] = round(spent / results * rng.uniform(0.75, 1.03), 4)
        spec["_tests"] = [(family, None)]
    elif family in ("pacing", "pacing_weights"):
        spec["pacing"] = {"tolerance": round(rng.uniform(0.02, 0.35), 3)}
        periods = groups(cd, 2)
        if family == "pacing_weights":
            w = rng.integers(0, 4, size=len(periods))
            w[rng.integers(len(w))] = max(1, w.max())
            spec["pacing"]["weights"] = {p: int(v) for p, v in zip(periods, w, strict=True)}
        spec["_tests"] = [(f"pacing_{s}", p) for p in periods for s in ("min", "max")]
    elif family == "max_period_change":
        spec[family] = round(rng.uniform(0.05, 0.5), 3)
        spec["_tests"] = [(f"change_{s}", p) for p in groups(cd, 2)[1:] for s in ("min", "max")]
    elif family == "results_floor":
        draw_floor(rng, cd, spec, base)
    elif family in ("min_line_spend", "max_active_lines"):
        caps = sorted(ln.cap for ln in parse_curves(cd))
        if family == "min_line_spend" or rng.random() < 0.4:
            spec["min_line_spend"] = round(caps[len(caps) // 2] * rng.uniform(0.2, 0.9), 2)
        if family == "max_active_lines" or rng.random() < 0.3:
            funded = sum(v > 0 for v in base.values())
            spec["max_active_lines"] = int(rng.integers(1, max(2, funded)))
    elif family == "value":
        spec["objective"] = "value"
        name = str(rng.choice(groups(cd, 0)))
        spec["networks"] = {name: {"max_share": round(rng.uniform(0.1, 0.5), 3)}}
        spec["_tests"] = [("network_share_max", name)]
    else:  # pragma: no cover - a family without a draw
        raise AssertionError(family)
    spec["_tests"] = [("budget", None), *spec["_tests"]]
    return spec


# --------------------------------------------------------------------------- cases
FAMILIES = [
    "budget",
    *(f"{w}_{lim}" for w in KINDS for lim in ("min", "max", "share_min", "share_max")),
    "line_min",
    "line_max",
    "lock",
    "exclude",
    "max_cost_per_result",
    "pacing",
    "pacing_weights",
    "max_period_change",
    "results_floor",
    "min_line_spend",
    "max_active_lines",
    "value",
]
SEEDS = {"results_floor": 8, "min_line_spend": 8, "max_active_lines": 8}  # others: 6
CASES = [(f, s) for f in FAMILIES for s in range(SEEDS.get(f, 6))]


@dataclass
class Case:
    """One instance: the inputs adplan gets and the independent answers."""

    cd: dict
    spec: dict  # as given to allocate
    tests: list
    model: Model | None  # the LP (for MILPs: the on/off fixed at the independent optimum)
    optimum: float | None
    on: np.ndarray | None
    scale: float

    @property
    def curves(self) -> Curves:
        return Curves.from_dict(self.cd)


@cache
def case(family: str, seed: int) -> Case:
    """The instance of ``family`` drawn from ``seed``, solved independently (once per module)."""
    rng = np.random.default_rng([zlib.crc32(family.encode()), seed])
    cd = random_curves(rng, value=family == "value")
    spec = draw_spec(family, rng, cd)
    tests = spec.pop("_tests")
    m = formulate(cd, spec)
    v, x = solve(m)
    on = None
    if v is not None and m.bin0 >= 0:
        spend = line_spend(m, x)
        on = np.array([spend[ln.key] > 1e-7 for ln in m.lines], dtype=float)
        m = formulate(cd, spec, on)
        fixed, _ = solve(m)
        assert fixed == pytest.approx(v, rel=1e-9, abs=1e-9)
    return Case(cd, spec, tests, m, v, on, spec["budget"])


@cache
def derivative(family: str, seed: int, key, on: bytes | None) -> tuple[float, float, float]:
    """(right, left, eps) of the optimum in the limit of the rule ``key`` (on/off fixed)."""
    cs = case(family, seed)
    m = cs.model
    if on is not None and on != cs.on.tobytes():  # adplan chose other on/off lines
        m = formulate(cs.cd, cs.spec, np.frombuffer(on))
    v0, _ = solve(m)
    scale = cs.spec["results_floors"][0]["min"] if key[0] == "results_floor" else cs.scale
    eps = EPS_REL * max(1.0, scale)
    right, left = quotients(m, m.index[key], eps, v0)
    return right, left, eps


# --------------------------------------------------------------------------- checks
class PriceMismatch(AssertionError):
    """adplan's shadow price is not the independent marginal of the rule's limit."""


def plan_point(m: Model, plan: Plan) -> tuple[np.ndarray, dict]:
    """The plan as a point of the independent model: tiers filled in order from each line's
    spend, floor columns on their curves, binaries on where a line spends.
    """
    spend = {(ln.network, ln.segment, ln.period): ln.spend for ln in plan.lines}
    x = np.zeros(len(m.c))
    for i, ln in enumerate(m.lines):
        s = spend[ln.key]
        before = np.concatenate([[0.0], np.cumsum(ln.width)[:-1]])
        x[m.tier0[i] : m.tier0[i + 1]] = np.clip(s - before, 0.0, ln.width)
        if m.bin0 >= 0:
            x[m.bin0 + i] = float(s > 0)
    for k, (col, pts) in m.floor_cols.items():
        x[col] = curve_value(pts, spend[k])
    return x, spend


def check_plan(cs: Case, plan: Plan) -> np.ndarray:
    """Every rule holds in the plan; lines are the curve values at their spend."""
    m = cs.model
    x, spend = plan_point(m, plan)
    assert set(spend) == {ln.key for ln in m.lines}  # excluded lines are not planned
    excluded = {(d["network"], d["segment"], d["period"]) for d in plan.excluded}
    assert excluded == {
        (d["network"], d["segment"], d["period"])
        for d in cs.cd["lines"]
        if is_excluded((d["network"], d["segment"], d["period"]), cs.spec)
    }
    tol = 1e-7 * max(1.0, cs.scale)
    for ln in m.lines:
        assert -tol <= spend[ln.key] <= ln.cap + tol, ln.key
    slopes = {ln.key: ln for ln in m.lines}
    for pl in plan.lines:
        ln = slopes[(pl.network, pl.segment, pl.period)]
        pts_y = np.concatenate([[0.0], np.cumsum(ln.width * ln.slope)])
        pts_x = np.concatenate([[0.0], np.cumsum(ln.width)])
        assert pl.expected_results == pytest.approx(
            float(np.interp(pl.spend, pts_x, pts_y)), rel=1e-9, abs=1e-9
        )
    act = m.A @ x
    size = np.abs(m.A) @ np.maximum(np.abs(m.ub), 1.0)
    row_tol = 1e-7 * np.maximum(size, 1.0)
    names = {v: k for k, v in m.index.items()}
    bad = [
        (names.get(i, i), m.lo[i], act[i], m.hi[i])
        for i in range(len(act))
        if act[i] < m.lo[i] - row_tol[i] or act[i] > m.hi[i] + row_tol[i]
    ]
    assert not bad, f"rules broken by the plan (rule, lo, activity, hi): {bad}"
    for fl in cs.spec.get("results_floors", []):
        other = sum(curve_value(pts, spend[k]) for k, (_, pts) in m.floor_cols.items())
        assert plan.other_results[fl["result_type"]] == pytest.approx(other, rel=1e-9)
    return x


def check_price(cs: Case, family: str, seed: int, plan: Plan, x: np.ndarray, key) -> None:
    c = rule_row(plan, *key)
    m = cs.model
    if key[0] == "max_active_lines":  # per line, 0 once the on/off choices are fixed
        assert c.shadow_price == 0.0
        if sum(v.spend > 0 for v in plan.lines) == cs.spec["max_active_lines"]:
            assert c.binding
        return
    on = None
    if m.bin0 >= 0:
        on = np.array([s > 0 for s in x[m.bin0 : m.bin0 + len(m.lines)]], dtype=float).tobytes()
    right, left, _ = derivative(family, seed, key, on)
    y = c.shadow_price
    ptol = 1e-7 + 1e-6 * abs(y)
    where = (
        f"{c.name}: adplan {y!r} (binding {c.binding}), independent right {right!r} left {left!r}"
    )
    if not right - ptol <= y <= left + ptol:
        raise PriceMismatch(where)
    if math.isfinite(left - right) and abs(left - right) <= 1e-7 + 1e-6 * abs(left):
        # a non-degenerate vertex: one price
        if y != pytest.approx((left + right) / 2, rel=1e-6, abs=1e-7):
            raise PriceMismatch(where)
        if abs(left + right) > 1e-6 and not c.binding:
            raise PriceMismatch(where)
    if not c.binding:
        assert y == 0.0, where
    # slack: the row's room at the plan (currency; results for a results floor), 0 when it
    # is below adplan's binding tolerance 1e-6 x max(1, |limit|)
    row = m.index[key]
    lo, hi, act = m.lo[row], m.hi[row], float(m.A[row] @ x)
    room = 0.0 if lo == hi else hi - act if math.isfinite(hi) else act - lo
    limit = lo if math.isfinite(lo) else hi
    tol = 1e-6 * max(1.0, abs(limit)) + 1e-7 * cs.scale
    assert c.slack == pytest.approx(max(room, 0.0), abs=tol), where


# --------------------------------------------------------------------------- the test
# Found by this file: under CBC, binding rows whose limit is 0 (shares, pacing, change, cost
# per result) came back unpriced. CBC's values carry ~8 significant digits, so the slack of a
# row with terms of ~1e4 is known to ~1e-5 only; read_plan now scales its slack tolerance with
# the size of the row's terms, and every case below passes under both solvers.


@pytest.mark.parametrize(("family", "seed"), CASES, ids=[f"{f}-{s}" for f, s in CASES])
def test_matches_independent_solve(family, seed, solver):
    cs = case(family, seed)
    if cs.optimum is None:
        with pytest.raises(InfeasibleError) as err:
            allocate(cs.curves, cs.spec, solver=solver)
        assert err.value.diagnosis  # the rules in conflict
        return
    plan = allocate(cs.curves, cs.spec, solver=solver)
    assert plan.status == "optimal"
    got = plan.expected_value if cs.spec.get("objective") == "value" else plan.expected_results
    assert got == pytest.approx(cs.optimum, rel=1e-6, abs=1e-9)
    x = check_plan(cs, plan)
    for key in cs.tests:
        check_price(cs, family, seed, plan, x, key)
    if cs.on is not None and cs.spec.get("min_line_spend") is not None:
        # one min_line_spend rule per line switched on (spending), each priced
        on = [ln.key for i, ln in enumerate(cs.model.lines) if x[cs.model.bin0 + i]]
        named = {c.name for c in plan.constraints if c.family == "min_line_spend"}
        assert named == {rule_name("min_line_spend", k) for k in on}
        for k in on:
            check_price(cs, family, seed, plan, x, ("min_line_spend", k))
