"""Events, priors, lift tests and non-additive results: real files, hand-computed numbers.

Every refusal is checked for what its message names: the file, the row (or list index) and
the column (or key), the bad value and what to do.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import pytest

from forecasting.additivity import (
    ADDITIVITY_NOTE,
    NON_ADDITIVE,
    check_additive,
    is_additive,
)
from forecasting.errors import ForecastingError
from forecasting.events import Event, Events, events_from_rows, load_events
from forecasting.lift import lift_from_rows, load_lift
from forecasting.options import response_options
from forecasting.priors import (
    Prior,
    check_standalone,
    combine_elasticity,
    combine_level,
    load_priors,
    priors_from_data,
)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(call, *needles: str) -> str:
    """Run ``call``, expect a ForecastingError whose message holds every needle."""
    with pytest.raises(ForecastingError) as info:
        call()
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


# -- events: reading ----------------------------------------------------------------------

EVENTS_CSV = """name,start,end,network,promotion
Black Friday,2025-11-28,2025-12-01,,
Black Friday,2026-11-27,2026-11-30,,
Summer sale,2026-07-01,2026-07-14,Facebook,yes
"""


def test_events_csv_is_read_whole(tmp_path):
    events = load_events(write(tmp_path, "events.csv", EVENTS_CSV))
    assert events.source.endswith("events.csv")
    assert events.events == (
        Event("Black Friday", dt.date(2025, 11, 28), dt.date(2025, 12, 1)),
        Event("Black Friday", dt.date(2026, 11, 27), dt.date(2026, 11, 30)),
        Event("Summer sale", dt.date(2026, 7, 1), dt.date(2026, 7, 14), "meta", True),
    )
    assert events.names() == ["event[Black Friday]", "promotion"]


def test_events_yaml_reads_dates_one_day_events_and_flags(tmp_path):
    path = write(
        tmp_path,
        "events.yml",
        "events:\n"
        "  - {name: Christmas, date: 2026-12-25}\n"
        "  - {name: Launch, start: '2026-03-02', end: 2026-03-08, network: TikTok Ads}\n"
        "  - {name: Sale, start: 2026-07-01, promotion: 'No'}\n",
    )
    events = load_events(path)
    assert events.events == (
        Event("Christmas", dt.date(2026, 12, 25), dt.date(2026, 12, 25)),
        Event("Launch", dt.date(2026, 3, 2), dt.date(2026, 3, 8), "tiktok"),
        Event("Sale", dt.date(2026, 7, 1), dt.date(2026, 7, 1), None, False),
    )
    assert events.names() == ["event[Christmas]", "event[Launch]", "event[Sale]"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("YES", True), ("1", True), ("False", False), ("no", False), ("0", False)],
)
def test_events_promotion_words(tmp_path, text, expected):
    path = write(tmp_path, "e.csv", f"name,date,promotion\nX,2026-01-01,{text}\n")
    assert load_events(path).events[0].promotion is expected


def test_events_from_rows_and_options_read_the_api_list():
    rows = [{"name": "BF", "start": "2026-11-27", "end": "2026-11-30", "promotion": True}]
    events = events_from_rows(rows)
    assert events.source == "events"
    assert events.names() == ["promotion"]
    assert response_options(events=rows).events == events
    refused(
        lambda: events_from_rows([*rows, {"name": "X", "start": "2026-02-30"}]),
        'events[1], key "start"',
        "'2026-02-30'",
        "YYYY-MM-DD",
    )


def test_options_read_every_file(tmp_path):
    opts = response_options(
        events=write(tmp_path, "e.csv", EVENTS_CSV),
        priors=write(tmp_path, "p.yaml", "priors:\n  - {network: meta, cpr: 10}\n"),
        lift=str(write(tmp_path, "l.csv", "network,incremental_per_result,low,high\nmeta,1,1,1\n")),
    )
    assert len(opts.events.events) == 3 and len(opts.priors.entries) == 1
    assert opts.lift.entries[0].ratio == 1.0


# -- events: refusals -----------------------------------------------------------------------


def test_event_end_before_start_names_file_row_line_column_value(tmp_path):
    path = write(tmp_path, "ev.csv", "name,start,end\nA,2026-01-01,\n\nB,2026-11-27,2026-11-20\n")
    refused(
        lambda: load_events(path),
        "ev.csv: data row 2 (line 4)",
        'column "end"',
        "2026-11-20 is before the start 2026-11-27",
        "give the first day as start",
    )


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ("name,start\nA,27/11/2026\n", ['data row 1 (line 2), column "start"', "'27/11/2026'"]),
        ("name,start\nA,9999-01-01\n", ['column "start"', "9999-01-01 is outside", "year"]),
        ("name,date,start\nA,2026-01-01,2026-01-01\n", ['column "date"', "not both"]),
        ("name,end\nA,2026-01-01\n", ['column "start"', "give start (and end) or date"]),
        ("name,date,promotion\nA,2026-01-01,maybe\n", ['"promotion"', "'maybe'", "yes/no"]),
        ("name,date\n" + "x" * 101 + ",2026-01-01\n", ['column "name"', "101 characters"]),
        ("name,date\nA\x01b,2026-01-01\n", ['column "name"', "U+0001", "remove it"]),
        ("name,date\n ,2026-01-01\n", ['data row 1 (line 2), column "name"', "empty"]),
        ("name,date\nA,2026-01-01,extra\n", ["data row 1 (line 2)", "'extra' has no column"]),
    ],
)
def test_event_cell_refusals(tmp_path, body, needles):
    refused(lambda: load_events(write(tmp_path, "ev.csv", body)), "ev.csv", *needles)


def test_event_header_refusals(tmp_path):
    unknown = write(tmp_path, "a.csv", "name,start,Colour\nA,2026-01-01,red\n")
    refused(lambda: load_events(unknown), "a.csv", "unknown column 'Colour'", "line 1", "promotion")
    twice = write(tmp_path, "b.csv", "name,Start,start\nA,2026-01-01,2026-01-02\n")
    refused(lambda: load_events(twice), "b.csv", "'start' twice", "columns 2 and 3")
    no_name = write(tmp_path, "c.csv", "label,start\nA,2026-01-01\n")
    refused(lambda: load_events(no_name), "c.csv", "unknown column 'label'")
    missing = write(tmp_path, "d.csv", "start,end\n2026-01-01,2026-01-02\n")
    refused(lambda: load_events(missing), "d.csv", "no column 'name'", "line 1")


def test_event_repeats_and_spellings_are_refused(tmp_path):
    same = write(tmp_path, "e.csv", "name,date\nBF,2026-11-27\nBF,2026-11-27\n")
    refused(lambda: load_events(same), "e.csv: data row 2 (line 3)", "data row 1 (line 2)", "BF")
    case = write(
        tmp_path, "f.csv", "name,date\nBlack Friday,2025-11-28\nblack  friday,2026-11-27\n"
    )
    refused(
        lambda: load_events(case),
        'f.csv: data row 2 (line 3), column "name"',
        "'black  friday' is written 'Black Friday'",
        "same way",
    )
    kinds = write(
        tmp_path, "g.csv", "name,date,promotion\nSale,2026-01-01,no\nSale,2026-02-01,yes\n"
    )
    refused(lambda: load_events(kinds), 'data row 2 (line 3), column "promotion"', "'Sale'")


def test_event_same_name_on_other_networks_is_not_a_repeat(tmp_path):
    path = write(tmp_path, "e.csv", "name,date,network\nBF,2026-11-27,meta\nBF,2026-11-27,tiktok\n")
    assert len(load_events(path).events) == 2


@pytest.mark.parametrize(
    ("name", "text", "needles"),
    [
        ("e.csv", "", ["e.csv", "empty"]),
        ("e.csv", "name,start,end\n\n", ["e.csv", "only a header"]),
        ("e.txt", "name,date\nA,2026-01-01\n", ["e.txt", ".csv, .yaml, .yml", "'.txt'"]),
        ("e.yaml", "events: []\n", ["e.yaml: events", "empty"]),
        ("e.yaml", "event:\n  - {name: A, date: 2026-01-01}\n", ["e.yaml", "'events'"]),
        ("e.yaml", "events: [{name: A, date: 2026-01-01}]\nother: 1\n", ["unknown key 'other'"]),
        ("e.yaml", "events:\n  - {name: A, day: 2026-01-01}\n", ["e.yaml: events[0]", "'day'"]),
        ("e.yaml", "events:\n  - {name: 2026, date: 2026-01-01}\n", ['events[0], key "name"']),
        ("e.yaml", "events:\n  - {name: A, date: [1, 2]}\n", ['events[0], key "date"', "one"]),
        ("e.yaml", "events:\n  - name: [unclosed\n", ["e.yaml", "line", "YAML"]),
        ("e.yaml", "events:\n  - A\n", ["e.yaml: events[0]", "mapping"]),
    ],
)
def test_event_file_refusals(tmp_path, name, text, needles):
    refused(lambda: load_events(write(tmp_path, name, text)), *needles)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("2026-13-01", "'2026-13-01'"), ("2026-02-30", "'2026-02-30'"), ("2026-11-27 10:00", "10:00")],
)
def test_unquoted_yaml_dates_are_checked_like_csv_cells(tmp_path, value, shown):
    path = write(
        tmp_path,
        "e.yaml",
        f"events:\n  - {{name: A, date: 2026-01-01}}\n  - {{name: B, start: {value}}}\n",
    )
    refused(lambda: load_events(path), 'e.yaml: events[1], key "start"', shown, "YYYY-MM-DD")


def test_event_missing_file_directory_and_bytes(tmp_path):
    refused(lambda: load_events(tmp_path / "nope.csv"), "nope.csv does not exist", "give the")
    refused(lambda: load_events(tmp_path), "is a directory", ".yaml")
    bad = tmp_path / "latin.csv"
    bad.write_bytes("name,date\nNoël,2026-12-25\n".encode("latin-1"))
    refused(lambda: load_events(bad), "latin.csv", "not UTF-8", "save the file as UTF-8")


def test_at_most_ten_thousand_events():
    rows = [{"name": f"e{i}", "date": "2026-01-01"} for i in range(10_001)]
    refused(lambda: events_from_rows(rows), "events", "10,001 rows", "10,000")
    assert len(events_from_rows(rows[:10_000]).events) == 10_000


def test_event_dataclass_refuses_end_before_start():
    refused(lambda: Event("A", dt.date(2026, 1, 2), dt.date(2026, 1, 1)), "'A'", "before")


# -- events: columns ------------------------------------------------------------------------


def test_a_three_day_event_inside_a_week_is_three_sevenths():
    ev = Events((Event("BF", dt.date(2026, 11, 27), dt.date(2026, 11, 29)),), "e")
    weeks = pd.DatetimeIndex(["2026-11-16", "2026-11-23", "2026-11-30"])
    names, x = ev.columns(["meta"] * 3, weeks, "week")
    assert names == ["event[BF]"]
    np.testing.assert_allclose(x[:, 0], [0, 3 / 7, 0])


def test_an_event_across_two_weeks_is_split_by_days():
    ev = Events((Event("BF", dt.date(2026, 11, 27), dt.date(2026, 11, 30)),), "e")
    _, x = ev.columns(["m", "m"], pd.DatetimeIndex(["2026-11-23", "2026-11-30"]), "week")
    np.testing.assert_allclose(x[:, 0], [3 / 7, 1 / 7])


def test_a_network_event_counts_on_its_network_only():
    ev = Events(
        (
            Event("Sale", dt.date(2026, 7, 1), dt.date(2026, 7, 2), network="meta"),
            Event("Sale", dt.date(2026, 7, 4), dt.date(2026, 7, 4)),
        ),
        "e",
    )
    start = pd.DatetimeIndex(["2026-06-29"] * 3)
    _, x = ev.columns(["Facebook", "tiktok", "meta"], start, "week")
    np.testing.assert_allclose(x[:, 0], [3 / 7, 1 / 7, 3 / 7])


def test_a_month_is_its_calendar_days():
    ev = Events((Event("Sale", dt.date(2026, 2, 27), dt.date(2026, 3, 3), promotion=True),), "e")
    months = np.array(["2026-02-01", "2026-03-01", "2026-04-01"], dtype="datetime64[ns]")
    names, x = ev.columns(["meta"] * 3, months, "month")
    assert names == ["promotion"]
    np.testing.assert_allclose(x[:, 0], [2 / 28, 3 / 31, 0])


def test_overlapping_events_of_one_column_count_each_day_once():
    ev = Events(
        (
            Event("BF", dt.date(2026, 11, 23), dt.date(2026, 11, 26)),
            Event("BF", dt.date(2026, 11, 25), dt.date(2026, 11, 27)),
            Event("BF", dt.date(2026, 11, 26), dt.date(2026, 11, 26), network="meta"),
            Event("P1", dt.date(2026, 11, 23), dt.date(2026, 11, 24), promotion=True),
            Event("P2", dt.date(2026, 11, 24), dt.date(2026, 11, 25), promotion=True),
        ),
        "e",
    )
    names, x = ev.columns(["meta"], pd.DatetimeIndex(["2026-11-23"]), "week")
    assert names == ["event[BF]", "promotion"]
    np.testing.assert_allclose(x[0], [5 / 7, 3 / 7])


def test_days_columns_order_and_occurring():
    ev = Events(
        (
            Event("b", dt.date(2026, 1, 2), dt.date(2026, 1, 3)),
            Event("P", dt.date(2026, 1, 1), dt.date(2026, 1, 1), promotion=True),
            Event("a", dt.date(2025, 1, 1), dt.date(2025, 1, 1)),
        ),
        "e",
    )
    days = pd.date_range("2026-01-01", "2026-01-04", freq="D")
    names, x = ev.columns(["x"] * 4, days, "day")
    assert names == ["event[a]", "event[b]", "promotion"]
    np.testing.assert_array_equal(x, [[0, 0, 1], [0, 1, 0], [0, 1, 0], [0, 0, 0]])
    assert ev.occurring(dt.date(2026, 1, 3), dt.date(2026, 3, 1)) == ["event[b]"]
    assert ev.occurring(dt.date(2024, 1, 1), dt.date(2026, 1, 1)) == ["event[a]", "promotion"]


def test_no_events_give_no_columns_and_a_bad_period_is_refused():
    names, x = Events((), "e").columns(["meta"], pd.DatetimeIndex(["2026-01-05"]), "week")
    assert names == [] and x.shape == (1, 0)
    ev = Events((Event("A", dt.date(2026, 1, 1), dt.date(2026, 1, 1)),), "e")
    refused(lambda: ev.columns(["m"], pd.DatetimeIndex(["2026-01-05"]), "year"), "'year'")


# -- priors -------------------------------------------------------------------------------

PRIORS_YAML = """priors:
  - {network: Facebook, cpr: 14, elasticity: 0.6}
  - {network: meta, result_type: leads, cpr: 35, weight: 100}
  - {network: meta, segment: retargeting, cpr: 8}
  - {network: meta, segment: retargeting, result_type: leads, elasticity: 0.4}
  - network: tiktok
    segment: f-18-24
    result_type: purchases
    cpr: 22
    elasticity: 0.55
    elasticity_sd: 0.1
    spend: 1500
  - {network: tiktok, segment: m-18-24, cpr: 30, spend: 1000, max_spend: 4000}
