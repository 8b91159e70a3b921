"""What an importer returns, and the small vocabulary they share (segments, result types)."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.ingest._table import RawTable, norm_header


@dataclass
class Extract:
    """The kept rows of one file in canonical columns (before rows sharing a key are summed).

    ``frame`` has the canonical columns the format provides plus ``_pos``, the 0-based record
    position (for error messages and the file line).
    """

    frame: pd.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_spend: dict[str, float] = field(default_factory=dict)
    skipped_results: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Keep:
    """Which records are kept; every drop is counted by reason (nothing is silent)."""

    def __init__(self, n: int) -> None:
        self.mask = np.ones(n, dtype=bool)
        self.skipped: dict[str, int] = {}
        self._dropped: dict[str, np.ndarray] = {}

    def drop(self, where, reason: str) -> None:
        where = np.asarray(where, dtype=bool) & self.mask
        count = int(where.sum())
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count
            prev = self._dropped.get(reason)
            self._dropped[reason] = where if prev is None else (prev | where)
            self.mask &= ~where

    def refuse(self, table: RawTable, where, col: int | str | None, what: str) -> None:
        """Raise an IngestError (``what``) at the first kept record where ``where`` holds.

        For a value the canonical row needs (its date, its network) that is empty.
        """
        bad = np.asarray(where, dtype=bool) & self.mask
        if bad.any():
            raise table.error(int(np.flatnonzero(bad)[0]), col, what)

    def skipped_sum(self, values: pd.Series | None) -> dict[str, float]:
        """Return the sum of ``values`` (spend, results) over the dropped records, by reason."""
        if values is None:
            return {}
        arr = values.to_numpy(dtype="float64")
        return {r: math.fsum(np.nan_to_num(arr[m], nan=0.0)) for r, m in self._dropped.items()}

    def build(self, columns: dict[str, pd.Series], notes=None) -> Extract:
        """Return the Extract of the kept rows.

        ``columns`` maps canonical names to full-length series (one value per record).
        """
        data = {k: v.reset_index(drop=True)[self.mask] for k, v in columns.items()}
        frame = pd.DataFrame(data)
        frame["_pos"] = np.flatnonzero(self.mask)
        frame = frame.reset_index(drop=True)
        return Extract(
            frame=frame,
            skipped=dict(self.skipped),
            skipped_spend=self.skipped_sum(columns.get("spend")),
            skipped_results=self.skipped_sum(columns.get("results")),
            notes=list(notes or []),
        )


def canonical_extract(
    table: RawTable,
    keep: Keep,
    *,
    date: pd.Series,
    network: pd.Series,
    segment: pd.Series,
    result_type: pd.Series,
    spend: pd.Series,
    results: pd.Series,
    impressions: int | pd.Series | None,
    clicks: int | pd.Series | None,
    campaign: pd.Series,
    currency: pd.Series | None = None,
    notes=None,
) -> Extract:
    """Return the canonical columns of the kept rows (the importers' last step).

    ``impressions`` and ``clicks`` are a column position (None when the export has none),
    parsed here as non-negative counts of the kept rows, or a series the importer parsed.
    ``campaign`` and ``currency`` are text with "" for none (stored as missing); an export
    that never states a currency passes no ``currency`` and gets no currency column.
    """
    columns = {
        "date": date,
        "network": network,
        "segment": segment,
        "result_type": result_type,
        "spend": spend,
        "results": results,
        "impressions": _counts(table, keep, impressions, "impressions"),
        "clicks": _counts(table, keep, clicks, "clicks"),
    }
    if currency is not None:
        columns["currency"] = _text_or_nan(currency)
    columns["campaign"] = _text_or_nan(campaign)
    return keep.build(columns, notes)


def segments(table: RawTable, cols, first: pd.Series | None = None) -> pd.Series:
    """Return the segment of each row.

    ``first`` (demographics) where set, else the slug of the first of the columns ``cols``
    (ad group, campaign; None for absent) with a value, else ``all``.
    """
    segment = constant("", len(table)) if first is None else first
    for c in cols:
        if c is not None:
            segment = segment.where(segment != "", segment_slugs(table.text(c)))
    return segment.where(segment != "", "all")


def currencies(
    table: RawTable, col: int | None, spend_col: int | None = None, spend_pattern: str = ""
) -> pd.Series:
    """Return the currency codes (upper case) of column ``col``.

    Empty cells, or every row when there is no such column, take the currency the spend
    header names (``"Cost (EUR)"``: the group ``cur`` of ``spend_pattern``), else stay "".
    """
    codes = table.text(col).str.upper()
    if spend_col is not None:
        m = re.fullmatch(spend_pattern, table.norm[spend_col])
        named = (m.group("cur") or "").upper() if m else ""
        if named:
            codes = codes.where(codes != "", named)
    return codes


def _counts(table: RawTable, keep: Keep, col: int | pd.Series | None, what: str) -> pd.Series:
    if isinstance(col, pd.Series):
        return col
    return table.number(col, what=what, rows=keep.mask)


def _text_or_nan(text: pd.Series) -> pd.Series:
    return text.where(text != "", np.nan)


def constant(value, n: int, dtype="str") -> pd.Series:
    return pd.Series([value] * n, dtype=dtype)


def segment_slug(text: str) -> str:
    """Return an audience name as a segment.

    Lowercase, spaces and underscores to ``-``, accents kept (``"Retargeting 30d"`` ->
    ``retargeting-30d``).
    """
    text = unicodedata.normalize("NFKC", str(text)).translate(
        str.maketrans({"\u2019": "'", "\u2018": "'"})
    )
    text = re.sub(r"[\s_/|]+", "-", text.strip().casefold())
    return re.sub(r"-{2,}", "-", text).strip("-")


def segment_slugs(series: pd.Series) -> pd.Series:
    uniq = pd.unique(series)
    return series.map({u: segment_slug(u) for u in uniq}).astype("str")


_GENDER = {
    "female": "f",
    "women": "f",
    "woman": "f",
    "f": "f",
    "femme": "f",
    "femmes": "f",
    "male": "m",
    "men": "m",
    "man": "m",
    "m": "m",
    "homme": "m",
    "hommes": "m",
    "unknown": "u",
    "inconnu": "u",
    "undetermined": "u",
    "uncategorised": "u",
    "uncategorized": "u",
    "non classé": "u",
}


def gender_code(text: str) -> str:
    t = norm_header(text)
    return _GENDER.get(t, segment_slug(t))


def age_code(text: str) -> str:
    t = norm_header(text).replace(" ", "")
    if t in ("unknown", "inconnu", "undetermined"):
        return "unknown"
    return t


def demographic_segments(age: pd.Series, gender: pd.Series) -> pd.Series:
    """Return demographic segments: ``f-25-34`` from age "25-34" and gender "female".

    Either part alone when only one is given; empty where neither is.
    """
    a = age.map({x: age_code(x) if x else "" for x in pd.unique(age)})
    g = gender.map({x: gender_code(x) if x else "" for x in pd.unique(gender)})
    both = (a != "") & (g != "")
    out = g.where(a == "", g + "-" + a)
    out = out.where(~((g == "") & (a != "")), a)
    return out.where(both | (a != "") | (g != ""), "").astype("str")


_RESULT_TYPES: dict[str, str] = {
    # purchases
    "purchases": "purchases",
    "purchase": "purchases",
    "website purchases": "purchases",
    "achats": "purchases",
    "achats sur le site web": "purchases",
    "achats sur le site": "purchases",
    "actions:offsite_conversion.fb_pixel_purchase": "purchases",
    "actions:omni_purchase": "purchases",
    "actions:purchase": "purchases",
    # leads
    "leads": "leads",
    "lead": "leads",
    "website leads": "leads",
    "prospects": "leads",
    "on-facebook leads": "leads",
    "prospects sur facebook": "leads",
    "actions:lead": "leads",
    "actions:onsite_conversion.lead_grouped": "leads",
    "actions:offsite_conversion.fb_pixel_lead": "leads",
    # clicks
    "link clicks": "link_clicks",
    "clics sur un lien": "link_clicks",
    "clics sur le lien": "link_clicks",
    "actions:link_click": "link_clicks",
    "clicks": "clicks",
    # reach and impressions (cost per result for reach is quoted per 1,000 people)
    "reach": "reach",
    "couverture": "reach",
    "impressions": "impressions",
    # landing pages
    "landing page views": "landing_page_views",
    "vues de page de destination": "landing_page_views",
    "actions:landing_page_view": "landing_page_views",
    # installs
    "app installs": "installs",
    "mobile app installs": "installs",
    "installations d'app": "installs",
    "installations de l'app": "installs",
    "installations de l'application": "installs",
    "installs": "installs",
    "actions:mobile_app_install": "installs",
    "actions:app_install": "installs",
    # video
    "thruplays": "video_views",
    "thruplay": "video_views",
    "video views": "video_views",
    "vues de vidéo": "video_views",
    "video_thruplay_watched_actions": "video_views",
    "actions:video_view": "video_views",
    # engagement
    "post engagements": "post_engagements",
    "post engagement": "post_engagements",
    "interactions avec la publication": "post_engagements",
    "actions:post_engagement": "post_engagements",
    # registrations, carts, conversations
    "registrations completed": "registrations",
    "inscriptions terminées": "registrations",
    "actions:offsite_conversion.fb_pixel_complete_registration": "registrations",
    "adds to cart": "add_to_cart",
    "ajouts au panier": "add_to_cart",
    "actions:offsite_conversion.fb_pixel_add_to_cart": "add_to_cart",
    "messaging conversations started": "conversations",
    "conversations par message commencées": "conversations",
    "conversions": "conversions",
}


def result_type_slug(text: str) -> str:
    """Return the canonical result type of an export's label.

    Known Meta/LinkedIn/Google labels in English and French map to one slug (``"Website
    purchases"``, ``"Achats"`` and ``"actions:offsite_conversion.fb_pixel_purchase"`` ->
    ``purchases``); any other label becomes a lowercase slug with underscores.
    """
    t = norm_header(text)
    if t in _RESULT_TYPES:
        return _RESULT_TYPES[t]
    if t.startswith("actions:"):
        t = t[len("actions:") :]
    t = re.sub(r"[^\w]+", "_", t).strip("_")
    return t


def result_type_slugs(series: pd.Series) -> pd.Series:
    uniq = pd.unique(series)
    return series.map({u: result_type_slug(u) if u else "" for u in uniq}).astype("str")
