"""A canonical history CSV read by pyarrow: the rows, values and errors of the reference reader.

The reference reader (:func:`forecasting.ingest.detect.load_table`, :class:`RawTable`,
:func:`forecasting.ingest.canonical.extract`) holds every cell as a Python string; a history
of a million rows takes it seconds and a gigabyte. :func:`read_canonical_csv` reads the
common case, adplan's own history CSV (UTF-8, its header on line 1, commas), with
``pyarrow.csv`` instead, every cell as text, and checks each column in bulk:

- a number is *plain* when it is written in plain decimal notation (digits, a decimal point,
  an exponent; ``pyarrow.compute`` matches and casts the cells, as exactly as ``float``) and
  lies within its bound (:func:`forecasting.history.number_limit`); an empty optional count
  is plain (unknown);
- a date is plain when it is ``YYYY-MM-DD``, a day of the calendar in 1900-2200 (checked
  once per distinct value);
- text (network, segment, result_type, currency, campaign) is plain unless it holds a
  control character once stripped (:data:`optimizer.values.CONTROL_CHARS`, per distinct
  value); it is stripped as the reference strips it (``utf8_trim_whitespace`` removes the
  characters ``str.strip`` does).

The rows holding a cell that is not plain (a thousands separator, a missing marker, spaces,
a sign, a control character, a bad date, a number out of range...) go through the reference
reader, with their own data row and file line: it reads them as it reads any file, or raises
the error it would raise on the whole file. Its checks go column by column and each looks at
one cell at a time, so the first error among those rows is the first error of the file.
:func:`~forecasting.history.validate_history` then checks the whole frame, as for any file.

Anything else returns None and the reference reader reads the whole file: another format,
encoding or delimiter, lines above the header, a repeated or unknown column, rows of uneven
length, a newline inside a value, a lone carriage return, a cell longer than the ``csv``
module's field limit, text that is not UTF-8.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from forecasting.errors import IngestError
from forecasting.history import CANONICAL_COLUMNS, FIRST_DAY, LAST_DAY, number_limit
from forecasting.ingest import canonical
from forecasting.ingest._base import Extract
from forecasting.ingest._table import RawTable, norm_header, split_records
from optimizer.values import CONTROL_CHARS

_BOM = b"\xef\xbb\xbf"
#: a number the reference reads as ``float`` reads it: no sign, grouping, space or currency
_PLAIN_NUMBER = r"^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_PLAIN_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: :data:`optimizer.values.CONTROL_CHARS` for RE2 (UTF-8 text holds no lone surrogate)
_CONTROL = r"[\x00-\x1f\x7f-\x9f\x{fffe}\x{ffff}]"
_TEXT = ("network", "segment", "result_type", "currency", "campaign")
_NUMBERS = ("spend", "results", "impressions", "clicks")
_OPTIONAL_NUMBERS = ("impressions", "clicks")
#: the first and last year a history may hold (``FIRST_DAY``, ``LAST_DAY``)
_YEARS = (FIRST_DAY.year, LAST_DAY.year)


@dataclass
class ArrowTable:
    """A canonical history CSV read by :func:`read_canonical_csv`, ready for the ingest.

    ``extract`` is what :func:`forecasting.ingest.canonical.extract` returns for the file;
    ``lines`` the file line of each record, ``rows_read`` their number.
    """

    name: str
    extract: Extract
    lines: np.ndarray
    rows_read: int

    def __len__(self) -> int:
        return self.rows_read


class _NotPlain(Exception):
    """The file is not one :func:`read_canonical_csv` reads: the reference reader reads it."""


def read_canonical_csv(name: str, raw: bytes) -> ArrowTable | None:
    """Return the canonical history in ``raw`` (the bytes of the file ``name``), or None.

    None when the file is not a canonical history CSV that pyarrow reads as the reference
    reader does (see the module's docstring); an :class:`~forecasting.errors.IngestError`
    when a row is refused, the one the reference reader raises.
    """
    try:
        header = _canonical_header(raw)
        if header is None:
            return None
        return _read(name, raw, header)
    except (_NotPlain, pa.ArrowException):  # pyarrow cannot: the reference reader can
        return None


def _canonical_header(raw: bytes) -> list[str] | None:
    """Return the cells of line 1 when they are a canonical history header, else None.

    As :func:`forecasting.ingest.detect.load_table` finds it: UTF-8 (with or without BOM),
    split on commas, the first record; the columns must be canonical, each once.
    """
    head = raw[:400]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(b"\x00") > len(head) // 4:
        return None  # UTF-16, as forecasting.ingest._table.decode tells it
    if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # a lone carriage return ends a line that counting newlines misses
    start = len(_BOM) if raw.startswith(_BOM) else 0
    end = raw.find(b"\n", start)
    try:
        first = raw[start : len(raw) if end < 0 else end + 1].decode("utf-8")
        records, _ = split_records(first, ",")
    except (UnicodeDecodeError, IngestError):
        return None
    if len(records) != 1 or first.count('"') % 2:
        return None  # a quoted header going on below line 1
    header = records[0]
    norm = [norm_header(h) for h in header]
    named = [n for n in norm if n]
    if not canonical.matches(norm) or len(set(named)) != len(named):
        return None
    return header


def _read(name: str, raw: bytes, header: list[str]) -> ArrowTable | None:
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(raw),
            # one thread: as fast on two cores, and fewer blocks in memory at once
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None  # rows of uneven length, text that is not UTF-8...
    n = table.num_rows
    lines = _record_lines(raw, n)
    if n == 0 or len(lines) != n:
        return None  # a header alone; a newline inside a value (records span lines)
    where = {norm_header(h): i for i, h in enumerate(header)}
    columns: dict[str, _Column] = {}
    for i, h in enumerate(header):
        col = table.column(i)
        _within_field_limit(col)
        if not norm_header(h):
            _refuse_values(col)  # a column without a header: ignored when it is empty
    for col_name in CANONICAL_COLUMNS:
        if col_name in where:
            columns[col_name] = _column(col_name, table.column(where[col_name]))
    plain = np.logical_and.reduce([c.plain for c in columns.values()])
    bad = np.flatnonzero(~plain)
    if len(bad):
        lines = _reference_rows(name, header, table, lines, bad, columns)
    del table
    frame = pd.DataFrame({k: c.series() for k, c in columns.items()})
    frame["_pos"] = np.arange(len(lines))
    return ArrowTable(name=name, extract=Extract(frame=frame), lines=lines, rows_read=len(lines))


def _record_lines(raw: bytes, records: int) -> np.ndarray:
    """Return the file line of each line after the first that is not empty.

    They are the lines of the ``records`` when no value holds a newline (the caller checks
    that there is one per record); empty lines are not records, for pyarrow
    (``ignore_empty_lines``) and for the reference reader alike. Each line is the header, a
    record, an empty line or the rest of a record: as many lines as records and header say
    there is neither of the last two.
    """
    total = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    if total == records + 1:
        return np.arange(2, total + 1, dtype=np.int64)
    data = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(data)]))
    length = stops - starts
    first = data[np.minimum(starts, len(data) - 1)]
    empty = (length == 0) | ((length == 1) & (first == 13))
    return np.flatnonzero(~empty)[1:] + 1


def _within_field_limit(col: pa.ChunkedArray) -> None:
    """Refuse a cell longer than the ``csv`` module reads (the reference reader names it)."""
    longest = pc.max(pc.binary_length(col)).as_py()
    if longest is not None and longest > csv.field_size_limit():
        raise _NotPlain


def _refuse_values(col: pa.ChunkedArray) -> None:
    """Leave a column without a header that holds a value to the reference reader."""
    longest = pc.max(pc.utf8_length(pc.utf8_trim_whitespace(col))).as_py()
    if longest:
        raise _NotPlain


class _Column:
    """One canonical column: its values and which of its cells are plain."""

    def __init__(self, values, plain: np.ndarray) -> None:
        self.values = values  # numpy array, or pyarrow array for text
        self.plain = plain

    def keep(self, keep: np.ndarray) -> None:
        if isinstance(self.values, np.ndarray):
            self.values = self.values[keep]
        else:
            self.values = self.values.filter(pa.array(keep))
        self.plain = self.plain[keep]

    def series(self) -> pd.Series:
        if isinstance(self.values, np.ndarray):
            return pd.Series(self.values, copy=False)
        return self.values.to_pandas()  # pandas' "str" dtype, held by pyarrow


def _column(name: str, col: pa.ChunkedArray) -> _Column:
    if name == "date":
        return _dates(col)
    if name in _NUMBERS:
        return _numbers(col, name)
    return _text(col, name)


def _distinct(col: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Return the distinct values of a column and the index of each cell's among them."""
    enc = pc.dictionary_encode(col).unify_dictionaries()
    if enc.num_chunks == 0:
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int32)
    codes = [c.indices.to_numpy(zero_copy_only=False) for c in enc.chunks]
    return enc.chunk(0).dictionary, np.concatenate(codes)


