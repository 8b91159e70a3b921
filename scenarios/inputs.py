"""Curves and specs, from a file or a mapping: the one way in for every entry point.

A curves file is read by ``optimizer.load_curves`` and a spec file by ``optimizer.load_spec``;
a mapping (inline in a scenario, an HTTP body) becomes :class:`~optimizer.Curves` through
``Curves.from_dict`` and a :class:`~optimizer.PlanSpec` through ``PlanSpec.from_dict``, where
the two loaders end too. So the checks and the messages are the same wherever the input
comes from: only the name of the source differs (the file, or ``curves`` / ``spec``). A
value those functions cannot read at all (a ``TypeError`` or ``ValueError`` of their own
rather than their error) is still bad input: it is raised as their error, naming the
source, never as a crash.

The commands (``adplan optimize``, ``frontier``, ``replan``, scenario files) and the service
read curves and specs only through these four functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from optimizer import CurveError, Curves, OptimizerError, PlanSpec, SpecError

T = TypeVar("T")


def _read(read: Callable[[], T], error: type[OptimizerError], source: str | Path) -> T:
    try:
        return read()
    except OptimizerError:
        raise
    except (TypeError, ValueError) as e:  # a value the optimizer's reader could not read
        raise error(f"{source}: {e}") from None


def read_curves(path: str | Path) -> Curves:
    """Return ``optimizer.load_curves(path)``; any bad value is a CurveError naming the file."""
    from optimizer import load_curves

    return _read(lambda: load_curves(path), CurveError, path)


def read_spec(path: str | Path) -> PlanSpec:
    """Return ``optimizer.load_spec(path)``; any bad value is a SpecError naming the file."""
    from optimizer import load_spec

    return _read(lambda: load_spec(path), SpecError, path)


def curves_from_mapping(data: Mapping, source: str = "curves") -> Curves:
    """Return ``Curves.from_dict(data, source=source)``; any bad value is a CurveError."""
    return _read(lambda: Curves.from_dict(data, source=source), CurveError, source)


def spec_from_mapping(data: Mapping, source: str = "spec") -> PlanSpec:
    """Return ``PlanSpec.from_dict(data, source=source)``; any bad value is a SpecError."""
    return _read(lambda: PlanSpec.from_dict(data, source=source), SpecError, source)


__all__ = ["curves_from_mapping", "read_curves", "read_spec", "spec_from_mapping"]
