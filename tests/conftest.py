"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def shared_data_dir() -> Path:
    """``../shared/data`` beside the checkout (ADPLAN_SHARED_DATA overrides)."""
    env = os.environ.get("ADPLAN_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    d = shared_data_dir()
    if not d.is_dir():  # CI and developers have it; fail loudly rather than skip
        pytest.fail(f"the shared datasets are not at {d}; set ADPLAN_SHARED_DATA")
    return d


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="module")
def pool():
    """Two local worker processes (optimizer.parallel), one pool per test module."""
    from optimizer.parallel import LocalProcesses

    with LocalProcesses(2) as ex:
        yield ex
