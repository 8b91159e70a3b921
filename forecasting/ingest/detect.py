"""Which importer reads a file, chosen by the file's own header line.

The first 40 lines (CSV in UTF-8 or UTF-16, split on commas, tabs or semicolons; every sheet
of an XLSX) are searched for a header that one of :data:`SOURCES` recognises; lines above it
(report titles, date ranges) are the preamble. ``source=`` forces an importer: its header is
then the first line it recognises, or else the first line with two cells or more, so that a
missing column is reported as such: a header with three canonical columns or more that no
format recognises is read as canonical history for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from forecasting.errors import IngestError
from forecasting.ingest import canonical, google, improvado, linkedin, meta, tiktok
from forecasting.ingest._base import Extract
from forecasting.ingest._table import (
    RawTable,
    decode,
    is_workbook,
    norm_header,
    split_records,
)
from forecasting.ingest._workbook import xlsx_records
from forecasting.ingest.arrow_csv import ArrowTable, read_canonical_csv

HEAD_LINES = 40
#: what to give instead of a directory (the same words in every command)
GIVE_HISTORY = "give the history CSV file (a platform export or adplan's canonical history)"
DELIMITERS = (",", "\t", ";")
#: a file's table: its cells (:class:`RawTable`), or a canonical history pyarrow read
Table = RawTable | ArrowTable


@dataclass(frozen=True, slots=True)
class Source:
    """One importer: its name (``--source``), what it reads, how it is recognised."""

    name: str
    label: str
    detect: str  # the headers that identify it, in words
    matches: Callable[[list[str]], bool]
    extract: Callable[[RawTable], Extract]
    skip_zero: bool = True  # drop rows with no spend, results, impressions or clicks


#: detection order: the most specific formats first
SOURCES: tuple[Source, ...] = (
    Source(canonical.NAME, canonical.LABEL, canonical.DETECT, canonical.matches,
           canonical.extract, skip_zero=False),
    Source("improvado-facebook", "Improvado MCDM raw Facebook export",
           "__insert_date, inline_link_clicks, objective, spend",
           improvado.matches_facebook, improvado.extract_facebook),
    Source("improvado-tiktok", "Improvado MCDM raw TikTok export",
           "__insert_date, adgroup_id, skan_app_install, spend",
           improvado.matches_tiktok, improvado.extract_tiktok),
    Source("improvado-bing", "Improvado MCDM raw Bing export",
           "__insert_date, imps, conv, spend", improvado.matches_bing, improvado.extract_bing),
    Source("improvado-twitter", "Improvado MCDM raw Twitter export",
           "__insert_date, url_clicks, engagements, spend",
           improvado.matches_twitter, improvado.extract_twitter),
    Source(linkedin.NAME, linkedin.LABEL, linkedin.DETECT, linkedin.matches, linkedin.extract),
    Source(tiktok.NAME, tiktok.LABEL, tiktok.DETECT, tiktok.matches, tiktok.extract),
    Source(google.NAME, google.LABEL, google.DETECT, google.matches, google.extract),
    Source(meta.NAME, meta.LABEL, meta.DETECT, meta.matches, meta.extract),
)  # fmt: skip

SOURCE_NAMES: tuple[str, ...] = tuple(s.name for s in SOURCES)
_BY_NAME = {s.name: s for s in SOURCES}


def get_source(name: str) -> Source:
    """Return the importer called ``name`` (``--source``; a few aliases such as ``facebook``)."""
    key = name.strip().lower()
    if key in ("facebook", "meta-ads", "instagram"):
        key = "meta"
    if key in ("google-ads", "adwords"):
        key = "google"
    try:
        return _BY_NAME[key]
    except KeyError:
        raise IngestError(
            f"unknown source {name!r}; choose one of {', '.join(SOURCE_NAMES)}"
        ) from None


def known_formats() -> str:
    """Return every importer's name, label and identifying headers, for messages."""
    return "; ".join(f"{s.name} ({s.label}: {s.detect})" for s in SOURCES)


def _unknown(name: str, header_hint: list[str]) -> IngestError:
    shown = ", ".join(f'"{h}"' for h in header_hint[:12] if h.strip())
    return IngestError(
        f"{name}: unknown format: no header line of a known export in its first {HEAD_LINES} "
        f"lines (first line: {shown or 'empty'}). Known formats: {known_formats()}. If the file "
        f"is one of these, name it with --source ({'|'.join(SOURCE_NAMES)}) to see which "
        "column is missing.",
        file=name,
    )


def _find_header(records, forced: Source | None, fallback: bool = False):
    """Return (index of the header record, the source) among the first records, or None.

    With ``fallback`` (a forced source whose header was not recognised), the first record
    with two cells or more, so that the importer can say which column is missing.
    """
    for i, rec in enumerate(records[:HEAD_LINES]):
        if fallback:
            if sum(1 for c in rec if c.strip()) >= 2:
                return i, forced
            continue
        norm = [norm_header(c) for c in rec]
        if forced is not None:
            if forced.matches(norm):
                return i, forced
            continue
        for s in SOURCES:
            if s.matches(norm):
                return i, s
    return None


