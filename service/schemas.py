"""Request and response bodies (pydantic, ``extra="forbid"`` on what clients send).

These models only check shapes and obvious ranges; the packages stay the authority on
meaning (concavity, rules naming unknown networks, history semantics) and their errors are
translated to 422 in :mod:`service.errors`. One conversion function each way lives in
:mod:`service.operations`.

Curves and specs are read as the files are, by ``Curves.from_dict`` and
``PlanSpec.from_dict`` alone: the request takes them as JSON objects (:data:`CurvesIn`,
:data:`SpecIn`, :data:`SpecPatchIn`), documented in the OpenAPI schema by
:class:`CurvesBody`, :class:`SpecBody` and :class:`SpecPatchBody`, so a bad curve or rule
gets the same message over HTTP as from ``adplan optimize``. Only what HTTP must refuse is
checked here: a results floor's ``curves`` that is not an object (a path is never read), and
control characters in any name the service stores (:data:`Name`, :func:`no_control_chars`,
the check of ``optimizer.values.control_char_message``).

:class:`ErrorBody` is the body of every error response, documented on every operation.
Answers are open objects (the Plan JSON may gain keys); their parts are documented key by key
(:class:`PlanLineOut`, :class:`RangesOut`, :class:`RiskOut`, :class:`FrontierPointOut`) with
:class:`DocumentedAs`, so a stored plan is sent as it was saved, never re-shaped.

Dates (``from``, ``to``) are :data:`~scenarios.forecast_inputs.PlanDate`
(``optimizer.periods.plan_day``, the one parser of the dates users type: YYYY-MM-DD within
1900-01-01..2200-12-31, documented as a string of format date), history rows' ``date`` the
same reading with its range left to the history's reader (:data:`HistoryDate`: the message a
history file gets), and ``cap_multiple`` is :data:`~scenarios.forecast_inputs.CapMultiple`: what
the command line and scenario files accept, with their messages, else 422.

The requests that forecast take ``response`` (:class:`ResponseBody`): how the response is
modelled (carry-over, season, shape, events, priors, lift tests, incremental results), the
options of ``adplan forecast --carryover ... --incremental`` and of a scenario's ``response:``,
with the files' content inline; read by ``forecasting.options.response_options`` (through
``scenarios.forecast_inputs.read_response``), whose refusal is 422 naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    MISSING,
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError, core_schema

from forecasting.errors import ForecastingError
from forecasting.events import MAX_EVENTS
from forecasting.events import MAX_NAME as MAX_EVENT_NAME
from forecasting.options import (
    BASES,
    CARRYOVER_WORDS,
    DEFAULT_RESPONSE,
    MAX_CARRYOVER,
    SEASON_WORDS,
    SEASONS,
    SHAPE_WORDS,
    SHAPES,
    ResponseOptions,
    check_carryover,
)
from optimizer.values import control_char_message
from scenarios.forecast_inputs import (
    DEFAULT_CAP_MULTIPLE,
    CapMultiple,
    HistoryDate,
    PlanDate,
    ResponseOptionError,
    read_response,
)

#: a budget above this is refused as absurd (one trillion in the account currency)
MAX_AMOUNT = 1e12

#: the type of the validation error of a control character (its message is made again, with
#: the field's full location, by :mod:`service.errors`)
CONTROL_CHAR = "control_char"


def no_control_chars(value: str) -> str:
    """Return ``value``; a validation error if it holds a control character.

    The check and the message are ``optimizer.values.control_char_message``'s, the one check of
    every layer; the service names the field (its full location) when it answers 422.
    """
    msg = control_char_message(value, "value")
    if msg is not None:
        raise PydanticCustomError(CONTROL_CHAR, msg)
    return value


#: a text without control characters (C0/C1, DEL, U+FFFE/U+FFFF, lone surrogates)
Text = AfterValidator(no_control_chars)
Name = Annotated[str, Field(min_length=1, max_length=200), Text]
Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Point = tuple[Finite, Finite]
Period = Literal["week", "month"]

#: a named plan's name (docs/service.md, "Named plans and feeds"): case-insensitive, kept in
#: lower case; it goes in feed URLs, so only URL-safe characters
PLAN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
PLAN_NAME_RULE = (
    "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit "
    "(case does not matter; e.g. q1-2027)"
)
PLAN_NAME_SCHEMA = {"type": "string", "pattern": PLAN_NAME_PATTERN, "minLength": 1, "maxLength": 64}


def plan_name_problem(value: str) -> str | None:
    """Return why ``value`` is not a named plan's name (the rule, with the value), or None."""
    if re.fullmatch(PLAN_NAME_PATTERN, value):
        return None
    return f"{value[:80]!r} is not a plan name: use {PLAN_NAME_RULE}"


def check_plan_name(value: str) -> str:
    """Return a named plan's name in lower case; a validation error saying the rule if bad."""
    problem = plan_name_problem(value)
    if problem is not None:
        raise PydanticCustomError("plan_name", problem)
    return value.lower()


#: a named plan's name in a body (documented with its pattern; the check says the rule)
PlanName = Annotated[str, AfterValidator(check_plan_name), WithJsonSchema(PLAN_NAME_SCHEMA)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# curves -----------------------------------------------------------------------------------


SpreadNumber = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]


class SpreadBody(_Strict):
    """A line's uncertainty as the forecast fitted it (docs/design.md, "Response curves").

    At spend ``s`` the log-scale error has variance ``level_var + ((ln s -
    log_spend_centre) * elasticity_se)**2``; results are then counts with negative-binomial
    ``dispersion``.
    """

    level_var: SpreadNumber = Field(description="variance of the fitted level (log scale)")
    log_spend_centre: Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)] = Field(
        description="ln of the spend where the level was fitted"
    )
    elasticity_se: SpreadNumber = Field(description="standard error of the fitted elasticity")
    dispersion: SpreadNumber = Field(
        description="negative-binomial dispersion: variance mu + dispersion * mu^2"
    )


