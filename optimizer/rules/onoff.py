"""On/off rules (a MILP): ``min_line_spend``, ``min_daily_spend`` and ``max_active_lines``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SpecError
from ..lp import INF, LPContext, RowInfo, rule_name
from ..names import display_network, line_words
from ..periods import period_bounds
from ..values import mapping, number, optional
from .base import EPS, RuleFamily, fmt, unknown_name

if TYPE_CHECKING:
    from ..curves import Curves
    from ..spec import PlanSpec
    from .replan import OpenPart

#: the period forms whose days ``min_daily_spend`` can count
DAY_LABELS = "ISO weeks (2027-W03), months (2027-01) or days (2027-01-04)"


@dataclass(frozen=True, slots=True)
class LineMinimum:
    """The least a line switched on spends, and the rule that sets it.

    ``rule`` is ``min_line_spend`` (the spec's one amount) or ``min_daily_spend`` (the
    network's minimum a day x the period's days, when that is the larger); ``why`` says so
    in words for the daily rule ("TikTok's minimum of 20 EUR a day x 7 days"), else "".
    """

    amount: float
    rule: str
    why: str = ""

    def shown(self, unit: str) -> str:
        """Return the amount as the words show it: ``140 EUR``, ``101.5 EUR`` (to the cent)."""
        if self.rule == "min_line_spend":
            return f"{fmt(self.amount)} {unit}"
        return f"{_money(self.amount)} {unit}"

    def words(self, unit: str) -> str:
        """Return the rule for this line in words: ``0 or at least 140 EUR (TikTok's ...)``."""
        why = f" ({self.why})" if self.why else ""
        return f"0 or at least {self.shown(unit)}{why}"


def _money(v: float) -> str:
    """Return an amount to the cent, without a zero fraction: 140, 101.5, 1,234.56."""
    return f"{v:,.2f}".removesuffix(".00").removesuffix("0") if round(v, 2) % 1 else f"{v:,.0f}"


def period_days(label: str, source: str = "spec") -> int:
    """Return the number of days of a period label; SpecError when its days cannot be told."""
    try:
        start, end = period_bounds(label)
    except ValueError:
        raise SpecError(
            f"{source}: min_daily_spend: the days of period '{label}' cannot be told; "
            f"min_daily_spend needs periods that are {DAY_LABELS}"
        ) from None
    return (end - start).days


def line_minimums(
    spec: PlanSpec, keys: Sequence[tuple[str, str, str]], unit: str
) -> list[LineMinimum | None]:
    """Return each line's least spend when switched on (None: no minimum on that line).

    The larger of ``min_line_spend`` and the network's ``min_daily_spend`` x the days of the
    line's period holds; equal, ``min_line_spend`` names it.
    """
    glob = spec.min_line_spend
    daily = spec.min_daily_spend
    out: list[LineMinimum | None] = []
    for network, _segment, period in keys:
        best = None if glob is None else LineMinimum(glob, "min_line_spend")
        per_day = daily.get(network)
        if per_day:
            days = period_days(period, spec.source)
            amount = per_day * days
            if best is None or amount > best.amount:
                why = (
                    f"{display_network(network)}'s minimum of {_money(per_day)} {unit} a day x "
                    f"{days} day{'s' if days != 1 else ''}"
                )
                best = LineMinimum(amount, "min_daily_spend", why)
        out.append(best)
    return out


class OnOff(RuleFamily):
    """``min_line_spend`` / ``min_daily_spend``: a line spends 0 or at least its minimum.

    ``max_active_lines``: at most K lines on. One binary per line: ``tier <= width x on`` for
    each of its tiers (hidden ``line_on__<line>`` rows: the convex hull of the line, see
    optimizer/mip.py), ``spend >= m x on`` (``min_line_spend__<line>``, or
    ``min_daily_spend__<line>`` where a network's daily minimum x the period's days is the
    larger, :func:`line_minimums`) and ``sum(on) <= K`` (``max_active_lines``). After the
    search the choices are fixed and the LP re-solved for duals. A re-plan counts the locked
    lines that spent against K.
    """

    keys = fields = ("min_line_spend", "min_daily_spend", "max_active_lines")
    families = ("min_line_spend", "min_daily_spend", "max_active_lines")
    nouns = {
        "min_line_spend": "minimum line spend",
        "min_daily_spend": "platform's daily minimum",
        "max_active_lines": "limit on active lines",
    }

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read the minimum spend of a line switched on, per day by network, and the most on."""
        k = data.get("max_active_lines")
        if k is not None:
            v = number(k, "spec.max_active_lines")
            if v != int(v):
                raise SpecError(f"spec.max_active_lines: must be a whole number, got {k!r}")
            k = int(v)
        daily = {
            str(n): number(v, f"spec.min_daily_spend.{n}")
            for n, v in mapping(data.get("min_daily_spend"), "spec.min_daily_spend").items()
        }
        return {
            "min_line_spend": optional(data, "min_line_spend", "spec"),
            "min_daily_spend": daily,
            "max_active_lines": k,
        }

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Refuse a daily minimum on a network no curve has, or on periods of unknown days."""
        have = set(curves.networks)
        for name in spec.min_daily_spend:
            if name not in have:
                raise unknown_name(spec, curves, "networks", name, f"min_daily_spend.{name}")
        for ln in curves.lines:
            if spec.min_daily_spend.get(ln.network):
                period_days(ln.period, spec.source)

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Count the lines already on (locked with spend) against ``max_active_lines``."""
        k = spec.max_active_lines
        if k is not None:
            k = max(0, k - sum(1 for v in part.locked.values() if v > EPS))
        return {
            "min_line_spend": spec.min_line_spend,
            "min_daily_spend": spec.min_daily_spend,
            "max_active_lines": k,
        }

    def rows(self, lp: LPContext) -> None:
        """Add one binary per line and the rows tying spend to it, then the count limit."""
        spec = lp.spec
        if not spec.is_mip:
            return
        n = len(lp.lines)
        y0 = lp.b.cols(np.zeros(n), 0.0, 1.0)
        lp.binary_cols = np.arange(y0, y0 + n)
        self._switch_rows(lp, y0)
        for li, least in enumerate(line_minimums(spec, lp.keys, lp.unit)):
            if least is not None:
                self._min_row(lp, li, y0 + li, least)
        k = spec.max_active_lines
        if k is not None:
            desc = f"at most {k} lines on"
            row = lp.rule(
                lp.binary_cols, 1.0, "max", float(k), "max_active_lines", (), desc, "lines"
            )
            lp.activation_rows.append(row)

    @staticmethod
    def _switch_rows(lp: LPContext, y0: int) -> None:
        """Add ``tier <= width x on`` for every tier (hidden ``line_on__<line>`` rows).

        One row per tier, not one per line (``spend <= capacity x on``): relaxed, a line is
        its curve scaled by ``on`` (the convex hull of "off or on"), so the bound is tight
        and few switches end fractional (docs/optimizer.md, "On/off plans always finish").
        """
        desc = "spend only on lines switched on"
        infos = [
            RowInfo(rule_name("line_on", *key), desc, "max", lp.unit, 0.0, False) for key in lp.keys
        ]
        tiers = lp.tiers
        idx = np.column_stack([tiers, y0 + lp.tier_line])
        val = np.column_stack([np.ones(len(tiers)), -lp.width])
        first = lp.b.block(idx, val, -INF, 0.0, [infos[li] for li in lp.tier_line.tolist()])
        lp.activation_rows.extend(range(first, first + len(tiers)))

    @staticmethod
    def _min_row(lp: LPContext, li: int, y: int, least: LineMinimum) -> None:
        """Add ``spend >= m x on`` for line ``li`` (``min_line_spend__<line>`` or daily)."""
        cols, key = lp.line_cols(li), lp.keys[li]
        idx = np.append(cols, y)
        desc = f"{line_words(key)}: {least.words(lp.unit)}"
        val = np.append(np.ones(len(cols)), -least.amount)
        lp.activation_rows.append(lp.rule(idx, val, "min", 0.0, least.rule, key, desc))
