"""Events: dated sales, launches, holidays and promotions, as shares of each period's days.

An events file (docs/formats.md, "Events file") lists dated events. :meth:`Events.columns`
turns them into features: one column ``event[<name>]`` per distinct event name (Black Friday
on several dates is one column, so its effect is learnt in the history and applied in the
forecast) and one column ``promotion`` for every promotion period; each cell is the share of
the row's period's days inside the column's events (0..1, each day counted once).

The second half of the module reads the rows of a response file, CSV or YAML, or a list
already parsed from JSON, for :mod:`forecasting.events`, :mod:`forecasting.priors` and
:mod:`forecasting.lift` alike: :class:`FileKind` describes a format, :func:`read_entries`
and :func:`entries_from_list` give its :class:`Entry` rows, and the ``*_value`` functions
read one cell, each refusal naming the file, the row (or list index) and the column (or key).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
import yaml

from optimizer.names import normalise_network
from optimizer.periods import PlanDateError, plan_day
from optimizer.values import control_char_message

from .errors import ForecastingError

#: the most events a file or a request may list
MAX_EVENTS = 10_000
#: the longest event name, in characters
MAX_NAME = 100
#: the column every promotion period shares
PROMOTION = "promotion"
#: the periods :meth:`Events.columns` knows
PERIODS = ("day", "week", "month")
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


@dataclass(frozen=True, slots=True)
class Event:
    """One dated event, ``start`` to ``end`` inclusive; ``network`` None: every network."""

    name: str
    start: dt.date
    end: dt.date
    network: str | None = None
    promotion: bool = False

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip():
            raise ForecastingError(f"event name {self.name!r}: give a name without spaces around")
        if self.end < self.start:
            raise ForecastingError(
                f"event {self.name!r}: its end {self.end} is before its start {self.start}; "
                "give the first day, then the last"
            )

    @property
    def column(self) -> str:
        """Return the feature column the event counts in: ``event[<name>]`` or ``promotion``."""
        return PROMOTION if self.promotion else f"event[{self.name}]"


@dataclass(frozen=True, slots=True)
class Events:
    """The events of one file or request (``source`` names it in messages)."""

    events: tuple[Event, ...]
    source: str

    def names(self) -> list[str]:
        """Return the column names any row could get: sorted ``event[...]``, ``promotion`` last."""
        named = sorted({e.column for e in self.events if not e.promotion})
        return named + ([PROMOTION] if any(e.promotion for e in self.events) else [])

    def occurring(self, first: dt.date, last: dt.date) -> list[str]:
        """Return the column names with at least one event day in [first, last] (any network)."""
        a, b = _day(first), _day(last)
        hit = {e.column for e in self.events if e.start <= b and e.end >= a}
        return [c for c in self.names() if c in hit]

    def columns(self, network, start, period: str, only=None) -> tuple[list[str], np.ndarray]:
        """Return the column names and the share of each row's period's days in each column.

        ``network``: each row's network (compared after
        :func:`optimizer.names.normalise_network`); ``start``: the first day of each row's
        period (Timestamps, a DatetimeIndex, datetime64); ``period``: day (1 day), week (7
        days from ``start``) or month (``start`` to the end of its calendar month). A
        network's event counts only on that network's rows; overlapping events of one column
        count each day once. The matrix is rows × columns of floats in [0, 1]. ``only``: the
        column names wanted (None: all), so that a fit builds only the columns it uses.
        """
        import pandas as pd

        if period not in PERIODS:
            raise ForecastingError(f"period must be one of {', '.join(PERIODS)}; got {period!r}")
        names = self.names() if only is None else [n for n in self.names() if n in set(only)]
        first = np.asarray(pd.DatetimeIndex(start).values.astype("datetime64[D]"))
        last = _period_last(first, period)
        nets = _row_networks(network, len(first))
        out = np.zeros((len(first), len(names)))
        days = (last - first).astype(np.int64) + 1
        by_column: dict[str, list[Event]] = {}
        for e in self.events:  # one pass: each column's events
            by_column.setdefault(e.column, []).append(e)
        every = [(None, np.ones(len(first), bool))]
        groups_by_network = None
        for j, name in enumerate(names):
            events = by_column[name]
            scoped = any(e.network is not None for e in events)
            if scoped and groups_by_network is None:
                groups_by_network = _by_network(nets)
            for net, rows in groups_by_network if scoped else every:
                spans = [(e.start, e.end) for e in events if e.network in (None, net)]
                if spans and rows.any():
                    covered = _covered(_merged(spans), first[rows], last[rows])
                    out[rows, j] = covered / days[rows]
        return names, out


def _day(value) -> dt.date:
    """Return a date, a datetime's day or a YYYY-MM-DD text as a date."""
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[D]").item()
    try:
        return plan_day(value, None, check_range=False)
    except PlanDateError as e:
        raise ForecastingError(str(e)) from None


