"""The generated sample history: shape, determinism, the law it is drawn from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import generate_sample_history, read_history, write_history
from forecasting.history import validate_history
from forecasting.sample import SampleTruth, sample_truth


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return generate_sample_history()


def test_shape_and_columns(sample):
    assert sample["network"].nunique() == 6 and sample["segment"].nunique() == 8
    assert sample["date"].nunique() == 104 and len(sample) == 6 * 8 * 104
    assert (sample["date"].dt.day_of_week == 0).all()  # Mondays
    assert sample["date"].min() == pd.Timestamp("2025-01-06")
    assert sample["date"].max() == pd.Timestamp("2026-12-28")  # a Q1 2027 plan follows
    assert set(sample["result_type"]) == {"purchases"} and set(sample["currency"]) == {"EUR"}
    assert sample["campaign"].notna().all()
    pd.testing.assert_frame_equal(validate_history(sample), sample)


def test_seeded_and_deterministic(sample):
    pd.testing.assert_frame_equal(generate_sample_history(seed=7), sample, check_exact=True)
    other = generate_sample_history(seed=8)
    assert not np.array_equal(other["spend"].to_numpy(), sample["spend"].to_numpy())


def test_round_trips_through_csv(sample, tmp_path):
    path = write_history(sample, tmp_path / "sample.csv")
    pd.testing.assert_frame_equal(read_history(path), sample, check_exact=True)


def test_dark_weeks_and_spend_variation(sample):
    for (_n, _s), line in sample.groupby(["network", "segment"]):
        dark = line["spend"] == 0
        assert 2 <= dark.sum() <= 4
        assert (line.loc[dark, "results"] == 0).all()
        on = line.loc[~dark, "spend"]
        ratio = on / on.rolling(3, center=True, min_periods=1).median()
        # the spend moves week to week (about +-40%), so elasticity can be identified
        assert ratio.std() > 0.2
        assert on.min() > 0


def test_truth_is_frozen_and_in_range():
    truth = sample_truth()
    assert isinstance(truth, SampleTruth)
    with pytest.raises(AttributeError):
        truth.noise = 0.5  # type: ignore[misc]
    assert all(0.2 <= e <= 0.5 for e in truth.elasticity.values())
    assert truth.expected_results("meta", "f-25-34", "2026-03-02", 0) == 0


def test_results_follow_the_truth(sample):
    """Over all weeks, observed results match the law's expectation within noise, and the
    cost per result rises with spend (diminishing returns).
    """
    truth = sample_truth()
    on = sample[sample["spend"] > 0]
    expected = np.array(
        [
            truth.expected_results(r.network, r.segment, r.date, r.spend)
            for r in on.itertuples(index=False)
        ]
    )
    ratio = on["results"].sum() / expected.sum()
    assert 0.97 < ratio < 1.03  # lognormal(0, 0.12) noise has mean about 1.007
    x = "meta", "f-25-34", "2026-03-02"
    assert truth.cost_per_result(*x, 2000.0) < truth.cost_per_result(*x, 4000.0)
    r1, r2 = truth.expected_results(*x, 2000.0), truth.expected_results(*x, 4000.0)
    assert r2 < 2 * r1  # concave
    # CPR peaks in late November
    nov = truth.cost_per_result("meta", "f-25-34", "2026-11-23", 2000.0)
    may = truth.cost_per_result("meta", "f-25-34", "2026-05-25", 2000.0)
    assert nov > may


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="not a Monday"):
        generate_sample_history(start="2025-01-07")
    small = generate_sample_history(networks=["meta", "reddit"], segments=["a"], weeks=10)
    assert len(small) == 20 and set(small["network"]) == {"meta", "reddit"}
