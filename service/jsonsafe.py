"""Make results safe for strict JSON: no NaN or infinity, no numpy scalars."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

_PLAIN = (str, int, bool, type(None))


def jsonsafe(obj):
    """A copy of ``obj`` that ``json.dumps(allow_nan=False)`` accepts.

    Non-finite floats become None; numpy scalars and arrays become Python numbers and lists;
    dates become ISO strings; tuples and sets become lists.
    """
    t = type(obj)
    if t is float:
        return obj if math.isfinite(obj) else None
    if t in _PLAIN:
        return obj
    if t is dict:
        return {k if type(k) is str else str(k): jsonsafe(v) for k, v in obj.items()}
    if t is list or t is tuple:
        return [jsonsafe(v) for v in obj]
    return _other(obj)


def _other(obj):
    if isinstance(obj, bool | str | int) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): jsonsafe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonsafe(v) for v in obj]
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    tolist = getattr(obj, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return jsonsafe(tolist())
    return str(obj)
