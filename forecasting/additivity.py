"""Results that cannot be added across days or people: reach and other unique counts.

A curve's results per period are the history's rows summed into the period. For reach (the
people who saw an ad) the sum of two days, or of two campaigns, counts each person reached
in both twice: the total is not the period's reach. :func:`check_additive` refuses such a
sum before a curve is fitted; :func:`is_additive` tells which result types are concerned
(docs/formats.md, "Results that cannot be added (reach)").
"""

from __future__ import annotations

import re
import unicodedata

from .errors import ForecastingError

#: result types (as the ingest slugs them: Meta "Reach" -> ``reach``) that count people or
#: unique actions, so that two periods' or two campaigns' figures cannot be added
NON_ADDITIVE: frozenset[str] = frozenset(
    {
        "reach",
        "unique_reach",
        "estimated_reach",
        "people_reached",
        "accounts_center_accounts_reached",  # Meta's newer label for reach
        "couverture",  # Meta "Reach" in French, where a history was not ingested
        "unique_users",
        "uniques",
        "unique_clicks",
        "unique_clicks_all",
        "unique_link_clicks",
        "unique_outbound_clicks",
        "unique_video_views",
        "unique_impressions",
        "estimated_ad_recall_lift_people",
    }
)

#: why a plan shows no total over its periods for such a result
ADDITIVITY_NOTE = (
    "Reach and other counts of unique people cannot be added across periods (a person reached "
    "in two periods would be counted twice), so no total over the plan is shown for them: "
    "each period's figure stands alone."
)

_ADJECTIVE = {"day": "daily", "week": "weekly", "month": "monthly"}
#: where an export per week or month is asked for, by period
_EXPORT_HINT = {
    "week": "Meta Ads Manager: Reporting > Breakdown > By time > Week",
    "month": "Meta Ads Manager: Reporting > Breakdown > By time > Month",
}


def _slug(result_type: str) -> str:
    """Return a result type as the ingest slugs a label it does not know (``Reach`` -> reach)."""
    text = unicodedata.normalize("NFKC", str(result_type)).strip().lower()
    return re.sub(r"[^\w]+", "_", text).strip("_")


def is_additive(result_type: str) -> bool:
    """Return whether results of this type can be summed across days, campaigns and people.

    Not additive: :data:`NON_ADDITIVE`, any type starting ``unique_`` and any ending
    ``_reach`` or ``_reached`` (compared as slugs: ``"Unique link clicks"`` is
    ``unique_link_clicks``).
    """
    slug = _slug(result_type)
    return not (
        slug in NON_ADDITIVE or slug.startswith("unique_") or slug.endswith(("_reach", "_reached"))
    )


def check_additive(history, period: str, result_type: str) -> None:
    """Refuse forecasting a non-additive result type where the periods would sum rows.

    For :func:`is_additive` types, a :class:`ForecastingError` when (a) the history is finer
    than ``period`` (daily reach planned per week) or (b) several rows share one network ×
    segment × period (campaigns or ads of one line). Additive types, and histories at the
    period's grain with one row per line and period, pass.
    """
    if is_additive(result_type):
        return
    from .features import PERIOD_DAYS, check_period, history_granularity

    check_period(period)
    rows = history
    if "result_type" in history.columns:
        rows = history[history["result_type"] == result_type]
    if rows.empty:
        return
    grain = history_granularity(rows)
    if grain is not None and PERIOD_DAYS[grain[0]] < PERIOD_DAYS[period]:
        raise ForecastingError(_finer(result_type, grain, period))
    _refuse_shared_periods(rows, period, result_type)


def _finer(result_type: str, grain: tuple[str, float], period: str) -> str:
    kind, gap = grain
    instead = (
        f"planning per {kind} is impossible for curves (curves are weekly or monthly)"
        if kind == "day"
        else f"plan per {kind} (--period {kind})"
    )
    return (
        f"{result_type} cannot be added across {kind}s (people reached on several {kind}s "
        f"would be counted each {kind}), and the history is {_ADJECTIVE[kind]} (its dates are {gap:g} "
        f"day{'s' * (gap != 1)} apart) while the plan is per {period}: {instead}, so export {result_type} per "
        f"{period} ({_EXPORT_HINT.get(period, 'a report broken down by ' + period)}; "
        "elsewhere a report broken down by "
        f"{period}) or plan an additive result (purchases, link_clicks...)"
    )


def _refuse_shared_periods(rows, period: str, result_type: str) -> None:
    """Refuse several rows for one network × segment × period, naming the first case."""
    import pandas as pd

    from .features import period_label, period_start

    keys = pd.DataFrame(
        {
            "start": period_start(rows["date"], period),
            "network": rows["network"].astype(str).to_numpy(),
            "segment": rows["segment"].astype(str).to_numpy(),
        }
    )
    sizes = keys.groupby(["start", "network", "segment"], sort=True).size()
    shared = sizes[sizes > 1]
    if shared.empty:
        return
    start, network, segment = shared.index[0]
    cases = f"{len(shared)} line × {period} case{'s' * (len(shared) > 1)}"
    verb = "have" if len(shared) > 1 else "has"
    raise ForecastingError(
        f"{result_type} cannot be added across campaigns or ads (people reached by two of them "
        f"would be counted twice), and {cases} of the history {verb} several rows, the first "
        f"line {network}/{segment} in {period_label(start, period)} ({int(shared.iloc[0])} "
        f"rows): export {result_type} per network × segment (one row per line and {period}), "
        "not per campaign or ad, or plan an additive result (purchases, link_clicks...)"
    )
