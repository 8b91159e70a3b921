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
from forecasting.history import FIRST_DAY, LAST_DAY, number_limit, outside_days, too_large
from optimizer.values import CONTROL_CHARS, control_char_message

#: cells that mean "no value" in the exports (Meta writes an em dash, Google a double dash)
MISSING_MARKERS = frozenset({"", "—", "–", "-", "--", "n/a", "N/A", "null", "None"})

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060]")


def norm_header(text: str) -> str:
    """Return a header as the importers compare it.

    NFKC (no-break spaces become spaces), curly apostrophes straightened, BOM and zero-width
    characters removed, spaces collapsed, case folded.
    """
    if not text:
        return ""
    text = _INVISIBLE.sub("", str(text))
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    return re.sub(r"\s+", " ", text).strip().casefold()


# ---------------------------------------------------------------------------------------
# decoding and splitting
# ---------------------------------------------------------------------------------------


def decode(raw: bytes) -> tuple[str, str]:
    """Return the text and encoding of a CSV export.

    UTF-16 (Google's "Excel" flavour) by BOM or by its zero bytes, UTF-8 with or without
    BOM, else Windows-1252. Lone surrogates are decoded as such, so that the cell holding
    one is refused by file, row and column (:data:`optimizer.values.CONTROL_CHARS`).
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _utf16(raw, "utf-16"), "utf-16"
    head = raw[:400]
    if head and head.count(b"\x00") > len(head) // 4:
        enc = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        return _utf16(raw, enc), enc
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    for errors in ("strict", "surrogatepass"):
        try:
            return body.decode("utf-8", errors=errors), "utf-8-sig" if bom else "utf-8"
        except UnicodeDecodeError:
            continue
    return body.decode("cp1252", errors="replace"), "cp1252"


def _utf16(raw: bytes, encoding: str) -> str:
    """Decode UTF-16 text; a lone surrogate is kept (a cell holding one is refused by name).

    A file cut in the middle of a character raises :class:`IngestError`.
    """
    try:
        return raw.decode(encoding, errors="surrogatepass")
    except UnicodeDecodeError as e:
        raise IngestError(
            f"not valid {encoding.upper()} text (byte {e.start}: {e.reason}); the file is "
            "damaged or cut short: export it again"
        ) from None


def split_records(text: str, delimiter: str, limit: int | None = None):
    """Split CSV records, with the file line each starts on (quoted fields may span lines)."""
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


class NumberCell(str):
    """A workbook cell typed as a number, rendered by ``repr``.

    It is read as it is, whatever the file's decimal mark.
    """

    __slots__ = ()


def cell_text(value) -> str:
    """Return a workbook cell as text: numbers as :class:`NumberCell`, days ISO, None as ""."""
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
        return NumberCell(repr(value))
    if isinstance(value, int):
        return NumberCell(str(value))
    return str(value)


def with_controls(values) -> set[str]:
    """Return those of ``values`` (text) holding a control character once stripped.

    :data:`optimizer.values.CONTROL_CHARS`, the one check, is run once over all the values
    joined (C speed), then on each value only when that finds one.
    """
    if CONTROL_CHARS.search(" ".join(values)) is None:
        return set()
    return {v for v in values if CONTROL_CHARS.search(v.strip())}


def column_letter(n: int) -> str:
    """Return the spreadsheet letters of the 1-based column ``n`` (1 -> A, 28 -> AB)."""
    letters = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


ZIP_MAGIC = b"PK\x03\x04"  # an XLSX is a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an old binary .xls (or another OLE file)
XLSX_SUFFIXES = (".xlsx", ".xlsm")


def is_workbook(raw: bytes, path: Path, name: str) -> bool:
    """Return whether the content of ``path`` is an XLSX workbook.

    The reader is chosen by content (zip magic), never by the name alone. A file *named*
    .xlsx/.xlsm that is not a zip raises an :class:`IngestError` saying what it looks like
    instead.
    """
    if raw[:4] == ZIP_MAGIC:
        return True
    suffix = path.suffix.lower()
    if suffix not in XLSX_SUFFIXES:
        return False
    if not raw.strip():
        raise IngestError(f"{name}: the file is empty", file=name)
    if raw[:4] == OLE_MAGIC:
        raise IngestError(
            f"{name}: not a readable Excel workbook: it is an old binary .xls file (or another "
            f"Office file) named {suffix}; open it in Excel and save it as .xlsx or CSV",
            file=name,
        )
    if _looks_like_csv(raw):
        raise IngestError(
            f"{name}: is named {suffix} but is not an Excel workbook (it looks like CSV "
            "text); rename it to .csv",
            file=name,
        )
    raise IngestError(
        f"{name}: not a readable Excel workbook (not a zip archive, as every .xlsx is: the "
        "file is damaged or in another format); export it again as .xlsx or CSV",
        file=name,
    )


def _looks_like_csv(raw: bytes) -> bool:
    """Return whether ``raw`` looks like CSV text.

    Text (UTF-8, UTF-16 with BOM or a single-byte code page) with no control character and
    a delimiter in its first line.
    """
    head = raw[:65536]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8-sig", errors="replace")
        if "\ufffd" in text:
            text = head.decode("cp1252", errors="replace")
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text[:4096]):
        return False
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return any(d in first for d in (",", ";", "\t"))


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
    #: the decimal mark: set by an importer to force it, else decided from the cells
    decimal: str | None = None
    #: the mark the header language suggests ("," for French Meta), used when no cell tells
    decimal_hint: str | None = None
    decimal_reason: str = field(default="", repr=False)
    #: a header may repeat when its copies hold the same cells (the Improvado Facebook export)
    same_repeats: bool = False
    #: the 1-based data row of each record, when the table holds some of a file's records
    #: (the rows :mod:`forecasting.ingest.arrow_csv` leaves to it); else position + 1
    rows: list[int] | None = None
    norm: list[str] = field(init=False)
    _cols: list = field(init=False, repr=False)
    _text: dict = field(init=False, repr=False, default_factory=dict)
    _parsed: dict = field(init=False, repr=False, default_factory=dict)

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

    def row(self, pos: int) -> int:
        """Return the 1-based data row of the record at 0-based position ``pos``."""
        return pos + 1 if self.rows is None else self.rows[pos]

    # ---- columns --------------------------------------------------------------------
    def find(self, *names: str, pattern: str | None = None, what: str = "") -> int | None:
        """Return the position of the column with one of ``names``, else None.

        A column matches when its normalised header is one of ``names`` (or fully matches
        ``pattern``). Two columns or more that match ("Spend" and "spend ", "Amount spent
        (EUR)" and "Amount spent (USD)") are an IngestError naming them and their positions
        (``what`` says what they hold), unless :attr:`same_repeats` allows copies holding the
        same cells.
        """
        wanted = {norm_header(n) for n in names}
        hits = [
            i
            for i, h in enumerate(self.norm)
            if h in wanted or (pattern is not None and re.fullmatch(pattern, h))
        ]
        if len(hits) > 1:
            self._refuse_repeats(hits, what or f'"{names[0]}"')
        return hits[0] if hits else None

    def _refuse_repeats(self, hits: list[int], what: str) -> None:
        """Refuse several columns for one value (the copies of a repeated header may pass)."""
        first = self._cols[hits[0]]
        if self.same_repeats and all(self._cols[i] == first for i in hits[1:]):
            return
        shown = [f'"{self.header[i]}" (column {i + 1}, {column_letter(i + 1)})' for i in hits]
        listed = ", ".join(shown[:-1]) + " and " + shown[-1]
        raise IngestError(
            f"{self.name}: the header on {self.where} {self.header_line} has {len(hits)} "
            f"columns for {what or 'one value'}: {listed}; adplan would read only the first "
            "and ignore the others. Remove or rename the repeated columns",
            file=self.name,
            line=self.header_line,
            column=self.header[hits[1]],
        )

    def need(self, what: str, *names: str, pattern: str | None = None, fmt: str = "") -> int:
        """Return a column as :meth:`find` does; a missing one is an IngestError naming it."""
        i = self.find(*names, pattern=pattern, what=f"the {what}")
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
        """Return the cells of a column exactly as read (a control character is refused)."""
        self._text_list(col)
        return pd.Series(list(self._cols[col]), dtype="str")

    def _text_list(self, col: int) -> list[str]:
        cached = self._text.get(col)
        if cached is None:
            cells = self._cols[col]
            self.refuse_controls(col, cells)
            missing = MISSING_MARKERS
            cached = [("" if (v := c.strip()) in missing else v) for c in cells]
            self._text[col] = cached
        return cached

    def refuse_controls(
        self, col: int, cells: Sequence[str], uniques=None, rows: np.ndarray | None = None
    ) -> None:
        """Raise the control-character error at the first cell of a column that holds one.

        ``uniques`` are the distinct ``cells`` when the caller has them; ``rows`` limits the
        check to some records. The message is :func:`optimizer.values.control_char_message`
        (NUL, C0 and C1 controls with tab and newline, DEL, U+FFFE/U+FFFF, lone surrogates)
        where the value starts after its surrounding spaces.
        """
        bad = with_controls(set(cells) if uniques is None else uniques)
        if not bad:
            return
        hit = np.fromiter((c in bad for c in cells), dtype=bool, count=len(cells))
        if rows is not None:
            hit &= rows
        if hit.any():
            pos = int(np.flatnonzero(hit)[0])
            value = cells[pos].strip()
            raise self._error_at(pos, col, lambda where: control_char_message(value, where))

    def text(self, col: int | None) -> pd.Series:
        """Return the stripped text of a column; missing markers (empty, "—", "--") become ""."""
        if col is None:
            return pd.Series([""] * len(self), dtype="str")
        return pd.Series(self._text_list(col), dtype="str")

    def is_empty(self, col: int) -> bool:
        """Return whether every cell of a column is empty (spaces only)."""
        return not any(c.strip() for c in set(self._cols[col]))

    def blank(self, col: int | None) -> np.ndarray:
        """Return where a column is empty (or a missing marker); all True for an absent column."""
        if col is None:
            return np.ones(len(self), dtype=bool)
        return np.fromiter((not v for v in self._text_list(col)), dtype=bool, count=len(self))

    # ---- errors ---------------------------------------------------------------------
    def error(self, pos: int, col: int | str | None, what: str) -> IngestError:
        """Return an IngestError for the record at 0-based position ``pos``."""
        return self._error_at(pos, col, lambda where: f"{where}: {what}")

    def _error_at(self, pos: int, col: int | str | None, message) -> IngestError:
        """Return an IngestError whose text is ``message(where)`` (file, row, line, column)."""
        column = self.header[col] if isinstance(col, int) else col
        row = self.row(pos)
        line = self.lines[pos]
        where = f"{self.name}: data row {row} ({self.where} {line})"
        if column is not None:
            where += f', column "{column.strip()}"'
        return IngestError(message(where), file=self.name, row=row, line=line, column=column)

    # ---- numbers --------------------------------------------------------------------
    def number(
        self,
        col: int | None,
        *,
        nonneg: bool = True,
        what: str = "value",
        rows: np.ndarray | None = None,
    ) -> pd.Series:
        """Return a float column; missing markers become NaN, text is an error.

        Cells are read with the file's decimal mark (:meth:`decimal_mark`): "1,234.56" with
        a decimal point, "1 234,56" or "1.234,56" with a decimal comma. Thousands separators
        count only in whole groups of three digits; a cell that is malformed ("1,2,3"),
        written with the other mark, or ambiguous ("1,234" in a file that never shows its
        mark) is an error naming the cell. Typed cells of a workbook are taken as they are.
        ``rows`` restricts the checks to the records that are kept (a summary row may hold
        anything).
        """
        if col is None:
            return pd.Series(np.nan, index=range(len(self)), dtype="float64")
        cells = self._cols[col]
        codes, uniques = pd.factorize(np.asarray(cells, dtype=object), sort=False)
        self.refuse_controls(col, cells, uniques, rows)
        both = [self._both(c) for c in uniques]
        needs_mark = any(_differs(en, eu) for en, eu in both)
        mark = self.decimal_mark() if needs_mark else "."
        u_values = np.array(
            [np.nan if v is None else v for v in (en if mark == "." else eu for en, eu in both)],
            dtype="float64",
        )
        u_bad = np.array([en is None and eu is None for en, eu in both], dtype=bool)
        u_other = (
            np.array([(en if mark == "." else eu) is None for en, eu in both], dtype=bool) & ~u_bad
        )
        check = np.ones(len(self), dtype=bool) if rows is None else rows
        for flags, message in (
            (u_bad, lambda c: f"{c!r} is not a number (expected the {what})"),
            (u_other, lambda c: self._wrong_mark(c, mark, what)),
        ):
            if flags.any():
                hit = flags[codes] & check
                if hit.any():
                    pos = int(np.flatnonzero(hit)[0])
                    raise self.error(pos, col, message(cells[pos]))
        values = u_values[codes] if len(uniques) else np.full(len(cells), np.nan)
        if nonneg:
            neg = (values < 0) & check
            if neg.any():
                pos = int(np.flatnonzero(neg)[0])
                raise self.error(
                    pos, col, f"negative {what} {cells[pos].strip()!r}; it cannot be < 0"
                )
        self._refuse_too_large(col, cells, values, check, what)
        return pd.Series(values, dtype="float64")

    def _refuse_too_large(self, col: int, cells, values: np.ndarray, check, what: str) -> None:
        """Refuse a number above the bound of its kind (:func:`forecasting.history.too_large`)."""
        limit = number_limit(what)
        over = (np.abs(values) > limit) & check
        if over.any():
            pos = int(np.flatnonzero(over)[0])
            raise self.error(pos, col, too_large(what, cells[pos].strip(), limit))

    def _both(self, cell: str) -> tuple[float, float] | tuple[float | None, float | None]:
        """Return (value with a decimal point, value with a decimal comma) of a cell.

        nan for an empty cell, None where the cell is not a number written that way.
        """
        key = cell if type(cell) is str else ("typed", cell)
        got = self._parsed.get(key)
        if got is None:
            if isinstance(cell, NumberCell):
                got = (float(cell), float(cell))
            else:
                text = cell.strip()
                got = (math.nan, math.nan) if text in MISSING_MARKERS else parse_both(text)
            self._parsed[key] = got
        return got

    def decimal_mark(self) -> str:  # noqa: C901 (long: not split yet)
        """Return the file's decimal mark, "." or ",", decided once for the whole file.

        ``decimal`` when the importer set it; else the unambiguous number cells of the file
        ("1,234.56", "12.5" say "."; "1 234,56", "41,5" say ","; a column counts only when
        all its cells are numbers); else ``decimal_hint`` (the header language: French Meta
        exports write ","). Cells that say both marks, or none and no hint, are an error at
        the first cell concerned.
        """
        if self.decimal is not None:
            return self.decimal
        seen: dict[str, tuple[int, int]] = {}  # mark -> (col, pos) of its first cell
        count = {".": 0, ",": 0}  # distinct cells that show each mark
        ambiguous: tuple[int, int] | None = None
        for col, cells in enumerate(self._cols):
            found: dict[str, int] = {}
            amb = None
            for cell in dict.fromkeys(cells):
                en, eu = self._both(cell)
                if en is None and eu is None:
                    break  # a text column: its cells say nothing
                if en is None or eu is None:
                    mark = "." if eu is None else ","
                    if mark not in found:
                        found[mark] = cells.index(cell)
                    count[mark] += 1
                elif amb is None and _differs(en, eu):
                    amb = cells.index(cell)
            else:
                for mark, pos in found.items():
                    seen.setdefault(mark, (col, pos))
                if amb is not None and ambiguous is None:
                    ambiguous = (col, amb)
        if len(seen) == 2:
            # blame the first cell of the mark fewer cells show (the later one on a tie)
            odd = min(seen, key=lambda m: (count[m], -seen[m][1], -seen[m][0]))
            (c2, p2), (c1, p1) = seen[odd], seen["," if odd == "." else "."]
            first = self._cols[c1][p1].strip()
            raise self.error(
                p2,
                c2,
                f"{self._cols[c2][p2].strip()!r} and {first!r} (data row {self.row(p1)}, column "
                f'"{self.header[c1].strip()}") use different decimal marks; one file must '
                'write its numbers one way: with a decimal point ("1,234.56") or a decimal '
                'comma ("1 234,56")',
            )
        if seen:
            mark = next(iter(seen))
            col, pos = seen[mark]
            self.decimal_reason = (
                f"as {self._cols[col][pos].strip()!r} (data row {self.row(pos)}, column "
                f'"{self.header[col].strip()}") shows'
            )
        elif self.decimal_hint is not None:
            mark = self.decimal_hint
            self.decimal_reason = "as the language of its headers says"
        else:
            if ambiguous is not None:
                col, pos = ambiguous
                cell = self._cols[col][pos].strip()
                en, eu = self._both(self._cols[col][pos])
                raise self.error(
                    pos,
                    col,
                    f"{cell!r} is ambiguous: {_shown(en)} with a decimal point or {_shown(eu)} "
                    "with a decimal comma, and no other number of the file shows which mark "
                    "it uses; re-export it with decimals written out, or without thousands "
                    "separators",
                )
            mark = "."
            self.decimal_reason = "no cell says otherwise"
        self.decimal = mark
        return mark

    def _wrong_mark(self, cell: str, mark: str, what: str) -> str:
        other = "," if mark == "." else "."
        return (
            f"{cell.strip()!r} is written with {MARKS[other]} but the file uses {MARKS[mark]}"
            f"{', ' + self.decimal_reason if self.decimal_reason else ''}; expected the {what} "
            f'with "{mark}" as the decimal mark and thousands in whole groups of three digits'
        )

    # ---- dates ----------------------------------------------------------------------
    def date(
        self,
        col: int,
        formats: Sequence[str],
        *,
        rows: np.ndarray | None = None,
        hint: str = "YYYY-MM-DD",
    ) -> pd.Series:
        """Return a day column parsed with the first matching of ``formats``.

        A non-empty cell that matches none is an error (empty cells stay NaT for the caller
        to judge).
        """
        texts = self._text_list(col)
        codes, uniques = pd.factorize(pd.Series(texts, dtype="object"), sort=False)
        u = pd.Series(uniques, dtype="str").str.replace(r"[\u00a0\u202f]", " ", regex=True)
        parsed_u = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
        todo = u != ""
        check = np.ones(len(self), dtype=bool) if rows is None else rows
        for fmt in formats:
            if not todo.any():
                break
            parsed = pd.to_datetime(u.where(todo, None), format=fmt, errors="coerce")
            got = parsed.notna() & todo
            # a day outside 1900..2200 is refused here, as validate_history refuses it: the
            # nanosecond dates of the history cannot even hold one beyond 2262
            outside = got & ((parsed < FIRST_DAY) | (parsed > LAST_DAY))
            if outside.any():
                bad_rows = outside.to_numpy()[codes] & check
                if bad_rows.any():
                    pos = int(np.flatnonzero(bad_rows)[0])
                    raise self.error(pos, col, outside_days(parsed.iloc[codes[pos]]))
                got = got & ~outside  # in rows the caller does not read: left empty
            parsed_u = parsed_u.where(~got, parsed.where(got).astype("datetime64[ns]"))
            todo = todo & ~got
        bad = todo.to_numpy()[codes] & check
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise self.error(pos, col, f"{self._cols[col][pos]!r} is not a date (expected {hint})")
        values = parsed_u.dt.normalize().to_numpy()[codes]
        return pd.Series(values, dtype="datetime64[ns]")


_CURRENCY = "$€£¥"
_PAD = _CURRENCY + " \t\u00a0\u202f"
#: a number with an optional exponent and no grouping: the same under both conventions
#: when it has no decimal part
_EN = re.compile(
    r"(?:[1-9][0-9]{0,2}(?P<g>[, \u00a0\u202f])[0-9]{3}(?:(?P=g)[0-9]{3})*(?:\.[0-9]+)?"
    r"|(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
)
_EU = re.compile(
    r"(?:[1-9][0-9]{0,2}(?P<g>[. \u00a0\u202f])[0-9]{3}(?:(?P=g)[0-9]{3})*(?:,[0-9]+)?"
    r"|[0-9]+(?:,[0-9]+)?)"
)
_GROUP = re.compile(r"[,. \u00a0\u202f]")

#: the two decimal marks, as named in messages
MARKS = {".": 'a decimal point ("1,234.56")', ",": 'a decimal comma ("1 234,56" or "1.234,56")'}


def _differs(en: float | None, eu: float | None) -> bool:
    """Return whether the two readings of a cell disagree (one of them failing counts)."""
    if en is None or eu is None:
        return en is not eu
    return en != eu and not (math.isnan(en) and math.isnan(eu))


def _shown(x: float | None) -> str:
    return "not a number" if x is None else f"{x:.12g}"


def _sign_and_body(text: str) -> tuple[float, str]:
    t = text.replace("\u2212", "-").strip(_PAD)
    sign = 1.0
    if t[:1] in "+-":
        sign, t = (-1.0 if t[0] == "-" else 1.0), t[1:].strip(_PAD)
    return sign, t


def parse_both(text: str) -> tuple[float | None, float | None]:
    """Read a non-empty cell with a decimal point and with a decimal comma.

    Returns (value or None, value or None). Thousands separators count only in whole groups
    of three digits ("1,234,567.5"; "1.234.567,5", "1 234 567,5"); currency signs and a sign
    are allowed.
    """
    if text.isascii() and text.isdigit():
        return float(text), float(text)
    sign, body = _sign_and_body(text)
    en = eu = None
    m = _EN.fullmatch(body)
    if m:
        plain = body.replace(m.group("g"), "") if m.group("g") else body
        en = sign * float(plain)
    m = _EU.fullmatch(body)
    if m:
        plain = body.replace(m.group("g"), "") if m.group("g") else body
        eu = sign * float(plain.replace(",", "."))
    if en is not None and not math.isfinite(en):
        en = None
    if eu is not None and not math.isfinite(eu):
        eu = None
    return en, eu


def _parse_number(text: str, decimal: str) -> float | None:
    """Read a cell as a float under one decimal mark.

    nan when empty, None when it is not a number written with that mark (see
    :func:`parse_both`).
    """
    if not text:
        return float("nan")
    en, eu = parse_both(text)
    return en if decimal == "." else eu


def parse_dates_loose(text: str, formats: Iterable[str]) -> dt.date | None:
    """Parse one date written in one of ``formats`` (used for report preamble lines)."""
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
