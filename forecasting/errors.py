"""Errors raised by forecasting (ingest, models, backtests, curves).

::

    ForecastingError
    ├── IngestError            a file cannot be read as ad history; names file, row, line, column
    └── InsufficientDataError  too little history to fit or backtest what was asked

Only the edges (CLI, HTTP) translate these into exit codes and status codes.
"""

from __future__ import annotations


class ForecastingError(Exception):
    """Root of every error forecasting raises."""


class IngestError(ForecastingError, ValueError):
    """A file cannot be read as ad history.

    The message names the file, the 1-based data row and the file line where known, the
    column, and what is wrong; the same facts are kept as attributes for the API.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.row = row
        self.line = line
        self.column = column


class InsufficientDataError(ForecastingError):
    """Too little history for what was asked (names the line or the span)."""
