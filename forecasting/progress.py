"""The progress-callback signature, as forecasting and the layers above import it.

Defined once in :mod:`optimizer.progress`: ``on_progress(message, done, total)``.
"""

from __future__ import annotations

from optimizer.progress import Progress, no_progress

__all__ = ["Progress", "no_progress"]