"""


def test_priors_are_read_with_their_defaults(tmp_path):
    priors = load_priors(write(tmp_path, "priors.yaml", PRIORS_YAML))
    first, leads = priors.entries[0], priors.entries[1]
    assert (first.network, first.cpr, first.elasticity) == ("meta", 14.0, 0.6)
    assert (first.weight, first.elasticity_sd, first.spend, first.max_spend) == (
        50,
        0.15,
        None,
        None,
    )
    assert leads.weight == 100 and leads.where.endswith("priors.yaml: priors[1]")
    young = priors.entries[4]
    assert (young.elasticity_sd, young.spend, young.max_spend) == (0.1, 1500, 2250)
    assert priors.entries[5].max_spend == 4000


def test_the_most_specific_prior_wins(tmp_path):
    priors = load_priors(write(tmp_path, "priors.yaml", PRIORS_YAML))
    e = priors.entries
    assert priors.for_line("meta", "retargeting", "leads") is e[3]
    assert priors.for_line("meta", "retargeting", "purchases") is e[2]
    assert priors.for_line("meta", "f-25-34", "leads") is e[1]
    assert priors.for_line("Facebook Ads", "f-25-34", "purchases") is e[0]
    assert priors.for_line("tiktok", "f-25-34", "purchases") is None
    assert priors.for_line("tiktok", "f-18-24", "installs") is None


def test_a_segment_beats_a_result_type_which_beats_the_network():
    scopes = [{"result_type": "leads"}, {"segment": "a"}, {}]
    priors = priors_from_data(
        {"priors": [{"network": "meta", "cpr": i + 1, **s} for i, s in enumerate(scopes)]}
    )
    tests = lift_from_rows(
        [
            {"network": "meta", "incremental_per_result": i + 1, "low": 0, "high": 5, **s}
            for i, s in enumerate(scopes)
        ]
    )
    for table, value in ((priors, "cpr"), (tests, "ratio")):
        assert getattr(table.for_line("meta", "a", "leads"), value) == 2
        assert getattr(table.for_line("meta", "b", "leads"), value) == 1
        assert getattr(table.for_line("meta", "b", "purchases"), value) == 3
        assert table.for_line("tiktok", "a", "leads") is None


def test_lines_without_history_and_what_they_need(tmp_path):
    priors = load_priors(write(tmp_path, "priors.yaml", PRIORS_YAML))
    e = priors.entries
    known = {("meta", "retargeting")}
    assert priors.lines_without_history("purchases", known) == [e[4], e[5]]
    assert priors.lines_without_history("installs", known) == [e[5]]
    assert priors.lines_without_history("leads", set()) == [e[3], e[5]]
    check_standalone(e[4])
    refused(
        lambda: check_standalone(e[5]),
        "priors.yaml: priors[5]",
        "tiktok/m-18-24",
        "no elasticity",
        "give cpr",
    )
    refused(lambda: check_standalone(e[3]), "priors[3]", "no cpr and no spend")


def test_priors_from_data_and_csv(tmp_path):
    data = {"priors": [{"network": "meta", "segment": "a", "cpr": "12.5"}]}
    priors = priors_from_data(data)
    assert priors.source == "priors" and priors.entries[0].cpr == 12.5
    assert priors.entries[0].where == "priors[0]"
    refused(lambda: priors_from_data([{"network": "meta"}]), "priors", "'priors'")
    csv_priors = load_priors(write(tmp_path, "p.csv", "network,segment,cpr\nmeta,,9\ntiktok,a,3\n"))
    assert [(p.network, p.segment, p.cpr) for p in csv_priors.entries] == [
        ("meta", None, 9.0),
        ("tiktok", "a", 3.0),
    ]


@pytest.mark.parametrize(
    ("entry", "needles"),
    [
        ("{network: meta, cpr: -5}", ["priors[1], cpr", "-5", "not above 0"]),
        ("{network: meta, elasticity: 1.4}", ["priors[1], elasticity", "1.4", "0.05..1"]),
        ("{network: meta, elasticity: 0.04}", ["priors[1], elasticity", "0.04"]),
        ("{network: meta, segment: x}", ["priors[1]", "neither cpr nor elasticity"]),
        ("{network: meta, elasticity: 0.5, weight: 9}", ['priors[1], key "weight"', "cpr"]),
        ("{network: meta, cpr: 5, elasticity_sd: 0.1}", ['key "elasticity_sd"', "elasticity"]),
        ("{network: meta, elasticity: 0.5, spend: 10}", ['key "spend"', "give cpr too"]),
        ("{network: meta, cpr: 5, max_spend: 10}", ["priors[1], max_spend", "without spend"]),
        ("{network: meta, cpr: 5, spend: 10, max_spend: 10}", ["max_spend: 10", "above spend"]),
        ("{network: meta, cpr: 5, weight: 0}", ["priors[1], weight", "not above 0"]),
        ("{network: meta, elasticity: 0.5, elasticity_sd: 0}", ["priors[1], elasticity_sd"]),
        ("{network: meta, cpr: 'twelve'}", ['priors[1], key "cpr"', "'twelve'", "decimal point"]),
        ("{network: meta, cpr: .nan}", ['key "cpr"', "nan"]),
        ("{network: meta, cpr: '1,5'}", ['key "cpr"', "'1,5'"]),
        ("{network: meta, cpr: 5, sd: 1}", ["priors[1]", "unknown key 'sd'", "elasticity_sd"]),
        ("{cpr: 5}", ['priors[1], key "network"', "missing"]),
        ("{network: Facebook, cpr: 6}", ["priors[1]", "already given in", "priors[0]"]),
    ],
)
def test_prior_refusals(tmp_path, entry, needles):
    text = f"priors:\n  - {{network: meta, cpr: 10}}\n  - {entry}\n"
    refused(lambda: load_priors(write(tmp_path, "pr.yaml", text)), "pr.yaml: ", *needles)


def test_a_prior_for_a_segment_is_not_a_repeat_of_the_network(tmp_path):
    text = "priors:\n  - {network: meta, cpr: 10}\n  - {network: meta, segment: a, cpr: 10}\n"
    assert len(load_priors(write(tmp_path, "p.yaml", text)).entries) == 2


def test_prior_dataclass_checks_itself():
    refused(
        lambda: Prior("meta", None, None, None, None, 50, 0.15, None, None, "here"),
        "here",
        "neither",
    )


def test_combine_level_by_hand():
    # var_data 0.01 is worth 100 results, as much as the prior: half of each
    post, var, share = combine_level(math.log(10), 0.01, math.log(20), 100)
    assert share == pytest.approx(0.5)
    assert post == pytest.approx(0.5 * math.log(10) + 0.5 * math.log(20))
    assert var == pytest.approx(1 / 200)
    # a tenth of the prior's precision: the prior counts 100 / (100 + 1000)
    post, var, share = combine_level(0.0, 0.001, 1.1, 100)
    assert share == pytest.approx(1 / 11)
    assert post == pytest.approx(0.1)
    assert var == pytest.approx(1 / 1100)


def test_combine_level_without_data_or_without_doubt_and_vectorised():
    post, var, share = combine_level(np.nan, np.inf, 2.0, 50)
    assert (post, share) == (2.0, 1.0) and var == pytest.approx(1 / 50)
    post, var, share = combine_level(3.0, 0.0, 2.0, 50)
    assert (post, var, share) == (3.0, 0.0, 0.0)
    post, var, share = combine_level([0.0, 1.0, 5.0], [0.01, np.inf, 0.04], 2.0, [100, 100, 25])
    np.testing.assert_allclose(share, [0.5, 1.0, 0.5])
    np.testing.assert_allclose(post, [1.0, 2.0, 3.5])
    np.testing.assert_allclose(var, [0.005, 0.01, 0.02])
    refused(lambda: combine_level(0.0, 0.01, 0.0, 0), "weight")
    refused(lambda: combine_level(0.0, -1, 0.0, 10), "var_data")


def test_combine_elasticity_by_hand():
    b, se, share = combine_elasticity(0.3, 0.1, 0.5, 0.1)
    assert (b, share) == (pytest.approx(0.4), pytest.approx(0.5))
    assert se == pytest.approx(0.1 / math.sqrt(2))
    # precisions 25 (data) and 100 (prior): the prior counts 0.8
    b, se, share = combine_elasticity(0.2, 0.2, 0.7, 0.1)
    assert share == pytest.approx(0.8)
    assert b == pytest.approx(0.8 * 0.7 + 0.2 * 0.2)
    assert se == pytest.approx(1 / math.sqrt(125))
    b, se, share = combine_elasticity(np.nan, np.inf, 0.6, 0.15)
    assert (b, se, share) == (0.6, pytest.approx(0.15), 1.0)
    b, se, share = combine_elasticity([0.3, 0.9], [0.0, 0.15], 0.6, 0.15)
    np.testing.assert_allclose(share, [0.0, 0.5])
    np.testing.assert_allclose(b, [0.3, 0.75])
    refused(lambda: combine_elasticity(0.3, 0.1, 0.5, 0.0), "sd_prior")


# -- lift ---------------------------------------------------------------------------------


LIFT_CSV = """network,segment,result_type,incremental_per_result,low,high,level
meta,,purchases,0.62,0.48,0.80,0.9
meta,retargeting,purchases,0.25,0.10,0.45,0.8
meta,retargeting,,0.3,0.2,0.4,
tiktok,,,0.9,0.6,1.3,
"""


def test_lift_csv_and_the_most_specific_test(tmp_path):
    table = load_lift(write(tmp_path, "lift.csv", LIFT_CSV))
    e = table.entries
    assert (e[0].ratio, e[0].low, e[0].high, e[0].level) == (0.62, 0.48, 0.8, 0.9)
    assert e[2].level == 0.9 and e[2].result_type is None
    assert table.for_line("meta", "retargeting", "purchases") is e[1]
    assert table.for_line("meta", "retargeting", "leads") is e[2]
    assert table.for_line("Facebook", "f-25-34", "purchases") is e[0]
    assert table.for_line("meta", "f-25-34", "leads") is None
    assert table.for_line("tiktok", "any", "installs") is e[3]


def test_lift_counts_are_divided_by_attributed_results(tmp_path):
    path = write(
        tmp_path,
        "lift.yaml",
        "lift_tests:\n  - network: meta\n    incremental_results: 120\n"
        "    attributed_results: 200\n    low: 80\n    high: 160\n    level: 0.95\n",
    )
    test = load_lift(path).entries[0]
    assert (test.ratio, test.low, test.high, test.level) == (0.6, 0.4, 0.8, 0.95)
    rows = [
        {"network": "x", "incremental_results": 0, "attributed_results": 10, "low": 0, "high": 5}
    ]
    assert lift_from_rows(rows).entries[0].ratio == 0.0


@pytest.mark.parametrize(
    ("row", "needles"),
    [
        ("meta,0.5,10,,0.4,0.6,", ['column "incremental_results"', "not both"]),
        ("meta,,,,0.4,0.6,", ['column "incremental_per_result"', "missing"]),
        ("meta,,10,,0.4,0.6,", ['column "incremental_per_result"', "attributed_results"]),
        ("meta,,10,0,5,15,", ['column "attributed_results"', "0 is not above 0"]),
        ("meta,,10,20,12,15,", ["data row 1 (line 2)", "12..15", "incremental_results 10"]),
        ("meta,0.5,,,0.6,0.8,", ["data row 1 (line 2)", "0.6..0.8", "ratio 0.5"]),
        ("meta,0.5,,,-0.1,0.8,", ["data row 1 (line 2)", "below 0"]),
        ("meta,12,,,11,13,", ["data row 1 (line 2)", "12 incremental", "0..10"]),
        ("meta,,300,20,250,350,", ["15 incremental results per attributed result"]),
        ("meta,0.5,,,0.4,0.6,90", ["data row 1 (line 2), level", "90", "0.9 for 90%"]),
        ("meta,0.5,,,,0.6,", ['column "low"', "missing"]),
        ("meta,0.5,,,0.4,abc,", ['column "high"', "'abc'", "decimal point"]),
        (",0.5,,,0.4,0.6,", ['column "network"', "empty"]),
    ],
)
def test_lift_refusals(tmp_path, row, needles):
    header = "network,incremental_per_result,incremental_results,attributed_results,low,high,level"
    path = write(tmp_path, "li.csv", f"{header}\n{row}\n")
    refused(lambda: load_lift(path), "li.csv: ", *needles)


def test_lift_repeats_and_unknown_columns_are_refused(tmp_path):
    twice = write(
        tmp_path, "l.csv", "network,incremental_per_result,low,high\nmeta,1,1,1\nFB,1,1,1\n"
    )
    refused(lambda: load_lift(twice), "l.csv: data row 2 (line 3)", "already given", "data row 1")
    unknown = write(tmp_path, "m.csv", "network,ratio,low,high\nmeta,1,1,1\n")
    refused(lambda: load_lift(unknown), "m.csv", "unknown column 'ratio'", "incremental_per_result")
    yaml_key = write(tmp_path, "l.yaml", "lift:\n  - {network: meta}\n")
    refused(lambda: load_lift(yaml_key), "l.yaml", "'lift_tests'")
    refused(lambda: lift_from_rows({"network": "meta"}), "lift", "list")


# -- additivity ---------------------------------------------------------------------------


def history(dates, networks=None, segments=None, campaigns=None, result_type="reach"):
    n = len(dates)
    return pd.DataFrame(
        {
            "date": pd.to_datetime(dates),
            "network": networks or ["meta"] * n,
            "segment": segments or ["f-25-34"] * n,
            "result_type": [result_type] * n,
            "spend": [100.0] * n,
            "results": [1000.0] * n,
            "campaign": campaigns or ["c1"] * n,
        }
    )


def test_which_results_add_up():
    assert {"reach", "unique_link_clicks", "people_reached", "unique_users"} <= NON_ADDITIVE
    for rt in ("Reach", "reach", "unique_landing_page_views", "Unique link clicks", "x_reached"):
        assert not is_additive(rt), rt
    for rt in ("purchases", "link_clicks", "impressions", "video_views", "leads"):
        assert is_additive(rt), rt
    assert "cannot be added" in ADDITIVITY_NOTE


def test_weekly_reach_one_row_per_line_week_passes():
    weeks = ["2026-01-05", "2026-01-12", "2026-01-19"] * 2
    h = history(weeks, segments=["a"] * 3 + ["b"] * 3)
    check_additive(h, "week", "reach")
    check_additive(h[h["segment"] == "a"], "week", "reach")


def test_daily_reach_for_a_weekly_plan_is_refused():
    h = history(pd.date_range("2026-01-05", periods=14, freq="D"))
    refused(
        lambda: check_additive(h, "week", "reach"),
        "reach cannot be added across days",
        "history is daily",
        "impossible for curves",
        "export reach per week",
        "By time > Week",
        "additive result",
    )
    check_additive(h, "day", "reach")
    check_additive(h.assign(result_type="purchases"), "week", "purchases")


def test_weekly_reach_for_a_monthly_plan_is_refused():
    h = history(pd.date_range("2026-01-05", periods=8, freq="7D"))
    refused(
        lambda: check_additive(h, "month", "reach"),
        "across weeks",
        "plan per week (--period week)",
        "export reach per month",
    )


def test_two_campaigns_in_one_line_week_are_refused():
    weeks = ["2026-01-05", "2026-01-12", "2026-01-12", "2026-01-19"]
    h = history(weeks, campaigns=["c1", "c1", "c2", "c1"])
    message = refused(
        lambda: check_additive(h, "week", "reach"),
        "across campaigns or ads",
        "1 line × week case of the history has several rows",
        "line meta/f-25-34 in 2026-W03 (2 rows)",
        "export reach per network × segment",
    )
    assert "cases" not in message
    more = history(weeks * 2, campaigns=["a", "a", "b", "a", "c", "c", "d", "c"])
    refused(lambda: check_additive(more, "week", "reach"), "3 line × week cases", "2026-W02 (2")
    check_additive(h, "week", "purchases")


def test_only_the_planned_result_type_is_checked():
    daily = history(pd.date_range("2026-01-05", periods=14, freq="D"), result_type="purchases")
    weekly = history(["2026-01-05", "2026-01-12", "2026-01-19"])
    check_additive(pd.concat([daily, weekly], ignore_index=True), "week", "reach")
    refused(lambda: check_additive(weekly, "fortnight", "reach"), "fortnight")


def test_docs_show_the_messages_the_code_gives(tmp_path):
    """The examples of docs/formats.md's new sections are what the code says."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text()
    ev = write(
        tmp_path,
        "events.csv",
        "name,start,end\nA,2026-01-01,\nB,2026-01-01,\nC,2026-11-27,2026-11-20\n",
    )
    message = refused(lambda: load_events(ev))
    assert message.replace(str(ev), "events.csv") in doc
    txt = write(tmp_path, "events.txt", "x")
    assert re.sub(r"^.*events\.txt", "events.txt", refused(lambda: load_events(txt))) in doc
