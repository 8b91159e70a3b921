"""Importers on the real exports in ../shared/data (read in place, never copied).

Expected totals are computed here from the raw files with the csv module and Decimal,
independently of the importers.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal

import pandas as pd
import pytest

from forecasting import detect_source, ingest_files
from forecasting.errors import IngestError

IMPROVADO = "improvado_mcdm_multiplatform"
FILES = {
    "improvado-facebook": "src_ads_creative_facebook_all_data.csv",
    "improvado-tiktok": "src_ads_tiktok_ads_all_data.csv",
    "improvado-bing": "src_ads_bing_all_data.csv",
    "improvado-twitter": "src_promoted_tweets_twitter_all_data.csv",
}
# (network, result type, results column(s)) as docs/formats.md describes them
EXPECTED = {
    "improvado-tiktok": ("tiktok", "conversions", ("conversions",)),
    "improvado-bing": ("bing", "conversions", ("conv",)),
    "improvado-twitter": ("x", "link_clicks", ("url_clicks",)),
}
FB_OBJECTIVE = {
    "CONVERSIONS": ("purchases", ("purchase",)),
    "OUTCOME_SALES": ("purchases", ("purchase",)),
    "PRODUCT_CATALOG_SALES": ("purchases", ("purchase",)),
    "APP_INSTALLS": ("installs", ("mobile_app_install",)),
    "LINK_CLICKS": ("link_clicks", ("inline_link_clicks",)),
    "LEAD_GENERATION": ("registrations", ("complete_registration",)),
    "OUTCOME_LEADS": ("registrations", ("complete_registration",)),
    "VIDEO_VIEWS": ("video_views", ("views",)),
    "POST_ENGAGEMENT": ("post_engagements", ("likes", "comments", "shares")),
    "OUTCOME_ENGAGEMENT": ("post_engagements", ("likes", "comments", "shares")),
    "BRAND_AWARENESS": ("impressions", ("impressions",)),
    "REACH": ("impressions", ("impressions",)),
    "OUTCOME_AWARENESS": ("impressions", ("impressions",)),
}


def _raw(path):
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    first = {}
    for i, h in enumerate(header):
        first.setdefault(h, i)  # repeated headers: the first one
    return [{h: r[i] for h, i in first.items()} for r in rows]


def _expected_totals(source, rows):
    spend, results = defaultdict(Decimal), defaultdict(Decimal)
    for r in rows:
        if source == "improvado-facebook":
            rt, cols = FB_OBJECTIVE[r["objective"]]
        else:
            _, rt, cols = EXPECTED[source]
        spend[rt] += Decimal(r["spend"])
        results[rt] += sum(Decimal(r[c]) for c in cols)
    return spend, results


@pytest.mark.parametrize("source", sorted(FILES))
def test_improvado_exports_keep_every_cent(shared_data, source):
    path = shared_data / IMPROVADO / FILES[source]
    assert detect_source(path) == source
    result = ingest_files([path])
    f = result.report.files[0]
    h = result.history
    rows = _raw(path)
    assert f.rows_read == len(rows)
    assert f.rows_read == f.rows_written + f.rows_merged + f.rows_skipped
    assert set(f.skipped) <= {"zero_activity"} and f.skipped_spend.get("zero_activity", 0) == 0
    spend, results = _expected_totals(source, rows)
    got_spend = {
        k: Decimal(str(v)).quantize(Decimal("0.01")) for k, v in f.spend_by_result_type.items()
    }
    assert got_spend == {k: v.quantize(Decimal("0.01")) for k, v in spend.items()}
    got_results = {k: Decimal(str(v)) for k, v in f.results_by_result_type.items()}
    assert got_results == dict(results)
    # dates and networks as the files say
    dates = sorted({r["date"] for r in rows})
    assert (f.date_start, f.date_end) == (dates[0], dates[-1])
    if source in EXPECTED:
        assert set(h["network"]) == {EXPECTED[source][0]}
    else:
        assert set(h["network"]) == {"meta"}
    # one row per key, as canonical history requires
    key = ["date", "network", "segment", "result_type", "campaign"]
    assert not h.duplicated(key).any()


def test_all_four_exports_merge(shared_data):
    paths = [shared_data / IMPROVADO / FILES[s] for s in sorted(FILES)]
    result = ingest_files(paths)
    assert set(result.history["network"]) == {"meta", "tiktok", "bing", "x"}
    total = sum(
        Decimal(r["spend"]) for p in paths for r in _raw(p)
    )  # 65,431 + 97,905 + 1,180 + 17,270
    assert total == Decimal("181786")
    assert Decimal(str(result.history["spend"].sum())) == total
    assert result.report.date_start == "2023-01-01" and result.report.date_end == "2023-02-07"


@pytest.mark.parametrize(
    "relpath",
    [
        "marketing_spend_feb2021/Marketing.csv",
        "kag_conversion/KAG_conversion_data.csv",
        "fb_vs_adwords_2019/ABmarketing_campaign.csv",
        "improvado_mcdm_multiplatform/mcdm_paid_ads_basic_performance_structure.csv",
    ],
)
def test_other_shared_files_are_not_taken_for_an_export(shared_data, relpath):
    """Analysts' tables, not platform exports: refused with the list of known formats."""
    with pytest.raises(IngestError) as e:
        ingest_files([shared_data / relpath])
    msg = str(e.value)
    assert "unknown format" in msg and "--source" in msg and "meta" in msg


def test_history_is_a_dataframe_with_canonical_dtypes(shared_data):
    h = ingest_files([shared_data / IMPROVADO / FILES["improvado-bing"]]).history
    assert str(h["date"].dtype) == "datetime64[ns]"
    assert h["spend"].dtype == "float64" and h["results"].dtype == "float64"
    assert isinstance(h, pd.DataFrame) and h["segment"].str.startswith("adset-").all()