class CurveLineBody(_Strict):
    """One response curve: expected results against spend for a network, segment and period."""

    network: Name
    segment: Name
    period: Name
    points: list[Point] = Field(min_length=2, description="[spend, results] pairs from [0, 0]")
    value_per_result: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    low: list[Point] | None = Field(
        default=None, min_length=2, description="the 10th percentile curve (the results band)"
    )
    high: list[Point] | None = Field(
        default=None, min_length=2, description="the 90th percentile curve (the results band)"
    )
    flags: list[Annotated[str, Field(max_length=200), Text]] | None = None
    spread: SpreadBody | None = Field(
        default=None,
        description="what the forecast knows of the line's uncertainty (curves forecast by "
        "adplan); plans simulate their ranges from it, else from low/high",
    )


class CurvesBody(BaseModel):
    """Response curves as in docs/design.md. Other top-level keys are kept as metadata."""

    model_config = ConfigDict(extra="allow")

    currency: Annotated[str, Field(min_length=1, max_length=16), Text] = "EUR"
    result_type: Annotated[str, Field(min_length=1, max_length=64), Text] = "results"
    lines: list[CurveLineBody] = Field(min_length=1)


# plan spec --------------------------------------------------------------------------------


class RuleBody(_Strict):
    """Limits on one network, segment or period (currency over the plan, or shares of it)."""

    min: Amount | None = None
    max: Amount | None = None
    min_share: Share | None = None
    max_share: Share | None = None


class LineRuleBody(_Strict):
    """Limits on one line's spend; ``lock`` fixes it."""

    network: Name
    segment: Name
    period: Name
    min: Amount | None = None
    max: Amount | None = None
    lock: Amount | None = None


class LineKeyBody(_Strict):
    """One line, named by its network, segment and period."""

    network: Name
    segment: Name
    period: Name


class ExcludeBody(_Strict):
    """Networks, segments and lines to leave out of the plan (no spend on them)."""

    networks: list[Name] | None = None
    segments: list[Name] | None = None
    lines: list[LineKeyBody] | None = None


class PacingBody(_Strict):
    """Each period's spend within +-``tolerance`` of its share (``weights``, default even)."""

    tolerance: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
    weights: dict[Name, Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]] | None = None


class ResultsFloorBody(_Strict):
    """At least ``min`` results of another result type, from its own curves (inline)."""

    result_type: Name
    min: Amount
    curves: CurvesBody


Positive = Annotated[float, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
#: a probability strictly between 0 and 1 (cvar's alpha, a target's confidence)
Probability = Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]


class LineValueBody(_Strict):
    """What one result of one line is worth."""

    network: Name
    segment: Name
    period: Name
    value: NonNegative


class ResultValuesBody(BaseModel):
    """What a result is worth: by ``networks``, by ``lines``, and by result type (other keys).

    Any other key is a result type's name (``purchases``, ``leads``...) and its value. The
    most specific value wins: a line's, then its network's, then its result type's.
    """

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, NonNegative] = Field(init=False)

    networks: dict[Name, NonNegative] | None = None
    lines: list[LineValueBody] | None = None


class LineCeilingBody(_Strict):
    """The most the next result of one line may cost."""

    network: Name
    segment: Name
    period: Name
    max: Positive


class MarginalCeilingsBody(_Strict):
    """The most the next result may cost: on every line (``all``), per network, segment, line.

    A line under several ceilings gets the lowest.
    """

    all: Positive | None = None
    networks: dict[Name, Positive] | None = None
    segments: dict[Name, Positive] | None = None
    lines: list[LineCeilingBody] | None = None


class _SpecFields(_Strict):
    objective: Literal["results", "value", "profit", "cvar"] | None = Field(
        default=None,
        description="results (the default): the most results; value: the most value "
        "(results x value_per_result); profit: the most value minus spend (the budget is a "
        "limit it need not reach); cvar: a risk-aware plan, the most results in its worst "
        "alpha share of scenarios (not with min_line_spend or max_active_lines)",
    )
    alpha: Probability | None = Field(
        default=None,
        description="objective cvar only: the share of worst scenarios whose mean results the "
        "plan raises (0.1, the default: the worst 10%)",
    )
    value_per_result: NonNegative | ResultValuesBody | None = Field(
        default=None,
        description="what one result is worth (objectives value and profit): a number for "
        "every result, or by result type, network and line",
    )
    max_marginal_cost_per_result: Positive | MarginalCeilingsBody | None = Field(
        default=None,
        description="no spend where the next result costs more than this: a number for "
        "every line, or {all, networks, segments, lines}",
    )
    networks: dict[Name, RuleBody] | None = None
    segments: dict[Name, RuleBody] | None = None
    periods: dict[Name, RuleBody] | None = None
    lines: list[LineRuleBody] | None = None
    exclude: ExcludeBody | None = None
    max_cost_per_result: Positive | None = None
    pacing: PacingBody | None = None
    max_period_change: NonNegative | None = None
    results_floors: list[ResultsFloorBody] | None = None
    min_line_spend: NonNegative | None = None
    min_daily_spend: dict[Name, NonNegative] | None = Field(
        default=None,
        description="per network, the least spend per day (an amount in the curves' currency)",
    )
    max_active_lines: Annotated[int, Field(ge=0, le=10_000_000)] | None = None


class SpecBody(_SpecFields):
    """The plan spec of docs/design.md and docs/optimizer.md: a budget and the business rules."""

    budget: Positive


class SpecPatchBody(_SpecFields):
    """A variant's patch on the base spec: the same keys, all optional."""

    budget: Positive | None = None


