"""Response curves: the seam between forecasting and the optimizer.

A curve is a list of (spend, expected results) points starting at (0, 0), spend strictly
increasing and slopes never increasing (concave: each extra unit of currency buys no more
than the one before). The last spend is the most the line can absorb. See docs/design.md,
"Response curves (JSON)".
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import math
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .errors import CurveError
from .periods import period_kind
from .values import MAX_BUDGET, control_char_message, too_deep, too_deep_message

#: the most results a curve point may promise (a bound that keeps every sum finite)
MAX_RESULTS = 1e15

#: relative tolerance on slope increases (floating noise in curves written by other tools)
CONCAVITY_RTOL = 1e-9

#: the forecast's log-scale error variance is capped here (a factor of about 4 either way)
MAX_LOG_VAR = 2.0

#: the most incremental results a lift test may find per attributed result
MAX_LIFT_RATIO = 10.0

#: what a curves file's points may count (``results_basis``): the platforms' attributed
#: results, or incremental ones (attributed x the lift tests' ratio)
RESULTS_BASES = ("attributed", "incremental")

Point = tuple[float, float]


def _points(raw, where: str, name: str = "points") -> tuple[Point, ...]:
    """Return the points of a curve, refusing anything but a concave list of pairs from (0, 0)."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes) or len(raw) < 2:
        raise CurveError(f"{where}: '{name}' must be a list of at least two [spend, results] pairs")
    fast = _valid_points(raw)
    if fast is not None:
        return fast
    out = [_pair(p, i, where, name) for i, p in enumerate(raw)]
    if out[0] != (0.0, 0.0):
        raise CurveError(f"{where}: the first point of '{name}' must be [0, 0], got {list(out[0])}")
    _check_concave(out, where, name)
    return tuple(out)


def _valid_points(raw: Sequence) -> tuple[Point, ...] | None:
    """Return the points when every check of :func:`_points` passes; else None.

    One tight pass over plain number pairs (the common case: 180,000 points of a
    300-line forecast); None sends the points through the checks that name what is wrong.
    NaN and infinities fail the range comparisons.
    """
    out: list[Point] = []
    px = py = 0.0
    prev_slope = math.inf
    for p in raw:
        if type(p) not in (list, tuple) or len(p) != 2:
            return None
        x, y = p
        if type(x) not in (int, float) or type(y) not in (int, float):
            return None
        x, y = float(x), float(y)
        if not (-MAX_BUDGET <= x <= MAX_BUDGET and -MAX_RESULTS <= y <= MAX_RESULTS):
            return None
        if not out:
            if x != 0 or y != 0:
                return None
        else:
            if x <= px or y < py:
                return None
            slope = (y - py) / (x - px)
            if slope > prev_slope * (1 + CONCAVITY_RTOL) + 1e-12:
                return None
            prev_slope = slope
        out.append((x, y))
        px, py = x, y
    return tuple(out)


def _pair(p, i: int, where: str, name: str) -> Point:
    """Return point ``i`` as two finite floats."""
    # exact list/tuple first: the ABC check is slow and runs once per point (23,000 in a
    # 2,600-line plan)
    if type(p) not in (list, tuple) and (not isinstance(p, Sequence) or isinstance(p, str | bytes)):
        raise CurveError(f"{where}: {name}[{i}] must be a [spend, results] pair, got {p!r}")
    if len(p) != 2:
        raise CurveError(f"{where}: {name}[{i}] must be a [spend, results] pair, got {p!r}")
    try:
        x, y = float(p[0]), float(p[1])
    except (TypeError, ValueError):
        raise CurveError(f"{where}: {name}[{i}] = {p!r} is not a pair of numbers") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise CurveError(f"{where}: {name}[{i}] = {p!r} is not finite")
    if abs(x) > MAX_BUDGET or abs(y) > MAX_RESULTS:
        raise CurveError(
            f"{where}: {name}[{i}] = {p!r} is out of range: spend at most 1e12 and results at "
            "most 1e15 (check the units)"
        )
    return (x, y)


def _check_concave(out: list[Point], where: str, name: str) -> None:
    """Refuse spend that does not rise, results that fall, or a slope that rises."""
    prev_slope = math.inf
    for i in range(1, len(out)):
        (x0, y0), (x1, y1) = out[i - 1], out[i]
        if x1 <= x0:
            raise CurveError(
                f"{where}: spend must strictly increase in '{name}', but point {i} "
                f"({x1:g}) is not above point {i - 1} ({x0:g})"
            )
        if y1 < y0:
            raise CurveError(
                f"{where}: expected results fall from {y0:g} to {y1:g} between spend "
                f"{x0:g} and {x1:g} in '{name}'; results must never fall as spend grows"
            )
        slope = (y1 - y0) / (x1 - x0)
        if slope > prev_slope * (1 + CONCAVITY_RTOL) + 1e-12:
            raise CurveError(
                f"{where}: '{name}' is not concave: the slope rises from {prev_slope:.6g} to "
                f"{slope:.6g} results per unit at spend {x0:g}; each extra unit must buy no "
                "more than the one before (merge or smooth the points)"
            )
        prev_slope = slope


