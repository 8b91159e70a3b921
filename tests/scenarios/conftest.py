"""Fixtures for the scenarios tests: the bundled examples and one shared scenario run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture()
def scenario_dir(tmp_path) -> Path:
    """A private copy of the examples folder (tests may edit files in it)."""
    d = tmp_path / "examples"
    shutil.copytree(EXAMPLES, d)
    return d


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """The q1-2027 example run once per module, with its files written."""
    from scenarios.runs import run_scenario

    out = tmp_path_factory.mktemp("q1-run")
    calls = []
    run = run_scenario(EXAMPLES / "q1-2027.yaml", out, lambda m, d, t: calls.append((m, d, t)))
    return run, out, calls
