"""What a re-plan knows about the periods still open, for the families to rewrite their rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..curves import Curves

LineKey = tuple[str, str, str]


@dataclass(frozen=True)
class OpenPart:
    """The current and open periods of a re-plan, and the spend already made.

    ``curves`` are the lines of the current and open periods; ``status`` maps every period
    to elapsed, current or open; ``current`` is the actual spend per line in the current
    period (it stays: a floor); ``locked`` the spend per line of elapsed periods; ``done``
    the spend already made per network and segment (elapsed and off-plan); ``now`` the spend
    of the current period per network, segment and period; ``budget`` the plan's budget and
    ``left`` what is left of it. ``convert``: something was spent, so shares become
    currency limits. Families add what they change to ``notes``. ``as_of``: the re-plan's
    day (the current period runs from it to its end; None where it is not known).
    """

    curves: Curves
    status: Mapping[str, str]
    current: Mapping[LineKey, float]
    locked: Mapping[LineKey, float]
    done: Mapping[str, Mapping[str, float]]
    now: Mapping[str, Mapping[str, float]]
    budget: float
    left: float
    convert: bool
    notes: list[str] = field(default_factory=list)
    as_of: dt.date | None = None
