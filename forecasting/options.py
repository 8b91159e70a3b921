"""How a response is modelled: carry-over, seasons, events, shape, priors and lift tests.

:class:`ResponseOptions` is what ``forecasting.forecast_curves(..., response=)`` takes, and
what the command line (``--carryover``, ``--season``, ``--shape``, ``--events``, ``--priors``,
``--lift``, ``--incremental``), scenario files (``response:``) and HTTP bodies (``response``)
are all read into, by :func:`response_options`, the one place that checks them. See
docs/forecasting.md, "Carry-over, seasons, events, shapes, priors and lift tests".

Light on purpose (no pandas at import): the CLI's help and the service's schemas import it.
The files are read by their own modules (``forecasting.events``, ``forecasting.priors``,
``forecasting.lift``), imported only when a file is given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ForecastingError

#: the decays (share of a period's effect still there one period later) the backtest tries
CARRYOVER_GRID = (0.0, 0.25, 0.5, 0.75)
#: the largest decay accepted: at 0.9 a period's spend still acts 20 periods later
MAX_CARRYOVER = 0.9
#: "auto": the backtest's choice (with model auto; none with a named model); "common": one
#: yearly season for every network; "network": a season per network pooled toward the common
SEASONS = ("auto", "common", "network")
#: "auto": the backtest's choice per network; "power": results = A·spend^b; "hill": a
#: saturating (Hill) curve, made concave for the plan
SHAPES = ("auto", "power", "hill")
#: which results the curves' points count: the platforms' own, or lift-tested incremental ones
BASES = ("attributed", "incremental")

CARRYOVER_WORDS = (
    "carry-over: 'auto' (the backtest chooses a geometric decay per network among "
    f"{', '.join(f'{d:g}' for d in CARRYOVER_GRID)}) or a decay from 0 to {MAX_CARRYOVER:g} "
    "(the share of a period's effect still there one period later; 0: none)"
)
SEASON_WORDS = "the yearly season: auto (the backtest's choice), common, or network"
SHAPE_WORDS = "the curve's shape: auto (the backtest's choice per network), power or hill"


@dataclass(frozen=True, slots=True)
class ResponseOptions:
    """Everything about a response beyond the history itself (all optional, hashable).

    ``carryover``: "auto" or a decay in [0, MAX_CARRYOVER]. ``season``: one of
    :data:`SEASONS`. ``shape``: one of :data:`SHAPES`. ``events``, ``priors``, ``lift``: read
    files (``forecasting.events.Events``, ``forecasting.priors.Priors``,
    ``forecasting.lift.LiftTable``) or None. ``basis``: "attributed" or "incremental" (the
    latter needs ``lift`` for every line planned).
    """

    carryover: str | float = "auto"
    season: str = "auto"
    shape: str = "auto"
    events: Any = None
    priors: Any = None
    lift: Any = None
    basis: str = "attributed"

    def to_dict(self) -> dict:
        """Return the options as JSON-ready values (files by their source names)."""
        return {
            "carryover": self.carryover,
            "season": self.season,
            "shape": self.shape,
            "events": None if self.events is None else self.events.source,
            "priors": None if self.priors is None else self.priors.source,
            "lift": None if self.lift is None else self.lift.source,
            "basis": self.basis,
        }


#: the options when none are given
DEFAULT_RESPONSE = ResponseOptions()


def check_carryover(value: object, what: str = "carryover") -> str | float:
    """Return ``value`` as "auto" or a decay in [0, MAX_CARRYOVER]; else a ForecastingError."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if isinstance(number, int | float) and not isinstance(number, bool):
        d = float(number) if abs(number) <= 10 else math.inf  # float() of 400 digits overflows
        if math.isfinite(d) and 0 <= d <= MAX_CARRYOVER:
            return d
    raise ForecastingError(
        f"{what} {str(value)[:40]!r} is not a carry-over: give 'auto' or a decay from 0 to "
        f"{MAX_CARRYOVER:g} (the share of a period's effect still there one period later; 0 "
        "for none)"
    )


def check_choice(value: object, choices: Sequence[str], what: str) -> str:
    """Return ``value`` if it is one of ``choices``; else a ForecastingError naming them."""
    if isinstance(value, str) and value.strip().lower() in choices:
        return value.strip().lower()
    raise ForecastingError(f"{what} {str(value)[:40]!r} is not one of {', '.join(choices)}")


def response_options(  # noqa: PLR0913 (one keyword per option)
    *,
    carryover: object = "auto",
    season: object = "auto",
    shape: object = "auto",
    events: str | Path | Sequence[Mapping] | None = None,
    priors: str | Path | Mapping | None = None,
    lift: str | Path | Sequence[Mapping] | None = None,
    basis: object = "attributed",
    names: Mapping[str, str] | None = None,
) -> ResponseOptions:
    """Return checked :class:`ResponseOptions` from what a user gave.

    ``events``, ``priors`` and ``lift`` are a file path (read by their modules) or, from an
    HTTP body, their content already parsed (a list of rows, a mapping). ``names`` maps each
    option to how the caller spells it (``{"carryover": "--carryover"}``) for the messages.
    """
    n = {k: k for k in ("carryover", "season", "shape", "basis")} | dict(names or {})
    opts = ResponseOptions(
        carryover=check_carryover(carryover, n["carryover"]),
        season=check_choice(season, SEASONS, n["season"]),
        shape=check_choice(shape, SHAPES, n["shape"]),
        events=_read(events, "events"),
        priors=_read(priors, "priors"),
        lift=_read(lift, "lift"),
        basis=check_choice(basis, BASES, n["basis"]),
    )
    if opts.basis == "incremental" and opts.lift is None:
        raise ForecastingError(
            "incremental results need lift tests: give a lift calibration file (--lift, "
            "'lift:'), or plan attributed results"
        )
    return opts


def _read(value, kind: str):
    """Return the read events / priors / lift table, or None."""
    if value is None:
        return None
    if kind == "events":
        from .events import events_from_rows, load_events

        return load_events(value) if isinstance(value, str | Path) else events_from_rows(value)
    if kind == "priors":
        from .priors import load_priors, priors_from_data

        return load_priors(value) if isinstance(value, str | Path) else priors_from_data(value)
    from .lift import lift_from_rows, load_lift

    return load_lift(value) if isinstance(value, str | Path) else lift_from_rows(value)
