"""Small curves solved by hand, shared by the optimizer tests."""

from __future__ import annotations

import json

import pytest

from optimizer import Curves
from optimizer.synthetic import synthetic_curves

SOLVERS = ["highs", "cbc"]


def make_curves(lines: dict, result_type: str = "purchases", **extra) -> Curves:
    """``{(network, segment, period): points or (points, value_per_result)}`` -> Curves."""
    out = []
    for (n, s, p), pts in lines.items():
        d = {"network": n, "segment": s, "period": p}
        if isinstance(pts, tuple):
            d["points"], d["value_per_result"] = pts
        else:
            d["points"] = pts
        out.append(d)
    return Curves.from_dict({"currency": "EUR", "result_type": result_type, "lines": out, **extra})


@pytest.fixture
def ab() -> Curves:
    """A: slope 2 up to 100 then 1 up to 200; B: slope 1.5 up to 100."""
    return make_curves(
        {
            ("a", "all", "2027-01"): [[0, 0], [100, 200], [200, 300]],
            ("b", "all", "2027-01"): [[0, 0], [100, 150]],
        }
    )


@pytest.fixture(params=SOLVERS)
def solver(request) -> str:
    return request.param


@pytest.fixture
def files(tmp_path):
    """A small curves file and a spec with a share and a cap, for the CLI tests."""
    curves = tmp_path / "curves.json"
    curves.write_text(json.dumps(synthetic_curves(3, 2, 2, 4, seed=1).to_dict()))
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 20000\nnetworks:\n  net00: {min_share: 0.2}\n  net01: {max: 2000}\n")
    return tmp_path, curves, spec
