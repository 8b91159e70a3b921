"""Charts as PNG bytes (matplotlib, Agg, no pyplot global state).

Every chart labels its axes with what they count: money in the plan's currency ("600k EUR",
"1.2M EUR": never a ``1e6`` offset), results with thousands separators; money and results
axes start at zero.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from optimizer import CurveLine, Curves

from ..money import round_half
from .plan import ExportError, number, pivot

#: at most this many network panels in the response-curve chart
MAX_CURVE_PANELS = 12
#: the response-curve chart's panels per row
CURVE_COLUMNS = 3


def _png(fig: Figure, tight: bool = True) -> bytes:
    """Return the figure drawn as PNG bytes (100 dpi)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight" if tight else None)
    return buf.getvalue()


def compact(value: float) -> str:
    """Write a number short, 3 significant digits: 950, 12.5k, 834k, 1.2M, 3bn (no exponent)."""
    v = float(value)
    for div, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return _significant(v / div) + suffix
    return _significant(v)


def _significant(v: float) -> str:
    """Write ``v`` to 3 significant digits (at most 2 decimals), trailing zeros cut."""
    if v == 0:
        return "0"
    decimals = min(2, max(0, 2 - math.floor(math.log10(abs(v)))))
    return _trim(round_half(v, decimals))


def _trim(v: float) -> str:
    """Write ``v`` with thousands separators and at most 2 decimals, trailing zeros cut."""
    text = f"{v:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def money_text(value: float, currency: str = "") -> str:
    """Write an amount of money for an axis or a label: "600k EUR", "0" for zero."""
    text = compact(value)
    return text if text == "0" or not currency else f"{text} {currency}"


def money_axis(axis, currency: str = "") -> None:
    """Label the ticks of a matplotlib axis (``ax.xaxis``...) as money: "1.2M EUR"."""
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: money_text(v, currency)))


def count_axis(axis) -> None:
    """Label the ticks of a matplotlib axis as counts: "15,000", "2.5" (no exponent)."""
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: _trim(v)))


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
    ax.set_xlabel("period")
    ax.set_ylabel(f"spend ({currency})" if currency else "spend")
    money_axis(ax.yaxis, currency)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    if nets:
        ax.legend(fontsize=8, ncols=min(4, len(nets)))
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def _upper_hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Return the upper concave hull of a curve's points, by spend (the curve if concave)."""
    hull: list[tuple[float, float]] = []
    for p in sorted(points):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:  # not a right turn
                hull.pop()
            else:
                break
        if hull and p[0] == hull[-1][0]:
            hull[-1] = max(hull[-1], p)
        else:
            hull.append(p)
    return hull


def group_curve(lines: Sequence[CurveLine]) -> tuple[list[float], list[float]]:
    """Return the response curve of a group of lines (a network's): spend -> most results.

    For each total spend, the most results the lines bring when it is spread among them
    cheapest result first: their curves' pieces merged by falling slope (exact for concave
    curves; each line's upper concave hull otherwise). It ends at the lines' summed caps
    (``max_spend``). Returns the spends and results of its vertices.
    """
    x0 = y0 = 0.0
    pieces: list[tuple[float, float, float]] = []
    for ln in lines:
        hull = _upper_hull([(float(x), float(y)) for x, y in ln.points])
        x0, y0 = x0 + hull[0][0], y0 + hull[0][1]
        for (xa, ya), (xb, yb) in zip(hull, hull[1:], strict=False):
            pieces.append(((yb - ya) / (xb - xa), xb - xa, yb - ya))
    pieces.sort(key=lambda t: -t[0])
    xs, ys = [x0], [y0]
    for _, dx, dy in pieces:
        xs.append(xs[-1] + dx)
        ys.append(ys[-1] + dy)
    return xs, ys


