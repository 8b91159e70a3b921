"""Converters from the shared public datasets (``../shared/data``) to canonical history.

They are for development, tests and benchmarks: the datasets are read in place, never
shipped. Each returns a canonical history DataFrame (date, network, segment, result_type,
spend, results, impressions, clicks, currency, campaign).

- :func:`online_ad_performance`: placements (abc … mno) as networks, campaign × engagement
  tier as segments (``camp1-high``), banner size as campaign; post-click conversions.
  Rows without a placement (``#N/A``) and exact duplicates are dropped: how many is logged
  and kept in the result's ``attrs["dropped"]`` (``{"duplicates": 5, "no_placement": N}``).
  Year 2020.
- :func:`marketing_spend_feb2021`: one network per channel (facebook, instagram, google,
  youtube, banner), the rest of the campaign name as segment (``tier1``, ``lal``, ``hot``);
  leads or orders as results.
- :func:`kag_conversion`: one Facebook network, age × gender × interest as segment
  (``m-30-34-i15``), one row per ad (``campaign`` = ad id) on a single date: cross-sectional.
- :func:`fb_vs_adwords_2019`: two daily lines, ``meta`` and ``google`` (segment ``all``),
  conversions as results, the monthly campaign label as campaign. Probably synthetic.
- :func:`meridian_geo`: Meridian's simulated geo data, one ``all-channels`` line per geo
  (segment ``geo0`` … ``geo39``), weekly; spend summed over the five channels, because the
  conversions are not split by channel.
- :func:`robyn_simulated_weekly` and :func:`pymc_mmm_example`: one simulated weekly series
  each (``all-channels`` / ``all``): total paid spend against revenue (Robyn) or sales ``y``
  (PyMC-Marketing).

Network names are already normalised in the four new converters (``meta``, ``google``,
``all-channels``: what :func:`forecasting.history.validate_history` would make of them); the
three older ones keep the names they had (``facebook``...).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.names import normalise_network

from .history import CANONICAL_COLUMNS, DATE_DTYPE

log = logging.getLogger(__name__)


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    df = df[list(CANONICAL_COLUMNS)].copy()
    df["date"] = pd.to_datetime(df["date"]).astype(DATE_DTYPE)  # pandas 3 parses to [us]
    for c in ("spend", "results", "impressions", "clicks"):
        df[c] = df[c].astype("float64")
    for c in ("network", "segment", "result_type", "currency", "campaign"):
        df[c] = df[c].astype(str)
    return df.sort_values(["date", "network", "segment", "campaign"], kind="stable").reset_index(
        drop=True
    )


def online_ad_performance(data_dir: str | Path) -> pd.DataFrame:
    """Read the online ad performance dataset (2020, placements as networks) as history."""
    path = Path(data_dir) / "online_ad_performance" / "online_advertising_performance_data.csv"
    raw = pd.read_csv(path)
    n_read = len(raw)
    raw = raw.drop_duplicates()
    dropped = {"duplicates": n_read - len(raw)}
    has_placement = raw["placement"].notna() & (raw["placement"].astype(str) != "#N/A")
    dropped["no_placement"] = int((~has_placement).sum())
    raw = raw[has_placement]
    log.info(
        "%s: %d rows read; dropped %d exact duplicates and %d rows without a placement (#N/A)",
        path,
        n_read,
        dropped["duplicates"],
        dropped["no_placement"],
    )
    date = pd.to_datetime(
        "2020 " + raw["month"].astype(str) + " " + raw["day"].astype(str), format="%Y %B %d"
    )
    seg = (
        raw["campaign_number"].str.replace(" ", "", regex=False)
        + "-"
        + raw["user_engagement"].str.lower()
    )
    out = _canonical(
        pd.DataFrame(
            {
                "date": date,
                "network": raw["placement"].astype(str),
                "segment": seg,
                "result_type": "conversions",
                "spend": raw["cost"],
                "results": raw["post_click_conversions"],
                "impressions": raw["displays"],
                "clicks": raw["clicks"],
                "currency": "USD",
                "campaign": raw["banner"].str.replace(" ", "", regex=False),
            }
        )
    )
    out.attrs["dropped"] = dropped
    return out


def marketing_spend_feb2021(data_dir: str | Path, result: str = "leads") -> pd.DataFrame:
    """Read the February 2021 marketing spend dataset as history of ``leads`` or ``orders``."""
    if result not in ("leads", "orders"):
        raise ValueError(f"result must be 'leads' or 'orders', got {result!r}")
    raw = pd.read_csv(Path(data_dir) / "marketing_spend_feb2021" / "Marketing.csv")
    name = raw["campaign_name"].str.lower()
    network = name.str.split("_").str[0]
    segment = name.str.split("_", n=1).str[1]
    return _canonical(
        pd.DataFrame(
            {
                "date": raw["c_date"],
                "network": network,
                "segment": segment,
                "result_type": result,
                "spend": raw["mark_spent"],
                "results": raw[result],
                "impressions": raw["impressions"],
                "clicks": raw["clicks"],
                "currency": "RUB",
                "campaign": raw["campaign_name"],
            }
        )
    )


def kag_conversion(data_dir: str | Path, result: str = "Total_Conversion") -> pd.DataFrame:
    """Read the KAG Facebook conversion dataset as one-date, one-row-per-ad history.

    ``result`` is the column counted: ``Total_Conversion`` (result type ``conversions``) or
    ``Approved_Conversion`` (``approved_conversions``).
    """
    raw = pd.read_csv(Path(data_dir) / "kag_conversion" / "KAG_conversion_data.csv")
    seg = (
        raw["gender"].str.lower()
        + "-"
        + raw["age"].astype(str)
        + "-i"
        + raw["interest"].astype(str)
    )
    rtype = "conversions" if result == "Total_Conversion" else "approved_conversions"
    return _canonical(
        pd.DataFrame(
            {
                "date": np.full(len(raw), "2017-08-17"),
                "network": "facebook",
                "segment": seg,
                "result_type": rtype,
                "spend": raw["Spent"],
                "results": raw[result],
                "impressions": raw["Impressions"],
                "clicks": raw["Clicks"],
                "currency": "USD",
                "campaign": raw["ad_id"].astype(str),
            }
        )
    )


def _money(text: pd.Series) -> pd.Series:
    """Parse ``$1,234.56`` cells as floats (an unparsable cell raises ValueError)."""
    return pd.to_numeric(text.str.replace(r"[$,\s]", "", regex=True), errors="raise").astype(
        "float64"
    )


def fb_vs_adwords_2019(data_dir: str | Path) -> pd.DataFrame:
    """Read the 2019 Facebook vs AdWords A/B dataset as two daily lines of conversions.

    Network: the platform (``meta`` for Facebook, ``google`` for AdWords); segment ``all``
    (the file has no audience); result type ``conversions`` (the "Ad Conversions" counts);
    spend: the "Cost per ... Ad" column, which is the day's spend (``$126``); impressions and
    clicks: the ad views and clicks; campaign: the monthly label (``FB_Jan19``); dates are
    M/D/YYYY in the file. Lost: the derived CTR, conversion rate and CPC columns (they do not
    match the raw counts, see SOURCE.md) and the pairing of the two platforms by day. The
    data are probably synthetic: a smoke test for two-platform daily forecasting.
    """
    raw = pd.read_csv(Path(data_dir) / "fb_vs_adwords_2019" / "ABmarketing_campaign.csv")
    date = pd.to_datetime(raw["Date"], format="%m/%d/%Y")
    parts = []
    for platform, col in (("Facebook", "Facebook"), ("AdWords", "AdWords")):
        parts.append(
            pd.DataFrame(
                {
                    "date": date,
                    "network": normalise_network(platform),
                    "segment": "all",
                    "result_type": "conversions",
                    "spend": _money(raw[f"Cost per {col} Ad"]),
                    "results": raw[f"{col} Ad Conversions"],
                    "impressions": raw[f"{col} Ad Views"],
                    "clicks": raw[f"{col} Ad Clicks"],
                    "currency": "USD",
                    "campaign": raw[f"{col} Ad Campaign"],
                }
            )
        )
    return _canonical(pd.concat(parts, ignore_index=True))


MERIDIAN_CHANNELS = tuple(f"Channel{i}" for i in range(5))


def meridian_geo(data_dir: str | Path) -> pd.DataFrame:
    """Read Meridian's simulated geo data as one weekly line per geo, all channels together.

    Network ``all-channels``; segment: the geo, lowercased (``geo0`` … ``geo39``); result
    type ``conversions``; spend: the sum of ``Channel0_spend`` … ``Channel4_spend``;
    impressions: the sum of the five channels' paid impressions; no clicks, no currency
    (simulated, unitless), no campaign. The conversions are one KPI per geo and week, **not
    split by channel**, so no per-channel line can be built honestly: the channel mix is
    lost, and with it what the file is made for (attributing conversions to channels). Also
    lost: the controls (competitor sales, sentiment), the ``Promo`` treatment, the organic
    impressions, revenue per conversion and population. Simulated data.
    """
    raw = pd.read_csv(Path(data_dir) / "meridian_simulated" / "geo_all_channels.csv")
    spend = raw[[f"{c}_spend" for c in MERIDIAN_CHANNELS]].sum(axis=1)
    imps = raw[[f"{c}_impression" for c in MERIDIAN_CHANNELS]].sum(axis=1)
    return _canonical(
        pd.DataFrame(
            {
                "date": pd.to_datetime(raw["time"], format="%Y-%m-%d"),
                "network": normalise_network("all_channels"),
                "segment": raw["geo"].str.lower(),
                "result_type": "conversions",
                "spend": spend,
                "results": raw["conversions"],
                "impressions": imps,
                "clicks": np.nan,
                "currency": np.nan,
                "campaign": np.nan,
            }
        )
    )


ROBYN_SPEND = ("tv_S", "ooh_S", "print_S", "search_S", "facebook_S")


def robyn_simulated_weekly(data_dir: str | Path) -> pd.DataFrame:
    """Read Robyn's simulated weekly data as one line: total paid spend against revenue.

    Network ``all-channels``, segment ``all``, result type ``revenue`` (a money amount, not a
    count); spend: the sum of the five paid media columns (``tv_S``, ``ooh_S``, ``print_S``,
    ``search_S``, ``facebook_S``); no impressions, clicks, currency or campaign. A simulated
    single series: lost are the channel split, the exposure metrics (``facebook_I``,
    ``search_clicks_P``: different units, not summable), the competitor-sales context, the
    events and the organic newsletter. Most of the revenue is not driven by media in an MMM,
    so a cost-per-result model of it describes the series rather than media's effect.
    """
    raw = pd.read_csv(Path(data_dir) / "robyn_simulated_weekly" / "dt_simulated_weekly.csv")
    return _single_series(
        raw["DATE"], raw[list(ROBYN_SPEND)].sum(axis=1), raw["revenue"], "revenue"
    )


def pymc_mmm_example(data_dir: str | Path) -> pd.DataFrame:
    """Read PyMC-Marketing's simulated MMM example as one line: x1 + x2 against sales ``y``.

    Network ``all-channels``, segment ``all``, result type ``sales`` (the target ``y``);
    spend: ``x1 + x2``, already scaled to 0-1 per channel upstream (not money); no
    impressions, clicks, currency or campaign. A simulated single series: lost are the split
    between the two channels (x2 is flighted: often 0), the two event dummies and the trend
    (``t``, ``dayofyear`` only restate the date). ``y`` holds a large intercept and trend
    beside the media effect.
    """
    raw = pd.read_csv(Path(data_dir) / "pymc_mmm_example" / "mmm_example.csv")
    return _single_series(raw["date_week"], raw["x1"] + raw["x2"], raw["y"], "sales")


def _single_series(date: pd.Series, spend: pd.Series, results: pd.Series, rtype: str):
    return _canonical(
        pd.DataFrame(
            {
                "date": pd.to_datetime(date, format="%Y-%m-%d"),
                "network": normalise_network("all_channels"),
                "segment": "all",
                "result_type": rtype,
                "spend": spend,
                "results": results,
                "impressions": np.nan,
                "clicks": np.nan,
                "currency": np.nan,
                "campaign": np.nan,
            }
        )
    )
