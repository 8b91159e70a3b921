"""What an ingest did, file by file and in total: nothing is dropped silently.

For every file: ``rows_read`` (non-blank records below the header) =
``rows_kept`` + the sum of ``skipped`` (by reason), and ``rows_written`` = ``rows_kept`` -
``rows_merged`` (kept rows of one export that share date x network x segment x result_type x
campaign are summed into one canonical row). Spend and results skipped are reported per
reason, so that spend (results) written + spend (results) skipped = the spend (results) in
the file's data rows (summary and total rows excepted, whose amounts repeat the others').
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import pandas as pd

#: reasons a row is skipped, with the words the summary table shows
SKIP_REASONS: dict[str, str] = {
    "summary_row": "summary row",  # Meta's totals row: every name and breakdown cell empty
    "total_row": "total row",  # Google's "Total: ..." rows, TikTok's "Total of N results"
    "zero_activity": "zero activity",  # no spend, results, impressions or clicks
    "missing_result_type": "no result type",  # activity the export does not name
}


def _round(x: float) -> float:
    return round(x, 6)


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: _round(v) for k, v in values.items()}


@dataclass
class _Summary:
    """What a written history holds (span, names, totals by result type).

    The part the file report and the total report share. Subclasses provide ``skipped``,
    ``skipped_spend`` and ``skipped_results``.
    """

    rows_written: int = 0
    date_start: str | None = None
    date_end: str | None = None
    networks: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    spend_by_result_type: dict[str, float] = field(default_factory=dict)
    results_by_result_type: dict[str, float] = field(default_factory=dict)

    @property
    def rows_skipped(self) -> int:
        """Records skipped, all reasons together."""
        return sum(self.skipped.values())

    def describe(self, history: pd.DataFrame) -> None:
        """Fill the span, names and totals from the rows written."""
        self.rows_written = len(history)
        if len(history):
            self.date_start = history["date"].min().date().isoformat()
            self.date_end = history["date"].max().date().isoformat()
        self.networks = sorted(history["network"].unique().tolist())
        self.segments = sorted(history["segment"].unique().tolist())
        if "currency" in history.columns:
            self.currencies = sorted(history["currency"].dropna().unique().tolist())
        self.spend_by_result_type, self.results_by_result_type = _totals(history)

    def take_summary(self, other: _Summary) -> None:
        """Copy the span, names and totals of ``other``, a summary of the same rows."""
        for f in fields(_Summary):
            value = getattr(other, f.name)
            setattr(self, f.name, value.copy() if isinstance(value, list | dict) else value)

    def _as_dict(self, head: dict, tail: dict) -> dict:
        """Return ``head``, then the skips and the summary, then ``tail`` (the JSON key order)."""
        return {
            **head,
            "rows_skipped": self.rows_skipped,
            "skipped": dict(self.skipped),
            "skipped_spend": _rounded(self.skipped_spend),
            "skipped_results": _rounded(self.skipped_results),
            "date_start": self.date_start,
            "date_end": self.date_end,
            "networks": list(self.networks),
            "segments": list(self.segments),
            "currencies": list(self.currencies),
            "spend_by_result_type": _rounded(self.spend_by_result_type),
            "results_by_result_type": _rounded(self.results_by_result_type),
            **tail,
        }


@dataclass(kw_only=True)
class FileReport(_Summary):
    """One file's ingest."""

    file: str
    source: str
    rows_read: int = 0
    rows_kept: int = 0
    rows_merged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_spend: dict[str, float] = field(default_factory=dict)
    skipped_results: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def describe(self, history: pd.DataFrame) -> None:
        """Fill the span, names and totals from the rows this file wrote."""
        super().describe(history)
        self.rows_merged = self.rows_kept - self.rows_written

    def to_dict(self) -> dict:
        """Return the file's report as JSON-ready values (amounts rounded)."""
        head = {
            "file": self.file,
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_merged": self.rows_merged,
            "rows_written": self.rows_written,
        }
        return self._as_dict(head, {"notes": list(self.notes)})


def _add_up(parts) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in parts:
        for k, v in part.items():
            out[k] = out.get(k, 0.0) + v
    return out


def _totals(history: pd.DataFrame) -> tuple[dict[str, float], dict[str, float]]:
    spend: dict[str, float] = {}
    results: dict[str, float] = {}
    if len(history):
        codes, names = pd.factorize(history["result_type"], sort=True)
        all_spend, all_results = history["spend"].to_numpy(), history["results"].to_numpy()
        for k, rt in enumerate(names):
            rows = codes == k
            spend[str(rt)] = math.fsum(all_spend[rows])
            results[str(rt)] = math.fsum(all_results[rows])
    return spend, results


@dataclass
class IngestReport(_Summary):
    """Every file's :class:`FileReport` and the totals of the merged history."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Records read, over all files."""
        return sum(f.rows_read for f in self.files)

    @property
    def rows_merged(self) -> int:
        """Rows summed into another of the same key, over all files."""
        return sum(f.rows_merged for f in self.files)

    @property
    def skipped(self) -> dict[str, int]:
        """Records skipped per reason, over all files."""
        out: dict[str, int] = {}
        for f in self.files:
            for k, v in f.skipped.items():
                out[k] = out.get(k, 0) + v
        return out

    @property
    def skipped_spend(self) -> dict[str, float]:
        """Spend of the skipped records per reason, over all files."""
        return _add_up(f.skipped_spend for f in self.files)

    @property
    def skipped_results(self) -> dict[str, float]:
        """Results of the skipped records per reason, over all files."""
        return _add_up(f.skipped_results for f in self.files)

    def to_dict(self) -> dict:
        """Return the whole report, each file's included, as JSON-ready values."""
        head = {
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "rows_merged": self.rows_merged,
        }
        return self._as_dict(head, {"files": [f.to_dict() for f in self.files]})