def _planned(rows: list[dict], field: str = "network") -> dict[str, tuple[float, float]]:
    """Return the plan's spend and expected results per ``field`` (network...)."""
    out: dict[str, tuple[float, float]] = {}
    for r in rows:
        s, res = out.get(r[field], (0.0, 0.0))
        out[r[field]] = (s + r["spend"], res + r["expected_results"])
    return out


def response_curves_png(
    curves: Curves, rows: list[dict], title: str = "", results_name: str = ""
) -> bytes:
    """Draw one labelled panel per network: its response curve, the plan's point, its cap.

    The curve is :func:`group_curve` over the network's lines (every segment and period);
    the plan's point (its spend and expected results on the network) is marked and labelled,
    and so is the cap (the end of the curve: the lines' summed ``max_spend``). A point below
    the curve is money the plan's rules keep from the network's cheapest results. At most
    ``MAX_CURVE_PANELS`` panels, the biggest planned spend first; ``results_name`` names the
    results axis (default: the curves' result type).
    """
    by_net: dict[str, list[CurveLine]] = {}
    for ln in curves.lines:
        by_net.setdefault(ln.network, []).append(ln)
    planned = _planned(rows)
    nets = sorted(by_net, key=lambda n: (-planned.get(n, (0.0, 0.0))[0], n))[:MAX_CURVE_PANELS]
    ncols = min(CURVE_COLUMNS, max(1, len(nets)))
    nrows = (max(1, len(nets)) + ncols - 1) // ncols
    fig = Figure(figsize=(4.6 * ncols, 3.7 * nrows + 0.6), layout="constrained")
    what = results_name or curves.result_type
    for i, net in enumerate(nets):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        xs, ys = group_curve(by_net[net])
        _curve_panel(ax, net, (xs, ys), planned.get(net, (0.0, 0.0)), curves.currency, what)
    fig.suptitle(
        title or f"Response curves by network: {what} for the spend over the whole plan",
        fontsize=12,
    )
    return _png(fig, tight=False)


def _curve_panel(ax, net: str, curve, point: tuple[float, float], cur: str, what: str) -> None:
    """Draw one network's curve with its planned point and its cap, axes labelled."""
    xs, ys = curve
    ax.plot(xs, ys, color="tab:blue", lw=1.6, label="response curve")
    cap_x, cap_y = xs[-1], ys[-1]
    ax.axvline(cap_x, color="grey", ls=":", lw=1)
    ax.plot([cap_x], [cap_y], "s", color="grey", ms=6, label="cap (end of curve)")
    ax.annotate(
        f"cap {money_text(cap_x, cur)}",
        (cap_x, cap_y),
        textcoords="offset points",
        xytext=(-4, -14),
        ha="right",
        fontsize=9,
        color="dimgrey",
    )
    s, r = point
    ax.plot([s], [r], "o", color="tab:red", ms=8, label="planned")
    ax.annotate(
        f"plan: {money_text(s, cur)}\n{_trim(round_half(r, 0))} {what}",
        (s, r),
        textcoords="offset points",
        xytext=(8, -30 if s > 0.6 * cap_x else 6),
        fontsize=9,
        color="tab:red",
    )
    ax.set_title(net, fontsize=11)
    ax.set_xlabel(f"spend ({cur})" if cur else "spend", fontsize=10)
    ax.set_ylabel(what, fontsize=10)
    money_axis(ax.xaxis, "")
    count_axis(ax.yaxis)
    ax.set_xlim(0, cap_x * 1.05 if cap_x > 0 else 1)
    ax.set_ylim(0, max(cap_y, r) * 1.15 if max(cap_y, r) > 0 else 1)
    ax.tick_params(labelsize=9)
    ax.grid(alpha=0.3)


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