def _checked_points(raws: Sequence) -> list[tuple[Point, ...]] | None:
    """Return each curve of ``raws`` as :func:`_points` would, or None to check them one by one.

    The checks of :func:`_valid_points` on all the points at once (numpy), the numbers read as
    ``float()`` reads them: 2.3 million points in about a second, where a line at a time took
    4 s. None (a curve that is not a list of at least two pairs, a value ``float()`` refuses,
    or a check that fails) leaves every curve to :func:`_points`, whose messages say what is
    wrong.
    """
    if not raws or any(type(r) not in (list, tuple) for r in raws):
        return None
    counts = np.fromiter(map(len, raws), np.int64, len(raws))
    if counts.min() < 2:
        return None
    pairs = list(itertools.chain.from_iterable(raws))
    if not set(map(type, pairs)) <= {list, tuple} or set(map(len, pairs)) != {2}:
        return None
    try:
        xy = np.fromiter(itertools.chain.from_iterable(pairs), np.float64, 2 * len(pairs))
    except Exception:  # noqa: BLE001 - whatever float() refuses, _points names
        return None
    x, y = xy[0::2], xy[1::2]
    first = np.zeros(len(x), dtype=bool)
    first[np.cumsum(counts) - counts] = True
    if not _all_valid(x, y, first):
        return None
    return _tuples(x, y, first, counts)


def _all_valid(x: np.ndarray, y: np.ndarray, first: np.ndarray) -> bool:
    """Return whether every curve passes :func:`_valid_points` (the same comparisons).

    ``x`` and ``y`` hold the curves' points one curve after another, ``first`` marks the
    first point of each.
    """
    later = ~first[1:]  # point i + 1 is compared with point i
    with np.errstate(all="ignore"):
        slope = np.full(len(x), math.inf)
        slope[1:] = (y[1:] - y[:-1]) / (x[1:] - x[:-1])
        slope[first] = math.inf
        bad = (
            ~((x >= -MAX_BUDGET) & (x <= MAX_BUDGET) & (y >= -MAX_RESULTS) & (y <= MAX_RESULTS))
        ).any()
        bad = bad or (x[first] != 0).any() or (y[first] != 0).any()
        bad = bad or (later & ((x[1:] <= x[:-1]) | (y[1:] < y[:-1]))).any()
        rises = slope[1:] > slope[:-1] * (1 + CONCAVITY_RTOL) + 1e-12
        return not (bad or (later & rises).any())


#: the first point of every curve (shared by the curves :func:`_tuples` makes)
_ORIGIN = (0.0, 0.0)


def _tuples(x: np.ndarray, y: np.ndarray, first: np.ndarray, counts: np.ndarray) -> list:
    """Return the curves as tuples of (x, y) floats, ``counts`` points each.

    Their first points, all 0, are one tuple (27 MB less at 208,000 lines), unless one of
    them holds -0.0 (kept as given, as :func:`_points` keeps it).
    """
    if np.signbit(x[first]).any() or np.signbit(y[first]).any():
        it = zip(x.tolist(), y.tolist(), strict=True)
        return [tuple(itertools.islice(it, n)) for n in counts.tolist()]
    rest = ~first
    it = zip(x[rest].tolist(), y[rest].tolist(), strict=True)
    return [(_ORIGIN, *itertools.islice(it, n - 1)) for n in counts.tolist()]


def _checked_curves(
    raw_lines: list[dict], key: str, given: frozenset
) -> Sequence[tuple[Point, ...] | None] | None:
    """Return the lines' ``key`` curves checked at once (None where a line has none).

    ``given``: the keys some line has. None when a curve needs the checks one by one
    (:func:`_checked_points`).
    """
    if key == "points":  # every line has its points
        return _checked_points([r["points"] for r in raw_lines])
    out: list[tuple[Point, ...] | None] = [None] * len(raw_lines)
    if key not in given:
        return out
    at = [i for i, r in enumerate(raw_lines) if r.get(key) is not None]
    if not at:
        return out
    got = _checked_points([raw_lines[i][key] for i in at])
    if got is None:
        return None
    for i, pts in zip(at, got, strict=True):
        out[i] = pts
    return out


class _Pauses:
    """How many threads are inside :func:`paused_gc`, and whether the collector ran before."""

    lock = threading.Lock()
    depth = 0
    was_enabled = False


