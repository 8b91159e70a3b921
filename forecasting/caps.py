"""Where a forecast curve ends: the cap multiple, its default, its range and its one check.

Every curve forecast from history stops at ``cap_multiple`` × the line's highest spend in one
period of its history (``forecasting.forecast_curves(..., cap_multiple=)``): past it the
plan would rest on nothing the line has shown. The CLI (``--cap-multiple``), scenario files
and HTTP bodies (``cap_multiple``) are all read by :func:`check_cap_multiple`. Light on
purpose (no pandas): the CLI's help and the service's schemas import it.
"""

from __future__ import annotations

import math

from .errors import ForecastingError

#: the curve stops at this multiple of the line's highest historical spend per period
SPEND_CAP_MULTIPLE = 1.5
#: the largest cap multiple accepted: beyond it a curve reaches far past anything the line spent
MAX_CAP_MULTIPLE = 10.0
#: what the cap multiple does, in the words of every help text
CAP_MULTIPLE_WORDS = (
    "where each forecast curve ends, as a multiple of the line's highest spend in one period "
    f"of its history: a number from 1 to {MAX_CAP_MULTIPLE:g} (default {SPEND_CAP_MULTIPLE:g})"
)


def check_cap_multiple(value: object, what: str | None = None) -> float:
    """Return ``value`` as a float if it is a finite number from 1 to ``MAX_CAP_MULTIPLE``.

    Anything else (a bool, text, NaN, 0.5, 11) is a :class:`ForecastingError` naming ``what``
    (``--cap-multiple``, ``cap_multiple``; None: the value alone) and the value.
    """
    shown = repr(value)[:60]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**6:
        value = math.inf if value > 0 else -math.inf  # float() of a 400-digit integer overflows
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and 1 <= number <= MAX_CAP_MULTIPLE:
            return number
        shown = f"{number:g}"
    subject = f"{what} {shown}" if what else shown
    raise ForecastingError(
        f"{subject} is not a cap multiple: give a number from 1 to {MAX_CAP_MULTIPLE:g} "
        f"(default {SPEND_CAP_MULTIPLE:g}), the multiple of each line's highest spend in one "
        "period of its history where its forecast curve ends"
    )
