"""Errors raised by scenarios (scenario files, runs, comparisons, re-plans, exports).

::

    ScenarioError
    ├── ScenarioFileError   a scenario file is malformed; names the file and the key path
    ├── ExportError         a plan cannot be exported (unknown suffix, malformed plan)
    └── ActualsError        actuals for a re-plan do not match the plan (names line / period)

Errors from optimizer (``OptimizerError``) and forecasting (``ForecastingError``) pass
through unchanged. Only the edges (CLI, HTTP) translate these into exit codes.
"""

from __future__ import annotations


class ScenarioError(Exception):
    """Root of every error scenarios raises."""


class ScenarioFileError(ScenarioError, ValueError):
    """A scenario file is malformed; the message names the file and the key path."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.key = key


class ExportError(ScenarioError, ValueError):
    """A plan cannot be exported (unknown format, malformed plan)."""


class ActualsError(ScenarioError, ValueError):
    """Actual spend given to a re-plan cannot be matched to the plan's lines."""
