"""Reading an XLSX workbook as text records, within bounds a hostile file cannot push.

An XLSX is a zip of XML parts. Before openpyxl opens one, :func:`check_archive` refuses:

- more than :data:`MAX_PARTS` parts;
- parts that decompress to more than :data:`MAX_XLSX_BYTES` together (the sizes the zip
  directory declares; Python's zipfile never inflates a part beyond its declared size: it
  stops there and the CRC check fails, so a part that lies about its size cannot grow);
- a part over :data:`RATIO_FROM_BYTES` that decompresses to more than :data:`MAX_RATIO`
  times its compressed size (a zip bomb; a real sheet compresses about 12 times);
- a part other than a worksheet or the shared strings over :data:`MAX_OTHER_PART_BYTES`,
  and shared strings over :data:`MAX_SHARED_STRINGS_BYTES` (openpyxl holds those in memory);
- an XML part that declares a ``<!DOCTYPE>`` (entity expansion: no workbook needs one).

Each sheet is then streamed row by row (:func:`_sheet_rows`), whatever its declared
``<dimension ref=...>``: openpyxl's read-only ``iter_rows`` trusts that element and cuts
the sheet to it (a sheet declaring ``A1`` would be read as one cell). Only the rows that
hold a value are kept, each up to its last value; every parsed XML element is released as
soon as it is read. Rows out of order or repeated and cells repeated in a row (openpyxl
would drop them silently) are refused, as is a sheet beyond :data:`MAX_CELLS` cells kept.
"""

from __future__ import annotations

import io
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import ParseError, iterparse

from forecasting.errors import IngestError
from forecasting.ingest._table import cell_text, column_letter

MiB = 2**20
#: the most a workbook may decompress to, all its parts together
MAX_XLSX_BYTES = 512 * MiB
#: the largest compression ratio of a part (POI's zip-bomb default: 1/0.01)...
MAX_RATIO = 100
#: ...checked on the parts that decompress to more than this
RATIO_FROM_BYTES = 1 * MiB
#: the shared strings table (held in memory by openpyxl)
MAX_SHARED_STRINGS_BYTES = 64 * MiB
#: any other part but the worksheets (styles, workbook, relationships: parsed whole)
MAX_OTHER_PART_BYTES = 16 * MiB
#: the most parts a workbook may have
MAX_PARTS = 10_000
#: the most cells kept from a workbook (every row counts up to its last value): 2**24,
#: a full sheet (1,048,576 rows) of 16 columns
MAX_CELLS = 2**24
#: the most XML elements one cell may hold (rich-text runs of an inline string)
MAX_CELL_ELEMENTS = 10_000

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL = _NS + "row", _NS + "c"
_EXPORT_AGAIN = "open it in Excel and save it again, or export it as CSV"
#: what reading a damaged part raises (a bad CRC: a part longer than it declares, ...)
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError)


def _mib(n: int) -> str:
    return f"{n / MiB:,.0f} MiB" if n >= MiB else f"{n:,} bytes"


def _refuse(name: str, what: str) -> IngestError:
    return IngestError(f"{name}: {what}", file=name)


def _kind(part: str) -> str:
    """Return ``sheet``, ``strings`` or ``other``: which size limit a part is held to."""
    low = part.lower()
    if low.startswith("xl/worksheets/") and low.endswith(".xml") and low.count("/") == 2:
        return "sheet"
    if low.rsplit("/", 1)[-1] == "sharedstrings.xml":
        return "strings"
    return "other"


