"""Scenario runs and comparisons on a real process pool give what they give here."""

from __future__ import annotations

import shutil

import pytest
import yaml

from scenarios.errors import ScenarioFileError
from scenarios.runs import compare_files, run_scenario

from .conftest import EXAMPLES


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """A private copy of the examples folder, shared by the module's tests (not edited)."""
    d = tmp_path_factory.mktemp("runs-executor") / "examples"
    shutil.copytree(EXAMPLES, d)
    return d


@pytest.fixture(scope="module")
def both_runs(examples, pool):
    """The q1-2027 example run here and on the pool."""
    path = examples / "q1-2027.yaml"
    return run_scenario(path, None), run_scenario(path, None, executor=pool)


def _same_numbers(a, b, path="", rel=1e-9):
    """Assert ``a`` and ``b`` are equal, floats to ``rel``; ``path`` names where they differ."""
    if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        assert b == pytest.approx(a, rel=rel, abs=1e-12), path
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(b) == list(a), path
        for k in a:
            _same_numbers(a[k], b[k], f"{path}.{k}", rel)
    elif isinstance(a, list | tuple):
        assert type(b) is type(a) and len(b) == len(a), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_numbers(x, y, f"{path}[{i}]", rel)
    else:
        assert b == a, path


def test_variants_on_the_pool_are_the_variants_here(both_runs):
    here, there = both_runs
    assert [v.name for v in there.variants] == [v.name for v in here.variants]
    assert [v.name for v in here.variants] == [
        "q1-2027",
        "budget-minus-10",
        "tiktok-dearer",
        "no-linkedin",
    ]
    assert [v.status for v in there.variants] == [v.status for v in here.variants]
    assert {v.status for v in here.variants} == {"optimal"}
    for a, b in zip(here.variants, there.variants, strict=True):
        assert a.plan is not None and b.plan is not None
        assert b.plan.expected_results == pytest.approx(a.plan.expected_results, rel=1e-9)
        assert [(x.network, x.segment, x.period) for x in b.plan.lines] == [
            (x.network, x.segment, x.period) for x in a.plan.lines
        ]
        for x, y in zip(a.plan.lines, b.plan.lines, strict=True):
            assert y.spend == pytest.approx(x.spend, abs=1e-6), (a.name, x.network, x.segment)
        assert b.notes == a.notes and b.spec == a.spec
    assert there.warnings == here.warnings


def test_frontier_on_the_pool_is_the_frontier_here(both_runs):
    here, there = both_runs
    assert len(here.frontier) == 9  # FRONTIER_FRACTIONS
    assert [p["budget"] for p in there.frontier] == [p["budget"] for p in here.frontier]
    assert [p["status"] for p in there.frontier] == [p["status"] for p in here.frontier]
    for a, b in zip(here.frontier, there.frontier, strict=True):
        assert b["expected_results"] == pytest.approx(a["expected_results"], rel=1e-9)
        assert b["solver"] == a["solver"]
    _same_numbers(here.comparison, there.comparison, "comparison")


def _with_variant(examples, tmp_path, variant: dict):
    """Write q1-2027 with ``variant`` added first, beside its curves; return its path."""
    d = tmp_path / "sc"
    d.mkdir()
    shutil.copy(examples / "curves.json", d / "curves.json")
    sc = yaml.safe_load((examples / "q1-2027.yaml").read_text())
    sc["variants"].insert(0, variant)
    path = d / "q1-2027.yaml"
    path.write_text(yaml.safe_dump(sc))
    return path


def test_an_infeasible_variant_stays_reported_on_the_pool(examples, tmp_path, pool):
    impossible = {"name": "impossible", "spec": {"networks": {"linkedin": {"min": 90000}}}}
    path = _with_variant(examples, tmp_path, impossible)
    here = run_scenario(path, None, frontier=False)
    there = run_scenario(path, None, frontier=False, executor=pool)
    bad = there.variants[1]
    assert bad.name == "impossible" and not bad.ok and bad.status == "infeasible"
    assert bad.error and bad.diagnosis
    assert bad.error == here.variants[1].error
    _same_numbers(here.variants[1].diagnosis, bad.diagnosis, "diagnosis")
    assert [v.status for v in there.variants] == [v.status for v in here.variants]
    assert [v.ok for v in there.variants] == [True, False, True, True, True]
    _same_numbers(here.comparison, there.comparison, "comparison")


def test_a_variant_naming_an_unknown_network_names_the_variant_on_the_pool(
    examples, tmp_path, pool
):
    path = _with_variant(
        examples, tmp_path, {"name": "bad-net", "spec": {"networks": {"snapchat": {"min": 100}}}}
    )
    want = r"^q1-2027.yaml: variant bad-net\b.*'snapchat'"
    with pytest.raises(ScenarioFileError, match=want) as here:
        run_scenario(path, None, frontier=False)
    with pytest.raises(ScenarioFileError, match=want) as there:
        run_scenario(path, None, frontier=False, executor=pool)
    assert str(there.value) == str(here.value)
    assert there.value.file == here.value.file == "q1-2027.yaml"


@pytest.mark.parametrize("variants", [False, True])
def test_compare_files_on_the_pool_equals_the_comparison_here(examples, pool, variants):
    paths = [examples / "q1-2027.yaml", examples / "q1-2027-b2b.yaml"]
    here = compare_files(paths, variants=variants)
    there = compare_files(paths, variants=variants, executor=pool)
    assert len(here["cases"]) == (6 if variants else 2)
    _same_numbers(here, there, "compare")
