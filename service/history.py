"""The start-up history (``ADPLAN_HISTORY_PATH``) and the cache of its forecasts.

The history is read and validated once, when the app is built. Requests that give ``from``
and ``to`` but no history rows are forecast from it; each forecast is kept in a small
thread-safe LRU keyed by (from, to, period, result_type, cap_multiple, model, response), so
the models are fitted once per window and response options, not once per request. Concurrent
requests for a window being fitted wait for that fit instead of starting their own.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from forecasting.errors import ForecastingError
from forecasting.options import ResponseOptions

log = logging.getLogger("adplan.service")

#: the model the service forecasts with (the backtest's choice)
MODEL = "auto"

#: (from, to, period, result_type, cap_multiple, model, response): ``response`` is the
#: forecast's ``forecasting.options.ResponseOptions`` (a frozen dataclass: hashable)
CacheKey = tuple[date, date, str, str | None, float, str, ResponseOptions]


class StartupHistoryError(ForecastingError):
    """The start-up history or its forecast window cannot be used (names the setting)."""


@dataclass(slots=True)
class _Slot:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class ForecastCache:
    """A thread-safe LRU of forecasts: ``get(key, compute)`` runs ``compute`` once per key.

    ``info()`` gives ``size``, ``maxsize``, ``hits`` and ``fits`` (computations started).
    A computation that fails is not kept: the next request for that key tries again.
    """

    def __init__(self, maxsize: int = 16) -> None:
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._slots: OrderedDict[CacheKey, _Slot] = OrderedDict()
        self.hits = 0
        self.fits = 0

    def get(self, key: CacheKey, compute: Callable[[], Any]) -> Any:
        """Return the value for ``key``, computing it here or waiting for the caller who is.

        The first caller for a key runs ``compute`` outside the lock; later callers wait for
        it and get its value or its exception.
        """
        with self._lock:
            slot = self._slots.get(key)
            owner = slot is None
            if owner:
                slot = self._slots[key] = _Slot()
                self.fits += 1
                while len(self._slots) > self.maxsize:
                    self._slots.popitem(last=False)
            else:
                self._slots.move_to_end(key)
                self.hits += 1
        assert slot is not None  # found, or made above
        if not owner:
            slot.done.wait()
            if slot.error is not None:
                raise slot.error
            return slot.value
        try:
            slot.value = compute()
        except BaseException as e:
            slot.error = e
            with self._lock:
                if self._slots.get(key) is slot:
                    del self._slots[key]
            raise
        finally:
            slot.done.set()
        return slot.value

    def keys(self) -> list[CacheKey]:
        """Return the cached keys, least recently used first."""
        with self._lock:
            return list(self._slots)

    def info(self) -> dict:
        """Return the cache's ``size``, ``maxsize``, ``hits`` and ``fits``."""
        with self._lock:
            return {
                "size": len(self._slots),
                "maxsize": self.maxsize,
                "hits": self.hits,
                "fits": self.fits,
            }


@dataclass(frozen=True, slots=True)
class StartupHistory:
    """The validated history read at start-up, and what the limits need to know of it."""

    path: Path
    frame: Any  # the canonical pandas DataFrame
    rows: int
    pairs: frozenset  # its (network, segment) pairs

    @property
    def label(self) -> str:
        """Return the file name and row count, for messages."""
        return f"{self.path.name} ({self.rows:,} rows)"


def read_startup_history(path: Path) -> StartupHistory:
    """Read ``path`` with ``forecasting.load_history`` (any export ``adplan ingest`` reads).

    Any failure is a :class:`StartupHistoryError` naming ``ADPLAN_HISTORY_PATH``.
    """
    from forecasting import load_history

    path = Path(path).expanduser()
    try:
        hist = load_history(path)
    except (OSError, ValueError, ForecastingError) as e:
        raise StartupHistoryError(
            f"setting ADPLAN_HISTORY_PATH ({path}): cannot read it as ad history: {e}"
        ) from e
    if len(hist) == 0:
        raise StartupHistoryError(f"setting ADPLAN_HISTORY_PATH ({path}): the history has no rows")
    uniq = hist[["network", "segment"]].astype(str).drop_duplicates()
    pairs = frozenset(zip(uniq["network"], uniq["segment"], strict=True))
    log.info("start-up history: %d rows, %d lines from %s", len(hist), len(pairs), path)
    return StartupHistory(path=path, frame=hist, rows=len(hist), pairs=pairs)
