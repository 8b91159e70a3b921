"""What a forecast from history is asked with, checked once for every way in.

The command line (``--from``, ``--to``, ``--cap-multiple``), scenario files (``from``,
``to``, ``cap_multiple``) and HTTP bodies (``from``, ``to``, history rows' ``date``,
``cap_multiple``) all go through the checks here:

- a day is read by ``optimizer.periods.plan_day``, the one parser of the dates users type
  (YYYY-MM-DD within 1900-01-01..2200-12-31);
- the cap multiple by ``forecasting.caps.check_cap_multiple``: where each forecast curve ends, as a
  multiple of the line's highest spend in one period of its history
  (``forecasting.forecast_curves(..., cap_multiple=)``), a number from 1 to 10;
- the response options (``--carryover``, ``--season``, ``--shape``, ``--events``, ``--priors``,
  ``--lift``, ``--incremental``; a scenario's ``response:``; a body's ``response``) by
  ``forecasting.options.response_options``, through :func:`read_response` where the edge
  must name the key at fault (:class:`ResponseOptionError`).

:data:`PlanDate` (and :data:`HistoryDate`) and :data:`CapMultiple` are the same checks as
pydantic field types, for the edges that read with pydantic (scenario files, HTTP bodies, the
service's settings): a refused value is a validation error whose message is the check's own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from forecasting.caps import (
    CAP_MULTIPLE_WORDS,
    MAX_CAP_MULTIPLE,
    SPEND_CAP_MULTIPLE,
    check_cap_multiple,
)
from forecasting.errors import ForecastingError
from forecasting.options import ResponseOptions, response_options
from optimizer.periods import DATE_EXAMPLE, PlanDateError, plan_day

#: the cap multiple a forecast uses when none is given
DEFAULT_CAP_MULTIPLE = SPEND_CAP_MULTIPLE


def _validated_day(value: object) -> dt.date:
    try:
        return plan_day(value)
    except PlanDateError as e:
        raise PydanticCustomError("plan_date", "{message}", {"message": str(e)}) from None


def _validated_row_day(value: object) -> dt.date:
    try:
        return plan_day(value, check_range=False)
    except PlanDateError as e:
        raise PydanticCustomError("plan_date", "{message}", {"message": str(e)}) from None


def _validated_cap(value: object) -> float:
    try:
        return check_cap_multiple(value)
    except ForecastingError as e:
        raise PydanticCustomError("cap_multiple", "{message}", {"message": str(e)}) from None


_DATE_SCHEMA = WithJsonSchema({"type": "string", "format": "date", "examples": [DATE_EXAMPLE]})
#: a day a user typed: ``plan_day``'s reading and message; documented as a string (date)
PlanDate = Annotated[dt.date, BeforeValidator(_validated_day), _DATE_SCHEMA]
#: a history row's date: read as :data:`PlanDate` is, its range left to the history's reader
#: (``forecasting.validate_history``), so that a history's message is the same from a file and
#: from a body
HistoryDate = Annotated[dt.date, BeforeValidator(_validated_row_day), _DATE_SCHEMA]
#: a cap multiple: ``check_cap_multiple``'s reading and message (text and true/false are not
#: numbers); documented as a number from 1 to 10
CapMultiple = Annotated[
    float,
    BeforeValidator(_validated_cap),
    Field(
        description=CAP_MULTIPLE_WORDS,
        json_schema_extra={"minimum": 1.0, "maximum": MAX_CAP_MULTIPLE},
    ),
]


#: the keys of a response (a scenario's ``response:``, a body's ``response``), in the order
#: they are checked; ``results`` is the options' ``basis`` (attributed or incremental)
RESPONSE_KEYS = ("carryover", "season", "shape", "events", "priors", "lift", "results")


class ResponseOptionError(ForecastingError):
    """A response option refused by ``response_options``; ``key`` is the one at fault.

    ``key`` is one of :data:`RESPONSE_KEYS`, or None when no one key is (never expected).
    """

    def __init__(self, message: str, key: str | None) -> None:
        super().__init__(message)
        self.key = key


def read_response(
    values: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> ResponseOptions:
    """Return ``response_options`` of ``values`` (keys of :data:`RESPONSE_KEYS`, None: default).

    ``events``, ``priors`` and ``lift`` are paths (already resolved by the caller) or their
    content (rows, a mapping). A refusal is a :class:`ResponseOptionError` with its message
    (the check's own) and the key at fault, found by checking the keys one by one.
    """
    unknown = sorted(set(values) - set(RESPONSE_KEYS))
    if unknown:
        raise ResponseOptionError(
            f"{unknown[0]!r} is not a response option; use {', '.join(RESPONSE_KEYS)}",
            unknown[0],
        )
    kw = _response_kwargs(values)
    try:
        return response_options(**kw, names=names)
    except ForecastingError as e:
        raise ResponseOptionError(str(e), _key_at_fault(kw, names)) from None


def _response_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``response_options``' keywords for ``values`` (absent or None: the default)."""
    defaults = {"carryover": "auto", "season": "auto", "shape": "auto", "results": "attributed"}
    kw: dict[str, Any] = {}
    for key in RESPONSE_KEYS:
        value = values.get(key)
        if value is None:
            value = defaults.get(key)
        kw["basis" if key == "results" else key] = value
    return kw


def _key_at_fault(kw: Mapping[str, Any], names: Mapping[str, str] | None) -> str | None:
    """Return the first key that ``response_options`` refuses alone (results: with its lift)."""
    for key in RESPONSE_KEYS:
        arg = "basis" if key == "results" else key
        alone = {arg: kw[arg]} if key != "results" else {"basis": kw["basis"], "lift": kw["lift"]}
        try:
            response_options(**alone, names=names)
        except ForecastingError:
            return key
    return None
