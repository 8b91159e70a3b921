"""A generated agency: one folder per client account, each with its history and scenario file.

``write_agency(out, accounts=200)`` writes ``out/account-0001/history.csv`` (two years of
seeded weekly history from :func:`forecasting.generate_sample_history`, a few networks and
segments per account) and ``out/account-0001/scenario.yaml`` (a Q1 2027 plan forecast from
that history, by month, and three variants: budget -10%, budget +20%, one network 20% dearer).
``adplan batch sample`` writes one; ``adplan batch run`` plans it; the batch benchmark and
tests use it. The same ``seed`` writes the same agency, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from forecasting.sample import DEFAULT_NETWORKS, DEFAULT_SEGMENTS

#: networks and segments per generated account
NETWORKS_PER_ACCOUNT = 3
SEGMENTS_PER_ACCOUNT = 2
#: weeks of history per account (two years: 2025-01-06 to the week of 2026-12-28)
WEEKS = 104


@dataclass(frozen=True, slots=True)
class AgencyAccount:
    """One generated account: its folder, networks, segments and quarterly budget."""

    folder: Path
    networks: tuple[str, ...]
    segments: tuple[str, ...]
    budget: float


def _scenario(networks: tuple[str, ...], budget: float) -> dict:
    dearer = networks[-1]
    return {
        "name": "q1-2027",
        "description": "Q1 2027 from two years of weekly history",
        "history": "history.csv",
        "from": "2027-01-01",
        "to": "2027-03-31",
        "period": "month",
        "spec": {"budget": budget, "networks": {networks[0]: {"min_share": 0.2}}},
        "variants": [
            {"name": "budget-minus-10", "overrides": {"budget": "-10%"}},
            {"name": "budget-plus-20", "overrides": {"budget": "+20%"}},
            {"name": f"{dearer}-dearer", "overrides": {"cost_per_result": {dearer: 1.2}}},
        ],
    }


def write_agency(out: str | Path, accounts: int = 200, *, seed: int = 1) -> list[AgencyAccount]:
    """Write ``accounts`` generated client accounts under ``out``; return them.

    Account ``i`` draws its networks, segments and history from ``seed`` and ``i``; its budget
    is about a quarter of its history's typical spend.
    """
    from forecasting.history import write_history
    from forecasting.sample import generate_sample_history

    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    root = Path(out)
    made = []
    for i in range(1, accounts + 1):
        rng = np.random.default_rng([seed, i])
        nets = tuple(
            str(n) for n in rng.choice(DEFAULT_NETWORKS, NETWORKS_PER_ACCOUNT, replace=False)
        )
        segs = tuple(
            str(s) for s in rng.choice(DEFAULT_SEGMENTS, SEGMENTS_PER_ACCOUNT, replace=False)
        )
        hist = generate_sample_history(seed * 100_003 + i, networks=nets, segments=segs)
        budget = float(round(hist["spend"].sum() / 8 / 1000) * 1000)
        folder = root / f"account-{i:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        write_history(hist, folder / "history.csv")
        text = yaml.safe_dump(_scenario(nets, budget), sort_keys=False)
        (folder / "scenario.yaml").write_text(text, encoding="utf-8")
        made.append(AgencyAccount(folder, nets, segs, budget))
    return made
