"""Curves files read fast (orjson, every line checked at once) and exactly as line by line.

``Curves.from_dict`` checks all the lines at once when it can and one line at a time when
something is off; either way the lines, and the first error, are those ``CurveLine`` gives
one line at a time. ``load_curves`` parses with orjson and leaves to the standard library
what orjson refuses or reads otherwise, so its messages still name the file, line and column.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optimizer.curves as curves_module
from optimizer.curves import CurveError, Curves, load_curves
from optimizer.synthetic import synthetic_curves

SOURCE = "curves.json"


def one_by_one(data: dict, source: str = SOURCE):
    """The lines as ``CurveLine`` builds them one at a time, or the first error.

    Worded as ``Curves.from_dict`` words it: the position, then the line's own message.
    """
    lines, first_at = [], {}
    for i, raw in enumerate(data["lines"]):
        try:
            ln = curves_module._line(raw, i, source)  # the line-by-line path
        except CurveError as e:
            return str(e)
        if ln.key in first_at:
            return (
                f"{source}: lines[{i}]: line {ln.label} appears twice (first at "
                f"lines[{first_at[ln.key]}]); give each line once"
            )
        first_at[ln.key] = i
        lines.append(ln)
    return tuple(lines)


def read(data: dict, source: str = SOURCE):
    try:
        return Curves.from_dict(data, source=source).lines
    except CurveError as e:
        return str(e)


def curve(scale: float, n: int) -> list[list[float]]:
    """A concave curve of ``n`` points from [0, 0]."""
    return [[scale * i * i, scale * (2 * n * i - i * i) / 3] for i in range(n)]


#: what a mutation may put in place of a number: kinds the checks one by one convert or refuse
ODD_NUMBERS = [-0.0, 0, 3, True, "1.5", "nan", None, math.nan, math.inf, 1e13, 1e16, -1, 2**70]

SPREAD = {"level_var": 0.01, "log_spend_centre": 7.0, "elasticity_se": 0.1, "dispersion": 0.02}


def draw_line(draw, i: int) -> dict:
    """A valid line with some of the optional keys."""
    n = draw(st.integers(2, 5))
    ln: dict = {
        "network": draw(st.sampled_from(["meta", "tiktok", "café"])),
        "segment": f"s{i}",
        "period": draw(st.sampled_from(["2027-W01", "2027-W02"])),
        "points": curve(draw(st.sampled_from([1.0, 2.5, 10.0])), n),
    }
    optional = {
        "low": [[x, y * 0.8] for x, y in ln["points"]],
        "value_per_result": draw(st.sampled_from([2.0, 3, 0])),
        "inside": draw(st.sampled_from([0.5, 1, 0])),
        "flags": draw(st.sampled_from([[], ["thin"], ["a", "b"]])),
        "spread": dict(SPREAD),
    }
    ln.update({k: v for k, v in optional.items() if draw(st.booleans())})
    return ln


def mutate_number(draw, ln: dict) -> None:
    """Put an odd number in a point, a band's point, value_per_result or inside."""
    which = draw(st.sampled_from(["points", "low", "value_per_result", "inside"]))
    odd = draw(st.sampled_from(ODD_NUMBERS))
    if which in ("value_per_result", "inside"):
        ln[which] = odd
    elif which in ln:
        pts = ln[which]
        pts[draw(st.integers(0, len(pts) - 1))][draw(st.integers(0, 1))] = odd


@st.composite
def curves_data(draw) -> dict:
    """Small curves data, valid unless a mutation makes one value odd or wrong."""
    lines = [draw_line(draw, i) for i in range(draw(st.integers(1, 5)))]
    mutation = draw(st.sampled_from(["none", "number", "swap", "name", "twice", "flags", "key"]))
    ln = lines[draw(st.integers(0, len(lines) - 1))]
    if mutation == "number":
        mutate_number(draw, ln)
    elif mutation == "swap" and len(ln["points"]) > 2:
        ln["points"][1], ln["points"][2] = ln["points"][2], ln["points"][1]
    elif mutation == "name":
        ln["segment"] = draw(st.sampled_from(["", " ", "a\x00b", 7]))
    elif mutation == "twice":
        lines.append(dict(ln))
    elif mutation == "flags":
        ln["flags"] = draw(st.sampled_from(["word", [1], [["x"]], ["bad\x07"], 5]))
    elif mutation == "key":
        ln["spread"] = draw(st.sampled_from([{"level_var": 1}, "wide", {**SPREAD, "x": 1}]))
    return {"currency": "EUR", "lines": lines}


@settings(max_examples=300, deadline=None)
@given(curves_data())
def test_the_lines_and_the_first_error_are_those_of_one_line_at_a_time(data):
    got, want = read(data), one_by_one(data)
    # repr: -0.0 against 0.0 and 3 against 3.0 count too
    assert repr(got) == repr(want)