def _period_last(first: np.ndarray, period: str) -> np.ndarray:
    """Return the last day of each period starting on ``first`` (datetime64[D])."""
    if period == "day":
        return first
    if period == "week":
        return first + np.timedelta64(6, "D")
    month_after = first.astype("datetime64[M]") + np.timedelta64(1, "M")
    return month_after.astype("datetime64[D]") - np.timedelta64(1, "D")


def _row_networks(network, n: int) -> np.ndarray:
    """Return each row's network as :func:`normalise_network` spells it (once per name)."""
    raw = np.asarray(list(network), dtype=object)
    if len(raw) != n:
        raise ForecastingError(f"events: {len(raw)} networks for {n} period starts; give one each")
    slugs = {v: _network_or_self(v) for v in dict.fromkeys(raw.tolist())}
    return np.asarray([slugs[v] for v in raw.tolist()], dtype=object)


def _network_or_self(value: object) -> object:
    try:
        return normalise_network(str(value))
    except ValueError:
        return value


def _by_network(nets: np.ndarray) -> list[tuple[object, np.ndarray]]:
    return [(net, nets == net) for net in dict.fromkeys(nets.tolist())]


def _merged(spans: list[tuple[dt.date, dt.date]]) -> tuple[np.ndarray, np.ndarray]:
    """Return the union of inclusive day spans as sorted disjoint (starts, ends), in days."""
    out: list[list[int]] = []
    for a, b in sorted((x.toordinal(), y.toordinal()) for x, y in spans):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    arr = np.asarray(out, dtype=np.int64)
    epoch = dt.date(1970, 1, 1).toordinal()
    return arr[:, 0] - epoch, arr[:, 1] - epoch


def _covered(spans: tuple[np.ndarray, np.ndarray], first: np.ndarray, last: np.ndarray):
    """Return how many days of each [first, last] the disjoint spans cover."""
    a, b = spans
    before = np.concatenate([[0], np.cumsum(b - a + 1)])  # days covered before span k

    def upto(x: np.ndarray) -> np.ndarray:  # days covered on or before x
        k = np.searchsorted(a, x, side="right") - 1
        kk = np.maximum(k, 0)
        return np.where(k >= 0, before[kk] + np.minimum(x, b[kk]) - a[kk] + 1, 0)

    f, la = first.astype(np.int64), last.astype(np.int64)
    return (upto(la) - upto(f - 1)).astype(float)


# -- reading events -----------------------------------------------------------------------


def load_events(path: str | Path) -> Events:
    """Read an events file: CSV or YAML by its suffix (docs/formats.md, "Events file")."""
    source, entries = read_entries(path, EVENTS)
    return _events(entries, source)


def events_from_rows(rows: Sequence[Mapping], source: str = "events") -> Events:
    """Return the events of rows already parsed (an HTTP body's list), checked as a file's."""
    return _events(entries_from_list(rows, source, EVENTS), source)


