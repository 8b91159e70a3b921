"""Canonical history: validation rules, network names, exact CSV round trip."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting import ingest_files
from forecasting.errors import IngestError
from forecasting.history import (
    CANONICAL_COLUMNS,
    normalise_network,
    read_history,
    validate_history,
    write_history,
)


def _frame(**overrides) -> pd.DataFrame:
    data = {
        "date": ["2026-01-05", "2026-01-12"],
        "network": ["meta", "tiktok"],
        "segment": ["f-25-34", "retargeting"],
        "result_type": ["purchases", "purchases"],
        "spend": [100.5, 0.0],
        "results": [4.0, 0.0],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def test_validate_gives_canonical_dtypes_and_order():
    df = _frame(campaign=["a", None], impressions=[1000, None]).iloc[:, ::-1]
    out = validate_history(df)
    assert list(out.columns) == [c for c in CANONICAL_COLUMNS if c in df.columns]
    assert str(out["date"].dtype) == "datetime64[ns]"
    assert out["spend"].dtype == "float64" and out["impressions"].dtype == "float64"
    assert math.isnan(out["impressions"].iloc[1]) and pd.isna(out["campaign"].iloc[1])
    assert out["network"].tolist() == ["meta", "tiktok"]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Facebook", "meta"),
        ("fb", "meta"),
        ("Facebook Ads", "meta"),
        ("Meta", "meta"),
        ("Instagram", "instagram"),
        ("Twitter", "x"),
        ("X", "x"),
        ("Google Ads", "google"),
        ("AdWords", "google"),
        ("Bing", "bing"),
        ("Microsoft Advertising", "bing"),
        ("TikTok Ads", "tiktok"),
        ("LinkedIn", "linkedin"),
        ("YouTube", "youtube"),
        ("Audience Network", "audience-network"),
        ("  Snapchat  ", "snapchat"),
        ("Snap", "snapchat"),
        ("Snap Ads", "snapchat"),
        ("Snapchat Ads", "snapchat"),
        ("Pinterest Ads", "pinterest"),
        ("LinkedIn Ads", "linkedin"),
        ("LinkedIn Campaign Manager", "linkedin"),
        ("TikTok Ads Manager", "tiktok"),
        ("TikTok for Business", "tiktok"),
        ("YouTube Ads", "youtube"),
        ("X Ads", "x"),
        ("X (Twitter)", "x"),
        ("Reddit Ads", "reddit"),
        ("Microsoft Ads", "bing"),
        ("Bing Ads", "bing"),
        ("Facebook Ads Manager", "meta"),
        ("Instagram Ads", "instagram"),
        ("Quora Ads", "quora"),
        ("Amazon Advertising", "amazon"),
        ("My DSP", "my-dsp"),
        ("ads", "ads"),
    ],
)
def test_normalise_network(name, slug):
    assert normalise_network(name) == slug


def test_normalise_network_refuses_empty():
    with pytest.raises(ValueError):
        normalise_network("  ")


def test_validate_normalises_network_names():
    out = validate_history(_frame(network=["Facebook", "Instagram"]))
    assert out["network"].tolist() == ["meta", "instagram"]


@pytest.mark.parametrize(
    ("overrides", "column", "words"),
    [
        ({"spend": [100.0, -1.0]}, "spend", "negative"),
        ({"results": [1.0, "douze"]}, "results", "'douze' is not a number"),
        ({"results": [1.0, None]}, "results", "missing"),
        ({"date": ["2026-01-05", "05/01/2026"]}, "date", "not a date"),
        ({"segment": ["a", " "]}, "segment", "empty"),
        ({"spend": [1.0, np.inf]}, "spend", "finite"),
        ({"date": ["2026-01-05", "2263-01-01"]}, "date", "outside 1900-2200"),
    ],
)
def test_validate_names_row_and_column(overrides, column, words):
    with pytest.raises(IngestError) as e:
        validate_history(_frame(**overrides), source="mine.csv")
    assert e.value.row == 2 and e.value.column == column and e.value.file == "mine.csv"
    msg = str(e.value)
    assert "mine.csv" in msg and "data row 2" in msg and f'column "{column}"' in msg
    assert words in msg


def test_validate_missing_and_unknown_columns():
    with pytest.raises(IngestError, match="missing column.*'results'"):
        validate_history(_frame().drop(columns=["results"]))
    with pytest.raises(IngestError, match="unknown column.*'spent'"):
        validate_history(_frame(spent=[1, 2]))


def test_duplicates_are_an_error_naming_both_rows():
    df = _frame(network=["meta", "Facebook"], segment=["a", "a"], date=["2026-01-05"] * 2)
    with pytest.raises(IngestError) as e:
        validate_history(df, source="dup.csv")
    assert "data rows 1, 2" in str(e.value) and "network=meta" in str(e.value)
    # a different campaign is a different key
    ok = validate_history(df.assign(campaign=["x", "y"]))
    assert len(ok) == 2


@pytest.mark.parametrize(
    ("overrides", "column", "words"),
    [
        ({"currency": ["EUR", "EURO"]}, "currency", "'EURO' is not a 3-letter code"),
        ({"network": ["meta", "\x00"]}, "network", "holds the control character U+0000"),
        ({"segment": ["a", "a"], "date": ["2026-01-05"] * 2, "network": ["meta"] * 2}, None,
         "data rows 1 (line 7), 2 (line 9) repeat"),
    ],
)  # fmt: skip
def test_validate_gives_file_lines_as_ints_whatever_the_sequence(overrides, column, words):
    with pytest.raises(IngestError) as e:
        validate_history(_frame(**overrides), source="h.csv", lines=np.array([7, 9]))
    assert words in str(e.value) and e.value.column == column
    assert e.value.row == 2 and e.value.line == 9 and type(e.value.line) is int


def test_validate_keeps_text_as_given_and_currency_upper_case():
    out = validate_history(_frame(currency=[" eur", "usd "], campaign=["", " b "]))
    assert out["currency"].tolist() == ["EUR", "USD"]
    assert pd.isna(out["campaign"].iloc[0]) and out["campaign"].iloc[1] == "b"
    assert str(out["campaign"].dtype) == "str" and str(out["network"].dtype) == "str"


def test_read_history_errors_cite_file_line(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(
        "date,network,segment,result_type,spend,results\n"
        "2026-01-05,meta,a,purchases,10,1\n"
        "\n"
        "2026-01-12,meta,a,purchases,-3,1\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError) as e:
        read_history(p)
    assert e.value.row == 2 and e.value.line == 4 and e.value.column == "spend"
    assert f"{p}: data row 2 (line 4)" in str(e.value)


def test_read_history_rejects_ragged_rows(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("date,network,segment,result_type,spend,results\n2026-01-05,meta,a\n")
    with pytest.raises(IngestError, match="data row 1 \\(line 2\\): 3 cells"):
        read_history(p)


def test_write_history_writes_plain_numbers(tmp_path):
    p = write_history(_frame(spend=[100.5, 2.0]), tmp_path / "h.csv")
    lines = p.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "date,network,segment,result_type,spend,results"
    assert lines[1] == "2026-01-05,meta,f-25-34,purchases,100.5,4"


# ---- exact round trip ----------------------------------------------------------------

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and s != "")
_amount = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
_row = st.fixed_dictionaries(
    {
        "date": st.dates(
            min_value=pd.Timestamp("1900-01-01").date(), max_value=pd.Timestamp("2200-12-31").date()
        ),
        "network": st.sampled_from(["meta", "Facebook", "tiktok", "x", "Twitter", "linkedin"]),
        "segment": _text,
        "result_type": st.sampled_from(["purchases", "leads", "link_clicks"]),
        "spend": _amount,
        "results": _amount,
        "impressions": st.one_of(st.none(), _amount),
        "clicks": st.one_of(st.none(), _amount),
        "currency": st.one_of(st.none(), st.sampled_from(["EUR", "USD"])),
        "campaign": st.one_of(st.none(), _text),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(_row, min_size=0, max_size=8))
def test_write_read_round_trips_exactly(tmp_path, rows):
    df = pd.DataFrame(rows, columns=list(CANONICAL_COLUMNS))
    df["date"] = pd.to_datetime(df["date"])
    df = df.drop_duplicates(
        subset=["date", "segment", "result_type", "campaign"], ignore_index=True
    )
    expected = validate_history(df)
    path = tmp_path / "history.csv"
    write_history(expected, path)
    back = read_history(path)
    pd.testing.assert_frame_equal(back, expected, check_exact=True)
    # and once more: what was read writes the same bytes
    again = tmp_path / "again.csv"
    write_history(back, again)
    assert again.read_bytes() == path.read_bytes()
    # ingesting the canonical file gives the same rows, sorted by key
    ingested = ingest_files([path]).history
    key = ["date", "network", "segment", "result_type", "campaign"]
    by_key = expected.sort_values(key, kind="stable", na_position="first", ignore_index=True)
    pd.testing.assert_frame_equal(ingested, by_key, check_exact=True)