class DocumentedAs:
    """Annotation: validate as the annotated type, document (OpenAPI) as ``model``."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model

    def __get_pydantic_json_schema__(self, _core_schema, handler):
        """Return the JSON schema of ``model`` instead of that of the annotated type.

        Always a reference to the model's own schema (a component in the OpenAPI document):
        a model without nested models would otherwise be written out in place.
        """
        schema = self.model.__pydantic_core_schema__
        if schema["type"] != "definitions" and "ref" in schema:
            ref = core_schema.definition_reference_schema(schema["ref"])
            schema = core_schema.definitions_schema(ref, [schema])
        return handler(schema)


def _inline_floor_curves(spec: dict[str, Any]) -> dict[str, Any]:
    """Refuse a results floor whose ``curves`` is not an object: a path is never read.

    Everything else in the spec is left to ``PlanSpec.from_dict``.
    """
    floors = spec.get("results_floors")
    errors = []
    for i, floor in enumerate(floors if isinstance(floors, list) else ()):
        if isinstance(floor, Mapping) and "curves" in floor:
            curves = floor["curves"]
            if not isinstance(curves, Mapping):
                errors.append(
                    InitErrorDetails(
                        type=PydanticCustomError(
                            "inline_curves",
                            "give the curves inline (a JSON object); paths to files are never "
                            "read over HTTP",
                        ),
                        loc=("results_floors", i, "curves"),
                        input=curves,
                    )
                )
    if errors:
        raise ValidationError.from_exception_data("spec", errors)
    return spec


#: response curves, read by ``Curves.from_dict`` (documented as :class:`CurvesBody`)
CurvesIn = Annotated[dict[str, Any], DocumentedAs(CurvesBody)]
#: a plan spec, read by ``PlanSpec.from_dict`` (documented as :class:`SpecBody`)
SpecIn = Annotated[dict[str, Any], DocumentedAs(SpecBody), AfterValidator(_inline_floor_curves)]
#: a patch of the base spec (documented as :class:`SpecPatchBody`); ``null`` removes a key
SpecPatchIn = Annotated[
    dict[str, Any], DocumentedAs(SpecPatchBody), AfterValidator(_inline_floor_curves)
]


# history ----------------------------------------------------------------------------------


class HistoryRow(_Strict):
    """One canonical history row (docs/design.md, "Canonical history")."""

    date: HistoryDate
    network: Name
    segment: Name
    result_type: Name
    spend: Amount
    results: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    impressions: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    clicks: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    currency: Annotated[str, Field(min_length=1, max_length=16), Text] | None = None
    campaign: Annotated[str, Field(max_length=200), Text] | None = None


# response options -------------------------------------------------------------------------

#: the most rows of events, priors or lift tests one request may give (a file's most)
MAX_RESPONSE_ROWS = MAX_EVENTS


def _checked(check, *args):
    """Return a BeforeValidator running ``check(value, *args)``; its refusal is its message."""

    def validate(value: object) -> object:
        try:
            return check(value, *args)
        except ForecastingError as e:
            raise PydanticCustomError("response_option", "{message}", {"message": str(e)}) from None

    return BeforeValidator(validate)


def _json_carryover(value: object) -> str | float:
    """Return ``check_carryover(value)`` for exactly what the schema says: "auto" or a number.

    A JSON body is not typed text: "0.3" (a string) or "AUTO" are refused, not read.
    """
    if value != "auto" and not (isinstance(value, int | float) and not isinstance(value, bool)):
        raise ForecastingError(
            f'carryover {str(value)[:40]!r} is not a carry-over: give "auto" or a number from '
            f"0 to {MAX_CARRYOVER:g} (the share of a period's effect still there one period later)"
        )
    return check_carryover(value)


def _json_choice(value: object, choices: tuple[str, ...], what: str) -> str:
    """Return ``value`` when it is exactly one of ``choices`` (JSON: no other case, no spaces)."""
    if not (isinstance(value, str) and value in choices):
        raise ForecastingError(f"{what} {str(value)[:40]!r} is not one of {', '.join(choices)}")
    return value


#: "auto" or a decay: ``forecasting.options.check_carryover``'s reading and message
Carryover = Annotated[
    str | float,
    _checked(_json_carryover),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": ["auto"]},
                {"type": "number", "minimum": 0, "maximum": MAX_CARRYOVER},
            ]
        }
    ),
]


def _enum(choices: tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(choices)})


#: texts that must be exactly one of their choices (JSON is not typed text)
Season = Annotated[str, _checked(_json_choice, SEASONS, "season"), _enum(SEASONS)]
Shape = Annotated[str, _checked(_json_choice, SHAPES, "shape"), _enum(SHAPES)]
Basis = Annotated[str, _checked(_json_choice, BASES, "results"), _enum(BASES)]
#: a number a response row gives (its meaning and range are the reader's to check)
RowNumber = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]


class EventBody(_Strict):
    """One event or promotion (a row of an events file, docs/formats.md "Events file")."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_EVENT_NAME), Text] = Field(
        description="the event; one name on several dates is one effect, learnt from the "
        "history and applied to the plan",
        examples=["Black Friday"],
    )
    start: PlanDate | None = Field(
        default=None, description="its first day (YYYY-MM-DD); or give date"
    )
    end: PlanDate | None = Field(
        default=None, description="its last day (inclusive); default: start"
    )
    date: PlanDate | None = Field(
        default=None, description="instead of start and end: a one-day event"
    )
    network: Name | None = Field(
        default=None, description="the network it concerns; omit for every network"
    )
    promotion: bool | None = Field(
        default=None,
        description="true for a promotion period (every promotion shares one effect); "
        "default false",
    )


class PriorBody(_Strict):
    """One prior (an entry of a priors file, docs/formats.md "Priors file")."""

    network: Name = Field(description="the network")
    segment: Name | None = Field(
        default=None,
        description="the segment (default: any); with it, the entry can forecast a line "
        "without history (it then needs cpr, elasticity and spend)",
    )
    result_type: Name | None = Field(
        default=None, description="the result type the entry is for (default: any)"
    )
    cpr: RowNumber | None = Field(
        default=None,
        description="benchmark cost per result at the line's typical spend per period (or at "
        "spend); give cpr, elasticity or both",
    )
    elasticity: RowNumber | None = Field(
        default=None, description="b in results = A·spend^b, from 0.05 to 1"
    )
    weight: RowNumber | None = Field(
        default=None, description="how many results of history the cpr is worth (default 50)"
    )
    elasticity_sd: RowNumber | None = Field(
        default=None, description="the elasticity's prior standard deviation (default 0.15)"
    )
    spend: RowNumber | None = Field(
        default=None, description="the typical spend per plan period cpr refers to"
    )
    max_spend: RowNumber | None = Field(
        default=None,
        description="the most a line without history may spend per period (default 1.5 x spend)",
    )