def _events(entries: list[Entry], source: str) -> Events:
    events = [_event(e) for e in entries]
    _refuse_repeats(entries, events)
    return Events(tuple(events), source)


def _event(entry: Entry) -> Event:
    name = text_value(entry, "name", limit=MAX_NAME, required=True)
    values = entry.values
    if "date" in values and ("start" in values or "end" in values):
        raise ForecastingError(
            f"{entry.at('date')}: give either date (a one-day event) or start and end, not both"
        )
    if "date" not in values and "start" not in values:
        raise ForecastingError(
            f"{entry.at('start')}: the start is missing: give start (and end) or date, as "
            "YYYY-MM-DD"
        )
    start = day_value(entry, "date" if "date" in values else "start")
    end = day_value(entry, "end") if "end" in values else start
    if end < start:
        raise ForecastingError(
            f"{entry.at('end')}: {end} is before the start {start}: give the first day as start "
            "and the last as end"
        )
    network = network_value(entry, required=False)
    return Event(str(name), start, end, network, flag_value(entry, "promotion"))


def _refuse_repeats(entries: list[Entry], events: list[Event]) -> None:
    """Refuse an event given twice, one name written two ways, a name both kinds."""
    seen: dict[tuple, str] = {}
    named: dict[str, tuple[Event, str]] = {}
    for entry, ev in zip(entries, events, strict=True):
        key = (ev.name, ev.start, ev.end, ev.network, ev.promotion)
        if key in seen:
            raise ForecastingError(
                f"{entry.where}: repeats the event of {seen[key]} ({ev.name!r}, {ev.start} to "
                f"{ev.end}): remove one (each would count once anyway)"
            )
        seen[key] = entry.where
        folded = " ".join(ev.name.casefold().split())
        first, where = named.setdefault(folded, (ev, entry.where))
        if first.name != ev.name:
            raise ForecastingError(
                f"{entry.at('name')}: {ev.name!r} is written {first.name!r} in {where}: write "
                "a name the same way each time (one name is one effect)"
            )
        if first.promotion != ev.promotion:
            raise ForecastingError(
                f"{entry.at('promotion')}: {ev.name!r} is {'' if ev.promotion else 'not '}a "
                f"promotion here and {'not ' if ev.promotion else ''}one in {where}: make it one "
                "or the other everywhere, or give the two kinds different names"
            )


# -- reading the rows of a response file (events, priors, lift tests) ----------------------

#: the largest response file read, in bytes
MAX_FILE_BYTES = 16 * 2**20
#: the longest network, segment or result type, in characters
MAX_TEXT = 200
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True, slots=True)
class FileKind:
    """A response file format: what it is called, its YAML key, its columns, its doc section."""

    what: str  # "events file"
    key: str  # "events": the YAML list's key
    columns: tuple[str, ...]
    required: tuple[str, ...]
    doc: str  # 'docs/formats.md, "Events file"'
    suffixes: tuple[str, ...] = (".csv", ".yaml", ".yml")
    max_rows: int = MAX_EVENTS


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a response file: its non-empty values by column (or key), and where it is.

    ``where``: ``events.csv: data row 3 (line 4)`` (rows from 1) or ``events.yaml: events[2]``
    (list indices from 0, as in JSON paths); ``field``: "column" or "key".
    """

    where: str
    values: Mapping[str, object]
    field: str = "column"

    def at(self, name: str) -> str:
        """Return where the value ``name`` is: ``events.csv: data row 3 (line 4), column "end"``."""
        return f'{self.where}, {self.field} "{name}"'


EVENTS = FileKind(
    what="events file",
    key="events",
    columns=("name", "start", "end", "date", "network", "promotion"),
    required=("name",),
    doc='docs/formats.md, "Events file"',
)


def read_entries(path: str | Path, kind: FileKind) -> tuple[str, list[Entry]]:
    """Return the file's name as given and its rows: CSV or YAML by the suffix."""
    source = str(path)
    text = _read_text(Path(path), source, kind)
    if Path(path).suffix.lower() == ".csv":
        return source, _csv_entries(text, source, kind)
    return source, _yaml_entries(text, source, kind)


