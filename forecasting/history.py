"""Canonical ad history: the one table every importer produces and every model reads.

A canonical history is a pandas DataFrame (and, on disk, a UTF-8 CSV) with the columns

=============  ================  =========================================================
column         dtype             meaning
=============  ================  =========================================================
date           datetime64[ns]    first day the row covers (no time of day)
network        str               lowercase slug (``meta``, ``instagram``, ``tiktok``...)
segment        str               audience (``f-25-34``, ``retargeting``...)
result_type    str               what the results count (``purchases``, ``leads``...)
spend          float64           account currency, major units, >= 0
results        float64           >= 0, fractional values kept (Google's conversions)
impressions    float64           optional, >= 0, empty = unknown
clicks         float64           optional, >= 0, empty = unknown
currency       str               optional ISO code (``EUR``), empty = unknown
campaign       str               optional campaign name, empty = none
=============  ================  =========================================================

(``str`` is pandas' string dtype, its text held by pyarrow; empty = NaN.)

Rules checked by :func:`validate_history`:

- the six required columns are present; unknown extra columns are an error (a typo such as
  ``spent`` must not pass unnoticed);
- dates parse as days; network, segment and result_type are non-empty text;
- spend and results are finite numbers >= 0 with no missing value; impressions and clicks,
  when given, are finite and >= 0 (missing allowed);
- network names are normalised with :func:`normalise_network`;
- **duplicates are an error**: at most one row per date x network x segment x result_type x
  campaign. The error names the first clashing rows. (The platform importers in
  :mod:`forecasting.ingest` sum the rows of one export that share a key *before*
  validation and report how many they merged; a canonical file is expected to be unique
  already, and two files covering the same key are refused rather than double counted.)

:func:`write_history` followed by :func:`read_history` returns exactly the validated frame:
floats are written with ``repr`` precision, dates as ``YYYY-MM-DD``, missing values empty.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.errors import IngestError
from optimizer import periods
from optimizer.names import normalise_network
from optimizer.values import CONTROL_CHARS, MAX_BUDGET, control_char_message

REQUIRED_COLUMNS: tuple[str, ...] = (
    "date",
    "network",
    "segment",
    "result_type",
    "spend",
    "results",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("impressions", "clicks", "currency", "campaign")
CANONICAL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
KEY_COLUMNS: tuple[str, ...] = ("date", "network", "segment", "result_type", "campaign")
NUMBER_COLUMNS: tuple[str, ...] = ("spend", "results", "impressions", "clicks")
TEXT_COLUMNS: tuple[str, ...] = ("network", "segment", "result_type", "currency", "campaign")
DATE_DTYPE = "datetime64[ns]"
#: the first and last day a history may hold (those of plan dates, ``optimizer.periods``)
FIRST_DAY, LAST_DAY = pd.Timestamp(periods.FIRST_DAY), pd.Timestamp(periods.LAST_DAY)


def outside_days(day: pd.Timestamp) -> str:
    """Return what is wrong with a history day outside ``FIRST_DAY``..``LAST_DAY``.

    Written from its parts: pandas holds year 0, which ``datetime.date`` cannot.
    """
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d} is outside 1900-2200"


#: the largest spend one history cell may hold: the largest budget a plan may have
MAX_SPEND = MAX_BUDGET
#: the largest count (results, impressions, clicks) one history cell may hold
MAX_COUNT = 1e15
#: words the importers use for a spend column (the others are counts)
_MONEY = frozenset({"spend", "cost"})


def number_limit(what: str) -> float:
    """Return the largest value a cell of ``what`` may hold (spend or cost, else a count)."""
    return MAX_SPEND if what in _MONEY else MAX_COUNT


def too_large(what: str, shown: str, limit: float) -> str:
    """Return why a number above ``limit`` is refused (sums of such cells would overflow)."""
    if len(shown) > 40:
        shown = shown[:40] + "..."
    return (
        f"{shown!r} is above {limit:,.0f} ({limit:g}), the largest {what} adplan reads in "
        "one cell; check the value (a stray exponent, a wrong column, a total pasted in a row)"
    )


# ---------------------------------------------------------------------------------------
# network names
# ---------------------------------------------------------------------------------------

# :func:`normalise_network` (with its aliases and product suffixes) lives in
# :mod:`optimizer.names`: a plan spec's network names are matched to the curves' networks the
# same way. It is imported above and stays importable from here and from ``forecasting``.


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------


def _where(source: str, row: int, lines: Sequence[int] | None, column: str | None) -> str:
    """Return ``history.csv, data row 3 (line 4), column "spend"`` (row is 1-based)."""
    parts = [f"{source}: data row {row}"]
    if lines is not None:
        parts[0] += f" (line {lines[row - 1]})"
    if column is not None:
        parts.append(f'column "{column}"')
    return ", ".join(parts)


def _fail(
    source: str,
    pos: int,
    lines: Sequence[int] | None,
    column: str | None,
    what: str,
) -> IngestError:
    row = pos + 1
    return IngestError(
        f"{_where(source, row, lines, column)}: {what}",
        file=source,
        row=row,
        line=None if lines is None else int(lines[pos]),
        column=column,
    )


def _refuse_controls(
    values: pd.Series, source: str, lines: Sequence[int] | None, column: str
) -> None:
    """Refuse the first text cell of a column holding a control character.

    The message is :func:`optimizer.values.control_char_message` (NUL, C0 and C1 controls
    with tab and newline, DEL, U+FFFE/U+FFFF, lone surrogates) naming the row and column.
    :data:`optimizer.values.CONTROL_CHARS` runs over the distinct values joined first.
    """
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return
    text = [v for v in pd.unique(values) if isinstance(v, str)]
    if CONTROL_CHARS.search(" ".join(text)) is None:
        return
    bad = {v for v in text if CONTROL_CHARS.search(v.strip())}
    hit = values.isin(bad).to_numpy(dtype=bool)
    if hit.any():
        pos = int(np.flatnonzero(hit)[0])
        value = str(values.iloc[pos]).strip()
        row = pos + 1
        raise IngestError(
            str(control_char_message(value, _where(source, row, lines, column))),
            file=source,
            row=row,
            line=None if lines is None else int(lines[pos]),
            column=column,
        )


def _as_text(series: pd.Series) -> pd.Series:
    """Return a text column with missing values as NaN (pandas' ``str`` dtype)."""
    return series.astype("str") if series.dtype != "str" else series


def _stripped(series: pd.Series) -> pd.Series:
    """Return a text column without surrounding spaces: the column itself when it has none."""
    text = _as_text(series)
    stripped = text.str.strip()
    return text if stripped.equals(text) else stripped


def _map_distinct(text: pd.Series, fn) -> pd.Series:
    """Return ``fn`` of each cell of a text column without missing values, once per value."""
    codes, uniques = pd.factorize(text)
    mapped = [fn(u) for u in uniques]
    if mapped == list(uniques):
        return text
    return pd.Series(pd.array(mapped, dtype="str").take(codes))


def _any_repeated(keys: pd.DataFrame) -> bool:
    """Return whether two rows of ``keys`` are the same (missing values equal each other).

    Each column is factorized and the codes combined into one integer per row, renumbered
    before they could overflow.
    """
    group = np.zeros(len(keys), dtype=np.int64)
    size = 1
    for col in keys.columns:
        codes, uniques = pd.factorize(keys[col], use_na_sentinel=False)
        k = max(len(uniques), 1)
        if size * k >= 2**62:
            group = pd.factorize(group)[0].astype(np.int64)
            size = int(group.max()) + 1
        group = group * k + codes
        size *= k
    return len(pd.unique(group)) < len(group)


def validate_history(  # noqa: C901 (long: not split yet)
    df: pd.DataFrame,
    source: str = "history",
    *,
    lines: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Check ``df`` against the canonical history rules and return a clean copy.

    The copy has the canonical columns in canonical order (optional columns only when
    present in ``df``), the canonical dtypes and normalised network names; rows keep their
    order and the index is reset. ``source`` names the data in error messages (a file name);
    ``lines`` optionally gives the file line of each row so that messages can cite it.

    Raises :class:`~forecasting.errors.IngestError` naming the data row (1-based), the line
    when known, the column and what is wrong.
    """
    if not isinstance(df, pd.DataFrame):
        raise IngestError(f"{source}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise IngestError(
            f"{source}: missing column(s) {', '.join(repr(c) for c in missing)}; a canonical "
            f"history needs {', '.join(REQUIRED_COLUMNS)}",
            file=source,
            column=missing[0],
        )
    extra = [c for c in df.columns if c not in CANONICAL_COLUMNS]
    if extra:
        raise IngestError(
            f"{source}: unknown column(s) {', '.join(repr(str(c)) for c in extra)}; the "
            f"canonical columns are {', '.join(CANONICAL_COLUMNS)}",
            file=source,
            column=str(extra[0]),
        )
    if lines is not None and len(lines) != len(df):
        raise ValueError("lines must give one file line per row")
    cols = [c for c in CANONICAL_COLUMNS if c in df.columns]
    df = df.reset_index(drop=True)
    for col in cols:
        _refuse_controls(df[col], source, lines, col)
    out: dict[str, pd.Series] = {}

    # dates ------------------------------------------------------------------------
    raw = df["date"]
    if pd.api.types.is_datetime64_any_dtype(raw):
        dates = raw
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
    else:
        text = _as_text(raw).str.strip()
        dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        bad = dates.isna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            value = raw.iloc[pos]
            shown = "an empty cell" if pd.isna(value) or str(value).strip() == "" else repr(value)
            raise _fail(source, pos, lines, "date", f"{shown} is not a date (use YYYY-MM-DD)")
    nat = dates.isna()
    if nat.any():
        pos = int(np.flatnonzero(nat.to_numpy())[0])
        raise _fail(source, pos, lines, "date", "the date is missing")
    outside = ((dates < FIRST_DAY) | (dates > LAST_DAY)).to_numpy()
    if outside.any():
        pos = int(np.flatnonzero(outside)[0])
        raise _fail(source, pos, lines, "date", outside_days(dates.iloc[pos]))
    dates = dates.astype(DATE_DTYPE)
    timed = dates != dates.dt.normalize()
    if timed.any():
        pos = int(np.flatnonzero(timed.to_numpy())[0])
        raise _fail(
            source, pos, lines, "date", f"{dates.iloc[pos]} has a time of day; give days only"
        )
    out["date"] = dates

    # text ---------------------------------------------------------------------------
    for col in ("network", "segment", "result_type"):
        text = _stripped(df[col])
        empty = text.isna() | (text == "")
        if empty.any():
            pos = int(np.flatnonzero(empty.to_numpy())[0])
            raise _fail(source, pos, lines, col, f"the {col} is empty")
        out[col] = text
    out["network"] = _map_distinct(out["network"], normalise_network)

    # numbers ------------------------------------------------------------------------
    for col in ("spend", "results", "impressions", "clicks"):
        if col not in df.columns:
            continue
        raw = df[col]
        if pd.api.types.is_bool_dtype(raw):
            raise _fail(source, 0, lines, col, "holds true/false, not numbers")
        if pd.api.types.is_numeric_dtype(raw):
            values = raw.astype("float64")
            bad = pd.Series(False, index=raw.index)
        else:
            text = _as_text(raw).str.strip()
            values = pd.to_numeric(text.where(text != "", np.nan), errors="coerce")
            bad = values.isna() & text.notna() & (text != "")
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise _fail(source, pos, lines, col, f"{raw.iloc[pos]!r} is not a number")
        values = values.astype("float64")
        arr = values.to_numpy()
        if col in ("spend", "results"):
            miss = np.isnan(arr)
            if miss.any():
                pos = int(np.flatnonzero(miss)[0])
                raise _fail(source, pos, lines, col, f"the {col} is missing (write 0 for none)")
        inf = np.isinf(arr)
        if inf.any():
            pos = int(np.flatnonzero(inf)[0])
            raise _fail(source, pos, lines, col, f"{arr[pos]} is not a finite number")
        neg = arr < 0
        if neg.any():
            pos = int(np.flatnonzero(neg)[0])
            raise _fail(source, pos, lines, col, f"{col} is negative ({arr[pos]!r})")
        over = arr > number_limit(col)
        if over.any():
            pos = int(np.flatnonzero(over)[0])
            value = raw.iloc[pos]
            shown = value.strip() if isinstance(value, str) else f"{float(arr[pos]):g}"
            raise _fail(source, pos, lines, col, too_large(col, shown, number_limit(col)))
        out[col] = pd.Series(arr + 0.0, dtype="float64")  # + 0.0 turns -0.0 into 0.0

    for col in ("currency", "campaign"):
        if col not in df.columns:
            continue
        text = _stripped(df[col])
        empty = text == ""
        out[col] = text.where(~empty, np.nan) if empty.any() else text
    if "currency" in out:
        cur = out["currency"]
        codes = pd.Series(pd.unique(cur.dropna()), dtype="str")
        bad = cur.isin(codes[~codes.str.fullmatch(r"[A-Za-z]{3}")])  # once per distinct code
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise _fail(source, pos, lines, "currency", f"{cur.iloc[pos]!r} is not a 3-letter code")
        out["currency"] = cur.str.upper()

    result = pd.DataFrame({c: out[c] for c in cols})

    # duplicates ---------------------------------------------------------------------
    key = [c for c in KEY_COLUMNS if c in result.columns]
    keyframe = result[key]
    if "campaign" in key:
        keyframe = keyframe.assign(campaign=keyframe["campaign"].fillna(""))
    if _any_repeated(keyframe):
        dup = keyframe.duplicated(keep=False).to_numpy()
        first = int(np.flatnonzero(dup)[0])
        same = np.flatnonzero(dup & (keyframe == keyframe.iloc[first]).all(axis=1).to_numpy())
        rows = ", ".join(
            f"{p + 1}" + (f" (line {lines[p]})" if lines is not None else "") for p in same[:5]
        )
        k = result.iloc[first]
        what = ", ".join(
            f"{c}={k[c].date() if c == 'date' else k[c]}" for c in key if pd.notna(k[c])
        )
        err = IngestError(
            f"{source}: data rows {rows} repeat the same date x network x segment x "
            f"result_type x campaign ({what}); keep one row per key or sum them first",
            file=source,
            row=int(same[1]) + 1,
            line=None if lines is None else int(lines[int(same[1])]),
        )
        raise err
    return result


# ---------------------------------------------------------------------------------------
# reading and writing
# ---------------------------------------------------------------------------------------


def _format_float(x: float) -> str:
    if math.isnan(x):
        return ""
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def write_history(df: pd.DataFrame, path: str | Path) -> Path:
    r"""Validate ``df`` and write it as canonical CSV (UTF-8, ``\n``, header first).

    Numbers are written with full ``repr`` precision (whole numbers without ``.0``), dates
    as ``YYYY-MM-DD``, missing values as empty cells, so :func:`read_history` returns
    exactly the validated frame.
    """
    path = Path(path)
    clean = validate_history(df, source=str(path))
    cols = list(clean.columns)
    rendered: list[list[str]] = []
    for col in cols:
        s = clean[col]
        if col == "date":
            rendered.append(list(s.dt.strftime("%Y-%m-%d")))
        elif col in NUMBER_COLUMNS:
            rendered.append([_format_float(v) for v in s.to_numpy(dtype="float64")])
        else:
            rendered.append(["" if pd.isna(v) else str(v) for v in s])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        w.writerows(zip(*rendered, strict=True) if rendered and len(clean) else [])
    return path


def read_history(path: str | Path) -> pd.DataFrame:  # noqa: C901 (long: not split yet)
    """Read a canonical history CSV and return it validated (see :func:`validate_history`).

    The reader is chosen by content: a workbook (zip) is read as a canonical history XLSX,
    sorted like an ingest; a file named ``.xlsx`` that is not a workbook is refused.

    Errors name the file, the 1-based data row, the file line and the column.
    """
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{name}: no such file") from None
    from forecasting.ingest._table import is_workbook

    if is_workbook(raw, path, name):  # chosen by content: a zip is a workbook, whatever the name
        from forecasting.ingest.core import ingest_file

        return ingest_file(path, source="canonical")[0]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise IngestError(
            f"{name}: not UTF-8 text (byte {e.start}); save the history as UTF-8 CSV",
            file=name,
        ) from None
    import io

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise IngestError(f"{name}: the file is empty; expected a header line", file=name) from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        at = " and ".join(str(i + 1) for i, h in enumerate(header) if h == dup)
        raise IngestError(
            f'{name}: line 1: column "{dup}" appears twice (columns {at}); keep one',
            file=name,
            line=1,
            column=dup,
        )
    records: list[list[str]] = []
    lines: list[int] = []
    prev = reader.line_num
    for rec in reader:
        start = prev + 1
        prev = reader.line_num
        if not rec or all(c.strip() == "" for c in rec):
            continue
        if len(rec) != len(header):
            row = len(records) + 1
            raise IngestError(
                f"{name}: data row {row} (line {start}): {len(rec)} cells where the header "
                f"has {len(header)}",
                file=name,
                row=row,
                line=start,
            )
        records.append(rec)
        lines.append(start)
    frame = pd.DataFrame(records, columns=header, dtype="str")
    if not records:
        frame = pd.DataFrame({h: pd.Series([], dtype="str") for h in header})
    for col in ("impressions", "clicks", "currency", "campaign"):
        if col in frame.columns:
            frame[col] = frame[col].where(frame[col].str.strip() != "", np.nan)
    return validate_history(frame, source=name, lines=lines)