@contextlib.contextmanager
def paused_gc(active: bool = True) -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many objects are made, then resume.

    Reading a curves file of 2 million variables makes millions of lists and tuples, and the
    collector's passes over the growing heap took most of the time (orjson's parse of 104 MB:
    3.9 s with them, 0.65 s without). Parsed JSON, curve lines and plans hold no cycles:
    nothing is left for the collector to free. The pause is process-wide, so pauses in
    several threads are counted: the collector runs again when the last one ends, if it ran
    before the first began. ``active=False``: no pause.
    """
    if not active:
        yield
        return
    with _Pauses.lock:
        if _Pauses.depth == 0:
            _Pauses.was_enabled = gc.isenabled()
            gc.disable()
        _Pauses.depth += 1
    try:
        yield
    finally:
        with _Pauses.lock:
            _Pauses.depth -= 1
            if _Pauses.depth == 0 and _Pauses.was_enabled:
                gc.enable()


def mixed_period_kinds(lines: Sequence[CurveLine]) -> str | None:
    """Explain why ``lines`` mix period kinds (weeks with months, say), or return None.

    Labels of no known form are left to the rules that need time order (see ``PlanSpec.check``).
    """
    first: tuple[int, CurveLine, str] | None = None
    kinds: dict[str, str | None] = {}  # each label read once (52 labels, 208,000 lines)
    for i, ln in enumerate(lines):
        if ln.period not in kinds:
            kinds[ln.period] = period_kind(ln.period)
        kind = kinds[ln.period]
        if kind is None:
            continue
        if first is None:
            first = (i, ln, kind)
        elif kind != first[2]:
            j, ln0, kind0 = first
            return (
                f"lines[{i}] ({ln.label}): period '{ln.period}' is a {kind} but lines[{j}] "
                f"({ln0.label}) has the {kind0} '{ln0.period}'; one curves file holds one kind "
                "of period (ISO weeks like 2027-W03 or months like 2027-01): make the curves "
                "again for one kind"
            )
    return None


class LineNamed:
    """What every object about one line has: its key and its label (a mixin)."""

    __slots__ = ()
    network: str
    segment: str
    period: str

    @property
    def key(self) -> tuple[str, str, str]:
        """Return (network, segment, period), the line's identity."""
        return (self.network, self.segment, self.period)

    @property
    def label(self) -> str:
        """Return ``network/segment/period``, how messages name the line."""
        return f"{self.network}/{self.segment}/{self.period}"


@dataclass(frozen=True, slots=True)
class Spread:
    """What a forecast knows of one line's uncertainty (a curve line's ``spread``).

    At spend ``s`` the line's expected results are the curve's times ``exp(e - v/2)``, where
    the forecast's own log-scale error ``e = sqrt(level_var)·z1 + (ln s - log_spend_centre)
    ·elasticity_se·z2`` has variance ``v`` (at most :data:`MAX_LOG_VAR`); ``z1`` and ``z2``
    are standard normals shared by every period of the line's network × segment (the same
    fitted level and slope). Results are then counts around that mean with negative-binomial
    ``dispersion`` (variance ``mu + dispersion·mu²``), independent from period to period.
    See docs/design.md, "Response curves (JSON)", and ``optimizer/risk.py``.
    """

    level_var: float
    log_spend_centre: float
    elasticity_se: float
    dispersion: float

    def __post_init__(self) -> None:
        for name in ("level_var", "log_spend_centre", "elasticity_se", "dispersion"):
            v = getattr(self, name)
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            if not ok or (name != "log_spend_centre" and v < 0) or abs(v) > 1e6:
                raise CurveError(
                    f"spread.{name} must be a finite number"
                    + ("" if name == "log_spend_centre" else " >= 0")
                    + f" (at most 1e6 in size), got {v!r}"
                )
            object.__setattr__(self, name, float(v))

    @classmethod
    def from_dict(cls, raw, where: str) -> Spread:
        """Read a line's ``spread`` object; CurveError naming the line when it is malformed."""
        keys = ("level_var", "log_spend_centre", "elasticity_se", "dispersion")
        if not isinstance(raw, Mapping) or sorted(raw) != sorted(keys):
            raise CurveError(
                f"{where}: 'spread' must be an object with exactly the keys {', '.join(keys)}"
            )
        try:
            return cls(*(raw[k] for k in keys))
        except CurveError as e:
            raise CurveError(f"{where}: {e}") from None

    def to_dict(self) -> dict:
        """Return the JSON object of the spread."""
        return {
            "level_var": self.level_var,
            "log_spend_centre": self.log_spend_centre,
            "elasticity_se": self.elasticity_se,
            "dispersion": self.dispersion,
        }


#: the keys of a line's ``lift`` object (``level`` may be left out: 0.9)
_LIFT_KEYS = ("ratio", "low", "high", "level")