def _read_text(path: Path, source: str, kind: FileKind) -> str:
    give = f"give the path of an {kind.what}" if kind.what[0] in "aeio" else f"give a {kind.what}"
    give += f" ({', '.join(kind.suffixes)}; see {kind.doc})"
    if not path.exists():
        raise ForecastingError(f"{kind.what} {source} does not exist: {give}")
    if path.is_dir():
        raise ForecastingError(f"{kind.what} {source} is a directory: {give}")
    if path.suffix.lower() not in kind.suffixes:
        raise ForecastingError(
            f"{source}: an {kind.what} must be named {', '.join(kind.suffixes)} (its suffix says "
            f"how to read it); got {path.suffix or 'no suffix'!r}"
        )
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ForecastingError(
                f"{source}: {path.stat().st_size:,} bytes, above the {MAX_FILE_BYTES // 2**20} "
                f"MiB adplan reads for an {kind.what}; give at most {kind.max_rows:,} rows"
            )
        data = path.read_bytes()
    except OSError as e:
        raise ForecastingError(f"{source}: cannot be read ({e.strerror}); {give}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ForecastingError(
            f"{source}: byte {e.start + 1} is not UTF-8 text: save the file as UTF-8 (in Excel: "
            "CSV UTF-8)"
        ) from None
    if not text.strip():
        raise ForecastingError(f"{source}: the file is empty: list at least one row ({kind.doc})")
    return text


def _csv_entries(text: str, source: str, kind: FileKind) -> list[Entry]:
    records = _csv_records(text, source)
    if not records:
        raise ForecastingError(f"{source}: the file is empty: list at least one row ({kind.doc})")
    (line, cells), rows = records[0], records[1:]
    header = _header(cells, line, source, kind)
    if not rows:
        raise ForecastingError(f"{source}: only a header, no data rows: add at least one row")
    _refuse_too_many(len(rows), source, kind)
    out = []
    for i, (start, row) in enumerate(rows, 1):
        where = f"{source}: data row {i} (line {start})"
        extra = [c for c in row[len(header) :] if c.strip()]
        if extra:
            raise ForecastingError(
                f"{where}: {len(row)} cells for the {len(header)} columns of the header: "
                f"{extra[0][:40]!r} has no column; remove it or name its column"
            )
        values = {h: c.strip() for h, c in zip(header, row, strict=False) if c.strip()}
        out.append(Entry(where, values, "column"))
    return out


def _csv_records(text: str, source: str) -> list[tuple[int, list[str]]]:
    """Return the non-blank records with the line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out, previous = [], 0
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                out.append((previous + 1, cells))
            previous = reader.line_num
    except csv.Error as e:
        raise ForecastingError(
            f"{source}: line {reader.line_num} is not readable as CSV ({e}); check its quotes"
        ) from None
    return out


def _header(cells: list[str], line: int, source: str, kind: FileKind) -> list[str]:
    names = [c.strip().lower() for c in cells]
    while names and not names[-1]:
        names.pop()
    allowed = ", ".join(kind.columns)
    for i, name in enumerate(names):
        if not name:
            raise ForecastingError(
                f"{source}: column {i + 1} of the header on line {line} has no name; the "
                f"columns are {allowed}"
            )
        if name not in kind.columns:
            raise ForecastingError(
                f"{source}: unknown column {cells[i].strip()[:40]!r} in the header on line "
                f"{line}; the columns are {allowed} ({kind.doc})"
            )
        if name in names[:i]:
            raise ForecastingError(
                f"{source}: the header on line {line} has the column {name!r} twice "
                f"(columns {names.index(name) + 1} and {i + 1}); keep one"
            )
    missing = [c for c in kind.required if c not in names]
    if missing:
        raise ForecastingError(
            f"{source}: no column {missing[0]!r} in the header on line {line} (found: "
            f"{', '.join(names)}); the columns are {allowed} ({kind.doc})"
        )
    return names


def _refuse_too_many(n: int, source: str, kind: FileKind) -> None:
    if n > kind.max_rows:
        raise ForecastingError(
            f"{source}: {n:,} rows, more than the {kind.max_rows:,} an {kind.what} may hold: "
            "split it or keep the rows that matter"
        )


class _SafeLoaderDatesAsText(yaml.SafeLoader):
    """yaml's SafeLoader, dates kept as text: :func:`day_value` reads them (2026-02-30 too)."""