class PriorsBody(_Strict):
    """Priors, as a priors file holds them: ``{"priors": [...]}``."""

    priors: list[PriorBody] = Field(
        min_length=1,
        max_length=MAX_RESPONSE_ROWS,
        description="the priors; a line gets the most specific entry (segment and result "
        "type, then segment, then result type, then the network alone)",
    )


class LiftTestBody(_Strict):
    """One lift test (a row of a lift calibration file, docs/formats.md).

    Give the ratio (``incremental_per_result``) or the test's counts
    (``incremental_results`` and ``attributed_results``), with its interval ``low``..``high``
    (in incremental results with the counts).
    """

    network: Name = Field(description="the network tested")
    segment: Name | None = Field(
        default=None, description="the segment tested; omit for the whole network"
    )
    result_type: Name | None = Field(
        default=None, description="the result type tested; omit for any"
    )
    incremental_per_result: RowNumber | None = Field(
        default=None,
        description="incremental results per attributed result, 0 to 10",
        examples=[0.62],
    )
    incremental_results: RowNumber | None = Field(
        default=None, description="instead of the ratio: the test's incremental results"
    )
    attributed_results: RowNumber | None = Field(
        default=None,
        description="instead of the ratio: the results the platform reported for the tested "
        "ads and days (above 0)",
    )
    low: RowNumber = Field(description="the interval's low end (low <= ratio)", examples=[0.48])
    high: RowNumber = Field(description="the interval's high end (ratio <= high)", examples=[0.8])
    level: Annotated[float, Field(ge=0.5, le=0.99, allow_inf_nan=False)] | None = Field(
        default=None, description="the interval's confidence, 0.5 to 0.99 (default 0.9)"
    )


class ResponseBody(_Strict):
    """How the forecast models the response: carry-over, season, shape, events, priors, lift.

    The options of ``adplan forecast`` (``--carryover``, ``--season``, ``--shape``,
    ``--events``, ``--priors``, ``--lift``, ``--incremental``) and of a scenario file's
    ``response:``, with the files' content inline; all optional. Read by
    ``forecasting.options.response_options``: a refused value is 422 naming its field.
    """

    carryover: Carryover = Field(
        default="auto", description=CARRYOVER_WORDS, examples=["auto", 0.3]
    )
    season: Season = Field(default="auto", description=SEASON_WORDS, examples=["common"])
    shape: Shape = Field(default="auto", description=SHAPE_WORDS, examples=["hill"])
    events: list[EventBody] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_RESPONSE_ROWS,
        description="events and promotions the forecast takes into account (an events file's rows)",
    )
    priors: PriorsBody | None = Field(
        default=None, description="priors thin lines are pulled toward (a priors file's content)"
    )
    lift: list[LiftTestBody] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_RESPONSE_ROWS,
        description="lift tests' calibration (a lift file's rows); needed by results incremental",
    )
    results: Basis = Field(
        default="attributed",
        description="the results the curves count: attributed (the platforms' own) or "
        "incremental (calibrated by the lift tests: every line planned needs one)",
    )

    _options: ResponseOptions = PrivateAttr(default=DEFAULT_RESPONSE)

    @model_validator(mode="after")
    def _read(self) -> ResponseBody:
        dumped = self.model_dump(mode="json", exclude_none=True)
        try:
            self._options = read_response(dumped)
        except ResponseOptionError as e:
            loc = () if e.key is None else (e.key,)
            detail = InitErrorDetails(
                type=PydanticCustomError("response_option", "{message}", {"message": str(e)}),
                loc=loc,
                input=dumped.get(e.key) if e.key else dumped,
            )
            raise ValidationError.from_exception_data("response", [detail]) from None
        return self

    @property
    def options(self) -> ResponseOptions:
        """The options read (``forecasting.options.ResponseOptions``)."""
        return self._options


def response_of(body: ResponseBody | None) -> ResponseOptions:
    """Return a request's response options (the defaults when it gives none)."""
    return DEFAULT_RESPONSE if body is None else body.options


class _HistorySpan(_Strict):
    history: list[HistoryRow] | None = Field(
        default=None, min_length=1, description="canonical history rows to forecast from"
    )
    from_: PlanDate | None = Field(
        default=None, alias="from", description="first day to plan (YYYY-MM-DD)"
    )
    to: PlanDate | None = Field(default=None, description="last day to plan (YYYY-MM-DD)")
    period: Period = "week"
    result_type: Name | None = Field(
        default=None, description="result type to forecast when the history has several"
    )
    cap_multiple: CapMultiple = DEFAULT_CAP_MULTIPLE
    response: ResponseBody | None = Field(
        default=None,
        description="how the forecast models the response (carry-over, season, shape, events, "
        "priors, lift tests, incremental results); with a forecast only",
    )

    def _check_span(self) -> None:
        if self.history is not None and (self.from_ is None or self.to is None):
            raise ValueError("'history' needs 'from' and 'to' (the span to plan)")
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise ValueError(f"'from' ({self.from_}) is after 'to' ({self.to})")
        forecasts = self.history is not None or self.from_ is not None or self.to is not None
        if "cap_multiple" in self.model_fields_set and not forecasts:
            raise ValueError(
                "'cap_multiple' applies to curves forecast from history ('history' rows, or "
                "'from' and 'to' for the server's start-up history); given or default curves "
                "keep their own ends"
            )
        if self.response is not None and not forecasts:
            raise ValueError(
                "'response' applies to curves forecast from history ('history' rows, or "
                "'from' and 'to' for the server's start-up history); given or default curves "
                "are already made"
            )


# requests ---------------------------------------------------------------------------------


class _SolverChoice(_Strict):
    solver: Annotated[str, Field(max_length=32), Text] | None = Field(
        default=None,
        description="highs or cbc; default: the server's ADPLAN_SOLVER, else highs",
    )


