"""LinkedIn Campaign Manager exports (campaign performance and conversion reports).

Detected by ``Start Date (in UTC)`` or ``Total Spent``; the report-title lines above the
header (``Campaign Performance Report (in UTC)``, ``Report Start: ...``, ``Account Name:``...)
are skipped.

Mapping: date ``Start Date (in UTC)`` in M/D/YYYY (ISO also accepted); spend ``Total Spent``
(or ``Total Spent (CUR)``, ``Amount Spent``); currency ``Currency`` or the spend header;
segment the LinkedIn campaign (``Campaign Name``: targeting is set per campaign), campaign
the ``Campaign Group Name`` (else the campaign name); result_type from ``Conversion Name``
when the report has one row per conversion name (each row's spend is then the spend of its
campaign for that day, repeated per conversion by LinkedIn: totals are per result type),
else ``Conversions`` -> ``conversions``, else ``Leads`` -> ``leads``; impressions
``Impressions``; clicks ``Clicks``; network ``linkedin``.
"""

from __future__ import annotations

import re

import numpy as np

from forecasting.ingest._base import (
    Extract,
    Keep,
    canonical_extract,
    constant,
    currencies,
    result_type_slugs,
    segments,
)
from forecasting.ingest._table import RawTable

NAME = "linkedin"
LABEL = "LinkedIn Campaign Manager export (CSV)"
DETECT = '"Start Date (in UTC)" or "Total Spent"'

SPEND_PATTERN = r"(total spent|amount spent)( \((?P<cur>[a-z]{3})\))?"


def matches(norm: list[str]) -> bool:
    """Return whether a normalised header is a LinkedIn Campaign Manager export's."""
    return "start date (in utc)" in norm or any(
        re.fullmatch(r"total spent( \([a-z]{3}\))?", h) for h in norm
    )


def extract(table: RawTable) -> Extract:
    """Read a LinkedIn Campaign Manager export as canonical rows (see the module docstring)."""
    fmt = "LinkedIn Campaign Manager"
    c_date = table.need("date", "Start Date (in UTC)", "Start Date", "Date", fmt=fmt)
    c_spend = table.need("spend", "Total Spent", pattern=SPEND_PATTERN, fmt=fmt)
    c_cname = table.find("Conversion Name", "Conversion")
    c_conv = table.find("Conversions", "Total Conversions")
    c_leads = table.find("Leads")
    if c_conv is None and c_leads is None:
        table.need("results", "Conversions", "Leads", fmt=fmt)
    c_campaign = table.find("Campaign Name", "Campaign")
    c_group = table.find("Campaign Group Name", "Campaign Group")
    c_currency = table.find("Currency")
    c_impr = table.find("Impressions")
    c_clicks = table.find("Clicks")

    n = len(table)
    keep = Keep(n)
    total = np.zeros(n, dtype=bool)
    for c in range(min(2, len(table.header))):
        t = table.text(c).str.casefold()
        total |= (t.str.startswith("total") & (t.str.len() < 12)).to_numpy()
    keep.drop(total, "total_row")

    spend = table.number(c_spend, what="spend", rows=keep.mask).fillna(0.0)
    if c_conv is not None:
        results = table.number(c_conv, what="conversions", rows=keep.mask)
        rtype = constant("conversions", n)
    else:
        results = table.number(c_leads, what="leads", rows=keep.mask)
        rtype = constant("leads", n)
    results = results.fillna(0.0)
    if c_cname is not None:
        named = result_type_slugs(table.text(c_cname))
        rtype = rtype.where(named == "", named)

    dates = table.date(c_date, ["%m/%d/%Y", "%Y-%m-%d", "%m/%d/%Y %H:%M"], rows=keep.mask,
                       hint="M/D/YYYY")  # fmt: skip
    keep.refuse(table, dates.isna(), c_date, "the date is empty")

    campaign_text = table.text(c_campaign)
    group = table.text(c_group) if c_group is not None else campaign_text
    return canonical_extract(
        table,
        keep,
        date=dates,
        network=constant("linkedin", n),
        segment=segments(table, (c_campaign,)),
        result_type=rtype,
        spend=spend,
        results=results,
        impressions=c_impr,
        clicks=c_clicks,
        currency=currencies(table, c_currency, c_spend, SPEND_PATTERN),
        campaign=group,
    )