def _check_part(name: str, info: zipfile.ZipInfo) -> None:
    """Refuse one part by its declared size and compression ratio."""
    size, packed = info.file_size, max(info.compress_size, 1)
    if size > RATIO_FROM_BYTES and size > MAX_RATIO * packed:
        raise _refuse(
            name,
            f"the part {info.filename} of the workbook inflates from {_mib(packed)} to "
            f"{_mib(size)} ({size // packed:,} times; adplan reads parts compressed at most "
            f"{MAX_RATIO} times): this is a zip bomb or a damaged file; {_EXPORT_AGAIN}",
        )
    limit = {"strings": MAX_SHARED_STRINGS_BYTES, "other": MAX_OTHER_PART_BYTES}.get(
        _kind(info.filename)
    )
    if limit is not None and size > limit:
        raise _refuse(
            name,
            f"the part {info.filename} of the workbook decompresses to {_mib(size)}, more "
            f"than the {_mib(limit)} adplan reads in such a part; {_EXPORT_AGAIN}",
        )


def _no_doctype(name: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse an XML part that declares a DOCTYPE (entities could expand without bound)."""
    if not info.filename.lower().endswith((".xml", ".rels")):
        return
    with zf.open(info) as fh:
        head = fh.read(4096)
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
        raise _refuse(
            name,
            f"the part {info.filename} of the workbook declares a DOCTYPE, which no Excel "
            f"workbook has (its entities could expand without bound); {_EXPORT_AGAIN}",
        )


def check_archive(raw: bytes, name: str) -> None:
    """Refuse a workbook whose parts would decompress beyond the limits (module docstring).

    Raises :class:`IngestError` naming the file, the part and the limit; a zip that cannot
    be read at all is left to openpyxl, which says so.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError):
        return
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_PARTS:
            raise _refuse(
                name,
                f"the workbook has {len(infos):,} parts; adplan reads at most {MAX_PARTS:,} "
                f"(a real export has a few dozen); {_EXPORT_AGAIN}",
            )
        for info in infos:
            _check_part(name, info)
        total = sum(i.file_size for i in infos)
        if total > MAX_XLSX_BYTES:
            raise _refuse(
                name,
                f"the workbook decompresses to {_mib(total)}, more than the "
                f"{_mib(MAX_XLSX_BYTES)} adplan reads from one workbook; export it as CSV "
                "(no such limit) or split it into several files",
            )
        try:
            for info in infos:
                _no_doctype(name, zf, info)
        except _DAMAGED as e:
            raise _unreadable(name, e) from None


def xlsx_records(path: Path, name: str, raw: bytes | None = None):
    """Return every sheet of a workbook as (title, records, sheet rows): cells as text.

    Typed numbers are rendered exactly (floats by ``repr``, see :func:`cell_text`). Opened
    from its bytes, so that a workbook is read whatever its name (openpyxl refuses a path
    not named .xlsx). Rows without a value are left out (blank rows are not rows); the
    sheet row of each record is kept for messages.
    """
    import openpyxl

    data = path.read_bytes() if raw is None else raw
    check_archive(data, name)
    with warnings.catch_warnings():  # openpyxl's warnings: the cells concerned are named
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        return _read_sheets(openpyxl, data, name)


def _read_sheets(openpyxl, data: bytes, name: str):
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise _unreadable(name, e) from None
    try:
        budget = [MAX_CELLS]
        sheets = []
        for ws in wb.worksheets:
            records, lines = [], []
            for row, record in _sheet_rows(wb, ws, name, budget):
                records.append(record)
                lines.append(row)
            sheets.append((ws.title, records, lines))
        return sheets
    finally:
        wb.close()


def _unreadable(name: str, e: Exception) -> IngestError:
    return _refuse(
        name,
        f"not a readable Excel workbook ({type(e).__name__}: {e}); the file may be damaged: "
        "export it again as .xlsx or CSV",
    )


