"""``ingest_files``: platform exports in, one canonical history and a report out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.errors import IngestError
from forecasting.history import CANONICAL_COLUMNS, KEY_COLUMNS, validate_history
from forecasting.ingest._table import RawTable
from forecasting.ingest.arrow_csv import ArrowTable
from forecasting.ingest.detect import Source, open_table
from forecasting.ingest.report import FileReport, IngestReport
from forecasting.progress import Progress

_SUMMED = ("spend", "results", "impressions", "clicks")


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The merged canonical history and what was done to get it."""

    history: pd.DataFrame
    report: IngestReport


def _zero_activity(frame: pd.DataFrame) -> np.ndarray:
    zero = (frame["spend"].to_numpy() == 0) & (frame["results"].to_numpy() == 0)
    for col in ("impressions", "clicks"):
        if col in frame.columns:
            v = frame[col].to_numpy(dtype="float64")
            zero &= np.isnan(v) | (v == 0)
    return zero


def _merge_same_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Sum the rows of one export that share a key: canonical history has one row per key.

    The key is date x network x segment x result_type x campaign (ads of one ad set,
    repeated ids).
    """
    key = [c for c in KEY_COLUMNS if c in frame.columns]
    frame = frame.assign(_k=frame["campaign"].fillna("\x00")) if "campaign" in key else frame
    gkey = [("_k" if c == "campaign" else c) for c in key]
    if not frame.duplicated(gkey).any():
        return frame.drop(columns=["_k"], errors="ignore")
    groups = frame.groupby(gkey, sort=False, dropna=False)
    parts = []
    for col in frame.columns:
        if col in gkey:
            continue
        if col in ("spend", "results"):
            parts.append(groups[col].sum())
        elif col in _SUMMED:  # impressions, clicks: unknown stays unknown
            parts.append(groups[col].sum(min_count=1))
        elif col == "_pos":  # the first row's line, for messages
            parts.append(groups[col].min())
        else:  # currency, campaign
            parts.append(groups[col].first())
    out = pd.concat(parts, axis=1).reset_index()
    return out.drop(columns=["_k"], errors="ignore")


def ingest_file(path: str | Path, source: str | None = None) -> tuple[pd.DataFrame, FileReport]:
    """Read one export as canonical history (sorted, rows sharing a key summed) and its report."""
    history, report = _ingest_path(path, source)
    return history.drop(columns=["_line"]), report


def _ingest_path(path, source) -> tuple[pd.DataFrame, FileReport]:
    src, table = open_table(path, source)
    report = FileReport(file=table.name, source=src.name, rows_read=len(table))
    frame = _kept_rows(src, table, report)
    lines = np.asarray(table.lines, dtype=np.int64)[frame["_pos"].to_numpy()]
    del table  # the cells: what is kept of them is in frame
    data = frame[[c for c in CANONICAL_COLUMNS if c in frame.columns]]
    del frame
    history = validate_history(data, source=report.file, lines=lines)
    del data
    history = history.assign(_line=lines)
    history = _sort_rows(history)  # empties the frame it sorts: no other name may hold it
    report.describe(history)
    return history, report


def _kept_rows(src: Source, table: RawTable | ArrowTable, report: FileReport) -> pd.DataFrame:
    """Return the rows of ``table`` the ingest keeps (canonical columns and ``_pos``).

    Rows without activity are skipped (``src.skip_zero``) and the rows of one export sharing a
    key summed; ``report`` gets the counts, the skipped amounts and the notes.
    """
    ext = table.extract if isinstance(table, ArrowTable) else src.extract(table)
    frame = ext.frame
    skipped = dict(ext.skipped)
    skipped_spend = dict(ext.skipped_spend)
    skipped_results = dict(ext.skipped_results)
    if src.skip_zero and len(frame):
        zero = _zero_activity(frame)
        if zero.any():
            skipped["zero_activity"] = skipped.get("zero_activity", 0) + int(zero.sum())
            skipped_spend["zero_activity"] = skipped_spend.get("zero_activity", 0.0)
            skipped_results["zero_activity"] = skipped_results.get("zero_activity", 0.0)
            frame = frame[~zero].reset_index(drop=True)
    report.skipped = skipped
    report.skipped_spend = skipped_spend
    report.skipped_results = skipped_results
    report.rows_kept = len(frame)
    report.notes = list(ext.notes)
    if report.rows_read == 0:
        report.notes.append("only a header, no data rows: nothing to read from this file")
    if report.rows_kept + sum(skipped.values()) != report.rows_read:  # pragma: no cover
        raise AssertionError(f"{table.name}: rows do not add up")
    currencies = frame["currency"].dropna().unique() if "currency" in frame.columns else []
    if len(currencies) > 1:
        report.notes.append(
            f"several currencies in one file ({', '.join(sorted(currencies))}); spend is not "
            "converted"
        )
    if src.skip_zero:
        frame = _merge_same_key(frame)
    return frame


def _sort_rows(history: pd.DataFrame) -> pd.DataFrame:
    """Return ``history`` sorted by its key columns, missing campaigns first; stable.

    The order ``sort_values`` gives (codes of each key in sorted order, ``np.lexsort``); the
    columns are moved out of ``history`` one at a time, so that memory holds one copy of the
    rows and one column, not two copies of the rows.
    """
    by = [c for c in KEY_COLUMNS if c in history.columns]
    codes = [pd.factorize(history[c], sort=True)[0] for c in by]  # missing: -1, first
    order = np.lexsort(codes[::-1])
    del codes
    columns = {}
    for col in list(history.columns):
        values = history.pop(col).array
        columns[col] = pd.Series(values.take(order), copy=False)
        del values
    return pd.DataFrame(columns)


def ingest_files(
    paths: Iterable[str | Path] | str | Path,
    source: str | None = None,
    *,
    on_progress: Progress | None = None,
) -> IngestResult:
    """Read every export in ``paths`` into one canonical history.

    The format is detected per file, or forced with ``source``. The history is sorted by
    date, network, segment, result_type, campaign.

    Within one file, rows sharing date x network x segment x result_type x campaign are summed
    (counted as merged in the report). Across files such a shared key is an error naming both
    files: the same export given twice must not be double counted. ``on_progress(file, i, n)``
    (message, done, total) is called before each file.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise IngestError("no files to ingest")
    report = IngestReport()
    parts: list[pd.DataFrame] = []
    for i, p in enumerate(paths):
        if on_progress is not None:
            on_progress(str(p), i, len(paths))
        hist, file_report = _ingest_path(p, source)  # keeps _line for overlap messages
        parts.append(hist)
        report.files.append(file_report)
    if len(parts) > 1:
        merged = pd.concat(
            [
                h.assign(_file=str(p), _fileno=i)
                for i, (p, h) in enumerate(zip(paths, parts, strict=True))
            ],
            ignore_index=True,
        )
        _refuse_overlaps(merged)
        merged = _sort_rows(merged.drop(columns=["_line", "_file", "_fileno"]))
    else:  # one file: sorted already
        merged = parts[0].drop(columns=["_line"])
    del parts
    cols = [c for c in CANONICAL_COLUMNS if c in merged.columns]
    history = merged[cols]
    for col in ("currency", "campaign"):
        if col in history.columns and history[col].dtype != "str":
            history = history.assign(**{col: history[col].astype("str")})
    if len(report.files) == 1:  # the history is that file's: so is its summary
        report.take_summary(report.files[0])
    else:
        report.describe(history)
    return IngestResult(history=history, report=report)


