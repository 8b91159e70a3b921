"""Curves and specs that used to crash (exit 3) or pass bad names through are refused (exit 2).

Control characters in names (a NUL, a newline, C1, U+FFFF), spend of 1e308, documents nested
thousands of levels deep: each is a clear CurveError/SpecError, and exit 2 from ``adplan``.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from optimizer import Curves, PlanSpec, load_curves, load_spec
from optimizer.errors import CurveError, SpecError
from optimizer.values import MAX_NESTING, too_deep

LINE = {"network": "meta", "segment": "all", "period": "2027-01", "points": [[0, 0], [100, 5]]}


def curves_with(**change) -> dict:
    return {"currency": "EUR", "result_type": "purchases", "lines": [{**LINE, **change}]}


@pytest.mark.parametrize("field", ["network", "segment", "period"])
@pytest.mark.parametrize("char", ["\x00", "\n", "\x1b", "\x85", "\uffff", "\ud800"])
def test_control_characters_in_names_are_refused(field, char):
    with pytest.raises(CurveError, match=rf"control character U\+{ord(char):04X}"):
        Curves.from_dict(curves_with(**{field: f"me{char}ta"}))


@pytest.mark.parametrize("key", ["currency", "result_type"])
def test_control_characters_in_currency_and_result_type(key):
    data = curves_with()
    data[key] = "E\x00UR"
    with pytest.raises(CurveError, match=key):
        Curves.from_dict(data)


def test_plain_names_still_pass():
    c = Curves.from_dict(curves_with(network="Meta Ads é 東京", segment="f-25-34"))
    assert c.lines[0].network == "Meta Ads é 東京"


@pytest.mark.parametrize("point", [[1e308, 5], [100, 1e308], [-1e13, 0]])
def test_out_of_range_points_are_refused(point):
    with pytest.raises(CurveError, match="out of range|strictly increase"):
        Curves.from_dict(curves_with(points=[[0, 0], point]))


def test_nesting_depth():
    deep: list = []
    cur = deep
    for _ in range(MAX_NESTING + 1):
        cur.append([])
        cur = cur[0]
    assert too_deep(deep) and not too_deep([[1]])
    with pytest.raises(CurveError, match="nested more than 64"):
        Curves.from_dict({**curves_with(), "meta": deep})


def _deep_json(levels: int) -> str:
    return '{"x": ' + "[" * levels + "]" * levels + ', "lines": []}'


def test_deep_files_are_errors_not_crashes(tmp_path):
    c = tmp_path / "deep.json"
    c.write_text(_deep_json(5000))
    with pytest.raises(CurveError, match="nested more than"):
        load_curves(c)
    for suffix in (".json", ".yaml"):
        s = tmp_path / f"spec{suffix}"
        s.write_text("[" * 5000 + "]" * 5000)
        with pytest.raises(SpecError, match="nested more than"):
            load_spec(s)


@pytest.mark.parametrize(
    "curves_text",
    [
        _deep_json(5000),
        json.dumps(curves_with(network="me\x00ta")),
        json.dumps(curves_with(points=[[0, 0], [1e308, 5]])),
    ],
    ids=["nested-5000", "nul-in-name", "spend-1e308"],
)
def test_cli_exits_2(tmp_path, curves_text):
    c = tmp_path / "c.json"
    c.write_text(curves_text)
    s = tmp_path / "s.yaml"
    s.write_text("budget: 50\n")
    r = CliRunner().invoke(cli_app, ["optimize", "--curves", str(c), "--spec", str(s)])
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and str(c) in r.stderr.replace("\n", "")


@pytest.mark.parametrize(
    "spec",
    [
        {"budget": 10, "networks": {"me\x01ta": {"min_share": 0.2}}},
        {"budget": 10, "exclude": {"lines": [{"network": "m", "segment": "a\x00", "period": "p"}]}},
        {"budget": 10, "objective": "res\u0085ults"},
    ],
)
def test_control_characters_anywhere_in_a_spec(spec):
    with pytest.raises(SpecError, match="control character"):
        PlanSpec.from_dict(spec)
