"""The raw platform exports of Improvado's MCDM challenge (Facebook, TikTok, Bing, Twitter).

These are API-level dumps (``../shared/data/improvado_mcdm_multiplatform/``): lowercase
snake_case headers opening with ``__insert_date``, ISO dates, whole-number spend, one row per
ad and day (the anonymised ids repeat, so rows sharing a key are summed), a ``channel`` column
naming the platform. Four sources, told apart by their own columns:

- ``improvado-facebook`` (``inline_link_clicks``, ``objective``): network from ``channel``
  (Facebook -> meta); segment ``adset-<adset_id>``; campaign ``campaign-<campaign_id>``;
  result_type from the campaign ``objective``: sales/conversions/catalog -> ``purchases``
  (``purchase``), app installs -> ``installs`` (``mobile_app_install``), traffic/link clicks
  -> ``link_clicks`` (``inline_link_clicks``), leads -> ``registrations``
  (``complete_registration``: the export has no lead count), video views -> ``video_views``
  (``views``), engagement -> ``post_engagements`` (likes + comments + shares), awareness/reach
  -> ``impressions``. Repeated headers (``clicks``, ``purchase``...) are read when their
  copies hold the same cells, and refused otherwise (:meth:`RawTable.find`).
- ``improvado-tiktok`` (``adgroup_id``, ``skan_app_install``): segment ``adgroup-<id>``,
  result_type ``conversions`` (``conversions``).
- ``improvado-bing`` (``imps``, ``conv``): segment ``adset-<id>``, result_type
  ``conversions`` (``conv``), impressions ``imps``.
- ``improvado-twitter`` (``url_clicks``, ``engagements``): network x; segment ``all`` (the
  export has no audience column), campaign ``campaign-<id>``, result_type ``link_clicks``
  (``url_clicks``).

No currency is stated in these files; the currency column is left empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.history import normalise_network
from forecasting.ingest._base import Extract, Keep, canonical_extract, constant
from forecasting.ingest._table import RawTable

OBJECTIVES: dict[str, tuple[str, tuple[str, ...]]] = {
    "CONVERSIONS": ("purchases", ("purchase",)),
    "OUTCOME_SALES": ("purchases", ("purchase",)),
    "PRODUCT_CATALOG_SALES": ("purchases", ("purchase",)),
    "APP_INSTALLS": ("installs", ("mobile_app_install",)),
    "OUTCOME_APP_PROMOTION": ("installs", ("mobile_app_install",)),
    "LINK_CLICKS": ("link_clicks", ("inline_link_clicks",)),
    "OUTCOME_TRAFFIC": ("link_clicks", ("inline_link_clicks",)),
    "LEAD_GENERATION": ("registrations", ("complete_registration",)),
    "OUTCOME_LEADS": ("registrations", ("complete_registration",)),
    "VIDEO_VIEWS": ("video_views", ("views",)),
    "POST_ENGAGEMENT": ("post_engagements", ("likes", "comments", "shares")),
    "OUTCOME_ENGAGEMENT": ("post_engagements", ("likes", "comments", "shares")),
    "PAGE_LIKES": ("post_engagements", ("likes", "comments", "shares")),
    "BRAND_AWARENESS": ("impressions", ("impressions",)),
    "REACH": ("impressions", ("impressions",)),
    "OUTCOME_AWARENESS": ("impressions", ("impressions",)),
}


def _has(norm: list[str], *names: str) -> bool:
    return "__insert_date" in norm and all(n in norm for n in names)


def matches_facebook(norm: list[str]) -> bool:
    """Return whether a header is the Improvado Facebook export's."""
    return _has(norm, "inline_link_clicks", "objective", "spend")


def matches_tiktok(norm: list[str]) -> bool:
    """Return whether a header is the Improvado TikTok export's."""
    return _has(norm, "adgroup_id", "skan_app_install", "spend")


def matches_bing(norm: list[str]) -> bool:
    """Return whether a header is the Improvado Bing export's."""
    return _has(norm, "imps", "conv", "spend")


def matches_twitter(norm: list[str]) -> bool:
    """Return whether a header is the Improvado Twitter export's."""
    return _has(norm, "url_clicks", "engagements", "spend")


def _ids(table: RawTable, col: int, prefix: str) -> pd.Series:
    t = table.text(col)
    return (prefix + "-" + t).where(t != "", prefix + "-none").astype("str")


