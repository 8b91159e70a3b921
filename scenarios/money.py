"""Rounding for display: shown amounts that add up to the shown total (largest remainder).

Plans keep exact numbers (round when you display, docs/scenarios.md); a table that rounds
each line on its own can show lines that do not add up to its rounded total (three lines of
33.33 shown as 33 each, 99, under a total of 100). :func:`round_to_total` rounds a column so
that its shown values add up to its own sum rounded the same way; :func:`round_to` so that
they add up to a given total (a line's cells to the line's shown total); :func:`round_half`
rounds one figure shown alone; :func:`round_grid` a table of lines by periods. Every export (CSV feeds, XLSX, HTML, the platforms' budgets,
the command line) rounds through these three.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

#: figures from this size on have no decimals a float can hold: :func:`round_half` keeps them
HUGE = 1e15


def half_up(x: float) -> int:
    """Return ``x`` rounded to the nearest integer, halves away from zero (not to even)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def round_half(value: float, digits: int = 2) -> float:
    """Return one figure rounded to ``digits`` decimals, halves away from zero.

    Rounds the shortest decimal form of the float (``1.005`` -> ``1.01``, as a person reads
    it), not its binary value; never returns -0.0. A figure of :data:`HUGE` or more, or not
    finite, comes back as it is.

    >>> round_half(986.6700000000001)
    986.67
    >>> round_half(1.005)
    1.01
    """
    x = float(value)
    if not math.isfinite(x) or abs(x) >= HUGE:  # no decimals to round (and beyond Decimal's)
        return x
    out = float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))
    return out if out != 0 else 0.0


def round_to(values: Sequence[float], total: float, digits: int = 2) -> list[float]:
    """Round ``values`` to ``digits`` decimals so that they add up to ``total`` so rounded.

    The largest remainder method (Hamilton's): every value is rounded down to a multiple of
    ``10**-digits``; the units the total still needs go, one each, to the values that lost
    the most in the rounding down (the first of equal ones first); units too many (a total
    below the values' sum) come off those that lost the least. With ``total`` the values'
    own sum, each shown value is within one unit of its exact value.
    """
    scale = 10.0**digits
    scaled = [v * scale for v in values]
    floors = [math.floor(x) for x in scaled]
    if not floors:
        return []
    missing = half_up(total * scale) - sum(floors)
    order = sorted(range(len(scaled)), key=lambda i: floors[i] - scaled[i])
    if missing < 0:
        order.reverse()
    step = 1 if missing > 0 else -1
    for n in range(abs(missing)):
        floors[order[n % len(order)]] += step
    return [f / scale if f else 0.0 for f in floors]


def round_to_total(values: Sequence[float], digits: int = 0) -> list[float]:
    """Round ``values`` to ``digits`` decimals so that they add up to their rounded sum.

    :func:`round_to` with the values' own sum (``math.fsum``): each shown value is within
    one unit of its exact value, and the shown values add up exactly to the sum rounded to
    ``digits`` decimals (halves away from zero). Works for negative values too.

    Parameters
    ----------
    values
        Finite numbers (amounts of money, results...), in the order they are shown.
    digits
        Decimals to keep (0: whole units of currency).

    Returns
    -------
    list of float
        The rounded values, in the order given.
    """
    return round_to(values, math.fsum(values), digits)


def round_grid(
    rows: Sequence[Sequence[float]], total: float | None = None, digits: int = 2
) -> tuple[list[list[float]], list[float]]:
    """Round a table (lines x periods) so that each line adds up to its shown total.

    The lines' totals are rounded to the grand total (``total``, else the cells' sum) by
    :func:`round_to`, then each line's cells to its rounded total: every line adds up to
    its total, and the cells and totals to the grand total (the period columns then add up
    to it too, each within a few units of its exact sum). Returns (cells, line totals).
    """
    exact = [math.fsum(r) for r in rows]
    grand = math.fsum(exact) if total is None else total
    totals = round_to(exact, grand, digits)
    return [round_to(r, t, digits) for r, t in zip(rows, totals, strict=True)], totals


__all__ = ["half_up", "round_grid", "round_half", "round_to", "round_to_total"]