class PlanRequest(_HistorySpan, _SolverChoice):
    """A plan to solve and save: its spec and where its curves come from.

    Either ``curves`` and ``spec``, or ``history`` rows with ``from``, ``to``, ``period``
    and ``spec``, or ``from``, ``to``, ``period`` and ``spec`` alone (forecast from the
    server's start-up history, ADPLAN_HISTORY_PATH). With none of these, the server's default
    curves are used if it has any.
    """

    curves: CurvesIn | None = None
    spec: SpecIn
    name: Name | None = Field(default=None, description="a label kept with the plan")
    named_plan: PlanName | None = Field(
        default=None,
        description="save the plan as the next version of this named plan (made if new: the "
        "answer's named_plan links then carry its feed token, shown only then)",
    )
    target_results: Positive | None = Field(
        default=None,
        description="find the smallest budget whose plan reaches this many results (the "
        "spec's budget is then not a limit); the plan has target_results and "
        "target_probability",
    )
    confidence: Probability | None = Field(
        default=None,
        description="with target_results: the smallest budget whose plan reaches the target "
        "with this probability (0.9: in 9 scenarios out of 10); the plan has "
        "target_confidence",
    )

    @model_validator(mode="after")
    def _one_source(self) -> PlanRequest:
        if self.curves is not None and self.history is not None:
            raise ValueError("give either 'curves' or 'history', not both")
        if self.confidence is not None and self.target_results is None:
            raise ValueError(
                "'confidence' needs 'target_results' (the results to reach with that probability)"
            )
        self._check_span()
        return self


class DeltaRequest(_SolverChoice):
    """Money to add to a saved plan's budget (negative: a cut): where it goes, line by line.

    The saved plan's own curves and spec are solved again at its budget + ``extra`` (the
    spec's rules hold; only its budget changes).
    """

    extra: Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False)] = Field(
        description="money added to the plan's budget, in its currency (negative: a cut); "
        "the new budget must be above 0 and at most 1e12"
    )
    name: Name | None = Field(
        default=None, description="a label kept with the new plan (default: the plan's own)"
    )


class ReplanRequest(_SolverChoice):
    """Actual spend up to a day: a saved plan's own curves and spec re-planned around it.

    What was spent before ``as_of`` is locked (``scenarios.replan``); the rest of the budget
    is optimised again over the periods still open.
    """

    as_of: PlanDate = Field(description="the first day not yet spent (YYYY-MM-DD)")
    actuals: list[HistoryRow] = Field(
        description="canonical history rows of the actual spend (those before as_of count)"
    )
    name: Name | None = Field(
        default=None, description="a label kept with the new plan (default: the plan's own)"
    )
    named_plan: PlanName | None = Field(
        default=None,
        description="also make the re-plan the next version of this named plan, whatever its "
        "current version (made if new: its feed token is then in the answer's links, shown "
        "only then); without it, only the names whose current version is the re-planned "
        "plan advance",
    )


class NamedPlanPut(_Strict):
    """What becomes a named plan's next version: a saved plan, or a scenario run's variant."""

    plan_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="a saved plan of the key's workspace"
    )
    run_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="a scenario run of the key's workspace (with variant)"
    )
    variant: Name | None = Field(
        default=None, description="with run_id: the variant whose plan it is (default: the base)"
    )

    @model_validator(mode="after")
    def _one_source(self) -> NamedPlanPut:
        if (self.plan_id is None) == (self.run_id is None):
            raise ValueError("give either 'plan_id' or 'run_id' (with 'variant'), not both")
        if self.variant is not None and self.run_id is None:
            raise ValueError("'variant' goes with 'run_id' (a scenario run's variant)")
        return self


class ForecastRequest(_HistorySpan):
    """History rows and the span to forecast; without rows, the server's start-up history."""

    history: list[HistoryRow] | None = Field(
        default=None,
        min_length=1,
        description="canonical history rows; omit to forecast the server's start-up history",
    )
    from_: PlanDate = Field(alias="from", description="first day to forecast (YYYY-MM-DD)")
    to: PlanDate = Field(description="last day to forecast (YYYY-MM-DD)")

    @model_validator(mode="after")
    def _span(self) -> ForecastRequest:
        self._check_span()
        return self


class FrontierRequest(_HistorySpan, _SolverChoice):
    """A plan spec solved at several budgets, with its curves or history as for a plan."""

    curves: CurvesIn | None = None
    spec: SpecIn
    budgets: list[Annotated[float, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False)]] = Field(
        min_length=1, description="budgets at which to solve the plan"
    )

    @model_validator(mode="after")
    def _one_source(self) -> FrontierRequest:
        if self.curves is not None and self.history is not None:
            raise ValueError("give either 'curves' or 'history', not both")
        self._check_span()
        return self


ScenarioName = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="letters, digits, . _ -")
]


class OverridesExcludeBody(_Strict):
    """Networks and segments a scenario or variant leaves out."""

    networks: list[Name] = Field(default_factory=list)
    segments: list[Name] = Field(default_factory=list)


class OverridesBody(_Strict):
    """What a scenario or variant changes besides the spec (see docs/scenarios.md)."""

    cost_per_result: dict[Name, Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)]] = Field(
        default_factory=dict, description="network or segment -> multiplier of its cost per result"
    )
    exclude: OverridesExcludeBody = Field(default_factory=OverridesExcludeBody)
    budget: (
        Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
        | Annotated[str, Field(pattern=r"^\s*[+-]?\d+(\.\d+)?\s*%\s*$")]
        | None
    ) = Field(default=None, description="an amount, or a change in percent such as '-10%'")
    rules: SpecPatchIn | None = Field(default=None, description="rules merged into the spec")


class VariantBody(_Strict):
    """One variant of a scenario: a name and what it changes from the base."""

    name: ScenarioName
    description: Annotated[str, Field(max_length=2000), Text] | None = None
    spec: SpecPatchIn | None = None
    overrides: OverridesBody | None = None


