"""Google Ads report downloads (CSV, and the UTF-16 tab-separated "Excel" CSV flavour).

Detected by ``Cost`` together with ``Impr.``/``Impressions`` or ``Currency code``; the title
and date-range lines above the header are skipped (the date range gives the date when the
report has no ``Day``/``Week``/``Month`` column).

Mapping: date from ``Day``, ``Week`` (the week's Monday) or ``Month``; spend ``Cost`` or
``Cost (CUR)`` (major units; ``--`` is empty; "1,234.56" or, in European
downloads, "1.234,56": the file's cells tell which, an ambiguous "1,234" is an error); results ``Conversions``
(fractional values kept as they are), result_type ``conversions`` or, in a report segmented
by ``Conversion action``, the action's slug; segment from ``Age``/``Gender`` columns, else
``Ad group``, else ``Campaign``; network ``youtube`` where ``Network (with search
partners)``/``Network`` or ``Campaign type`` says YouTube/Video, else ``google``; currency
``Currency code``; impressions ``Impr.``; clicks ``Clicks``.
Rows whose first cells say ``Total: ...`` are dropped and counted.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from forecasting.errors import IngestError
from forecasting.history import FIRST_DAY, LAST_DAY
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
from forecasting.ingest._table import RawTable, parse_dates_loose

NAME = "google"
LABEL = "Google Ads report download (CSV or UTF-16 'Excel' CSV)"
DETECT = '"Cost" with "Impr."/"Impressions" or "Currency code"'

DATE_FORMATS = ["%Y-%m-%d", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%m/%d/%Y"]
_MONTH_FORMATS = ["%Y-%m-%d", "%B %Y", "%b %Y", "%Y-%m"]


COST_PATTERN = r"cost( \((?P<cur>[a-z]{3})\))?"


def matches(norm: list[str]) -> bool:
    """Return whether a normalised header is a Google Ads report's (see :data:`DETECT`)."""
    has_cost = any(re.fullmatch(COST_PATTERN, h) for h in norm)
    return has_cost and ("impr." in norm or "currency code" in norm or "impressions" in norm)


def _range_start(table: RawTable) -> dt.date | None:
    """Return the first day of the date-range line above the header ("November 1, 2026 - ...")."""
    for rec in table.preamble:
        text = " ".join(c for c in rec if c).strip()
        if " - " not in text:
            continue
        start = text.split(" - ")[0].strip().strip('"')
        got = parse_dates_loose(start, DATE_FORMATS)
        if got is not None:
            return got
    return None


def extract(table: RawTable) -> Extract:
    """Read a Google Ads report as canonical rows (mapping in the module docstring)."""
    fmt = "Google Ads report"
    c_cost = table.need("spend", "Cost", pattern=COST_PATTERN, fmt=fmt)
    c_conv = table.need("results", "Conversions", "Conv.", fmt=fmt)
    c_action = table.find("Conversion action", "Conversion name")
    c_day = table.find("Day", "Date")
    c_week = table.find("Week")
    c_month = table.find("Month")
    c_campaign = table.find("Campaign")
    c_adgroup = table.find("Ad group")
    c_age = table.find("Age", "Age range")
    c_gender = table.find("Gender")
    c_network = table.find("Network (with search partners)", "Network")
    c_ctype = table.find("Campaign type", "Advertising channel type")
    c_currency = table.find("Currency code", "Currency")
    c_impr = table.find("Impr.", "Impressions")
    c_clicks = table.find("Clicks")

    n = len(table)
    keep = Keep(n)
    first_cells = [c for c in range(min(3, len(table.header)))]
    total = np.zeros(n, dtype=bool)
    for c in first_cells:
        t = table.text(c).str.casefold()
        total |= (t.str.startswith("total:") | (t == "total")).to_numpy()
    keep.drop(total, "total_row")

    spend = table.number(c_cost, what="cost", rows=keep.mask).fillna(0.0)
    results = table.number(c_conv, what="conversions", rows=keep.mask).fillna(0.0)

    if c_day is not None:
        dates = table.date(c_day, DATE_FORMATS, rows=keep.mask)
        date_col = c_day
    elif c_week is not None:
        dates = table.date(c_week, DATE_FORMATS, rows=keep.mask)
        date_col = c_week
    elif c_month is not None:
        dates = table.date(c_month, _MONTH_FORMATS, rows=keep.mask, hint="YYYY-MM-DD or Month YYYY")
        date_col = c_month
    else:
        start = _range_start(table)
        if start is None:
            table.need("date", "Day", "Week", "Month", fmt=fmt)
        if not FIRST_DAY.date() <= start <= LAST_DAY.date():  # 9999 would wrap round in ns
            raise IngestError(
                f"{table.name}: the date range above the header starts on {start}, outside "
                "1900-2200; check the report's dates",
                file=table.name,
            )
        dates = pd.Series(pd.Timestamp(start), index=range(n), dtype="datetime64[ns]")
        date_col = None
    keep.refuse(table, dates.isna(), date_col, "the date is empty")

    segment = segments(
        table,
        (c_adgroup, c_campaign),
        demographic_segments(table.text(c_age), table.text(c_gender)),
    )

    network = constant("google", n)
    for c in (c_network, c_ctype):
        if c is not None:
            t = table.text(c).str.casefold()
            yt = t.str.contains("youtube") | (t == "video")
            network = network.where(~yt, "youtube")

    if c_action is not None:
        rtype = result_type_slugs(table.text(c_action))
        rtype = rtype.where(rtype != "", "conversions")
    else:
        rtype = constant("conversions", n)

    return canonical_extract(
        table,
        keep,
        date=dates,
        network=network,
        segment=segment,
        result_type=rtype,
        spend=spend,
        results=results,
        impressions=c_impr,
        clicks=c_clicks,
        currency=currencies(table, c_currency, c_cost, COST_PATTERN),
        campaign=table.text(c_campaign),
    )