def _sheet_rows(wb, ws, name: str, budget: list[int]) -> Iterator[tuple[int, list[str]]]:
    """Yield (sheet row, text cells) of each row of ``ws`` that holds a value.

    The sheet XML is parsed here, whatever its declared dimension, and each cell is read by
    openpyxl's own cell parser (shared strings, dates by number format, inline strings).
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    parser = WorkSheetParser(
        None,
        ws._shared_strings,
        data_only=True,
        epoch=wb.epoch,
        date_formats=wb._date_formats,
        timedelta_formats=wb._timedelta_formats,
    )
    sheet = _SheetState(name, ws.title, budget)
    try:
        with ws._get_source() as src:
            yield from sheet.rows(iterparse(src, events=("start", "end")), parser)
    except IngestError:
        raise
    except (*_DAMAGED, ParseError, ValueError, IndexError, KeyError, OverflowError,
            TypeError) as e:  # fmt: skip
        raise _unreadable(name, e) from None


class _SheetState:
    """The row being read from one sheet, and the checks on rows and cells."""

    def __init__(self, name: str, title: str, budget: list[int]) -> None:
        self.name, self.title, self.budget = name, title, budget
        self.prev_row = 0
        self.cells: list[tuple[int, str]] = []
        self.in_cell = 0  # elements of the cell being read (0: outside a cell)

    def where(self, row: int) -> str:
        return f'{self.name}: sheet "{self.title}", row {row}'

    def rows(self, events, parser) -> Iterator[tuple[int, list[str]]]:
        """Yield the rows with a value; release every element once it is read."""
        stack: list = []
        for event, el in events:
            if event == "start":
                stack.append(el)
                self._start(el, parser)
                continue
            stack.pop()
            if el.tag == _CELL:
                self._cell(parser.parse_cell(el), parser.row_counter)
            elif el.tag == _ROW:
                record = self._record(parser.row_counter)
                if record is not None:
                    yield parser.row_counter, record
            if not self.in_cell and stack:
                stack[-1].remove(el)  # its last child: constant time and memory

    def _start(self, el, parser) -> None:
        if self.in_cell:
            self.in_cell += 1
            if self.in_cell > MAX_CELL_ELEMENTS:
                raise IngestError(
                    f"{self.where(parser.row_counter)}: a cell holds more than "
                    f"{MAX_CELL_ELEMENTS:,} XML elements; the workbook is damaged or hostile: "
                    f"{_EXPORT_AGAIN}",
                    file=self.name,
                    line=parser.row_counter,
                )
        elif el.tag == _CELL:
            self.in_cell = 1
        elif el.tag == _ROW:
            self._start_row(el.get("r"), parser)

    def _start_row(self, r: str | None, parser) -> None:
        row = parser.row_counter + 1 if r is None else int(float(r))
        if row < 1:
            raise ValueError(f"row number {r!r}")
        if row <= self.prev_row:
            raise IngestError(
                f"{self.where(row)} comes after row {self.prev_row}: the sheet's rows are "
                f"out of order or repeated (a cell could be lost); {_EXPORT_AGAIN}",
                file=self.name,
                line=row,
            )
        parser.row_counter, parser.col_counter = row, 0
        self.prev_row = row
        self.cells = []

    def _cell(self, cell: dict, row: int) -> None:
        self.in_cell = 0
        column = cell["column"]
        if self.cells and column <= self.cells[-1][0]:
            here, prev = column_letter(column), column_letter(self.cells[-1][0])
            raise IngestError(
                f'{self.name}: sheet "{self.title}", cell {here}{row} comes after cell '
                f"{prev}{row}: the row's cells are out of order or repeated (a value could be "
                f"lost); {_EXPORT_AGAIN}",
                file=self.name,
                line=row,
            )
        if cell["value"] is not None:
            text = cell_text(cell["value"])
            if text != "":
                self.cells.append((column, text))

    def _record(self, row: int) -> list[str] | None:
        """Return the row's cells up to its last value (None for a row without one)."""
        if not self.cells:
            return None
        width = self.cells[-1][0]
        self.budget[0] -= width
        if self.budget[0] < 0:
            raise IngestError(
                f"{self.where(row)}: the workbook holds more than {MAX_CELLS:,} cells (every "
                "row counted up to its last value); adplan reads at most that many from one "
                "workbook: export it as CSV, or delete the empty columns between values",
                file=self.name,
                line=row,
            )
        record = [""] * width
        for column, text in self.cells:
            record[column - 1] = text
        return record
