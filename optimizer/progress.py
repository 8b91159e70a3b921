"""The one progress-callback signature of adplan's packages.

Every function that reports progress takes ``on_progress: Progress | None`` and calls it as
``on_progress(message, done, total)``: what it is doing, how many steps are done, out of how
many. Defined here, in the lowest layer (``optimizer.frontier`` reports each budget), and
shared by forecasting, scenarios, the service and the CLI.
"""

from __future__ import annotations

from collections.abc import Callable

#: ``on_progress(message, done, total)``
Progress = Callable[[str, int, int], None]


def no_progress(_message: str, _done: int, _total: int) -> None:
    """Ignore a progress report (the ``on_progress`` of a caller that shows none)."""


__all__ = ["Progress", "no_progress"]
