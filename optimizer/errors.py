"""Errors raised by the optimizer.

::

    OptimizerError
    ├── CurveError        a response curve is malformed or not concave (names the line)
    ├── SpecError         a plan spec is malformed or names what no curve has (names the rule)
    ├── InfeasibleError   the rules cannot all hold; ``.diagnosis`` says which and by how much
    └── SolverError       the solver failed or is not available

Only the edges (CLI, HTTP) translate these into exit codes and status codes.
"""

from __future__ import annotations


class OptimizerError(Exception):
    """Root of every error the optimizer raises."""


class CurveError(OptimizerError, ValueError):
    """A response curve is malformed or not concave."""


class SpecError(OptimizerError, ValueError):
    """A plan spec is malformed, or names a network, segment or period no curve has."""


class InfeasibleError(OptimizerError):
    """The rules cannot all hold at once.

    ``diagnosis`` is a list of dicts (rule, needed, available, relax_by, message), one per
    rule in the conflict; ``repairs`` the smallest changes that make the rules hold, in
    words, smallest first (see ``optimizer/diagnose.py``); ``str(err)`` is the summary.
    """

    def __init__(
        self, message: str, diagnosis: list[dict] | None = None, repairs: list[dict] | None = None
    ) -> None:
        super().__init__(message)
        self.diagnosis = list(diagnosis or [])
        self.repairs = list(repairs or [])


class SolverError(OptimizerError):
    """The solver failed, timed out or is not installed."""
