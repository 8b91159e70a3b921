"""A small canonical history whose results follow 0.2 x spend^0.8, for tests of the edges."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable


def power_law_rows(
    weeks: int,
    bases: tuple[tuple[str, float], ...],
    result_type: str = "purchases",
    swing: float = 0.4,
    wave: Callable[[float], float] = math.sin,
    pace: float = 1.0,
) -> list[dict]:
    """Weekly rows from 2026-01-05, one line per network; spend swings around its base."""
    rows = []
    for w in range(weeks):
        day = dt.date(2026, 1, 5) + dt.timedelta(weeks=w)
        for network, base in bases:
            spend = round(base * (1 + swing * wave(w * pace + len(network))), 2)
            rows.append(
                {
                    "date": day.isoformat(),
                    "network": network,
                    "segment": "all",
                    "result_type": result_type,
                    "spend": spend,
                    "results": round(0.2 * spend**0.8),
                    "currency": "EUR",
                }
            )
    return rows
