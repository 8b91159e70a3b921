"""The Plan JSON that ``adplan optimize`` writes and prints (orjson), as json.dumps wrote it.

The real ``adplan`` executable in a subprocess: ``--out plan.json`` and ``--json`` hold the
same document, the plan ``allocate`` makes, in ASCII text laid out as ``json.dumps(indent=2)``
lays it out. ``json_bytes`` itself: what json.dumps wrote for the values adplan prints.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cli.commands._common import json_bytes
from optimizer import PlanSpec, allocate
from optimizer.curves import CurveLine, Curves
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves

ADPLAN = Path(sys.executable).with_name("adplan")


def non_ascii_curves() -> Curves:
    """Synthetic curves whose names go beyond ASCII (é, and an emoji beyond U+FFFF)."""
    base = synthetic_curves(4, 3, 2, 4)
    names = {"seg000": "café", "seg001": "ünï 🚀"}
    lines = [
        CurveLine(ln.network, names.get(ln.segment, ln.segment), ln.period, ln.points)
        for ln in base.lines
    ]
    return Curves(lines=tuple(lines), currency=base.currency, result_type=base.result_type)


def layout(text: str) -> list[str]:
    """Each line of JSON text up to its value: the indentation, keys and brackets."""
    return [
        ln.split(": ")[0] if ": " in ln else ln.strip("0123456789.e+-,") for ln in text.split("\n")
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """``adplan optimize --out plan.json --json`` on non-ASCII curves.

    Returns the plan file's bytes, standard output, the curves and the spec.
    """
    tmp = tmp_path_factory.mktemp("plan-json")
    curves = non_ascii_curves()
    spec = benchmark_spec_dict(curves)
    (tmp / "curves.json").write_text(curves.to_json(), encoding="utf-8")
    (tmp / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "ADPLAN_SOLVER")}
    args = ["optimize", "--curves", "curves.json", "--spec", "spec.json", "--out", "plan.json"]
    p = subprocess.run(
        [str(ADPLAN), *args, "--json"], cwd=tmp, capture_output=True, text=True, env=env
    )
    assert p.returncode == 0, p.stderr
    return (tmp / "plan.json").read_bytes(), p.stdout, curves, spec


def test_the_file_and_standard_output_hold_the_same_ascii_json(written):
    raw, stdout, _, _ = written
    text = raw.decode("ascii")  # json.dumps escaped what is beyond ASCII; so does adplan
    assert text.endswith("}\n") and stdout.endswith("}\n")
    assert '"caf\\u00e9"' in text and '"\\u00fcn\\u00ef \\ud83d\\ude80"' in text
    assert json.loads(text) == json.loads(stdout)


def test_the_file_is_laid_out_as_json_dumps_lays_it_out(written):
    text = written[0].decode("ascii")
    assert layout(text) == layout(json.dumps(json.loads(text), indent=2) + "\n")


def test_the_file_is_the_plan_allocate_makes(written):
    raw, _, curves, spec = written
    got = json.loads(raw)
    want = json.loads(json.dumps(allocate(curves, PlanSpec.from_dict(spec)).to_dict()))
    for d in (got, want):  # the seconds the solve took differ from run to run
        d["solver"] = {k: v for k, v in d["solver"].items() if "seconds" not in k}
    assert got == want


class Named:
    def __str__(self) -> str:
        return "named"


@pytest.mark.parametrize(
    "value",
    [
        {"day": dt.date(2027, 1, 4), "at": dt.datetime(2027, 1, 4, 9, 30), "path": Path("a/b")},
        {"f64": np.float64(2.5), "i64": np.int64(3), "b": np.bool_(True), "f32": np.float32(1)},
        {"obj": Named(), "tuple": (1, "two"), "set": {3}, "nested": [{"a": [[], {}]}]},
        {1: "int key", 2.5: "float key", False: "bool key", None: "null key"},
        {"text": 'é \x7f \x00 \u2028 🚀 "quoted" back\\slash \n\t'},
        {"big": 2**70, "neg": -(2**65)},
        [],
        "plain",
    ],
)
def test_what_print_json_prints_is_what_json_dumps_printed(value):
    want = json.dumps(value, indent=2, default=str) + "\n"
    assert json_bytes(value, as_text=True).decode("ascii") == want


def test_a_plan_writer_refuses_what_json_has_no_type_for_as_json_dumps_did():
    for value in ({"day": dt.date(2027, 1, 4)}, {"i64": np.int64(3)}, [Named()]):
        with pytest.raises(TypeError):
            json.dumps(value)
        with pytest.raises(TypeError):
            json_bytes(value)
    assert json_bytes({"f64": np.float64(0.5)}) == b'{\n  "f64": 0.5\n}\n'


def test_nan_and_infinities_are_written_null():
    """json.dumps wrote NaN and Infinity, which JSON readers refuse; the plans hold none."""
    assert json.loads(json_bytes({"a": math.nan, "b": [math.inf, -math.inf]})) == {
        "a": None,
        "b": [None, None],
    }
