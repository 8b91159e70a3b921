"""Budget sweeps on a smaller LP, each point certified optimal for the full LP.

Between the lowest and the highest budget of a frontier most tiers do not move: full at both
ends, or empty at both. :func:`reduce_model` fixes those at their bound and removes them
(their effect moves into the row bounds), so each warm HiGHS re-solve handles far fewer
columns (HiGHS spends O(columns) per run even when one pivot suffices). A point found on the
reduced LP is accepted only if every removed tier's reduced cost, computed from the reduced
LP's row duals, has the sign its bound needs (``certify``); then it is an optimum of the full
LP (same rows, same duals, complementary slackness holds). Otherwise the full LP is solved.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .model import Model
from .solvers import reduced_costs

#: fix tiers only when at least this share of them does not move between the ends
MIN_FIXED_SHARE = 0.3
DUAL_TOL = 1e-7


class Reduced:
    """The LP of ``model`` with the tiers that do not move between two solutions removed.

    Tiers at their upper bound in both ``x_lo`` and ``x_hi`` are fixed there, those at 0 in
    both are fixed at 0; their spend moves into the row bounds of the reduced ``model``.
    ``ok`` is False (and nothing else is set) when fewer than :data:`MIN_FIXED_SHARE` of the
    tiers are fixed or none is left free.
    """

    def __init__(self, model: Model, x_lo: np.ndarray, x_hi: np.ndarray) -> None:
        nt = model.n_tier
        w = model.col_ub[:nt]
        tol = 1e-9 * np.maximum(1.0, w)
        up = (x_lo[:nt] >= w - tol) & (x_hi[:nt] >= w - tol)
        low = (x_lo[:nt] <= tol) & (x_hi[:nt] <= tol)
        fixed = np.zeros(model.n_col, dtype=bool)
        fixed[:nt] = up | low
        self.ok = fixed.sum() >= MIN_FIXED_SHARE * nt and (~fixed[:nt]).any()
        if not self.ok:
            return
        self.full = model
        self.fixed = fixed
        self.up = np.flatnonzero(up)
        self.low = np.flatnonzero(low)
        xf = np.zeros(model.n_col)
        xf[self.up] = w[self.up]
        self.x_fixed = xf
        keep = ~fixed
        self.keep = np.flatnonzero(keep)
        new_index = np.cumsum(keep) - 1
        row_of_nz = np.repeat(np.arange(model.n_row), np.diff(model.indptr))
        nz_keep = keep[model.indices]
        shift = np.bincount(
            row_of_nz, weights=model.data * xf[model.indices], minlength=model.n_row
        )
        counts = np.bincount(row_of_nz[nz_keep], minlength=model.n_row)
        indptr = np.zeros(model.n_row + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        kept_tiers = int(keep[:nt].sum())
        self.model = replace(
            model,
            tier_start=np.array([0, kept_tiers], dtype=np.int64),
            tier_slope=model.tier_slope[keep[:nt]],
            tier_line=model.tier_line[keep[:nt]],
            c=model.c[keep],
            col_lb=model.col_lb[keep],
            col_ub=model.col_ub[keep],
            indptr=indptr,
            indices=new_index[model.indices[nz_keep]].astype(np.int32),
            data=model.data[nz_keep],
            row_lb=model.row_lb - shift,
            row_ub=model.row_ub - shift,
            total_col=int(new_index[model.total_col]),
            spent_offset=model.spent_offset + float(xf[:nt].sum()),
        )

    def within(self, x_lo: np.ndarray, x_hi: np.ndarray) -> Reduced:
        """Return the full LP reduced between two of its solutions inside this one's span.

        ``x_lo`` and ``x_hi`` (full LP columns) hold this LP's fixed tiers where it fixed them
        (points solved on it, or the solutions it was made from), so the tiers that move
        between them are among this LP's: the new one is cut from this one's columns and
        nonzeros, not the full LP's, then its indices are read in the full LP's.
        """
        inner = Reduced(self.model, x_lo[self.keep], x_hi[self.keep])
        if not inner.ok:
            return inner
        inner.full = self.full
        inner.up = np.concatenate([self.up, self.keep[inner.up]])
        inner.low = np.concatenate([self.low, self.keep[inner.low]])
        inner.x_fixed = self.full_x(inner.x_fixed)
        inner.keep = self.keep[inner.keep]
        return inner

    def full_x(self, x_reduced: np.ndarray) -> np.ndarray:
        """Return the full LP's column values: the fixed tiers' values plus ``x_reduced``."""
        x = self.x_fixed.copy()
        x[self.keep] = x_reduced
        return x

    def certify(self, row_dual: np.ndarray) -> bool:
        """Return True if the removed tiers' reduced costs prove the point optimal for the full LP.

        The reduced costs come from the reduced LP's row duals ``row_dual``.
        """
        d = reduced_costs(self.full, row_dual)
        scale = np.maximum(1.0, np.abs(self.full.c))
        # maximising: a column at its upper bound needs d >= 0, at its lower bound d <= 0
        return bool(
            (d[self.up] >= -DUAL_TOL * scale[self.up]).all()
            and (d[self.low] <= DUAL_TOL * scale[self.low]).all()
        )
