"""A curve line's optional values are checked like its points: a CurveError naming the line."""

from __future__ import annotations

import pytest

from optimizer import CurveError, Curves


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"value_per_result": "x"}, "value_per_result must be a number >= 0, got 'x'"),
        ({"value_per_result": True}, "value_per_result must be a number >= 0, got True"),
        ({"value_per_result": -1}, "value_per_result must be a number >= 0, got -1"),
        ({"flags": 5}, "'flags' must be a list of words, got 5"),
        ({"flags": "capped"}, "'flags' must be a list of words, got 'capped'"),
    ],
)
def test_bad_optional_values_name_the_line(extra, words):
    line = {"network": "a", "segment": "s", "period": "2027-01", "points": [[0, 0], [1, 1]]}
    with pytest.raises(CurveError) as e:
        Curves.from_dict({"lines": [{**line, **extra}]})
    assert str(e.value) == f"curves: lines[0]: curve line a/s/2027-01: {words}"
