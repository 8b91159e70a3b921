"""What a rule family is: one unit that owns its spec fields, rows, names and explanations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..lp import LPContext
from ..names import did_you_mean, suggestion

if TYPE_CHECKING:
    from ..curves import Curves
    from ..spec import PlanSpec
    from .replan import OpenPart


#: spend or results below this count as none when rules are carried over to a re-plan
EPS = 1e-9


def fmt(v: float) -> str:
    """Format a number as a person reads it: 12,000 / 3.5 / 0.0421."""
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


def pct(share: float) -> str:
    """Return a share as people write it: 0.2 -> 20%, 0.125 -> 12.5%."""
    return f"{100 * share:.1f}".rstrip("0").rstrip(".") + "%"


def unknown_name(spec: PlanSpec, curves: Curves, kind: str, name: str, rule: str) -> SpecError:
    """Return the error for a rule naming a network, segment or period no curve has.

    It suggests the close known names (``did you mean 'tiktok'?``,
    :func:`~optimizer.names.did_you_mean`) and lists the known names.
    """
    known = sorted(getattr(curves, kind))
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    hint = suggestion(did_you_mean(name, known, networks=kind == "networks"))
    return SpecError(
        f"{spec.source}: {rule}: no curve has {kind[:-1]} '{name}'{'; ' + hint if hint else ''} "
        f"(known {kind}: {shown}); fix the name or drop the rule"
    )


class RuleFamily:
    """A family of business rules: the spec keys in ``keys`` and the rows that enforce them.

    One unit owns everything about its rules: :meth:`parse` reads its keys of a spec mapping
    into :class:`~optimizer.spec.PlanSpec` field values (``fields``), :meth:`validate` checks
    them on any spec, :meth:`check` against the curves, :meth:`to_dict` writes them back,
    :meth:`rows` emits their LP rows (named by :func:`~optimizer.lp.rule_name`) and
    :meth:`rewrite` says how a re-plan carries the rule over to the periods still open;
    ``nouns`` and ``relax_spend`` say how ``optimizer/diagnose.py`` words a repair. ``families`` are the
    ``RowInfo.family`` values of its rows; ``nouns`` names each kind of its rows in words.
    """

    keys: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    #: its rows compare spend with a share of other spend: relaxed by an amount of spend
    relax_spend: bool = False
    #: its rows hold spend at 0 on what they cover: they bind when they have a price
    cut: bool = False
    #: each kind of its rows (the name's part before ``__``) in words, singular
    nouns: dict[str, str] = {}

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Return the PlanSpec field values for this family's keys of ``data``."""
        return {}

    def validate(self, spec: PlanSpec) -> None:
        """Raise SpecError if this family's fields of ``spec`` contradict each other."""

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Raise SpecError if a rule names what no curve has."""

    def to_dict(self, spec: PlanSpec) -> dict[str, Any]:
        """Return this family's rules as in a spec mapping (rules not set left out)."""
        out = {}
        for key in self.keys:
            value = getattr(spec, key)
            if value is not None and value != () and value != {}:
                out[key] = value.to_dict() if hasattr(value, "to_dict") else value
        return out

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Return the PlanSpec field values that hold this family's rules in a re-plan."""
        return {f: getattr(spec, f) for f in self.fields}

    def rows(self, lp: LPContext) -> None:
        """Emit the family's rows for ``lp.spec`` into ``lp``."""
