"""TikTok Ads Manager exports (custom report downloads, CSV or XLSX).

Detected by ``Ad group name`` (or ``Ad Group Name``) with ``Cost``/``Total cost``, or by
``Clicks (destination)``.

Mapping: date ``By Day``/``Date``/``Day`` (``YYYY-MM-DD``, a time of day is dropped); spend
``Cost`` (or ``Total cost``, ``Spend``); results ``Conversions`` -> ``conversions`` (TikTok
counts the ad group's optimisation event), else ``Results`` with the ``Optimization event``
/ ``Optimization goal`` column as result type (``results`` when there is none); segment
``Age``/``Gender`` as ``f-25-34`` (``AGE_25_34`` and ``FEMALE`` accepted), else ``Ad group
name``, else ``Campaign name``; currency ``Currency``; impressions; clicks ``Clicks
(destination)`` else ``Clicks (all)``/``Clicks``; network ``tiktok``. Rows whose first cell
starts with ``Total`` (``Total of 12 results``) are dropped and counted.
"""

from __future__ import annotations

from forecasting.ingest._base import (
    Extract,
    Keep,
    canonical_extract,
    constant,
    currencies,
    demographic_segments,
    result_type_slugs,
    segments,
)
from forecasting.ingest._table import RawTable

NAME = "tiktok"
LABEL = "TikTok Ads Manager export (CSV/XLSX)"
DETECT = '"Ad group name" with "Cost"/"Total cost", or "Clicks (destination)"'


def matches(norm: list[str]) -> bool:
    """Return whether a normalised header is a TikTok Ads Manager export's."""
    if "clicks (destination)" in norm:
        return True
    return ("ad group name" in norm) and ("cost" in norm or "total cost" in norm)


def extract(table: RawTable) -> Extract:
    """Read a TikTok Ads Manager export as canonical rows (see the module docstring)."""
    fmt = "TikTok Ads Manager"
    c_spend = table.need("spend", "Cost", "Total cost", "Spend", fmt=fmt)
    c_date = table.need("date", "By Day", "Date", "Day", "Stat time", fmt=fmt)
    c_conv = table.find("Conversions")
    c_results = table.find("Results")
    c_event = table.find("Optimization event", "Optimization goal", "Result type")
    if c_conv is None and c_results is None:
        table.need("results", "Conversions", "Results", fmt=fmt)
    c_campaign = table.find("Campaign name")
    c_adgroup = table.find("Ad group name")
    c_age = table.find("Age")
    c_gender = table.find("Gender")
    c_currency = table.find("Currency")
    c_impr = table.find("Impressions", "Impression")
    c_clicks = table.find("Clicks (destination)")
    if c_clicks is None:
        c_clicks = table.find("Clicks (all)", "Clicks")

    n = len(table)
    keep = Keep(n)
    t = table.text(0).str.casefold()
    keep.drop((t.str.startswith("total") & (table.text(c_date) == "")).to_numpy(), "total_row")

    spend = table.number(c_spend, what="cost", rows=keep.mask).fillna(0.0)
    if c_conv is not None:
        results = table.number(c_conv, what="conversions", rows=keep.mask)
        rtype = constant("conversions", n)
    else:
        results = table.number(c_results, what="results", rows=keep.mask)
        if c_event is not None:
            rtype = result_type_slugs(table.text(c_event))
            rtype = rtype.where(rtype != "", "results")
        else:
            rtype = constant("results", n)
    results = results.fillna(0.0)

    dates = table.date(c_date, ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d"], rows=keep.mask)
    keep.refuse(table, dates.isna(), c_date, "the date is empty")

    age = table.text(c_age).str.replace(r"^AGE_(\d+)_(\d+)$", r"\1-\2", regex=True)
    age = age.str.replace(r"^AGE_(\d+)_MORE$", r"\1+", regex=True)
    segment = segments(
        table, (c_adgroup, c_campaign), demographic_segments(age, table.text(c_gender))
    )

    return canonical_extract(
        table,
        keep,
        date=dates,
        network=constant("tiktok", n),
        segment=segment,
        result_type=rtype,
        spend=spend,
        results=results,
        impressions=c_impr,
        clicks=c_clicks,
        currency=currencies(table, c_currency),
        campaign=table.text(c_campaign),
    )