def _date_as_text(loader: _SafeLoaderDatesAsText, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_SafeLoaderDatesAsText.add_constructor("tag:yaml.org,2002:timestamp", _date_as_text)


def _yaml_entries(text: str, source: str, kind: FileKind) -> list[Entry]:
    try:
        data = yaml.load(text, Loader=_SafeLoaderDatesAsText)  # a SafeLoader: no objects
    except RecursionError:
        raise ForecastingError(f"{source}: nested too deeply to be an {kind.what}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ForecastingError(
            f"{source}: {line}not readable as YAML ({problem}); see {kind.doc}"
        ) from None
    return entries_from_list(top_list(data, source, kind), f"{source}: {kind.key}", kind)


def top_list(data: object, source: str, kind: FileKind) -> object:
    """Return ``data[kind.key]`` of a mapping with that key only; else a ForecastingError."""
    if not isinstance(data, Mapping) or kind.key not in data:
        raise ForecastingError(
            f"{source}: give a mapping with the key {kind.key!r} holding a list of rows, e.g. "
            f"'{kind.key}: [...]' (see {kind.doc})"
        )
    extra = [str(k) for k in data if k != kind.key]
    if extra:
        raise ForecastingError(
            f"{source}: unknown key {extra[0][:40]!r} beside {kind.key!r}; the file holds "
            f"{kind.key!r} only"
        )
    return data[kind.key]


def entries_from_list(items: object, prefix: str, kind: FileKind) -> list[Entry]:
    """Return the rows of a list of mappings, each ``where`` being ``<prefix>[<index>]``."""
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Sequence):
        raise ForecastingError(
            f"{prefix}: give a list of rows, one mapping each (keys: {', '.join(kind.columns)})"
        )
    if not items:
        raise ForecastingError(f"{prefix}: the list is empty: give at least one row")
    _refuse_too_many(len(items), prefix, kind)
    return [_entry(item, f"{prefix}[{i}]", kind) for i, item in enumerate(items)]


def _entry(item: object, where: str, kind: FileKind) -> Entry:
    allowed = ", ".join(kind.columns)
    if not isinstance(item, Mapping):
        raise ForecastingError(f"{where}: give a mapping with the keys {allowed}")
    values: dict[str, object] = {}
    seen: set[str] = set()
    for raw, value in item.items():
        key = raw.strip().lower() if isinstance(raw, str) else ""
        if key not in kind.columns:
            raise ForecastingError(
                f"{where}: unknown key {str(raw)[:40]!r}; the keys are {allowed} ({kind.doc})"
            )
        if key in seen:
            raise ForecastingError(f'{where}: the key "{key}" is given twice; keep one')
        seen.add(key)
        if isinstance(value, Mapping | list | tuple | set):
            raise ForecastingError(f'{where}, key "{key}": give one value, not a list or mapping')
        if isinstance(value, str):
            value = value.strip()
        if value is not None and value != "":
            values[key] = value
    missing = [c for c in kind.required if c not in values]
    if missing:
        raise ForecastingError(f'{where}, key "{missing[0]}": missing; give it ({kind.doc})')
    return Entry(where, values, "key")