class ScenarioRunRequest(_HistorySpan, _SolverChoice):
    """A scenario document (docs/design.md, "Scenario file") with its curves or history inline.

    Paths to files are not accepted over HTTP: put the curves, history and spec in the body.
    """

    name: ScenarioName
    description: Annotated[str, Field(max_length=2000), Text] | None = None
    curves: CurvesIn | None = None
    spec: SpecIn
    overrides: OverridesBody | None = None
    variants: list[VariantBody] = Field(default_factory=list)
    frontier: bool = Field(default=False, description="also compute the base's budget frontier")

    @model_validator(mode="after")
    def _one_source(self) -> ScenarioRunRequest:
        if self.curves is not None and self.history is not None:
            raise ValueError("give either 'curves' or 'history', not both")
        self._check_span()
        names = [self.name] + [v.name for v in self.variants]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(
                f"variant names must be unique (and differ from the scenario's): {dup}"
            )
        return self


# responses --------------------------------------------------------------------------------


class FieldError(BaseModel):
    """One refused part of a request: where (``loc``), why (``msg``) and the kind (``type``)."""

    loc: list[str]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The body of every error response (4xx and 5xx): a code, a sentence, and details.

    ``error`` is one of ``unauthorized`` (401), ``forbidden`` (403), ``not_found`` (404),
    ``method_not_allowed`` (405), ``request_timeout`` (408), ``idempotency_conflict`` and
    ``idempotency_in_progress`` and ``feed_unavailable`` (409), ``request_too_large`` (413),
    ``invalid_request``,
    ``invalid_curves``, ``invalid_spec``, ``invalid_history``, ``invalid_scenario``,
    ``invalid_problem``, ``problem_too_large`` and ``infeasible`` (422), ``busy``,
    ``time_budget_spent``, ``cancelled`` and ``solver_unavailable`` (503), ``internal`` (500,
    a bug: ``detail`` gives a reference to the server log). The other fields come with the
    errors that have them.
    """

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="what kind of error (a stable code)")
    detail: str = Field(description="what is wrong and what to do, in words")
    errors: list[FieldError] | None = Field(
        default=None, description="invalid_request: each refused part of the request"
    )
    needed_role: Literal["read", "write", "admin"] | None = Field(
        default=None, description="forbidden: the role the call needs"
    )
    role: Literal["read", "write", "admin"] | None = Field(
        default=None, description="forbidden: the role of the key that was sent"
    )
    limit: float | None = Field(
        default=None,
        description="request_too_large (bytes), request_timeout (seconds), problem_too_large: "
        "the limit passed",
    )
    retry_after: int | None = Field(
        default=None, description="busy, time_budget_spent: seconds to wait (as Retry-After)"
    )
    value: int | None = Field(default=None, description="problem_too_large: the size asked for")
    setting: str | None = Field(
        default=None, description="problem_too_large: the setting of that limit"
    )
    diagnosis: list[dict[str, Any]] | None = Field(
        default=None, description="infeasible: each rule that cannot hold, and by how much"
    )
    rules: list[str] | None = Field(default=None, description="infeasible: the rules at fault")
    repairs: list[dict[str, Any]] | None = Field(
        default=None,
        description="infeasible: the smallest changes that make the rules hold, smallest first "
        "(kind, rules, family, amount, unit, words)",
    )
    key: str | None = Field(default=None, description="invalid_scenario: the key at fault")
    file: str | None = Field(default=None, description="invalid_history: the file at fault")
    row: int | None = Field(default=None, description="invalid_history: the row at fault")
    line: int | None = Field(default=None, description="invalid_history: the line at fault")
    column: str | None = Field(default=None, description="invalid_history: the column at fault")


class Links(BaseModel):
    """Links to a plan and its downloads."""

    model_config = ConfigDict(populate_by_name=True)

    self_: str = Field(alias="self", description="the plan as JSON (needs X-API-Key)")
    csv: str | None = Field(default=None, description="CSV download; ?token= works without a key")
    xlsx: str | None = Field(default=None, description="XLSX download; ?token= works without a key")


class _Documented(BaseModel):
    """A part of an answer, documented key by key; the answer may carry more keys."""

    model_config = ConfigDict(extra="allow")


class BandOut(_Documented):
    """The P10, P50 and P90 of a simulated figure (null where it has none, e.g. no results)."""

    p10: float | None
    p50: float | None
    p90: float | None


class RangesOut(_Documented):
    """What the plan's results could be: P10/P50/P90 over scenarios of the curves' uncertainty.

    Simulated (a total's range is not the sum of its lines'): from each line's ``spread``
    (curves forecast by adplan), else its ``low``/``high`` band, else the line is certain.
    """

    scenarios: int = Field(description="scenarios drawn (0 when nothing is uncertain)")
    seed: int = Field(description="the seed of the draws (plans reproduce exactly)")
    source: str = Field(
        description="where the spread comes from: forecast, bands, mixed, lift (the lift tests "
        "alone), none"
    )
    note: str = Field(description="how the ranges were made, in words")
    total: BandOut = Field(description="the plan's total results")
    cost_per_result: BandOut = Field(
        description="spend / total results (p10 from the total's p90); null with no results"
    )
    networks: dict[str, BandOut] = Field(description="results per network")
    segments: dict[str, BandOut] = Field(description="results per segment")
    periods: dict[str, BandOut] = Field(description="results per period")


class RiskFiguresOut(_Documented):
    """A plan's results: expected, P10, and the mean of its worst ``alpha`` share."""

    mean: float | None
    p10: float | None
    tail_mean: float | None


class RiskLpOut(_Documented):
    """The size and time of the risk-aware LP."""

    rows: int
    columns: int
    nonzeros: int
    seconds: float | None
    objective: float | None = Field(description="the LP's optimum (the scenarios' tail mean)")


class RiskOut(_Documented):
    """A risk-aware plan (objective cvar) beside the plan with the most expected results."""

    objective: str = Field(description="cvar")
    alpha: float = Field(description="the share of worst scenarios the plan raises")
    scenarios: int = Field(description="scenarios the LP is built on")
    judged_on: str = Field(description="the other scenarios both plans are judged on")
    this_plan: RiskFiguresOut
    mean_plan: RiskFiguresOut = Field(description="the plan with the most expected results")
    mean_results_given_up: float | None = Field(description="mean_plan.mean - this_plan.mean")
    p10_gained: float | None = Field(description="this_plan.p10 - mean_plan.p10")
    tail_mean_gained: float | None = Field(description="this_plan.tail_mean - mean_plan.tail_mean")
    lp: RiskLpOut
    words: str = Field(description="the comparison in one sentence, as the CLI prints it")