def test_every_point_is_a_pair_of_floats_and_every_field_is_set():
    data = {
        "lines": [
            {
                "network": "meta",
                "segment": "a",
                "period": "2027-W01",
                "points": [[0, 0], [10, 5], [30, 9]],
                "low": [[0, 0], [10, 4], [30, 7]],
                "high": [[0, 0], [10, 6], [30, 11]],
                "value_per_result": 3,
                "flags": ["thin"],
                "spread": SPREAD,
                "inside": 1,
                "lift": {"ratio": 0.8, "low": 0.5, "high": 1.1},
            }
        ]
    }
    (ln,) = Curves.from_dict(data).lines
    assert ln == one_by_one(data)[0]
    assert all(type(v) is float for p in (*ln.points, *ln.low, *ln.high) for v in p)
    assert type(ln.value_per_result) is float and type(ln.inside) is float


def test_a_forecast_like_file_reads_back_as_it_was_written(tmp_path):
    curves = synthetic_curves(3, 4, 5, 6, value=True, spread=True)
    path = tmp_path / "curves.json"
    path.write_text(curves.to_json(), encoding="utf-8")
    got = load_curves(path)
    assert got == curves and repr(got.lines) == repr(curves.lines)


def write(tmp_path, text: str, name: str = "curves.json"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def line(segment: str, points) -> dict:
    return {"network": "meta", "segment": segment, "period": "2027-W01", "points": points}


def test_a_bad_point_is_named_with_the_file_and_the_line(tmp_path):
    good = [[0, 0], [10, 5], [30, 9]]
    rising = [[0, 0], [10, 5], [20, 12]]  # slope 0.5 then 0.7
    text = json.dumps({"lines": [line("a", good), line("b", rising), line("c", good)]})
    path = write(tmp_path, text)
    with pytest.raises(CurveError) as e:
        load_curves(path)
    assert str(e.value) == (
        f"{path}: lines[1]: curve line meta/b/2027-W01: 'points' is not concave: the slope "
        "rises from 0.5 to 0.7 results per unit at spend 10; each extra unit must buy no more "
        "than the one before (merge or smooth the points)"
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"lines": [\n  {"network": "meta",, "segment": "a"}\n]}',
        '{"lines": [\n  1, 2,\n]}',
        '\ufeff{"lines": []}',
        '{"lines": []} extra',
    ],
    ids=["two commas", "trailing comma", "byte order mark", "text after"],
)
def test_text_that_is_not_json_is_named_by_line_and_column_in_python_s_words(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(json.JSONDecodeError) as want:
        json.loads(text)
    w = want.value
    with pytest.raises(CurveError) as e:
        load_curves(path)
    assert str(e.value) == f"{path}: line {w.lineno}, column {w.colno}: not valid JSON ({w.msg})"


def test_nan_and_huge_integers_are_read_as_python_reads_them(tmp_path):
    nan = write(tmp_path, '{"lines": [{"network": "m", "segment": "a", "period": "p", '
                          '"points": [[0, 0], [NaN, 1]]}]}', "nan.json")  # fmt: skip
    with pytest.raises(CurveError, match=r"lines\[0\]: .*points\[1\] = \[nan, 1\] is not finite"):
        load_curves(nan)
    # 21 digits: an integer to Python, a float to orjson; the message shows it as written
    huge = line("a", [[0, 0], [10, 5]]) | {"inside": 123456789012345678901}
    path = write(tmp_path, json.dumps({"lines": [huge]}), "huge.json")
    with pytest.raises(CurveError, match=r"from 0 to 1, got 123456789012345678901$"):
        load_curves(path)


def test_a_forecast_file_at_full_precision_is_read_by_orjson(tmp_path):
    """Floats of 19 digits after the point (a spread's level_var) stay on the fast path;
    an integer part of 19 digits, anywhere, goes to the standard library.
    """
    import optimizer.curves as module

    path = tmp_path / "curves.json"
    path.write_text(synthetic_curves(2, 2, 2, 3, spread=True).to_json(), encoding="utf-8")
    assert b"0.00" in path.read_bytes()  # written at full precision
    assert module._fast_json(path) is not module._UNREAD
    for text in ('{"a": 1234567890123456789}', '{"a": [-12345678901234567890, 1]}',
                 "1234567890123456789"):  # fmt: skip
        path.write_text(text, encoding="utf-8")
        assert module._fast_json(path) is module._UNREAD, text
    for text in ('{"a": 0.0012345678901234567}', '{"a": 123456789012345678}'):
        path.write_text(text, encoding="utf-8")
        assert module._fast_json(path) == json.loads(text), text
