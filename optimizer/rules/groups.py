"""Limits on the spend of a network, segment or period: ``min``, ``max``, ``min_share``, ``max_share``."""

from __future__ import annotations

from ..errors import SpecError
from ..lp import LPContext
from .base import RuleFamily, fmt


class GroupLimits(RuleFamily):
    """``networks:``, ``segments:`` or ``periods:`` rules: currency floors and caps, and shares.

    Rows: ``<word>_min__<name>`` / ``<word>_max__<name>`` on the group's spend column, and
    ``<word>_share_min__<name>`` / ``<word>_share_max__<name>`` as ``spend - share x total``.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.word = kind[:-1]
        w = self.word
        self.keys = (kind,)
        self.families = (f"{w}_min", f"{w}_max", f"{w}_share_min", f"{w}_share_max")

    def rows(self, lp: LPContext) -> None:
        """Add the rows of every rule of this kind, in the spec's order."""
        planned = lp.names(self.kind)
        for name, rule in getattr(lp.spec, self.kind).items():
            if name not in planned:  # every line of it is excluded
                if rule.min or rule.min_share:
                    raise SpecError(
                        f"{lp.spec.source}: {self.kind}.{name}: asks for spend on a {self.word} "
                        "whose every line 'exclude' removes; drop the rule or the exclusions"
                    )
                continue  # only upper limits remain, trivially met
            self._rule_rows(lp, name, rule)

    def _rule_rows(self, lp: LPContext, name: str, rule) -> None:
        w, col, total = self.word, lp.group_col(self.kind, name), lp.total
        if rule.min is not None:
            desc = f"{w} {name} spends at least {rule.min:,.2f}"
            lp.rule([col], [1.0], "min", rule.min, f"{w}_min", (name,), desc)
        if rule.max is not None:
            desc = f"{w} {name} spends at most {rule.max:,.2f}"
            lp.rule([col], [1.0], "max", rule.max, f"{w}_max", (name,), desc)
        if rule.min_share is not None:
            desc = f"{w} {name} gets at least {rule.min_share:.1%} of the total spend"
            lp.rule(
                [col, total], [1.0, -rule.min_share], "min", 0.0, f"{w}_share_min", (name,), desc
            )
        if rule.max_share is not None:
            desc = f"{w} {name} gets at most {rule.max_share:.1%} of the total spend"
            lp.rule(
                [col, total], [1.0, -rule.max_share], "max", 0.0, f"{w}_share_max", (name,), desc
            )

    def action(self, info, amount: float) -> str:
        """Shares are loosened by an amount of spend; currency limits by their own amount."""
        if "_share_" in info.family:
            return f"loosen {info.name} by {fmt(amount)} {info.unit} of spend"
        return super().action(info, amount)
