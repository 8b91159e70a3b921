"""The GLM's design built sparse is the dense design, and fits the same coefficients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from forecasting.features import FeatureBuilder, aggregate_panel
from forecasting.models import (
    EmpiricalBayesPoissonRegressor,
    PoissonRidgeRegressor,
    glm_design,
)

from .test_known_truth_law import history as truth_history


def _daily(days=400, seed=0):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-01-01", periods=days)
    rows = [
        (d, n, g, "purchases", s, float(rng.poisson(s / 20)))
        for d in dates
        for n in ("meta", "google")
        for g in ("a", "b", "c")
        for s in [float(rng.uniform(50, 500))]
    ]
    return pd.DataFrame(
        rows, columns=["date", "network", "segment", "result_type", "spend", "results"]
    )


@pytest.mark.parametrize(
    ("period", "line_elasticity"), [("week", True), ("week", False), ("day", True)]
)
def test_sparse_design_is_the_dense_design(period, line_elasticity):
    h = truth_history(seed=0, weeks=104) if period == "week" else _daily()
    panel = aggregate_panel(h, period)
    rows = panel[panel["spend"] > 0].reset_index(drop=True)
    fb = FeatureBuilder(period, "onehot", line_elasticity=line_elasticity).fit(rows.iloc[:-30])
    assert fb.use_fourier_ and (fb.use_trend_ or fb.use_dow_)
    test = rows.copy()
    test.loc[::7, "segment"] = "unseen"  # a line the builder never saw
    test.loc[::11, "network"] = "unseen"  # and a network
    pooled = np.arange(len(test)) % 5 == 0
    dense = fb.transform(test, pooled)
    sp = fb.transform(test, pooled, as_sparse=True)
    assert sparse.issparse(sp) and sp.shape == dense.shape
    np.testing.assert_array_equal(sp.toarray(), dense)
    assert fb.transform(test.iloc[:0], as_sparse=True).shape == (0, dense.shape[1])


@pytest.mark.parametrize("cls", [PoissonRidgeRegressor, EmpiricalBayesPoissonRegressor])
def test_sparse_and_dense_fits_agree(cls):
    h = truth_history(seed=4, weeks=80)
    rows = aggregate_panel(h, "week")
    fb = FeatureBuilder("week", "onehot", line_elasticity=True).fit(rows)
    X = glm_design(fb, rows)
    assert sparse.issparse(X) is (X.shape[1] > 50)
    dense = fb.transform(rows)
    y = rows["results"].to_numpy(float)
    kw = {"alpha": 5.0, "penalty": fb.penalty_, "offset_feature": 0}
    if cls is EmpiricalBayesPoissonRegressor:
        kw["groups"] = fb.penalty_groups()
    a = cls(**kw).fit(sparse.csr_matrix(dense), y)
    b = cls(**kw).fit(dense, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(a.predict(sparse.csr_matrix(dense)), b.predict(dense), rtol=1e-8)
