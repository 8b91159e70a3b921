"""Reading an export as a table of text cells, and the parsing helpers every importer shares.

A :class:`RawTable` is what a file holds below its header line: text cells, the 1-based data
row and the file line of each record (for CSV the line where the record starts, for XLSX the
sheet row), and the lines above the header (report titles, date ranges). Importers turn it
into canonical columns with :meth:`RawTable.text`, :meth:`RawTable.number` and
:meth:`RawTable.date`, which raise :class:`~forecasting.errors.IngestError` naming the file,
the data row, the file line, the column and what is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.errors import IngestError

#: cells that mean "no value" in the exports (Meta writes an em dash, Google a double dash)
MISSING_MARKERS = frozenset({"", "—", "–", "-", "--", "n/a", "N/A", "null", "None"})

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060]")


def norm_header(text: str) -> str:
    """Header as compared by the importers: NFKC (no-break spaces become spaces), curly
    apostrophes straightened, BOM and zero-width characters removed, spaces collapsed,
    case folded."""
    text = _INVISIBLE.sub("", str(text))
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    return re.sub(r"\s+", " ", text).strip().casefold()


# ---------------------------------------------------------------------------------------
# decoding and splitting
# ---------------------------------------------------------------------------------------


def decode(raw: bytes, name: str) -> tuple[str, str]:
    """Text and encoding of a CSV export: UTF-16 (Google's "Excel" flavour) by BOM or by
    its zero bytes, UTF-8 with or without BOM, else Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    head = raw[:400]
    if head and head.count(b"\x00") > len(head) // 4:
        enc = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        return raw.decode(enc), enc
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"


def split_records(text: str, delimiter: str, limit: int | None = None):
    """CSV records with the file line each starts on (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    lines: list[int] = []
    prev = 0
    try:
        for rec in reader:
            records.append(rec)
            lines.append(prev + 1)
            prev = reader.line_num
            if limit is not None and len(records) >= limit:
                break
    except csv.Error as e:
        raise IngestError(f"line {prev + 1}: cannot split the line into cells ({e})") from None
    return records, lines


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def xlsx_records(path: Path, name: str):
    """Every sheet of a workbook as text records (cells rendered exactly: floats by repr)."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise IngestError(f"{name}: cannot open as an XLSX workbook ({e})", file=name) from None
    try:
        sheets = []
        for ws in wb.worksheets:
            records, lines = [], []
            for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
                records.append([_cell_text(v) for v in row])
                lines.append(i)
            sheets.append((ws.title, records, lines))
        return sheets
    finally:
        wb.close()


# ---------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------


@dataclass
class RawTable:
    """The records below the header line of one file, as text."""

    name: str  # the file as the user named it
    header: list[str]
    records: list[list[str]]
    lines: list[int]  # file line (CSV) or sheet row (XLSX) of each record
    preamble: list[list[str]] = field(default_factory=list)
    header_line: int = 1
    where: str = "line"  # "line" for CSV, "sheet row" for XLSX
    norm: list[str] = field(init=False)
    _cols: list = field(init=False, repr=False)
    _text: dict = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.norm = [norm_header(h) for h in self.header]
        width = len(self.header)
        fixed = self.records
        if any(len(rec) != width for rec in fixed):  # ragged rows: pad, or cut empty cells
            for pos, rec in enumerate(fixed):
                if len(rec) > width and any(c.strip() for c in rec[width:]):
                    raise self.error(
                        pos,
                        None,
                        f"{len(rec)} cells where the header on {self.where} {self.header_line} "
                        f"has {width}; a cell may hold an unquoted separator",
                    )
            fixed = [(rec + [""] * (width - len(rec)))[:width] for rec in fixed]
        # columns by position: headers may repeat (the Improvado Facebook export does)
        self._cols = list(zip(*fixed, strict=True)) if fixed else [() for _ in range(width)]

    def __len__(self) -> int:
        return len(self.records)

    # ---- columns --------------------------------------------------------------------
    def find(self, *names: str, pattern: str | None = None) -> int | None:
        """Position of the first column whose normalised header is one of ``names`` (or
        fully matches ``pattern``), else None."""
        wanted = {norm_header(n) for n in names}
        for i, h in enumerate(self.norm):
            if h in wanted or (pattern is not None and re.fullmatch(pattern, h)):
                return i
        return None

    def need(self, what: str, *names: str, pattern: str | None = None, fmt: str = "") -> int:
        """Like :meth:`find`, but a missing column is an IngestError listing the names."""
        i = self.find(*names, pattern=pattern)
        if i is None:
            shown = " or ".join(f'"{n}"' for n in names)
            raise IngestError(
                f"{self.name}: missing column {shown} ({what}) in the {fmt or 'export'} "
                f"header on {self.where} {self.header_line}; found: "
                + ", ".join(f'"{h}"' for h in self.header if h.strip()),
                file=self.name,
                line=self.header_line,
                column=names[0],
            )
        return i

    def raw(self, col: int) -> pd.Series:
        """The cells of a column exactly as read."""
        return pd.Series(list(self._cols[col]), dtype="str")

    def _text_list(self, col: int) -> list[str]:
        cached = self._text.get(col)
        if cached is None:
            missing = MISSING_MARKERS
            cached = [("" if (v := c.strip()) in missing else v) for c in self._cols[col]]
            self._text[col] = cached
        return cached

    def text(self, col: int | None) -> pd.Series:
        """Stripped text of a column; missing markers (empty, "—", "--") become ""."""
        if col is None:
            return pd.Series([""] * len(self), dtype="str")
        return pd.Series(self._text_list(col), dtype="str")

    def blank(self, col: int | None) -> np.ndarray:
        """Where a column is empty (or a missing marker); all True for an absent column."""
        if col is None:
            return np.ones(len(self), dtype=bool)
        return np.fromiter((not v for v in self._text_list(col)), dtype=bool, count=len(self))

    # ---- errors ---------------------------------------------------------------------
    def error(self, pos: int, col: int | str | None, what: str) -> IngestError:
        """An IngestError for the record at 0-based position ``pos``."""
        column = self.header[col] if isinstance(col, int) else col
        row = pos + 1
        line = self.lines[pos]
        where = f"{self.name}: data row {row} ({self.where} {line})"
        if column is not None:
            where += f', column "{column.strip()}"'
        return IngestError(f"{where}: {what}", file=self.name, row=row, line=line, column=column)

    # ---- numbers --------------------------------------------------------------------
    def number(
        self,
        col: int | None,
        *,
        decimal: str = ".",
        nonneg: bool = True,
        what: str = "value",
        rows: np.ndarray | None = None,
    ) -> pd.Series:
        """Float column; missing markers become NaN, text is an error.

        ``decimal="."``: "1,234.56" (commas are thousands separators). ``decimal=","``
        (French exports): "1 234,56" (spaces and dots group thousands when a comma is
        present; a lone dot is still a decimal point, as Meta's raw exports write it).
        Currency signs and spaces are removed. ``rows`` restricts the checks to the
        records that are kept (a summary row may hold anything).
        """
        if col is None:
            return pd.Series(np.nan, index=range(len(self)), dtype="float64")
        texts = self._text_list(col)
        parsed = {t: _parse_number(t, decimal) for t in dict.fromkeys(texts)}
        values = np.array([parsed[t] for t in texts], dtype="float64")  # None -> nan
        check = np.ones(len(self), dtype=bool) if rows is None else rows
        bad = np.fromiter((parsed[t] is None for t in texts), dtype=bool, count=len(texts))
        bad &= check
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise self.error(
                pos, col, f"{self._cols[col][pos]!r} is not a number (expected the {what})"
            )
        if nonneg:
            neg = (values < 0) & check
            if neg.any():
                pos = int(np.flatnonzero(neg)[0])
                raise self.error(
                    pos, col, f"negative {what} {self._cols[col][pos].strip()!r}; it cannot be < 0"
                )
        return pd.Series(values, dtype="float64")

    # ---- dates ----------------------------------------------------------------------
    def date(
        self,
        col: int,
        formats: Sequence[str],
        *,
        rows: np.ndarray | None = None,
        hint: str = "YYYY-MM-DD",
    ) -> pd.Series:
        """Day column parsed with the first matching of ``formats``; a non-empty cell that
        matches none is an error (empty cells stay NaT for the caller to judge)."""
        texts = self._text_list(col)
        codes, uniques = pd.factorize(pd.Series(texts, dtype="object"), sort=False)
        u = pd.Series(uniques, dtype="str").str.replace(r"[\u00a0\u202f]", " ", regex=True)
        parsed_u = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
        todo = u != ""
        for fmt in formats:
            if not todo.any():
                break
            parsed = pd.to_datetime(u.where(todo, None), format=fmt, errors="coerce")
            got = parsed.notna() & todo
            parsed_u = parsed_u.where(~got, parsed.astype("datetime64[ns]"))
            todo = todo & ~got
        check = np.ones(len(self), dtype=bool) if rows is None else rows
        bad = todo.to_numpy()[codes] & check
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise self.error(pos, col, f"{self._cols[col][pos]!r} is not a date (expected {hint})")
        values = parsed_u.dt.normalize().to_numpy()[codes]
        return pd.Series(values, dtype="datetime64[ns]")


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NOISE = re.compile(r"[\s\u00a0\u202f$€£¥]")


def _parse_number(text: str, decimal: str) -> float | None:
    """A cell as a float: nan when empty, None when it is not a number.

    ``decimal="."``: commas group thousands ("1,234.56"). ``decimal=","``: a comma is the
    decimal mark and spaces or dots group thousands ("1 234,56"); a lone dot stays a decimal
    point. Spaces and currency signs are dropped; "nan", "inf" and words are not numbers.
    """
    if not text:
        return float("nan")
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(value) and "_" not in text:
            return value
    cleaned = _NOISE.sub("", text)
    if decimal == "," and "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    if not _NUMBER.fullmatch(cleaned):
        return None
    return float(cleaned)


def parse_dates_loose(text: str, formats: Iterable[str]) -> dt.date | None:
    """One date written in one of ``formats`` (used for report preamble lines)."""
    text = text.strip()
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def first_match(
    candidates: Iterable[tuple[int, list[str]]], test: Callable[[list[str]], bool]
) -> int | None:
    for i, rec in candidates:
        if test([norm_header(c) for c in rec]):
            return i
    return None
