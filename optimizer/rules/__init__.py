"""The rule families: each owns its spec fields, rows, names, explanations and re-plan.

:data:`FAMILIES` is the registry, in the order specs are read and the LP is built:
``PlanSpec.from_dict``/``to_dict``/``check``, ``build_model``, the diagnosis, the plan
reader and the re-plan all loop over it or look families up in :data:`BY_FAMILY`. Adding a
rule family means adding a unit here (plus its typed field on ``PlanSpec``) and its tests.
"""

from __future__ import annotations

from .base import RuleFamily, fmt
from .core import Budget, Target
from .economics import CostPerResultCeiling, ResultValues, ValuePerResult, line_values
from .floors import ResultsFloor, ResultsFloors
from .groups import GroupLimits, GroupRule
from .lines import Exclusion, Exclusions, LineLimits, LineRule
from .marginal import MarginalCeilings, MarginalCostCeiling
from .onoff import OnOff
from .replan import OpenPart
from .timing import Pacing, PacingRule, PeriodChange

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
    ValuePerResult(),
    CostPerResultCeiling(),
    MarginalCostCeiling(),
    PacingRule(),
    PeriodChange(),
    ResultsFloors(),
    OnOff(),
)

#: the family unit behind each ``RowInfo.family`` value
BY_FAMILY: dict[str, RuleFamily] = {f: fam for fam in FAMILIES for f in fam.families}

#: the spec keys the families read, and the PlanSpec fields they fill
SPEC_KEYS = frozenset(k for fam in FAMILIES for k in fam.keys)
SPEC_FIELDS = tuple(f for fam in FAMILIES for f in fam.fields)

#: each kind of rule row (the name's part before ``__``) in words: "network floor"
NOUNS = {word: noun for fam in FAMILIES for word, noun in fam.nouns.items()}

#: row families whose rows hold spend at 0 on what they cover (no slack to show)
CUT_FAMILIES = frozenset(f for fam in FAMILIES if fam.cut for f in fam.families)


__all__ = [
    "BY_FAMILY",
    "CUT_FAMILIES",
    "EXCLUSION",
    "FAMILIES",
    "NOUNS",
    "SPEC_FIELDS",
    "SPEC_KEYS",
    "Exclusions",
    "GroupRule",
    "LineRule",
    "MarginalCeilings",
    "OpenPart",
    "Pacing",
    "ResultValues",
    "ResultsFloor",
    "RuleFamily",
    "fmt",
    "line_values",
]
