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
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .history import CANONICAL_COLUMNS

log = logging.getLogger(__name__)


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    df = df[list(CANONICAL_COLUMNS)].copy()
    df["date"] = pd.to_datetime(df["date"])
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