def _optional(description: str) -> Any:
    """Return an optional answer key's field: absent (never null) when the plan has none."""
    return Field(default=None, exclude_if=lambda v: v is None, description=description)


def _as_saved(description: str) -> Any:
    """Return an answer key's field sent as the plan has it: absent, null or a value.

    Plans saved before the key existed do not have it, and are sent without it.
    """
    return Field(default=MISSING, description=description)


class PlanLineOut(_Documented):
    """One line of a plan: its spend, the results expected from it and what they cost."""

    network: str
    segment: str
    period: str
    spend: float
    expected_results: float
    cost_per_result: float | None
    marginal_cost_per_result: float | None = Field(description="cost of one more result")
    max_spend: float = Field(description="the most the line's curve can absorb")
    limited_by: dict[str, Any] | None = Field(description="why the line gets no more")
    results_p10: float | None = Field(
        default=None, description="P10 of the line's results (with the plan's ranges)"
    )
    results_p90: float | None = Field(
        default=None, description="P90 of the line's results (with the plan's ranges)"
    )
    results_inside: float | None | MISSING = _as_saved(
        "the line's results that land inside the plan's dates (curves with carry-over; the "
        "rest lands after them)"
    )
    results_attributed: float | None | MISSING = _as_saved(
        "the line's results as the platform attributes them (curves with lift tests)"
    )
    results_incremental: float | None | MISSING = _as_saved(
        "the line's incremental results, calibrated by a lift test (curves with lift tests; "
        "null: no test for this line)"
    )


class FeedLinks(BaseModel):
    """One feed of a named plan: its CSV and its Excel connection file (.odc)."""

    csv: str = Field(description="the CSV of the current version (?token= when shown)")
    odc: str = Field(description="an Excel connection file for the CSV (needs the token)")


class NamedPlanLinks(BaseModel):
    """Links of a named plan: itself and its feeds (with the token only when it is shown)."""

    model_config = ConfigDict(populate_by_name=True)

    self_: str = Field(alias="self", description="the named plan (needs X-API-Key)")
    current_plan: str | None = Field(default=None, description="the current version's plan")
    feeds: dict[str, FeedLinks] = Field(
        description="plan, flighting, ledger, plan-vs-actual, comparison: always the current "
        "version; the token is in them only in the answer that made or re-issued it"
    )


class NamedVersionOut(BaseModel):
    """One version of a named plan."""

    version: int = Field(description="1, 2, 3, ... in the order they were made")
    plan_id: str
    created_at: str
    source: str = Field(description="plan, replan or scenario_run: how it became a version")


class NamedPlanOut(BaseModel):
    """A named plan: its versions, the current one, and its feeds."""

    name: str
    created_at: str
    current_version: int
    versions: list[NamedVersionOut]
    token_issued: bool = Field(
        description="true when this answer shows a new feed token (in the feed links)"
    )
    links: NamedPlanLinks


class NamedVersionRef(BaseModel):
    """The version of a named plan a plan became (in a plan's answer)."""

    name: str
    version: int
    token_issued: bool = Field(
        description="true when the name was made now: the feed links "
        "carry its token, shown only here"
    )
    links: NamedPlanLinks


class PlanOut(BaseModel):
    """The Plan JSON of docs/design.md plus ``id``, ``created_at`` and ``links``."""

    model_config = ConfigDict(extra="allow")

    id: str
    created_at: str
    links: Links
    status: str | None = None
    lines: list[Annotated[Any, DocumentedAs(PlanLineOut)]] = Field(
        description="one per line of the curves planned"
    )
    ranges: Annotated[dict[str, Any], DocumentedAs(RangesOut)] | None = _optional(
        "P10/P50/P90 of the results, simulated over scenarios of the curves' uncertainty"
    )
    target_results: float | None = _optional("with target_results: the results to reach")
    target_probability: float | None = _optional(
        "with target_results: the chance the plan reaches them (in the ranges' scenarios)"
    )
    target_confidence: float | None = _optional(
        "with confidence: the chance asked for (the budget is the least that reaches it)"
    )
    risk: Annotated[dict[str, Any], DocumentedAs(RiskOut)] | None = _optional(
        "objective cvar: the plan's figures beside the mean plan's"
    )
    results_inside: float | None | MISSING = _as_saved(
        "the results that land inside the plan's dates (curves with carry-over); with "
        "results_after it adds up to expected_results"
    )
    results_after: float | None | MISSING = _as_saved(
        "the results the plan's spend still brings after its last day (carry-over)"
    )
    results_attributed: float | None | MISSING = _as_saved(
        "the results as the platforms attribute them (curves with lift tests); null when a "
        "funded line's are unknown (a note says which)"
    )
    results_incremental: float | None | MISSING = _as_saved(
        "the incremental results, calibrated by lift tests; null when a funded line has no "
        "test (a note says which)"
    )
    cost_per_incremental_result: float | None | MISSING = _as_saved(
        "spend per incremental result (null with no incremental result)"
    )
    results_basis: str | MISSING = _as_saved(
        "what the curves' points count, and the plan maximises: attributed or incremental results"
    )
    results_additive: bool | MISSING = _as_saved(
        "false for results that cannot be added across periods (reach): the totals across "
        "periods are then null and results_note says why"
    )
    results_note: str | MISSING = _as_saved(
        "only when results_additive is false: why the plan shows no total across periods"
    )
    by_period: dict[str, dict[str, float | None]] | MISSING = _as_saved(
        "per period: spend, expected_results, cost_per_result (and results_inside, "
        "results_attributed, results_incremental when the lines carry them); the totals that "
        "stay when results cannot be added across periods"
    )

    named_plan: Annotated[dict[str, Any], DocumentedAs(NamedVersionRef)] | None = _optional(
        "with named_plan (POST /v1/plans): the named plan's version this plan became"
    )
    named_plans: list[Annotated[dict[str, Any], DocumentedAs(NamedVersionRef)]] | None = _optional(
        "a re-plan: the versions it became, one per named plan of the plan re-planned"
    )
    replan: dict[str, Any] | None = _optional(
        "a re-plan: as_of, actual_spend, off_plan_spend, original figures, warnings and per "
        "line and period the planned, actual and re-planned spend"
    )


