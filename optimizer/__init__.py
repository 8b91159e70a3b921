"""adplan's optimizer: concave response curves + plan spec -> the best allocation (an LP).

Imports numpy, pulp and highspy only: never pandas, scikit-learn, pydantic or HTTP.
"""

from .curves import CurveLine, Curves, load_curves
from .errors import CurveError, InfeasibleError, OptimizerError, SolverError, SpecError

__all__ = [
    "CurveError",
    "CurveLine",
    "Curves",
    "InfeasibleError",
    "OptimizerError",
    "SolverError",
    "SpecError",
    "load_curves",
]