@dataclass(frozen=True, slots=True)
class Lift:
    """What lift tests say of a line (a curve line's ``lift``).

    ``ratio`` is the incremental results per attributed result the tests found, ``low`` to
    ``high`` its interval at confidence ``level`` (0 <= low <= ratio <= high <= 10, level
    from 0.5 to 0.99). Under ``results_basis: attributed`` a plan shows ``results x ratio``
    as the line's incremental results; under ``incremental`` the points are incremental
    already and the plan shows ``results / ratio`` as attributed. See docs/design.md,
    "Response curves (JSON)".
    """

    ratio: float
    low: float
    high: float
    level: float = 0.9

    def __post_init__(self) -> None:
        for name in _LIFT_KEYS:
            v = getattr(self, name)
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            if not ok:
                raise CurveError(f"lift.{name} must be a finite number, got {v!r}")
            object.__setattr__(self, name, float(v))
        if self.low < 0:
            raise CurveError(f"lift.low must be >= 0, got {self.low!r}")
        if not self.low <= self.ratio <= self.high:
            raise CurveError(
                f"lift.ratio must lie in its interval: lift.low <= lift.ratio <= lift.high, got "
                f"low {self.low!r}, ratio {self.ratio!r}, high {self.high!r}"
            )
        if self.high > MAX_LIFT_RATIO:
            raise CurveError(
                f"lift.high must be at most {MAX_LIFT_RATIO:g} incremental results per "
                f"attributed result, got {self.high!r} (check the units: a ratio, not a percent)"
            )
        if not 0.5 <= self.level <= 0.99:
            raise CurveError(
                f"lift.level (the interval's confidence) must be from 0.5 to 0.99, got "
                f"{self.level!r}"
            )

    @classmethod
    def from_dict(cls, raw, where: str) -> Lift:
        """Read a line's ``lift`` object; CurveError naming the line when it is malformed."""
        if not isinstance(raw, Mapping):
            raise CurveError(
                f"{where}: 'lift' must be an object with the keys ratio, low, high (and "
                f"optionally level), got {raw!r}"
            )
        missing = [k for k in _LIFT_KEYS[:3] if k not in raw]
        extra = sorted(str(k) for k in raw if k not in _LIFT_KEYS)
        if missing or extra:
            what = [f"lacks {', '.join(missing)}"] if missing else []
            what += [f"has unknown keys {extra}"] if extra else []
            raise CurveError(
                f"{where}: 'lift' {' and '.join(what)}; give ratio, low, high and optionally level"
            )
        try:
            return cls(raw["ratio"], raw["low"], raw["high"], raw.get("level", 0.9))
        except CurveError as e:
            raise CurveError(f"{where}: {e}") from None

    def to_dict(self) -> dict:
        """Return the JSON object of the lift."""
        return {"ratio": self.ratio, "low": self.low, "high": self.high, "level": self.level}


