"""The converters of the shared datasets keep the raw files' totals, dates and lines.

Each total is summed again from the raw CSV with the ``csv`` module (not pandas), so that a
parsing slip in a converter cannot hide in its own check.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from forecasting import datasets
from forecasting.history import CANONICAL_COLUMNS, validate_history


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _assert_canonical(h: pd.DataFrame) -> None:
    assert tuple(h.columns) == CANONICAL_COLUMNS
    # validate_history changes nothing: dtypes, network names and keys are already canonical
    pd.testing.assert_frame_equal(validate_history(h), h)


def _money(cell: str) -> float:
    return float(cell.replace("$", "").replace(",", ""))


# -- fb_vs_adwords_2019 ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fb(shared_data):
    return datasets.fb_vs_adwords_2019(shared_data)


def test_fb_vs_adwords_keeps_each_platforms_totals(fb, shared_data):
    raw = _rows(shared_data / "fb_vs_adwords_2019" / "ABmarketing_campaign.csv")
    assert len(raw) == 365 and len(fb) == 2 * 365
    for net, col in (("meta", "Facebook"), ("google", "AdWords")):
        h = fb[fb["network"] == net]
        assert h["spend"].sum() == sum(_money(r[f"Cost per {col} Ad"]) for r in raw)
        assert h["results"].sum() == sum(int(r[f"{col} Ad Conversions"]) for r in raw)
        assert h["impressions"].sum() == sum(int(r[f"{col} Ad Views"]) for r in raw)
        assert h["clicks"].sum() == sum(int(r[f"{col} Ad Clicks"]) for r in raw)
    # the totals SOURCE.md gives
    per = fb.groupby("network")[["spend", "results"]].sum()
    assert per.loc["meta"].tolist() == [32040.0, 4286.0]
    assert per.loc["google"].tolist() == [49266.0, 2183.0]


def test_fb_vs_adwords_reads_month_day_year(fb, shared_data):
    raw = _rows(shared_data / "fb_vs_adwords_2019" / "ABmarketing_campaign.csv")
    # M/D/YYYY: "1/13/2019" is 13 January (a D/M reading would fail), "12/1/2019" 1 December
    by_text = {r["Date"]: r for r in raw}
    meta = fb[fb["network"] == "meta"].set_index("date")
    for text, day in (("1/13/2019", "2019-01-13"), ("12/1/2019", "2019-12-01")):
        row = meta.loc[pd.Timestamp(day)]
        assert row["results"] == int(by_text[text]["Facebook Ad Conversions"])
        assert row["campaign"] == by_text[text]["Facebook Ad Campaign"]
    days = pd.DatetimeIndex(meta.index)
    assert days.equals(pd.date_range("2019-01-01", "2019-12-31", freq="D"))
    # the monthly campaign label matches the parsed month
    assert (meta["campaign"].str[3:6] == days.strftime("%b")).all()


def test_fb_vs_adwords_is_canonical(fb):
    _assert_canonical(fb)
    assert set(fb["network"]) == {"meta", "google"} and set(fb["segment"]) == {"all"}
    assert set(fb["result_type"]) == {"conversions"} and set(fb["currency"]) == {"USD"}


# -- meridian geo ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def meridian(shared_data):
    return datasets.meridian_geo(shared_data)


def test_meridian_geo_sums_the_channels_spend_and_keeps_the_conversions(meridian, shared_data):
    raw = _rows(shared_data / "meridian_simulated" / "geo_all_channels.csv")
    assert len(meridian) == len(raw) == 40 * 156
    spend: dict[tuple[str, str], float] = defaultdict(float)
    conv: dict[tuple[str, str], float] = {}
    for r in raw:
        key = (r["geo"].lower(), r["time"])
        spend[key] = math.fsum(float(r[f"Channel{i}_spend"]) for i in range(5))
        conv[key] = float(r["conversions"])
    got = meridian.set_index([meridian["segment"], meridian["date"].dt.strftime("%Y-%m-%d")])
    assert got["spend"].to_dict() == pytest.approx(dict(spend), rel=1e-12)
    assert got["results"].to_dict() == conv  # the KPI itself, unchanged
    assert meridian["spend"].sum() == pytest.approx(math.fsum(spend.values()), rel=1e-12)
    assert meridian["results"].sum() == pytest.approx(math.fsum(conv.values()), rel=1e-12)


def test_meridian_geo_is_canonical_one_weekly_line_per_geo(meridian):
    _assert_canonical(meridian)
    assert set(meridian["network"]) == {"all-channels"}
    assert meridian["segment"].nunique() == 40 and "geo0" in set(meridian["segment"])
    assert (meridian["date"].dt.day_of_week == 0).all()  # Mondays
    assert meridian["date"].min() == pd.Timestamp("2021-01-25")
    assert meridian["date"].max() == pd.Timestamp("2024-01-15")
    assert meridian.groupby("segment")["date"].nunique().eq(156).all()
    assert meridian["currency"].isna().all() and meridian["clicks"].isna().all()


# -- the single simulated series ---------------------------------------------------------------


def test_robyn_is_total_paid_spend_against_revenue(shared_data):
    h = datasets.robyn_simulated_weekly(shared_data)
    raw = _rows(shared_data / "robyn_simulated_weekly" / "dt_simulated_weekly.csv")
    assert len(h) == len(raw) == 208
    media = ("tv_S", "ooh_S", "print_S", "search_S", "facebook_S")
    want = [math.fsum(float(r[c]) for c in media) for r in raw]
    assert h["spend"].tolist() == pytest.approx(want, rel=1e-12)
    assert h["results"].tolist() == [float(r["revenue"]) for r in raw]
    assert h["date"].dt.strftime("%Y-%m-%d").tolist() == [r["DATE"] for r in raw]
    _assert_canonical(h)
    assert h.groupby(["network", "segment"]).ngroups == 1
    assert set(h["result_type"]) == {"revenue"} and (h["date"].dt.day_of_week == 0).all()


def test_pymc_is_x1_plus_x2_against_y(shared_data):
    h = datasets.pymc_mmm_example(shared_data)
    raw = _rows(shared_data / "pymc_mmm_example" / "mmm_example.csv")
    assert len(h) == len(raw) == 179
    assert h["spend"].tolist() == [float(r["x1"]) + float(r["x2"]) for r in raw]
    assert h["results"].tolist() == [float(r["y"]) for r in raw]
    assert h["date"].dt.strftime("%Y-%m-%d").tolist() == [r["date_week"] for r in raw]
    assert h["date"].iloc[0] == pd.Timestamp("2018-04-02")
    _assert_canonical(h)
    assert h.groupby(["network", "segment"]).ngroups == 1
    assert set(h["result_type"]) == {"sales"} and (h["date"].dt.day_of_week == 0).all()