def text_value(
    entry: Entry, name: str, *, limit: int = MAX_TEXT, required: bool = False
) -> str | None:
    """Return the text of ``name`` (None when absent and not required), checked."""
    value = entry.values.get(name)
    if value is None:
        if required:
            raise ForecastingError(f"{entry.at(name)}: the {name} is empty; give it")
        return None
    if not isinstance(value, str):
        raise ForecastingError(
            f"{entry.at(name)}: {value!r} is not text; give text (in YAML, put it in quotes)"
        )
    message = control_char_message(value, entry.at(name))
    if message is not None:
        raise ForecastingError(message)
    if len(value) > limit:
        raise ForecastingError(
            f"{entry.at(name)}: {value[:40]!r}... has {len(value)} characters, more than "
            f"{limit}; give a shorter {name}"
        )
    return value


def network_value(entry: Entry, *, required: bool) -> str | None:
    """Return the network of ``entry`` as history spells it (``Facebook`` -> ``meta``)."""
    text = text_value(entry, "network", required=required)
    return None if text is None else normalise_network(text)


def number_value(entry: Entry, name: str) -> float | None:
    """Return the finite number of ``name`` (None when absent): a number, or such text."""
    value = entry.values.get(name)
    if value is None:
        return None
    if isinstance(value, str) and _NUMBER.match(value):
        value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value) if abs(value) < 1e308 else math.inf
        if math.isfinite(number):
            return number
    raise ForecastingError(
        f"{entry.at(name)}: {str(value)[:40]!r} is not a number: write it with a decimal point "
        "and no thousands separator, e.g. 12.5"
    )


def day_value(entry: Entry, name: str) -> dt.date:
    """Return the day of ``name`` (YYYY-MM-DD in 1900..2200, :func:`plan_day`)."""
    value = entry.values.get(name)
    if isinstance(value, dt.datetime) and value.time() != dt.time(0):
        raise ForecastingError(f"{entry.at(name)}: {value} has a time of day; give the day only")
    try:
        return plan_day(value, None)
    except PlanDateError as e:
        raise ForecastingError(f"{entry.at(name)}: {e}") from None


def flag_value(entry: Entry, name: str) -> bool:
    """Return true/false/yes/no/1/0 (any case) or a boolean as a bool; absent: False."""
    value = entry.values.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ForecastingError(
        f"{entry.at(name)}: {str(value)[:40]!r} is not true or false: give true/false, "
        "yes/no or 1/0"
    )


def refuse_repeated_keys(entries: Iterable[Entry], items: Iterable, words: str) -> None:
    """Refuse two items with the same (network, segment, result_type), naming both rows."""
    seen: dict[tuple, str] = {}
    for entry, item in zip(entries, items, strict=True):
        key = (item.network, item.segment, item.result_type)
        if key in seen:
            scope = (
                f"network {key[0]}, segment {key[1] or '(any)'}, result type {key[2] or '(any)'}"
            )
            raise ForecastingError(
                f"{entry.where}: {words} for {scope} is already given in {seen[key]}: keep one"
            )
        seen[key] = entry.where


class _LineEntry(Protocol):
    @property
    def network(self) -> str: ...
    @property
    def segment(self) -> str | None: ...
    @property
    def result_type(self) -> str | None: ...


L = TypeVar("L", bound=_LineEntry)


def most_specific(
    entries: Iterable[L], network: str, segment: str | None, result_type: str | None
) -> L | None:
    """Return the entry that fits the line best, or None.

    An entry fits when its network is the line's and its segment and result type are the
    line's or absent; segment and result type beat segment, which beats result type, which
    beats the network alone.
    """
    net = _network_or_self(network)
    best, rank = None, -1
    for e in entries:
        if e.network != net or e.segment not in (None, segment):
            continue
        if e.result_type not in (None, result_type):
            continue
        r = 2 * (e.segment is not None) + (e.result_type is not None)
        if r > rank:
            best, rank = e, r
    return best