class PlanSummary(BaseModel):
    """A saved plan in a list: its key figures and links, without its lines."""

    id: str
    created_at: str
    kind: str
    name: str | None = None
    scenario_run_id: str | None = None
    status: str | None = None
    currency: str | None = None
    result_type: str | None = None
    budget: float | None = None
    total_spend: float | None = None
    expected_results: float | None = None
    links: Links


class PlanPage(BaseModel):
    """One page of saved plans, newest first, and where the next page is."""

    items: list[PlanSummary]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next page; null at the end"
    )
    next: str | None = Field(default=None, description="URL of the next page")


class TokenOut(BaseModel):
    """A plan's new download links; their token replaces the old one."""

    id: str
    links: Links


class ForecastOut(BaseModel):
    """Response curves forecast from history, with the forecast's warnings (docs/forecasting.md)."""

    model_config = ConfigDict(extra="allow")

    curves: dict
    warnings: list[str] = Field(default_factory=list)
    model: str | None = Field(
        default=None, description="the model used, or the naive baseline when no model beat it"
    )
    response: dict | None = Field(
        default=None,
        description="what the forecast chose for the response: per network carry-over decay "
        "(and shape), the season, the events used, the priors' and lift tests' sources, the "
        "basis (attributed or incremental results)",
    )
    lines: list[dict] = Field(
        default_factory=list,
        description="per line: typical spend, CPR there, elasticity and elasticity_se, "
        "cap_spend, flags (flat_spend, thin_history, ...), carryover (its decay), shape "
        "(power or hill), prior_share and prior_elasticity_share (how much the priors "
        "count; null without one), lift (incremental results per attributed one; null "
        "without a test)",
    )
    backtest: dict | None = Field(
        default=None,
        description="the nested backtest (model auto): each candidate's wape, slope_wape, "
        "outer_wape, coverage; chosen, chosen_is_baseline, outer (with its bootstrap interval)",
    )
    at_cap: dict | None = Field(
        default=None,
        description="the lines a plan at the history's usual budget would spend up to their cap",
    )


class FrontierPointOut(_Documented):
    """One budget of a frontier: the plan's results there and their band (null: infeasible)."""

    status: str = Field(description="optimal, time_limit (with gap) or infeasible")
    budget: float
    expected_results: float | None
    total_spend: float | None
    cost_per_result: float | None
    marginal_cost_per_result: float | None
    marginal_results_per_unit: float | None
    results_p10: float | None = Field(description="P10 of the results at this budget")
    results_p50: float | None = Field(description="P50 of the results at this budget")
    results_p90: float | None = Field(description="P90 of the results at this budget")
    solver: str | None = Field(default=None, description="the solver that solved the point")
    results_basis: str | None = Field(
        default=None, description="attributed or incremental: what the results count"
    )
    results_additive: bool | None = Field(
        default=None,
        description="false for results that cannot be added across periods (reach): the "
        "point's totals are then null and by_period holds each period's",
    )
    by_period: dict[str, dict[str, float | None]] | None = Field(
        default=None, description="reach only: each period's spend, results, cost per result"
    )
    results_note: str | None = Field(
        default=None, description="reach only: why the point shows no total across periods"
    )
    results_inside: float | None = Field(
        default=None, description="with carry-over: the results inside the plan's dates"
    )
    results_after: float | None = Field(
        default=None, description="with carry-over: the results after the plan's last day"
    )
    results_attributed: float | None = Field(
        default=None, description="with lift tests: the results the platforms attribute"
    )
    results_incremental: float | None = Field(
        default=None, description="with lift tests: the incremental results"
    )
    cost_per_incremental_result: float | None = Field(
        default=None, description="with lift tests: spend per incremental result"
    )


#: a frontier's points (checked as they are made, documented as :class:`FrontierPointOut`)
FrontierPoints = list[Annotated[Any, DocumentedAs(FrontierPointOut)]]


class FrontierOut(BaseModel):
    """The plan's expected results and marginal cost per result at each budget."""

    model_config = ConfigDict(extra="allow")

    points: FrontierPoints


class ScenarioPlanOut(BaseModel):
    """One variant of a scenario run: its status and saved plan, or why it has none."""

    variant: str
    status: str
    plan: PlanOut | None = Field(default=None, description="null when the variant is infeasible")
    plan_id: str | None = None
    error: str | None = None
    diagnosis: list[dict] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class ScenarioRunOut(BaseModel):
    """A saved scenario run: each variant's plan, their comparison and the frontier."""

    id: str
    created_at: str
    name: str
    plans: list[ScenarioPlanOut]
    comparison: dict | list | None = Field(
        default=None,
        description="each variant against the base: totals, delta, moved, rules, and "
        "beats_base_probability (the chance its results beat the base's, scenario by "
        "scenario; null when neither plan's curves carry uncertainty)",
    )
    frontier: FrontierPoints = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class HeavyStats(BaseModel):
    """The pool of heavy work (forecasts, plans, frontiers, scenario runs)."""

    workers: int
    queue: int
    running: int
    admitted: int = Field(
        description="requests holding a place: waiting, working, or whose work still runs"
    )
    refused: int = Field(description="503 busy answers since start")


class Health(BaseModel):
    """Liveness, version, database kind and state, the heavy pool, what was loaded at start-up."""

    status: Literal["ok"]
    version: str
    database: str
    database_state: Literal["ok", "busy"] = Field(
        default="ok",
        description="ok: the database answered a ping within 50 ms; busy: not (yet)",
    )
    default_curves: bool
    startup_history: bool = Field(
        default=False, description="a history was read at start-up (ADPLAN_HISTORY_PATH)"
    )
    heavy: HeavyStats | None = None
