"""Which solver runs: one rule for every entry point, and frontiers that say which ran.

:func:`choose_solver` is the rule every command of the ``adplan`` CLI and every HTTP
operation applies: the explicit choice (``--solver``, a request's ``"solver"``) first, then
the configured one (``ADPLAN_SOLVER``: the environment, or the service's setting read from it),
then the optimizer's default (``"highs"``). An unknown name is a
:class:`~optimizer.SpecError` with the same message wherever it was given (CLI exit 2,
HTTP 422). The library functions (``run_scenario``, ``compare_files``, ``run_demo``...) do
not read the environment: they take the name their caller chose.

:func:`frontier_points` is ``optimizer.frontier`` with the solver's name added to every
point, as the plan JSON carries it in ``solver.name``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from optimizer import DEFAULT_SOLVER, Curves, PlanSpec, SpecError
from optimizer.solvers import check_solver

#: the environment variable (and service setting) that names the solver
SOLVER_ENV = "ADPLAN_SOLVER"


def unknown_solver_message(name: str) -> str:
    """Return the message for a solver name that is not known (the optimizer's own)."""
    try:
        check_solver(name)
    except SpecError as e:
        return str(e)
    raise ValueError(f"{name!r} is a known solver")


def _given(value: str | None) -> bool:
    return value is not None and str(value).strip() != ""


def choose_solver(
    explicit: str | None = None,
    configured: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Return the solver to run: ``explicit`` > ``configured`` > ``ADPLAN_SOLVER`` > default.

    ``explicit`` is the choice made for this run (``--solver``, a request's ``"solver"``);
    ``configured`` a setting read elsewhere (the service's ``ADPLAN_SOLVER``); ``environ``
    the environment read for ``ADPLAN_SOLVER`` (default: ``os.environ``). Blank values count
    as not given. Raises SpecError for an unknown name; one read from the environment is
    named as the setting it came from.
    """
    if _given(explicit):
        return check_solver(str(explicit))
    if _given(configured):
        return check_solver(str(configured))
    env = os.environ if environ is None else environ
    value = env.get(SOLVER_ENV)
    if _given(value):
        try:
            return check_solver(str(value))
        except SpecError as e:
            raise SpecError(f"setting {SOLVER_ENV}: {e}") from None
    return DEFAULT_SOLVER


def frontier_points(
    curves: Curves,
    spec: PlanSpec,
    budgets: Iterable[float],
    *,
    solver: str | None = None,
    time_limit: float | None = None,
    executor=None,
) -> list[dict]:
    """Return ``optimizer.frontier(curves, spec, budgets, solver=...)``, each point naming it.

    Every point gets ``"solver"``: the name of the solver that solved it (``solver``, or the
    optimizer's default when None).
    """
    from optimizer import frontier

    name = DEFAULT_SOLVER if solver is None else check_solver(solver)
    return [
        {**p, "solver": name}
        for p in frontier(
            curves, spec, budgets, solver=name, time_limit=time_limit, executor=executor
        )
    ]


__all__ = [
    "SOLVER_ENV",
    "check_solver",
    "choose_solver",
    "frontier_points",
    "unknown_solver_message",
]
