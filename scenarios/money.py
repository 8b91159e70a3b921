"""Rounding for display: shown amounts that add up to the shown total (largest remainder).

Plans keep exact numbers (round when you display, docs/scenarios.md); a table that rounds
each line on its own can show lines that do not add up to its rounded total (three lines of
33.33 shown as 33 each, 99, under a total of 100). :func:`round_to_total` rounds a column so
that its shown values add up to its own sum rounded the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _half_up(x: float) -> int:
    """Return ``x`` rounded to the nearest integer, halves away from zero (not to even)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def round_to_total(values: Sequence[float], digits: int = 0) -> list[float]:
    """Round ``values`` to ``digits`` decimals so that they add up to their rounded sum.

    The largest remainder method (Hamilton's): every value is rounded down to a multiple of
    ``10**-digits``; the units the rounded sum still needs go, one each, to the values that
    lost the most in the rounding down (the first of equal ones first). So each shown value
    is within one unit of its exact value, and the shown values add up exactly to the sum
    rounded to ``digits`` decimals (halves away from zero). Works for negative values too.

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
    scale = 10.0**digits
    scaled = [v * scale for v in values]
    floors = [math.floor(x) for x in scaled]
    missing = _half_up(math.fsum(scaled)) - sum(floors)
    missing = max(0, min(missing, len(floors)))  # always in range; guards float edge cases
    order = sorted(range(len(scaled)), key=lambda i: -(scaled[i] - floors[i]))
    for i in order[:missing]:
        floors[i] += 1
    return [f / scale for f in floors]


__all__ = ["round_to_total"]