def frontier_figure(
    points: Sequence[Mapping], currency: str = "", chosen_budget=None, results_name: str = ""
) -> Figure:
    """Build the frontier chart: budget -> expected results, marginal cost per result.

    Both axes start at zero; budgets are labelled as money ("600k EUR"), results with
    thousands separators, never with an exponent or offset. The P10-P90 band of the results
    is shaded when the points carry ``results_p10`` / ``results_p90`` (:func:`frontier_band`);
    the marginal cost per result is on a right-hand axis; ``chosen_budget`` a dotted line.
    """
    pts: list[tuple[float, float, Mapping]] = []
    for p in points:
        budget, results = number(p.get("budget")), number(p.get("expected_results"))
        if budget is not None and results is not None:
            pts.append((budget, results, p))
    pts.sort(key=lambda t: t[0])
    if not pts:
        raise ExportError("frontier chart: no points with a budget and expected_results")
    what = results_name or "expected results"
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    bx, lo, hi = frontier_band(points)
    if bx:
        ax.fill_between(bx, lo, hi, color="tab:blue", alpha=0.15, lw=0, label="P10-P90")
    ax.plot([t[0] for t in pts], [t[1] for t in pts], "o-", color="tab:blue", label=what)
    ax.set_xlabel(f"budget ({currency})" if currency else "budget")
    ax.set_ylabel(what, color="tab:blue")
    money_axis(ax.xaxis, currency)
    count_axis(ax.yaxis)
    if chosen_budget is not None:
        b = float(chosen_budget)
        ax.axvline(b, color="grey", ls=":", lw=1, label=f"chosen budget {money_text(b, currency)}")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    handles = _marginal_axis(ax, pts, currency)
    ax.legend(handles=ax.get_legend_handles_labels()[0] + handles, fontsize=8, loc="lower right")
    ax.set_title("Budget frontier: what each budget would bring")
    ax.grid(alpha=0.3)
    return fig


def frontier_png(
    points: Sequence[Mapping], currency: str = "", chosen_budget=None, results_name: str = ""
) -> bytes:
    """Return the frontier chart (:func:`frontier_figure`) as PNG bytes."""
    return _png(frontier_figure(points, currency, chosen_budget, results_name))


def _marginal_axis(ax, pts: list[tuple[float, float, Mapping]], currency: str) -> list:
    """Draw the marginal cost per result on a right-hand axis from zero; return its handles."""
    mc: list[tuple[float, float]] = []
    for x, _, p in pts:
        y = number(p.get("marginal_cost_per_result"))
        if y is not None:
            mc.append((x, y))
    if not mc:
        return []
    ax2 = ax.twinx()
    (line,) = ax2.plot(
        [x for x, _ in mc],
        [y for _, y in mc],
        "s--",
        color="tab:red",
        ms=4,
        label="marginal cost per result",
    )
    ax2.set_ylabel(f"marginal cost per result ({currency})".replace(" ()", ""), color="tab:red")
    count_axis(ax2.yaxis)
    ax2.set_ylim(bottom=0)
    return [line]


def tick_texts(fig: Figure) -> dict[str, list[str]]:
    """Return the drawn tick labels and offset texts of every axis of ``fig`` (for checks).

    Keys ``"x0"``, ``"y0"``, ``"y1"``... (axes in order); offset texts under ``"offsets"``.
    """
    FigureCanvasAgg(fig).draw()
    out: dict[str, list[str]] = {"offsets": []}
    for i, ax in enumerate(fig.axes):
        out[f"x{i}"] = [t.get_text() for t in ax.get_xticklabels()]
        out[f"y{i}"] = [t.get_text() for t in ax.get_yticklabels()]
        out["offsets"] += [ax.xaxis.get_offset_text().get_text()]
        out["offsets"] += [ax.yaxis.get_offset_text().get_text()]
    return out


def write_frontier_chart(points: Sequence[Mapping], path, currency: str = "") -> Path:
    """Write the frontier chart as a PNG file (the suffix must be .png)."""
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise ExportError(f"{p}: the frontier chart is a PNG; name the file *.png")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(frontier_png(points, currency))
    return p