def _dates(col: pa.ChunkedArray) -> _Column:
    """Parse ``YYYY-MM-DD`` days in 1900-2200, once per distinct value."""
    uniq, codes = _distinct(col)
    shaped = pc.match_substring_regex(uniq, _PLAIN_DATE)
    text = pc.if_else(shaped, uniq, "2000-01-01")
    y, m, d = (
        pc.cast(pc.utf8_slice_codeunits(text, a, b), pa.int64()).to_numpy()
        for a, b in ((0, 4), (5, 7), (8, 10))
    )
    month = ((y - 1970) * 12 + m - 1).astype("datetime64[M]")
    day = month.astype("datetime64[D]") + (d - 1)
    ok = (
        shaped.to_numpy(zero_copy_only=False)
        & (y >= _YEARS[0])
        & (y <= _YEARS[1])
        & (m >= 1)
        & (m <= 12)
        & (d >= 1)
        & (day.astype("datetime64[M]") == month)  # not the 30th of February
    )
    values = np.where(ok, day, np.datetime64("NaT")).astype("datetime64[ns]")
    return _Column(values[codes], ok[codes])


def _numbers(col: pa.ChunkedArray, name: str) -> _Column:
    """Read plain numbers within their bound (an empty optional count is unknown: NaN)."""
    shaped = pc.match_substring_regex(col, _PLAIN_NUMBER)
    text = col if pc.all(shaped).as_py() is not False else pc.if_else(shaped, col, "nan")
    values = np.array(pc.cast(text, pa.float64()).to_numpy(), copy=None)
    if not values.flags.writeable:  # a view of pyarrow's buffer: rows are put into it
        values = values.copy()
    with np.errstate(invalid="ignore"):
        plain = shaped.to_numpy() & (values <= number_limit(name))
    if name in _OPTIONAL_NUMBERS:
        plain |= pc.equal(col, "").to_numpy()
    return _Column(values, plain)


