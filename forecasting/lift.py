"""Lift tests: how many results a network's ads really cause per result the network reports.

A lift calibration file (docs/formats.md, "Lift calibration file") gives, per network and
optionally per segment and result type, the ratio of incremental results (measured by a
holdout or geo test) to attributed results (what the platform reports), with its interval.
Multiplying a curve's attributed results by the ratio gives incremental results; the
interval, read as a log-normal (``optimizer.risk.lift_sigma``, the one reading of it),
widens the plan's range when it counts incremental results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import ForecastingError
from .events import (
    Entry,
    FileKind,
    entries_from_list,
    most_specific,
    network_value,
    number_value,
    read_entries,
    refuse_repeated_keys,
    text_value,
)

#: the largest ratio accepted: ten incremental results per attributed one
MAX_RATIO = 10.0
#: the interval's confidence when a row gives none
DEFAULT_LEVEL = 0.9
#: the confidences a row may give
LEVEL_RANGE = (0.5, 0.99)

LIFT = FileKind(
    what="lift calibration file",
    key="lift_tests",
    columns=(
        "network",
        "segment",
        "result_type",
        "incremental_per_result",
        "incremental_results",
        "attributed_results",
        "low",
        "high",
        "level",
    ),
    required=("network",),
    doc='docs/formats.md, "Lift calibration file"',
)


@dataclass(frozen=True, slots=True)
class LiftResult:
    """One lift test: ``ratio`` incremental results per attributed result, in [low, high].

    ``ratio`` in [0, 10]; ``0 <= low <= ratio <= high``; ``level`` the interval's confidence
    (0.5..0.99); ``where``: ``lift.csv: data row 2 (line 3)``, for messages.
    """

    network: str
    segment: str | None
    result_type: str | None
    ratio: float
    low: float
    high: float
    level: float
    where: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.ratio) and 0 <= self.ratio <= MAX_RATIO):
            raise ForecastingError(
                f"{self.where}: {self.ratio:g} incremental results per attributed result is "
                f"outside 0..{MAX_RATIO:g}: give the lift test's incremental results divided by "
                "the results the platform reported for the same ads and days"
            )
        if not (math.isfinite(self.high) and 0 <= self.low <= self.ratio <= self.high):
            raise ForecastingError(
                f"{self.where}: the interval {self.low:g}..{self.high:g} does not hold the ratio "
                f"{self.ratio:g} (or starts below 0): give low <= ratio <= high, low at least 0"
            )
        lo, hi = LEVEL_RANGE
        if not lo <= self.level <= hi:
            raise ForecastingError(
                f"{self.where}, level: {self.level:g} is outside {lo:g}..{hi:g}: give the "
                "interval's confidence as a share (0.9 for 90%)"
            )


@dataclass(frozen=True, slots=True)
class LiftTable:
    """The lift tests of one file or request (``source`` names it in messages)."""

    entries: tuple[LiftResult, ...]
    source: str

    def for_line(
        self, network: str, segment: str | None, result_type: str | None
    ) -> LiftResult | None:
        """Return the most specific test for the line, or None.

        Segment-specific beats network-wide; result-type-specific beats none.
        """
        return most_specific(self.entries, network, segment, result_type)


def load_lift(path: str | Path) -> LiftTable:
    """Read a lift calibration file: CSV or YAML (``lift_tests:``) by its suffix."""
    source, entries = read_entries(path, LIFT)
    return _table(entries, source)


def lift_from_rows(rows: Sequence[Mapping], source: str = "lift") -> LiftTable:
    """Return the lift tests of rows already parsed (an HTTP body's list), checked as a file's."""
    return _table(entries_from_list(rows, source, LIFT), source)


def _table(entries: list[Entry], source: str) -> LiftTable:
    tests = [_lift(e) for e in entries]
    refuse_repeated_keys(entries, tests, "a lift test")
    return LiftTable(tuple(tests), source)


def _lift(entry: Entry) -> LiftResult:
    ratio, low, high = _ratio(entry)
    level = number_value(entry, "level")
    return LiftResult(
        network=str(network_value(entry, required=True)),
        segment=text_value(entry, "segment"),
        result_type=_slug(text_value(entry, "result_type")),
        ratio=ratio,
        low=low,
        high=high,
        level=DEFAULT_LEVEL if level is None else level,
        where=entry.where,
    )


def _ratio(entry: Entry) -> tuple[float, float, float]:
    """Return (ratio, low, high) from the ratio itself or from the test's counts."""
    per = number_value(entry, "incremental_per_result")
    counts = [k for k in ("incremental_results", "attributed_results") if k in entry.values]
    low, high = _required(entry, "low"), _required(entry, "high")
    if per is not None:
        if counts:
            raise ForecastingError(
                f"{entry.at(counts[0])}: given with incremental_per_result: give the ratio or "
                "the counts (incremental_results and attributed_results), not both"
            )
        return per, low, high
    if len(counts) < 2:
        raise ForecastingError(
            f"{entry.at('incremental_per_result')}: missing: give incremental_per_result, or "
            "incremental_results and attributed_results (the lift test's counts)"
        )
    inc, att = _required(entry, "incremental_results"), _required(entry, "attributed_results")
    if not att > 0:
        raise ForecastingError(
            f"{entry.at('attributed_results')}: {att:g} is not above 0: give the results the "
            "platform reported for the tested ads and days"
        )
    if not 0 <= low <= inc <= high:
        raise ForecastingError(
            f"{entry.where}: the interval {low:g}..{high:g} (incremental results) does not hold "
            f"incremental_results {inc:g} (or starts below 0): give low <= incremental_results "
            "<= high, in incremental results"
        )
    return inc / att, low / att, high / att


def _required(entry: Entry, name: str) -> float:
    value = number_value(entry, name)
    if value is None:
        raise ForecastingError(f"{entry.at(name)}: missing: give it ({LIFT.doc})")
    return value


def _slug(result_type: str | None) -> str | None:
    """Return a result type as the history names it (``Purchases`` -> ``purchases``)."""
    if result_type is None:
        return None
    from .ingest._base import result_type_slug

    return result_type_slug(result_type)
