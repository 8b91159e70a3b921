"""A tuple made when first read: a plan's lines, unfunded lines and curve-end limits.

A plan of 208,000 lines took 9.7 s to make where sorting its tiers took 1.1 s (at b5b3fbd,
``benchmarks/bench_optimizer.py``): most of the time went into one Python object and one
sentence per line (its reason in words), which a caller asking for totals, a frontier or a
comparison never reads. :class:`Lazy` holds the
function that makes them and calls it once, on first read; until then it keeps what that
function needs (the solved model). It reads, compares, hashes and pickles as the tuple it
stands for (pickling makes it first, so a plan sent to another process carries its lines,
not its model).

``Lazy.columns`` (lines only): each line's curve line (its names), spend and expected
results as arrays, so that totals are summed without making the lines; the sums run in the
lines' order over the same floats, so they equal those over the lines to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class LineColumns:
    """Each planned line's curve line (``network``, ``segment``, ``period``), spend, results."""

    curve_lines: Sequence[Any]
    spend: np.ndarray
    results: np.ndarray
    #: the curves when ``curve_lines`` are all their lines, in order: groups found once there
    curves: Any = None


class Lazy(Sequence):
    """The tuple that ``make()`` returns, called on first read (see the module text).

    ``n``: how many items it makes, when known before (``len`` then makes nothing).
    """

    __slots__ = ("_make", "_items", "_n", "columns")

    def __init__(
        self, make: Callable[[], Sequence], n: int | None = None, columns: LineColumns | None = None
    ):
        self._make: Callable[[], Sequence] | None = make
        self._items: tuple | None = None
        self._n = n
        self.columns = columns

    @property
    def made(self) -> bool:
        """Return whether the items have been made."""
        return self._items is not None

    def items(self) -> tuple:
        """Return the items as a tuple, made now if they were not yet."""
        if self._items is None:
            make = self._make
            if make is None:  # another thread made them meanwhile (it sets _items first)
                return self._items  # type: ignore[return-value]
            items = tuple(make())
            if self._n is not None and len(items) != self._n:
                raise AssertionError(f"Lazy: {len(items)} items made, {self._n} announced")
            self._items, self._make = items, None  # let go of what making them needed
        return self._items

    def __len__(self) -> int:
        return len(self.items()) if self._n is None else self._n

    def __getitem__(self, i):
        return self.items()[i]

    def __iter__(self) -> Iterator:
        return iter(self.items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (tuple, Lazy)):
            return self.items() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.items())

    def __add__(self, other):
        return self.items() + tuple(other)

    def __radd__(self, other):
        return tuple(other) + self.items()

    def __repr__(self) -> str:
        return repr(self.items())

    def __reduce__(self):
        return (tuple, (self.items(),))


def triples(lines) -> Iterator[tuple[Any, float, float]]:
    """Yield each line's names (an object with network, segment, period), spend and results.

    From :attr:`Lazy.columns` where the lines have them (the floats the lines hold, in their
    order, made or not), else from the lines themselves.
    """
    cols = getattr(lines, "columns", None)
    if cols is not None:
        yield from zip(cols.curve_lines, cols.spend.tolist(), cols.results.tolist(), strict=True)
        return
    for ln in lines:
        yield ln, ln.spend, ln.expected_results


def mapped(items: Sequence, f: Callable[[Any], Any]) -> Sequence:
    """Return ``f`` of each item: made on first read when ``items`` are not made yet.

    ``f`` must keep each line's spend and results (the columns still hold).
    """
    if isinstance(items, Lazy) and not items.made:
        return Lazy(lambda: tuple(f(x) for x in items), len(items), items.columns)
    return tuple(f(x) for x in items)


def grouped_sums(kind: str, cols: LineColumns) -> dict[str, dict[str, float]]:
    """Return the spend and results summed per network, segment or period (``kind``).

    The groups in order of first appearance. ``np.bincount`` adds each group's values one by
    one in the lines' order, from 0.0: the sums a loop over the lines makes, to the last bit.
    """
    code, names = _groups(kind, cols)
    spend = np.bincount(code, weights=cols.spend, minlength=len(names)).tolist()
    results = np.bincount(code, weights=cols.results, minlength=len(names)).tolist()
    return {
        k: {"spend": s, "expected_results": r}
        for k, s, r in zip(names, spend, results, strict=True)
    }


def _groups(kind: str, cols: LineColumns) -> tuple[np.ndarray, list[str]]:
    """Return each line's group number of ``kind`` and the groups' names, first seen first."""

    def find() -> tuple[np.ndarray, list[str]]:
        keys = list(map(attrgetter(kind), cols.curve_lines))
        at = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        return np.fromiter(map(at.__getitem__, keys), dtype=np.intp, count=len(keys)), list(at)

    return find() if cols.curves is None else cols.curves.memo(("groups", kind), find)


def line_totals(lines) -> tuple[float, float]:
    """Return the spend and the results of ``lines`` added up in their order."""
    cols = getattr(lines, "columns", None)
    if cols is not None:  # (the lines' own floats, made or not)
        return sum(cols.spend.tolist()), sum(cols.results.tolist())
    return sum(ln.spend for ln in lines), sum(ln.expected_results for ln in lines)
