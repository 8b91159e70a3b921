"""adplan's optimizer: concave response curves + plan spec -> the best allocation (an LP).

Imports numpy, pulp, highspy, orjson and pyyaml only: never pandas, scikit-learn, pydantic or HTTP.

::

    curves = load_curves("curves.json")
    spec = load_spec("plan.yaml")
    plan = allocate(curves, spec)            # Plan; plan.to_dict() is the Plan JSON
    points = frontier(curves, spec, [40_000, 50_000, 60_000])
    plan = min_budget_for_results(curves, spec, 2_500)
"""

from .allocate import allocate, frontier, min_budget_for_results
from .curves import CurveLine, Curves, Lift, load_curves
from .errors import CurveError, InfeasibleError, OptimizerError, SolverError, SpecError
from .plan import Plan, PlanConstraint, PlanLine
from .solvers import DEFAULT_SOLVER, SOLVERS
from .spec import MAX_BUDGET, PlanSpec, load_spec

__all__ = [
    "DEFAULT_SOLVER",
    "MAX_BUDGET",
    "SOLVERS",
    "CurveError",
    "CurveLine",
    "Curves",
    "InfeasibleError",
    "Lift",
    "OptimizerError",
    "Plan",
    "PlanConstraint",
    "PlanLine",
    "PlanSpec",
    "SolverError",
    "SpecError",
    "allocate",
    "frontier",
    "load_curves",
    "load_spec",
    "min_budget_for_results",
]