@dataclass(frozen=True, slots=True)
class CurveLine(LineNamed):
    """One line (network x segment x period) and its concave response curve.

    ``inside`` (0 to 1; None: 1) is the share of the results the points count (those the
    period's spend brings over its whole lifetime, carry-over included) that land inside
    the plan's dates; ``lift`` what lift tests say of the line (:class:`Lift`).
    """

    network: str
    segment: str
    period: str
    points: tuple[Point, ...]
    value_per_result: float | None = None
    low: tuple[Point, ...] | None = None
    high: tuple[Point, ...] | None = None
    flags: tuple[str, ...] = ()
    spread: Spread | None = None
    inside: float | None = None
    lift: Lift | None = None

    def __post_init__(self) -> None:
        for name in ("network", "segment", "period"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                raise CurveError(f"curve line {self.key}: '{name}' must be a non-empty string")
            _text(v, f"curve line {name}")
        where = f"curve line {self.label}"
        object.__setattr__(self, "points", _points(self.points, where))
        if self.low is not None:
            object.__setattr__(self, "low", _points(self.low, where, "low"))
        if self.high is not None:
            object.__setattr__(self, "high", _points(self.high, where, "high"))
        if self.value_per_result is not None:
            object.__setattr__(self, "value_per_result", _value(self.value_per_result, where))
        object.__setattr__(self, "flags", _flags(self.flags, where))
        if self.spread is not None and not isinstance(self.spread, Spread):
            object.__setattr__(self, "spread", Spread.from_dict(self.spread, where))
        if self.inside is not None:
            object.__setattr__(self, "inside", _inside(self.inside, where))
        if self.lift is not None and not isinstance(self.lift, Lift):
            object.__setattr__(self, "lift", Lift.from_dict(self.lift, where))

    @property
    def max_spend(self) -> float:
        """Return the most the line can absorb: the spend of the curve's last point."""
        return self.points[-1][0]

    @property
    def max_results(self) -> float:
        """Return the expected results at the curve's last point."""
        return self.points[-1][1]

    def results_at(self, spend: float) -> float:
        """Return the expected results at ``spend`` by linear interpolation.

        Spend at or below 0 gives 0; spend beyond the last point gives its results (capped).
        """
        pts = self.points
        if spend <= 0:
            return 0.0
        for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
            if spend <= x1:
                return y0 + (y1 - y0) * (spend - x0) / (x1 - x0)
        return pts[-1][1]

    def to_dict(self) -> dict:
        """Return the line as its JSON object; optional keys appear only when set."""
        d: dict = {
            "network": self.network,
            "segment": self.segment,
            "period": self.period,
            "points": [list(p) for p in self.points],
        }
        if self.value_per_result is not None:
            d["value_per_result"] = self.value_per_result
        if self.low is not None:
            d["low"] = [list(p) for p in self.low]
        if self.high is not None:
            d["high"] = [list(p) for p in self.high]
        if self.flags:
            d["flags"] = list(self.flags)
        if self.spread is not None:
            d["spread"] = self.spread.to_dict()
        if self.inside is not None:
            d["inside"] = self.inside
        if self.lift is not None:
            d["lift"] = self.lift.to_dict()
        return d


@dataclass(frozen=True, slots=True)
class Curves:
    """All the lines of one plan, in one currency and one result type.

    ``meta`` holds the file's other top-level keys, among them ``results_basis`` (what the
    points count: :attr:`basis`) and ``additive`` (whether results add up across periods:
    :attr:`additive`).
    """

    lines: tuple[CurveLine, ...]
    currency: str = "EUR"
    result_type: str = "results"
    meta: Mapping = field(default_factory=dict)
    #: facts about all the lines, found once (:meth:`memo`)
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lines = tuple(self.lines)
        if not lines:
            raise CurveError("curves: 'lines' is empty; there is nothing to plan")
        seen: set[tuple[str, str, str]] = set()
        for ln in lines:
            if not isinstance(ln, CurveLine):
                raise CurveError(f"curves: every line must be a CurveLine, got {type(ln).__name__}")
            if ln.key in seen:
                raise CurveError(f"curves: line {ln.label} appears twice; give each line once")
            seen.add(ln.key)
        mixed = mixed_period_kinds(lines)
        if mixed:
            raise CurveError(f"curves: {mixed}")
        _check_response(self.meta, lines, "curves")
        object.__setattr__(self, "lines", lines)

    def __getstate__(self) -> tuple:
        """Pickle the curves without what :meth:`memo` found (found again where needed)."""
        return (self.lines, self.currency, self.result_type, self.meta)

    def __setstate__(self, state: tuple) -> None:
        for name, v in zip(("lines", "currency", "result_type", "meta"), state, strict=True):
            object.__setattr__(self, name, v)
        object.__setattr__(self, "_memo", {})

    def memo(self, key: Hashable, find: Callable[[], Any]) -> Any:
        """Return ``find()``, a fact about the (immutable) lines, found on the first call."""
        try:
            return self._memo[key]
        except KeyError:
            fact = self._memo[key] = find()
            return fact

    def keys(self) -> tuple[tuple[str, str, str], ...]:
        """Return each line's (network, segment, period), in order (found once)."""
        return self.memo("keys", lambda: tuple(ln.key for ln in self.lines))

    def index(self) -> Mapping[tuple[str, str, str], int]:
        """Return each line's position by its key (found once; do not change it)."""
        return self.memo("index", lambda: {k: i for i, k in enumerate(self.keys())})

    @property
    def basis(self) -> str:
        """Return what the points count: ``attributed`` (the platforms') or ``incremental``."""
        return str(self.meta.get("results_basis", "attributed"))

    @property
    def additive(self) -> bool:
        """Return whether results add up across periods (false for reach, unique users)."""
        return bool(self.meta.get("additive", True))

    @property
    def networks(self) -> list[str]:
        """Return the distinct network names, sorted."""
        return list(self.memo("networks", lambda: sorted({ln.network for ln in self.lines})))

    @property
    def segments(self) -> list[str]:
        """Return the distinct segment names, sorted."""
        return list(self.memo("segments", lambda: sorted({ln.segment for ln in self.lines})))

    @property
    def periods(self) -> list[str]:
        """Return the distinct period labels, sorted."""
        return list(self.memo("periods", lambda: sorted({ln.period for ln in self.lines})))

    @classmethod
    def from_dict(cls, data: Mapping, source: str = "curves") -> Curves:
        """Validate and build curves from the JSON structure of docs/design.md."""
        if not isinstance(data, Mapping):
            raise CurveError(
                f"{source}: expected a JSON object with 'lines', got {type(data).__name__}"
            )
        raw_lines = data.get("lines")
        if not isinstance(raw_lines, list):
            raise CurveError(f"{source}: 'lines' must be a list of curve lines")
        with paused_gc():
            lines = _lines(raw_lines, source)
        if not lines:
            raise CurveError(f"{source}: 'lines' is empty; there is nothing to plan")
        mixed = mixed_period_kinds(lines)
        if mixed:
            raise CurveError(f"{source}: {mixed}")
        meta = {k: v for k, v in data.items() if k not in ("lines", "currency", "result_type")}
        if too_deep(meta):
            raise CurveError(too_deep_message(source))
        _check_response(meta, lines, source)
        return cls._checked(
            tuple(lines),
            _text(data.get("currency", "EUR"), f"{source}: currency"),
            _text(data.get("result_type", "results"), f"{source}: result_type"),
            meta,
        )

    @classmethod
    def _checked(cls, lines: tuple, currency: str, result_type: str, meta: dict) -> Curves:
        """Return curves that :meth:`from_dict` has checked, without checking them again.

        ``__post_init__`` would check what it has: lines, each once, of one period kind, and
        ``meta``'s response keys (0.9 s at 208,000 lines).
        """
        curves = object.__new__(cls)
        for name, v in (
            ("lines", lines),
            ("currency", currency),
            ("result_type", result_type),
            ("meta", meta),
            ("_memo", {}),
        ):
            object.__setattr__(curves, name, v)
        return curves

    def to_dict(self) -> dict:
        """Return the curves JSON structure: currency, result type, the extra keys, then lines."""
        d: dict = {"currency": self.currency, "result_type": self.result_type}
        d.update(dict(self.meta))
        d["lines"] = [ln.to_dict() for ln in self.lines]
        return d

    def to_json(self) -> str:
        """Return the curves JSON text: the header keys indented, one curve line per text line.

        Readable, and written by json's C encoder (an indented dump of 3,600 lines of 16
        points took 4.5 s; this takes a tenth of that).
        """
        d = self.to_dict()
        lines = d.pop("lines")
        head = json.dumps(d, indent=1, ensure_ascii=False)[:-2]
        body = ",\n  ".join(json.dumps(ln, ensure_ascii=False, allow_nan=False) for ln in lines)
        sep = ",\n" if d else "\n"
        return f'{head}{sep} "lines": [\n  {body}\n ]\n}}\n'

    def filter(self, keep: Iterable[CurveLine]) -> Curves:
        """Return new curves holding only the lines ``keep``, with the same currency and meta."""
        return Curves(
            lines=tuple(keep), currency=self.currency, result_type=self.result_type, meta=self.meta
        )


def read_input(p: Path, what: str, error: type[Exception]) -> str:
    """Return the UTF-8 text of an input file.

    Raises ``error`` (naming the file and saying what to give) if ``p`` is a directory, is
    missing, is not UTF-8 or cannot be read.
    """
    if p.is_dir():
        raise error(f"{p}: is a directory; give {what}")
    if not p.exists():
        raise error(f"{p}: no such file; give {what}")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise error(
            f"{p}: byte {e.start} is not UTF-8 text; give {what} (save it as UTF-8)"
        ) from None
    except OSError as e:
        raise error(f"{p}: cannot read it ({e.strerror or e}); give {what}") from None


def read_json(p: Path, what: str, error, hint: str = ""):
    """Return the parsed JSON of an input file (read by :func:`read_input`).

    ``error(message)`` builds the exception raised, naming the file: for text that is not
    JSON the line and column (then ``hint``, what to give), or a document nested too deep.
    orjson parses it when it can (:func:`_fast_json`), the standard library otherwise.
    """
    data = _fast_json(p)
    if data is not _UNREAD:
        return data
    text = read_input(p, what, error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        tail = f"; {hint}" if hint else ""
        msg = f"{p}: line {e.lineno}, column {e.colno}: not valid JSON ({e.msg}){tail}"
        raise error(msg) from None
    except RecursionError:
        raise error(too_deep_message(str(p))) from None


#: what :func:`_fast_json` returns for a file the standard library reads
_UNREAD = object()

#: every digit read as 0, and what may come before a JSON number's first digit (whitespace,
#: ``[ , : -``) as ``|``: ``|`` then 19 zeros marks an integer part of 19 digits or more
_INTEGER_START = bytes.maketrans(b"123456789 \t\n\r[,:-", b"000000000||||||||")
_LONG_INTEGER = b"|" + b"0" * 19


def _fast_json(p: Path) -> object:
    """Return the JSON value of file ``p`` parsed by orjson, or ``_UNREAD``.

    orjson reads valid JSON as the standard library does, several times faster (a 104 MB
    curves file: 0.7 s, where ``json.load`` took 6.4 s). ``_UNREAD`` leaves to
    :func:`read_json` all that orjson refuses (no such file, not UTF-8, not JSON, NaN or
    1e400 that Python reads) or may read otherwise (an integer part of 19 digits: an integer
    beyond 64 bits becomes a float in orjson, stays an integer in Python).
    """
    try:
        raw = p.read_bytes() if p.is_file() else None
    except OSError:
        return _UNREAD
    if raw is None or _long_digit_run(raw):
        return _UNREAD
    try:
        with paused_gc():
            return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _UNREAD


def _long_digit_run(raw: bytes, step: int = 1 << 20) -> bool:
    """Return whether a number in ``raw`` has an integer part of 19 digits or more.

    The digits after a decimal point or an exponent's sign do not count: a float written at
    full precision (``0.0012345678901234567``) reads the same in orjson. Read in pieces of
    ``step`` bytes (overlapping by the length of the mark).
    """
    n = len(_LONG_INTEGER)
    return raw[: n - 1].isdigit() or any(
        raw[i : i + step + n - 1].translate(_INTEGER_START).find(_LONG_INTEGER) >= 0
        for i in range(0, len(raw), step)
    )


def load_curves(path: str | Path) -> Curves:
    """Read a curves JSON file; errors name the file and the line."""
    p = Path(path)
    data = read_json(p, "the curves JSON file", CurveError)
    return Curves.from_dict(data, source=str(p))


def _value(raw, where: str) -> float:
    """Return a line's value_per_result: a finite number >= 0."""
    try:
        v = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v) or v < 0:
        raise CurveError(f"{where}: value_per_result must be a number >= 0, got {raw!r}")
    return v


def _inside(raw, where: str) -> float:
    """Return a line's ``inside``: a number from 0 to 1."""
    ok = isinstance(raw, int | float) and not isinstance(raw, bool) and 0 <= raw <= 1
    if not ok:  # NaN fails the range
        raise CurveError(
            f"{where}: 'inside' (the share of the line's results that land inside the plan's "
            f"dates) must be a number from 0 to 1, got {raw!r}"
        )
    return float(raw)


def _check_response(meta: Mapping, lines: Sequence[CurveLine], where: str) -> None:
    """Refuse a ``results_basis`` or ``additive`` that cannot be read, or unlifted lines.

    Under ``results_basis: incremental`` every line needs its ``lift`` (the attributed
    results a plan shows beside the incremental ones are results / ratio).
    """
    basis = meta.get("results_basis", "attributed")
    if not isinstance(basis, str) or basis not in RESULTS_BASES:
        raise CurveError(
            f"{where}: 'results_basis' must be one of {', '.join(RESULTS_BASES)} (what the "
            f"points count), got {basis!r}"
        )
    additive = meta.get("additive", True)
    if not isinstance(additive, bool):
        raise CurveError(
            f"{where}: 'additive' must be true or false (false: results such as reach that "
            f"cannot be added across periods), got {additive!r}"
        )
    if basis == "incremental":
        for i, ln in enumerate(lines):
            if ln.lift is None:
                raise CurveError(
                    f"{where}: lines[{i}] ({ln.label}) has no 'lift': with results_basis "
                    "'incremental' every line needs its lift tests' ratio (give 'lift' on "
                    "every line, or make the curves for attributed results)"
                )


def _flags(raw, where: str) -> tuple[str, ...]:
    """Return a line's flags: a list of words."""
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise CurveError(f"{where}: 'flags' must be a list of words, got {raw!r}")
    return tuple(_text(str(f), f"{where}: flags") for f in raw)


def _text(value, where: str) -> str:
    """Return ``value`` as a string; CurveError if it holds a control character."""
    msg = control_char_message(str(value), where)
    if msg is not None:
        raise CurveError(msg)
    return str(value)


_LINE_KEYS = frozenset(
    {
        "network",
        "segment",
        "period",
        "points",
        "value_per_result",
        "low",
        "high",
        "flags",
        "spread",
        "inside",
        "lift",
    }
)


def _lines(raw_lines: list, source: str) -> list[CurveLine]:
    """Return the curve lines of a curves file, refusing a line given twice.

    All at once when every line passes (:func:`_lines_at_once`); else one line at a time, in
    the order of the file, so that the error raised is the first the file holds.
    """
    fast = _lines_at_once(raw_lines)
    if fast is not None:
        return fast
    lines: list[CurveLine] = []
    first_at: dict[tuple[str, str, str], int] = {}
    for i, raw in enumerate(raw_lines):
        lines.append(_line(raw, i, source))
        key = lines[-1].key
        if key in first_at:
            raise CurveError(
                f"{source}: lines[{i}]: line {lines[-1].label} appears twice (first at "
                f"lines[{first_at[key]}]); give each line once"
            )
        first_at[key] = i
    return lines


def _line(raw, i: int, source: str) -> CurveLine:
    """Return curve line ``i`` of a curves file, its errors naming the file and position."""
    if not isinstance(raw, Mapping):
        raise CurveError(f"{source}: lines[{i}] must be an object")
    missing = [k for k in ("network", "segment", "period", "points") if k not in raw]
    if missing:
        raise CurveError(f"{source}: lines[{i}] lacks {', '.join(missing)}")
    extra = sorted(set(raw) - _LINE_KEYS)
    if extra:
        raise CurveError(
            f"{source}: lines[{i}] has unknown keys {extra}; allowed: {sorted(_LINE_KEYS)}"
        )
    try:
        return CurveLine(
            network=str(raw["network"]),
            segment=str(raw["segment"]),
            period=str(raw["period"]),
            points=raw["points"],
            value_per_result=raw.get("value_per_result"),
            low=raw.get("low"),
            high=raw.get("high"),
            flags=raw.get("flags") or (),
            spread=raw.get("spread"),
            inside=raw.get("inside"),
            lift=raw.get("lift"),
        )
    except CurveError as e:
        raise CurveError(f"{source}: lines[{i}]: {e}") from None


#: the keys a line must have
_REQUIRED_KEYS = frozenset({"network", "segment", "period", "points"})


def _lines_at_once(raw_lines: list) -> list[CurveLine] | None:
    """Return the curve lines when every one passes every check, checked all at once; else None.

    The curves of all the lines through numpy (:func:`_checked_curves`), each distinct name and
    flag once, then a line's own values (:func:`_line_values`). Anything off (a value of a
    type the checks one line at a time would convert, a line twice) gives None: those checks
    then say what is wrong. The lines equal those :class:`CurveLine` builds.
    """
    if not raw_lines or set(map(type, raw_lines)) != {dict}:
        return None
    keys = set(map(frozenset, raw_lines))
    if not all(_REQUIRED_KEYS <= k <= _LINE_KEYS for k in keys):
        return None
    given = frozenset().union(*keys)
    try:  # a name or flag that is not hashable, flags that are not a list: one by one
        names = _checked_texts(
            {r[k] for r in raw_lines for k in ("network", "segment", "period")}, name=True
        )
        flags = _checked_texts({f for r in raw_lines for f in r.get("flags") or ()}, name=False)
    except Exception:  # noqa: BLE001 - the checks one by one raise what they raise, in order
        return None
    points, low, high = (_checked_curves(raw_lines, k, given) for k in ("points", "low", "high"))
    if names is None or flags is None or points is None or low is None or high is None:
        return None
    lines = []
    for raw, pts, lo, hi in zip(raw_lines, points, low, high, strict=True):
        values = _line_values(raw, flags) if len(raw) > len(_REQUIRED_KEYS) else _NONE
        if values is None:
            return None
        lines.append(_checked_line(names, raw, pts, lo, hi, values))
    if len({ln.key for ln in lines}) < len(lines):
        return None
    return lines


def _checked_texts(values: set, *, name: bool) -> dict[str, str] | None:
    """Return each of ``values`` as itself once checked (a name, or a flag); None if one fails.

    Names are non-empty strings, flags any; neither holds a control character. Only ``str``
    values pass (the checks one by one convert others with ``str()``).
    """
    for v in values:
        if type(v) is not str or (name and not v.strip()) or control_char_message(v, ""):
            return None
    return {v: v for v in values}


def _line_values(raw: dict, flags: dict) -> tuple | None:
    """Return a line's value_per_result, flags, spread, inside and lift, checked; or None.

    None when a value is not of the plain kind (a number for a number, a list of words for
    the flags) or fails its check: the checks one by one then say why.
    """
    value, inside = raw.get("value_per_result"), raw.get("inside")
    if value is not None:
        finite = type(value) is float and 0 <= value < math.inf
        if not (finite or (type(value) is int and 0 <= value <= _EXACT_INT)):
            return None
        value = float(value)
    if inside is not None:
        if not (type(inside) in (int, float) and 0 <= inside <= 1):
            return None
        inside = float(inside)
    got = raw.get("flags") or ()
    if type(got) not in (list, tuple):
        return None
    spread, lift = raw.get("spread"), raw.get("lift")
    try:
        if spread is not None and not isinstance(spread, Spread):
            spread = Spread.from_dict(spread, "")
        if lift is not None and not isinstance(lift, Lift):
            lift = Lift.from_dict(lift, "")
    except Exception:  # noqa: BLE001 - the checks one by one raise it again, with the line
        return None
    return value, tuple(flags[f] for f in got) if got else (), spread, inside, lift


#: a line's value_per_result, flags, spread, inside and lift when it gives none
_NONE = (None, (), None, None, None)

#: the largest integer a float holds exactly (value_per_result; larger ones go one by one)
_EXACT_INT = 2**53


def _checked_line(names: dict, raw: dict, points, low, high, values: tuple) -> CurveLine:
    """Build the line of values already checked, as :class:`CurveLine` would (no checks again).

    ``values`` as :func:`_line_values` returns them; the fields are set in their order.
    """
    value, flags, spread, inside, lift = values
    ln = object.__new__(CurveLine)
    values = (
        names[raw["network"]],
        names[raw["segment"]],
        names[raw["period"]],
        points,
        value,
        low,
        high,
        flags,
        spread,
        inside,
        lift,
    )
    for set_field, v in zip(_SET_FIELDS, values, strict=True):
        set_field(ln, v)
    return ln


#: the slots' setters of a curve line's fields, in order (faster than object.__setattr__)
_SET_FIELDS = tuple(CurveLine.__dict__[f.name].__set__ for f in fields(CurveLine))
