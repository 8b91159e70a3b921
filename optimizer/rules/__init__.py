"""The rule families: each owns its rows, their names and how to relax them.

:data:`FAMILIES` is the registry, in the order the LP is built; ``build_model`` loops over
it, the diagnosis and the plan reader look families up in :data:`BY_FAMILY`. Adding a rule
family means adding a unit here and its tests.
"""

from __future__ import annotations

from .base import RuleFamily, fmt
from .core import Budget, Target
from .economics import CostPerResultCeiling
from .floors import ResultsFloors
from .groups import GroupLimits
from .lines import Exclusion, LineLimits
from .onoff import OnOff
from .timing import Pacing, PeriodChange

EXCLUSION = Exclusion()

#: every rule family, in the order their rows are built
FAMILIES: tuple[RuleFamily, ...] = (
    Budget(),
    Target(),
    GroupLimits("networks"),
    GroupLimits("segments"),
    GroupLimits("periods"),
    LineLimits(),
    EXCLUSION,
    CostPerResultCeiling(),
    Pacing(),
    PeriodChange(),
    ResultsFloors(),
    OnOff(),
)

#: the family unit behind each ``RowInfo.family`` value
BY_FAMILY: dict[str, RuleFamily] = {f: fam for fam in FAMILIES for f in fam.families}

#: row families that hold single lines
LINE_FAMILIES = frozenset(f for fam in FAMILIES if fam.per_line for f in fam.families)

__all__ = ["BY_FAMILY", "EXCLUSION", "FAMILIES", "LINE_FAMILIES", "RuleFamily", "fmt"]
