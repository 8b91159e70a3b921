"""Meta Ads Manager exports (CSV or XLSX, English or French headers).

Detected by ``Reporting starts`` / ``Début des rapports`` or a spend header with the currency
inside (``Amount spent (EUR)`` / ``Montant dépensé (EUR)``).

Mapping (headers compared after NFKC, curly apostrophes straightened, case folded):

- date: ``Day`` / ``Jour`` when the report is broken down by day, else ``Reporting starts`` /
  ``Début des rapports`` (the first day of the row's range);
- spend: ``Amount spent (CUR)`` / ``Montant dépensé (CUR)``; the currency comes from the
  header (or a ``Currency`` / ``Devise`` column);
- results: ``Results`` / ``Résultats``; result_type: ``Result type`` / ``Result indicator`` /
  ``Indicateur de résultats`` mapped to slugs (Website purchases, Achats,
  actions:offsite_conversion.fb_pixel_purchase -> ``purchases``...). An empty results cell with
  a result type is 0 results (noted); a row with no result type is skipped and counted;
- segment: ``Age``/``Âge`` and ``Gender``/``Sexe`` breakdowns as ``f-25-34``, else the ad set
  name (``Ad set name`` / ``Nom de l'ensemble de publicités``) as a slug, else the campaign;
- network: ``Platform`` / ``Plateforme`` when present (Facebook -> meta, Instagram ->
  instagram, Audience Network, Messenger), else ``meta``;
- campaign: ``Campaign name`` / ``Nom de la campagne``; impressions; clicks: ``Link clicks``
  / ``Clics sur un lien`` (else ``Clicks (all)``);
- the summary row (every name and breakdown cell empty) is dropped and counted; its spend is
  compared with the rows' sum and a difference is noted.

Numbers are read with the file's decimal mark, told by its unambiguous cells ("1 234,56",
"12.5"), else by the header language (French: a decimal comma); see :mod:`._table`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecasting.history import normalise_network
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

NAME = "meta"
LABEL = "Meta Ads Manager export (CSV/XLSX, English or French)"
DETECT = '"Reporting starts"/"Début des rapports" or "Amount spent (CUR)"/"Montant dépensé (CUR)"'

SPEND_PATTERN = r"(amount spent|montant dépensé|montant depense)( \((?P<cur>[a-z]{3})\))?"
_STARTS = ("Reporting starts", "Début des rapports")


def matches(norm: list[str]) -> bool:
    """Return whether a normalised header is a Meta Ads Manager export's (see :data:`DETECT`)."""
    import re

    if any(h in ("reporting starts", "début des rapports") for h in norm):
        return True
    return any(re.fullmatch(SPEND_PATTERN, h) and "(" in h for h in norm)


def _is_french(table: RawTable) -> bool:
    french = {
        "début des rapports",
        "résultats",
        "indicateur de résultats",
        "nom de la campagne",
        "jour",
        "plateforme",
        "sexe",
    }
    return any(h in french or h.startswith("montant dépensé") for h in table.norm)


def extract(table: RawTable) -> Extract:
    """Read a Meta Ads Manager export as canonical rows (mapping in the module docstring)."""
    fr = _is_french(table)
    fmt = "Meta Ads Manager"
    c_spend = table.need(
        "spend", "Amount spent (EUR)", "Montant dépensé (EUR)", pattern=SPEND_PATTERN, fmt=fmt
    )
    c_day = table.find("Day", "Jour", "Date")
    c_start = table.find(*_STARTS)
    if c_day is None and c_start is None:
        table.need("date", "Reporting starts", "Début des rapports", "Day", "Jour", fmt=fmt)
    c_results = table.need("results", "Results", "Résultats", fmt=fmt)
    c_rtype = table.need(
        "what the results count",
        "Result type",
        "Result indicator",
        "Indicateur de résultats",
        "Type de résultat",
        fmt=fmt,
    )
    c_campaign = table.find("Campaign name", "Nom de la campagne")
    c_adset = table.find("Ad set name", "Nom de l'ensemble de publicités")
    c_ad = table.find("Ad name", "Nom de la publicité")
    c_age = table.find("Age", "Âge")
    c_gender = table.find("Gender", "Sexe")
    c_platform = table.find("Platform", "Plateforme")
    c_impr = table.find("Impressions")
    c_clicks = table.find("Link clicks", "Clics sur un lien")
    if c_clicks is None:
        c_clicks = table.find("Clicks (all)", "Clics (tous)")
    c_currency = table.find("Currency", "Devise")

    n = len(table)
    keep = Keep(n)
    ident = [
        c for c in (c_campaign, c_adset, c_ad, c_age, c_gender, c_platform, c_day) if c is not None
    ]
    summary = np.zeros(n, dtype=bool)
    if ident:
        summary = np.logical_and.reduce([table.blank(c) for c in ident])
    keep.drop(summary, "summary_row")

    table.decimal_hint = "," if fr else "."  # when no cell shows the file's decimal mark
    spend = table.number(c_spend, what="spend", rows=keep.mask)
    results = table.number(c_results, what="results", rows=keep.mask)
    impressions = table.number(c_impr, what="impressions", rows=keep.mask)
    clicks = table.number(c_clicks, what="clicks", rows=keep.mask)
    rtype_text = table.text(c_rtype)
    no_type = (rtype_text == "").to_numpy()
    active = np.zeros(n, dtype=bool)
    for values in (spend, results, impressions, clicks):
        active |= np.nan_to_num(values.to_numpy(), nan=0.0) != 0
    keep.drop(no_type & ~active, "zero_activity")
    keep.drop(no_type, "missing_result_type")

    date_col = c_day if c_day is not None else c_start
    formats = ["%Y-%m-%d", "%d/%m/%Y"] if fr else ["%Y-%m-%d", "%m/%d/%Y"]
    formats += ["%Y-%m-%d %H:%M:%S"]
    dates = table.date(date_col, formats, rows=keep.mask)
    keep.refuse(table, dates.isna(), date_col, "the date is empty")

    notes: list[str] = []
    empty_results = results.isna().to_numpy() & keep.mask
    if empty_results.any():
        notes.append(
            f"{int(empty_results.sum())} row(s) with a result type and an empty results cell "
            "read as 0 results"
        )
    results = results.fillna(0.0)
    no_spend = spend.isna().to_numpy() & keep.mask
    if no_spend.any():
        notes.append(f"{int(no_spend.sum())} row(s) with an empty spend cell read as 0 spend")
    spend = spend.fillna(0.0)

    if summary.any():
        listed = math.fsum(spend.to_numpy()[~summary])
        stated = math.fsum(np.nan_to_num(spend.to_numpy()[summary]))
        if abs(stated - listed) > 0.005 * max(1, int(summary.sum())):
            notes.append(
                f"the summary row says spend {stated:.2f} but the rows add up to {listed:.2f}"
            )

    demographics = demographic_segments(table.text(c_age), table.text(c_gender))

    if c_platform is not None:
        plat = table.text(c_platform)
        uniq = pd.unique(plat)
        network = plat.map({u: normalise_network(u) if u else "meta" for u in uniq})
    else:
        network = constant("meta", n)

    return canonical_extract(
        table,
        keep,
        date=dates,
        network=network.astype("str"),
        segment=segments(table, (c_adset, c_campaign), demographics),
        result_type=result_type_slugs(rtype_text),
        spend=spend,
        results=results,
        impressions=impressions,
        clicks=clicks,
        currency=currencies(table, c_currency, c_spend, SPEND_PATTERN),
        campaign=table.text(c_campaign),
        notes=notes,
    )