def _text(col: pa.ChunkedArray, name: str) -> _Column:
    """Strip text as the reference does; a control character once stripped is not plain."""
    uniq, codes = _distinct(col)
    ok = np.ones(len(uniq), dtype=bool)
    suspects = np.flatnonzero(pc.match_substring_regex(uniq, _CONTROL).to_numpy(False))
    for i in suspects:  # the few distinct values holding one: judged as the reference judges
        ok[i] = CONTROL_CHARS.search(uniq[int(i)].as_py().strip()) is None
    stripped = pc.utf8_trim_whitespace(uniq)
    if name in ("currency", "campaign"):  # empty is none
        stripped = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped)
    if pc.all(pc.equal(stripped, uniq)).as_py() is not False and stripped.null_count == 0:
        values = col  # nothing to strip: the cells as read
    else:
        values = pa.chunked_array([stripped.take(pa.array(codes))])
    return _Column(values, ok[codes])


def _reference_rows(
    name: str,
    header: list[str],
    table: pa.Table,
    lines: np.ndarray,
    bad: np.ndarray,
    columns: dict[str, _Column],
) -> np.ndarray:
    """Read the rows ``bad`` with the reference reader and put their values in ``columns``.

    Blank rows among them (every cell empty) are not rows, as for the reference reader:
    they are dropped from ``columns``, and the file line of each row kept is returned. The
    reference raises the error of the first row it refuses, naming its data row and line.
    """
    sub = table.take(pa.array(bad))
    cells = [sub.column(i).to_pylist() for i in range(sub.num_columns)]
    records = [list(r) for r in zip(*cells, strict=True)]
    blank = np.array(["".join(r).strip() == "" for r in records], dtype=bool)
    if blank.any():
        keep = np.ones(len(lines), dtype=bool)
        keep[bad[blank]] = False
        for c in columns.values():
            c.keep(keep)
        bad = (np.cumsum(keep) - 1)[bad[~blank]]  # their positions among the rows kept
        lines = lines[keep]
        records = [r for r, b in zip(records, blank, strict=True) if not b]
    if records:
        ref = RawTable(
            name=name,
            header=header,
            records=records,
            lines=lines[bad].tolist(),
            rows=(bad + 1).tolist(),
        )
        got = canonical.extract(ref).frame  # raises the first error among the rows
        for col_name, c in columns.items():
            if col_name not in _TEXT:  # text is the cells stripped, in either reader
                c.values[bad] = got[col_name].to_numpy()
    return lines
