"""Forecast response curves for the optimizer from ad history.

adplan's forecasting: platform exports -> canonical history -> cost-per-result models ->
backtests -> concave response curves for the optimizer.

Names are imported lazily (PEP 562) so that ``import forecasting.errors`` and the CLI's
``--help`` stay free of pandas and scikit-learn.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    # errors
    "ForecastingError": "errors",
    "IngestError": "errors",
    "InsufficientDataError": "errors",
    # canonical history
    "CANONICAL_COLUMNS": "history",
    "read_history": "history",
    "write_history": "history",
    "validate_history": "history",
    "normalise_network": "history",
    # importers
    "ingest_files": "ingest",
    "load_history": "ingest",
    "IngestResult": "ingest",
    "IngestReport": "ingest",
    "detect_source": "ingest",
    # sample history
    "generate_sample_history": "sample",
    "sample_truth": "sample",
    "SampleTruth": "sample",
    # models, backtests and curves
    "run_backtest": "backtest",
    "BacktestResult": "backtest",
    "forecast_curves": "curves",
    "ForecastResult": "curves",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'forecasting' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"forecasting.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
