"""Charts as PNG bytes (matplotlib, Agg, no pyplot global state)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from optimizer import CurveLine, Curves

from .plan import ExportError, number, pivot

#: at most this many network x segment panels in the response-curve chart
MAX_CURVE_PANELS = 12


def _png(fig: Figure, tight: bool = True) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight" if tight else None)
    return buf.getvalue()


def spend_chart_png(rows: list[dict], currency: str = "", title: str = "Spend") -> bytes:
    """Chart the spend per period as stacked bars, one colour per network."""
    nets, periods, cells = pivot(rows, "spend", by="network")
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    bottom = [0.0] * len(periods)
    xs = range(len(periods))
    for net in nets:
        vals = [cells.get((net, p), 0.0) for p in periods]
        ax.bar(xs, vals, bottom=bottom, label=net)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_xticks(list(xs), periods, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"spend {currency}".strip())
    ax.set_title(title)
    if nets:
        ax.legend(fontsize=8, ncols=min(4, len(nets)))
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def response_curves_png(curves: Curves, rows: list[dict], title: str = "") -> bytes:
    """Draw one panel per network x segment, the biggest spenders first.

    In each panel the curve of each period is a thin line and the spend the plan chose on
    it a dot; at most ``MAX_CURVE_PANELS`` panels.
    """
    by_key: dict[tuple, list[CurveLine]] = {}
    for ln in curves.lines:
        by_key.setdefault((ln.network, ln.segment), []).append(ln)
    chosen = {(r["network"], r["segment"], r["period"]): r for r in rows}
    spend_by_key: dict[tuple, float] = {}
    for r in rows:
        k = (r["network"], r["segment"])
        spend_by_key[k] = spend_by_key.get(k, 0.0) + r["spend"]
    keys = sorted(by_key, key=lambda k: (-spend_by_key.get(k, 0.0), k))[:MAX_CURVE_PANELS]
    n = max(1, len(keys))
    ncols = min(4, n)
    nrows = (n + ncols - 1) // ncols
    fig = Figure(figsize=(3.2 * ncols, 2.6 * nrows))
    for i, k in enumerate(keys):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for ln in sorted(by_key[k], key=lambda x: x.period):
            pts = ln.points
            ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=0.8, alpha=0.6)
            c = chosen.get((*k, ln.period))
            if c is not None and c["spend"] > 0:
                ax.plot([c["spend"]], [c["expected_results"]], "o", ms=3, color="black")
        ax.set_title(f"{k[0]} / {k[1]}", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle(title or "Response curves (lines: periods; dots: planned spend)", fontsize=10)
    # fixed margins: tight_layout on many panels costs seconds
    fig.subplots_adjust(
        left=0.06,
        right=0.98,
        bottom=0.08,
        top=1 - 0.75 / fig.get_figheight(),
        wspace=0.3,
        hspace=0.45,
    )
    return _png(fig, tight=False)


def frontier_band(points: Sequence[Mapping]) -> tuple[list[float], list[float], list[float]]:
    """Return the P10-P90 band of the frontier: budgets, P10s and P90s, by budget.

    Only the points with a budget, ``results_p10`` and ``results_p90`` (infeasible points
    have None); empty lists when no point has a band (a frontier made without ranges).
    """
    band = []
    for p in points:
        b, lo, hi = (number(p.get(k)) for k in ("budget", "results_p10", "results_p90"))
        if b is not None and lo is not None and hi is not None:
            band.append((b, lo, hi))
    band.sort(key=lambda t: t[0])
    return [t[0] for t in band], [t[1] for t in band], [t[2] for t in band]


def frontier_png(points: Sequence[Mapping], currency: str = "", chosen_budget=None) -> bytes:
    """Chart budget -> expected results (left axis) and marginal cost per result (right axis).

    When the points carry ``results_p10`` / ``results_p90`` the P10-P90 band of the results
    is shaded around the expected results (:func:`frontier_band`).
    """
    pts: list[tuple[float, float, Mapping]] = []
    for p in points:
        budget, results = number(p.get("budget")), number(p.get("expected_results"))
        if budget is not None and results is not None:
            pts.append((budget, results, p))
    pts.sort(key=lambda t: t[0])
    if not pts:
        raise ExportError("frontier chart: no points with a budget and expected_results")
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    xs = [t[0] for t in pts]
    bx, lo, hi = frontier_band(points)
    if bx:
        ax.fill_between(bx, lo, hi, color="tab:blue", alpha=0.15, lw=0, label="P10-P90")
    ax.plot(xs, [t[1] for t in pts], "o-", color="tab:blue", label="expected results")
    ax.set_xlabel(f"budget {currency}".strip())
    ax.set_ylabel("expected results", color="tab:blue")
    _marginal_axis(ax, pts)
    if chosen_budget is not None:
        ax.axvline(float(chosen_budget), color="grey", ls=":", lw=1)
    if bx:
        ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Budget frontier")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def _marginal_axis(ax, pts: list[tuple[float, float, Mapping]]) -> None:
    """Draw the marginal cost per result of the points on a right-hand axis (if any)."""
    mc: list[tuple[float, float]] = []
    for x, _, p in pts:
        y = number(p.get("marginal_cost_per_result"))
        if y is not None:
            mc.append((x, y))
    if mc:
        ax2 = ax.twinx()
        ax2.plot([x for x, _ in mc], [y for _, y in mc], "s--", color="tab:red", ms=4)
        ax2.set_ylabel("marginal cost per result", color="tab:red")


def write_frontier_chart(points: Sequence[Mapping], path, currency: str = "") -> Path:
    """Write the frontier chart as a PNG file (the suffix must be .png)."""
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise ExportError(f"{p}: the frontier chart is a PNG; name the file *.png")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(frontier_png(points, currency))
    return p