def load_history(
    paths: Iterable[str | Path] | str | Path,
    source: str | None = None,
    *,
    on_progress: Progress | None = None,
) -> pd.DataFrame:
    """Return the canonical history in ``paths``: the one way commands and the service read it.

    Any file ``adplan ingest`` reads is accepted (a platform export, CSV or XLSX, or the
    canonical history CSV/XLSX), the format detected from its header or forced with
    ``source``; several files are merged as :func:`ingest_files` merges them. The errors are
    the same wherever the history comes from: a missing file, a directory, an unknown format
    or a bad cell name the file, the row (and line) and the column.
    """
    return ingest_files(paths, source, on_progress=on_progress).history


def _refuse_overlaps(merged: pd.DataFrame) -> None:
    if merged["_fileno"].nunique() < 2:
        return
    key = [c for c in KEY_COLUMNS if c in merged.columns]
    keys = merged[key].assign(
        **({"campaign": merged["campaign"].fillna("")} if "campaign" in key else {})
    )
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    first = int(np.flatnonzero(dup)[0])
    same = np.flatnonzero(dup & (keys == keys.iloc[first]).all(axis=1).to_numpy())
    a, b = merged.iloc[same[0]], merged.iloc[same[1]]
    what = ", ".join(f"{c}={a[c].date() if c == 'date' else a[c]}" for c in key if pd.notna(a[c]))
    other = f"file {a['_fileno'] + 1} ({a['_file']})" if a["_file"] == b["_file"] else a["_file"]
    raise IngestError(
        f"{b['_file']}: line {b['_line']} repeats a row of {other} (line {a['_line']}): "
        f"{what}. Two files cover the same date x network x segment x result_type x campaign; "
        "ingest each export once, or sum the rows beforehand",
        file=str(b["_file"]),
        line=int(b["_line"]),
    )
