"""What a rule family is: one unit that owns its LP rows, their names and their explanations."""

from __future__ import annotations

from ..lp import LPContext, RowInfo


def fmt(v: float) -> str:
    """Format a number as a person reads it: 12,000 / 3.5 / 0.0421."""
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


class RuleFamily:
    """A family of business rules (the spec keys in ``keys``) and the rows that enforce them.

    ``families`` are the ``RowInfo.family`` values its rows carry; ``per_line`` says its rows
    hold single lines (they are left out when explaining why a line gets nothing). A
    subclass implements :meth:`rows`; :meth:`action` says how to relax one of its rows.
    """

    keys: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    per_line: bool = False
    #: its rows compare spend with a share of other spend: relaxed by an amount of spend
    relax_spend: bool = False

    def rows(self, lp: LPContext) -> None:
        """Emit the family's rows for ``lp.spec`` into ``lp``."""
        raise NotImplementedError

    def action(self, info: RowInfo, amount: float) -> str:
        """Say how to relax the row ``info`` by ``amount`` (used when rules conflict)."""
        a = fmt(amount)
        if self.relax_spend:
            return f"loosen {info.name} by {a} {info.unit} of spend"
        verb = {"max": "raise", "min": "lower"}.get(info.sense, "move")
        return f"{verb} {info.name} by {a} {info.unit}".rstrip()