def _common(table: RawTable, keep: Keep, fmt: str) -> dict[str, pd.Series]:
    table.decimal_hint = "."  # API dumps: plain numbers with a decimal point
    table.same_repeats = True  # the Facebook dump repeats headers: copies must agree
    c_date = table.need("date", "date", fmt=fmt)
    c_spend = table.need("spend", "spend", fmt=fmt)
    c_channel = table.need("network", "channel", fmt=fmt)
    dates = table.date(c_date, ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S"], rows=keep.mask)
    keep.refuse(table, dates.isna(), c_date, "the date is empty")
    channel = table.text(c_channel)
    keep.refuse(table, channel == "", c_channel, "the channel is empty")
    uniq = pd.unique(channel)
    return {
        "date": dates,
        "network": channel.map({u: normalise_network(u) for u in uniq if u}).astype("str"),
        "spend": table.number(c_spend, what="spend", rows=keep.mask).fillna(0.0),
    }


def _num(table: RawTable, name: str, keep: Keep, fmt: str) -> pd.Series:
    return table.number(table.need(name, name, fmt=fmt), what=name, rows=keep.mask).fillna(0.0)


def _finish(
    table: RawTable,
    keep: Keep,
    fmt: str,
    common: dict[str, pd.Series],
    *,
    segment: pd.Series,
    result_type: pd.Series,
    results: pd.Series,
    impressions: str = "impressions",
    notes=None,
) -> Extract:
    """Build the extract from the columns every Improvado export shares and the rest.

    The shared ones are clicks and the campaign ids; ``common`` holds date, network, spend.
    """
    return canonical_extract(
        table,
        keep,
        **common,
        segment=segment,
        result_type=result_type,
        results=results,
        impressions=_num(table, impressions, keep, fmt),
        clicks=_num(table, "clicks", keep, fmt),
        campaign=_ids(table, table.need("campaign_id", "campaign_id", fmt=fmt), "campaign"),
        notes=notes,
    )


#: exports with one result type for every row: format name, segment (id column and prefix,
#: None for "all"), result type, results column, impressions column
_ONE_RESULT_TYPE: dict[str, tuple[str, tuple[str, str] | None, str, str, str]] = {
    "tiktok": ("Improvado TikTok", ("adgroup_id", "adgroup"), "conversions", "conversions",
               "impressions"),
    "bing": ("Improvado Bing", ("adset_id", "adset"), "conversions", "conv", "imps"),
    "twitter": ("Improvado Twitter", None, "link_clicks", "url_clicks", "impressions"),
}  # fmt: skip


def _one_result_type(table: RawTable, platform: str) -> Extract:
    fmt, segment, result_type, results, impressions = _ONE_RESULT_TYPE[platform]
    keep = Keep(len(table))
    common = _common(table, keep, fmt)
    if segment is None:
        seg = constant("all", len(table))
    else:
        seg = _ids(table, table.need(segment[0], segment[0], fmt=fmt), segment[1])
    return _finish(
        table,
        keep,
        fmt,
        common,
        segment=seg,
        result_type=constant(result_type, len(table)),
        results=_num(table, results, keep, fmt),
        impressions=impressions,
    )


def extract_facebook(table: RawTable) -> Extract:
    """Read the Improvado Facebook export; the result type follows each campaign's objective."""
    fmt = "Improvado Facebook"
    keep = Keep(len(table))
    common = _common(table, keep, fmt)
    objective = table.text(table.need("objective", "objective", fmt=fmt)).str.upper()
    unknown = sorted(set(objective[keep.mask]) - set(OBJECTIVES))
    if unknown:
        pos = int(np.flatnonzero(objective.isin(unknown).to_numpy() & keep.mask)[0])
        raise table.error(
            pos,
            "objective",
            f"unknown objective {objective.iloc[pos]!r}; known: {', '.join(sorted(OBJECTIVES))}",
        )
    results = pd.Series(0.0, index=range(len(table)))
    rtype = pd.Series("", index=range(len(table)), dtype="str")
    cache: dict[str, pd.Series] = {}
    for obj, (slug, sources) in OBJECTIVES.items():
        rows = (objective == obj).to_numpy()
        if not rows.any():
            continue
        total = sum(cache.setdefault(s, _num(table, s, keep, fmt)) for s in sources)
        results = results.where(~rows, total)
        rtype = rtype.where(~rows, slug)
    return _finish(
        table,
        keep,
        fmt,
        common,
        segment=_ids(table, table.need("adset_id", "adset_id", fmt=fmt), "adset"),
        result_type=rtype,
        results=results,
    )


def extract_tiktok(table: RawTable) -> Extract:
    """Read the Improvado TikTok export (result type ``conversions``)."""
    return _one_result_type(table, "tiktok")


def extract_bing(table: RawTable) -> Extract:
    """Read the Improvado Bing export (result type ``conversions``)."""
    return _one_result_type(table, "bing")


def extract_twitter(table: RawTable) -> Extract:
    """Read the Improvado Twitter export (result type ``link_clicks``, segment ``all``)."""
    return _one_result_type(table, "twitter")