def _find_loose_canonical(records):
    """Return (index, canonical source) of a header meant as canonical history, or None.

    A header with a column missing or misspelt (tried when no format matches, so that the
    column is named instead of "unknown format").
    """
    for i, rec in enumerate(records[:HEAD_LINES]):
        if canonical.looks_canonical([norm_header(c) for c in rec]):
            return i, _BY_NAME[canonical.NAME]
    return None


def load_table(path: str | Path, source: str | None = None) -> tuple[Source, RawTable]:
    """Read ``path`` and locate its header: the importer to use and the table below it."""
    src, table = _load(path, source, arrow=False)
    assert isinstance(table, RawTable)
    return src, table


def open_table(path: str | Path, source: str | None = None) -> tuple[Source, Table]:
    """Return the importer and the table of ``path``, as :func:`load_table` does.

    A canonical history CSV with its header on line 1 comes read by pyarrow
    (:func:`forecasting.ingest.arrow_csv.read_canonical_csv`: the same rows, values and
    errors, a fraction of the time and memory); its table is an :class:`ArrowTable` holding
    what the canonical importer extracts.
    """
    return _load(path, source, arrow=True)


def _load(path: str | Path, source: str | None, arrow: bool) -> tuple[Source, Table]:  # noqa: C901 (long: not split yet)
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise FileNotFoundError(f"{name}: no such file")
    if path.is_dir():
        raise IsADirectoryError(f"{name}: is a directory; {GIVE_HISTORY}")
    forced = get_source(source) if source else None
    raw = path.read_bytes()
    if is_workbook(raw, path, name):  # by content: a zip; a CSV named .xlsx is refused
        first: list[str] = []
        sheets = xlsx_records(path, name, raw)
        for _title, records, lines in sheets:
            if not first and records:
                first = records[0]
            found = _find_header(records, forced)
            if found is None and forced is not None:
                found = _find_header(records, forced, fallback=True)
            if found is not None:
                i, src = found
                return src, _table(name, records, lines, i, where="sheet row")
        for _title, records, lines in sheets if forced is None else ():
            found = _find_loose_canonical(records)
            if found is not None:
                return found[1], _table(name, records, lines, found[0], where="sheet row")
        raise _unknown(name, first)
    if not raw or raw.isspace():  # raw.strip() would copy the file
        raise IngestError(f"{name}: the file is empty", file=name)
    if arrow and (forced is None or forced.name == canonical.NAME):
        fast = read_canonical_csv(name, raw)
        if fast is not None:
            return _BY_NAME[canonical.NAME], fast
    try:
        text, _encoding = decode(raw)
    except IngestError as e:
        raise IngestError(f"{name}: {e}", file=name) from None
    heads = {}
    for delim in DELIMITERS:
        try:
            heads[delim], _ = split_records(text, delim, limit=HEAD_LINES)
        except IngestError:
            continue
    first = next((h[0] for h in heads.values() if h), [])
    found, delim = None, ","
    for candidate, head in heads.items():
        hit = _find_header(head, forced)
        if hit is not None and len(head[hit[0]]) >= 2:
            found, delim = hit, candidate
            break
    if found is None and forced is None:
        for candidate, head in heads.items():
            hit = _find_loose_canonical(head)
            if hit is not None and len(head[hit[0]]) >= 3:
                found, delim = hit, candidate
                break
    if found is None and forced is not None:
        # the delimiter that splits the first lines into the most cells
        delim = max(heads, key=lambda d: max((len(r) for r in heads[d]), default=0))
        found = _find_header(heads[delim], forced, fallback=True)
    if found is None:
        raise _unknown(name, first)
    i, src = found
    try:
        records, lines = split_records(text, delim)
    except IngestError as e:
        raise IngestError(f"{name}: {e}", file=name) from None
    return src, _table(name, records, lines, i, where="line")


def _table(name, records, lines, i, where) -> RawTable:
    keep = [j for j in range(i + 1, len(records)) if "".join(records[j]).strip()]
    header = records[i]
    if where == "sheet row":  # rows end at their last value: columns beyond the header's
        width = max((len(records[j]) for j in keep), default=0)  # get an empty header
        header = header + [""] * (width - len(header))
    return RawTable(  # blank lines are not rows
        name=name,
        header=header,
        records=[records[j] for j in keep],
        lines=[lines[j] for j in keep],
        preamble=records[:i],
        header_line=lines[i],
        where=where,
    )


def detect_source(path: str | Path) -> str:
    """Return the name of the importer that reads ``path`` (``meta``, ``google``...)."""
    src, _ = load_table(path)
    return src.name
