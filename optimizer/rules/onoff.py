"""On/off rules (a MILP): ``min_line_spend``, ``min_daily_spend`` and ``max_active_lines``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SpecError
from ..lp import INF, LPContext, RowInfo, rule_name
from ..names import display_network, line_words
from ..periods import period_bounds
from ..values import MAX_BUDGET, mapping, number, optional
from .base import EPS, RuleFamily, fmt, unknown_name

if TYPE_CHECKING:
    from ..curves import Curves
    from ..spec import PlanSpec
    from .replan import OpenPart

#: the period forms whose days ``min_daily_spend`` can count
DAY_LABELS = "ISO weeks (2027-W03), months (2027-01) or days (2027-01-04)"


@dataclass(frozen=True, slots=True)
class RunningPeriod:
    """A re-plan's period running on its ``as_of``: the day and what each line spent by then.

    Set by :meth:`OnOff.rewrite` on the spec a re-plan optimises its open part under (the
    spec field ``running``): there a platform's daily minimum counts the days from ``as_of``
    to the period's end, on top of the spend already made, and a line that spent may stop at
    what it spent whatever minimum applies to it (:func:`line_minimums`).
    """

    as_of: dt.date
    spent: Mapping[tuple[str, str, str], float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineMinimum:
    """The least a line switched on spends, and the rule that sets it.

    ``rule`` is ``min_line_spend`` (the spec's one amount) or ``min_daily_spend`` (the
    network's minimum a day x the period's days, when that is the larger); ``why`` says so
    in words for the daily rule ("TikTok's minimum of 20 EUR a day x 7 days"), else "".
    ``spent``: in a re-plan's running period, what the line spent by ``as_of`` (above 0:
    the line either stops at it or spends at least ``amount`` in all, ``spent`` included).
    """

    amount: float
    rule: str
    why: str = ""
    spent: float = 0.0

    def shown(self, unit: str) -> str:
        """Return the amount as the words show it: ``140 EUR``, ``101.5 EUR`` (to the cent)."""
        if self.rule == "min_line_spend":
            return f"{fmt(self.amount)} {unit}"
        return f"{_money(self.amount)} {unit}"

    def shown_spent(self, unit: str) -> str:
        """Return what the line spent by the re-plan's day, to the cent: ``50 EUR``."""
        return f"{_money(self.spent)} {unit}"

    def words(self, unit: str) -> str:
        """Return the rule for this line in words: ``0 or at least 140 EUR (TikTok's ...)``."""
        why = f" ({self.why})" if self.why else ""
        stop = f"{_money(self.spent)} {unit} (spent, then stop)" if self.spent > 0 else "0"
        return f"{stop} or at least {self.shown(unit)}{why}"


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


def has_minimums(spec: PlanSpec) -> bool:
    """Return whether any line has a least spend when switched on (:func:`line_minimums`)."""
    return spec.min_line_spend is not None or bool(spec.min_daily_spend)


def line_minimums(
    spec: PlanSpec, keys: Sequence[tuple[str, str, str]], unit: str
) -> list[LineMinimum | None]:
    """Return each line's least spend when switched on (None: no minimum on that line).

    The larger of ``min_line_spend`` and the network's ``min_daily_spend`` x the days of the
    line's period holds; equal, ``min_line_spend`` names it. In a re-plan's running period
    (the spec's ``running``) the daily minimum counts the days left from ``as_of``, on top
    of what the line spent by then: the platform's minimum is the daily budget of the days
    left (:func:`_daily_minimum`). There a line that spent may always stop at what it spent
    (money spent is spent), whichever rule sets its minimum: ``spent`` is set on the minimum
    of every such line whose minimum is above its spend.
    """
    glob = spec.min_line_spend
    daily = spec.min_daily_spend
    if not has_minimums(spec):
        return [None] * len(keys)  # no minimum anywhere (what a running line spent aside)
    out: list[LineMinimum | None] = []
    for key in keys:
        best = None if glob is None else LineMinimum(glob, "min_line_spend")
        per_day = daily.get(key[0])
        if per_day:
            least = _daily_minimum(key, per_day, spec.running, unit, spec.source)
            if best is None or least.amount > best.amount:
                best = least
        spent = _spent(key, spec.running)
        if best is not None and best.spent == 0 and best.amount > spent > 0:
            best = LineMinimum(best.amount, best.rule, best.why, spent)
        out.append(best)
    return out


def _spent(key: tuple[str, str, str], running: RunningPeriod | None) -> float:
    """Return what a line of the running period spent by ``as_of`` (0 in other periods)."""
    if running is None:
        return 0.0
    start, end = period_bounds(key[2])
    return float(running.spent.get(key, 0.0)) if start < running.as_of < end else 0.0


def _daily_minimum(
    key: tuple[str, str, str],
    per_day: float,
    running: RunningPeriod | None,
    unit: str,
    source: str,
) -> LineMinimum:
    """Return a line's daily minimum: ``per_day`` x its days, or x the days left from as_of."""
    days, spent, left = period_days(key[2], source), 0.0, ""
    if running is not None:
        start, end = period_bounds(key[2])
        if start < running.as_of < end:
            days = (end - running.as_of).days
            spent = _spent(key, running)
            left = f" left from {running.as_of.isoformat()}"
            if spent > 0:
                left += f", on top of the {_money(spent)} {unit} spent"
    why = (
        f"{display_network(key[0])}'s minimum of {_money(per_day)} {unit} a day x "
        f"{days} day{'s' if days != 1 else ''}{left}"
    )
    return LineMinimum(spent + per_day * days, "min_daily_spend", why, spent)


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

    keys = ("min_line_spend", "min_daily_spend", "max_active_lines")
    fields = (*keys, "running")
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
        """Refuse a daily minimum on no curve's network, unknown days, or a line above 1e12."""
        if not spec.min_daily_spend:
            return
        have = set(curves.networks)
        for name in spec.min_daily_spend:
            if name not in have:
                raise unknown_name(spec, curves, "networks", name, f"min_daily_spend.{name}")
        for ln in curves.lines:
            per_day = spec.min_daily_spend.get(ln.network)
            if per_day:
                days = period_days(ln.period, spec.source)
                if per_day * days > MAX_BUDGET:
                    raise SpecError(
                        f"{spec.source}: min_daily_spend.{ln.network}: {per_day:g} a day x "
                        f"{days} days of {ln.period} is {per_day * days:g}, above the largest "
                        "budget a spec may set (1e12); give the platform's minimum a day"
                    )

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Count the lines already on (locked with spend) against ``max_active_lines``.

        With minimums and the re-plan's day known (``part.as_of``), the spec's ``running``
        says which period runs from that day and what its lines spent: a daily minimum counts
        the days left, and a line that spent may stop there (:func:`line_minimums`); elapsed
        periods have none. ``min_daily_spend`` keeps the networks the open part's curves
        still have (a network with no line left has nothing to apply it to).
        """
        k = spec.max_active_lines
        if k is not None:
            k = max(0, k - sum(1 for v in part.locked.values() if v > EPS))
        have = set(part.curves.networks)
        daily = {n: v for n, v in spec.min_daily_spend.items() if n in have}
        out: dict[str, Any] = {
            "min_line_spend": spec.min_line_spend,
            "min_daily_spend": daily,
            "max_active_lines": k,
        }
        on_off = daily or spec.min_line_spend is not None or k is not None
        if part.as_of is not None and on_off:  # the count's words name the running lines too
            out["running"] = RunningPeriod(part.as_of, dict(part.current))
        return out

    def rows(self, lp: LPContext) -> None:
        """Add one binary per line and the rows tying spend to it, then the count limit.

        A line of a re-plan's running period that spent already (its minimum's ``spent``)
        has a binary for "spends more" (:meth:`_more_rows`): it is active either way, so it
        counts against ``max_active_lines`` as one already on.
        """
        spec = lp.spec
        if not spec.is_mip:
            return
        n = len(lp.lines)
        y0 = lp.b.cols(np.zeros(n), 0.0, 1.0)
        lp.binary_cols = np.arange(y0, y0 + n)
        minimums = line_minimums(spec, lp.keys, lp.unit)
        more = [li for li, m in enumerate(minimums) if m is not None and m.spent > 0]
        self._switch_rows(lp, y0, more)
        for li, least in enumerate(minimums):
            if least is not None and least.spent > 0:
                self._more_rows(lp, li, y0 + li, least)
            elif least is not None:
                self._min_row(lp, li, y0 + li, least)
        k = spec.max_active_lines
        if k is not None:
            self._count_row(lp, k, more)

    @staticmethod
    def _count_row(lp: LPContext, k: int, more: Sequence[int]) -> None:
        """Add ``sum(on) <= k`` (``max_active_lines``); the lines of ``more`` count 1 each.

        Those lines are active whatever their binary says (it says "spends more"), so the
        row counts them through one helper column fixed at 1 with their number as its
        coefficient: the row's limit stays ``k``, the one the on/off search reads, and its
        bound stays a bound (every line with spend counted, as it counts them).
        """
        desc = f"at most {k} {'line' if k == 1 else 'lines'} on"
        running = sum(1 for key in lp.keys if _spent(key, lp.spec.running) > EPS)
        if running:  # every line of the running period that spent, counted one way or other
            desc += f" ({running} running already)"
        cols = np.delete(lp.binary_cols, np.asarray(more, dtype=np.int64))
        vals = np.ones(len(cols))
        if len(more):
            cols = np.append(cols, lp.b.cols(np.zeros(1), 1.0, 1.0))
            vals = np.append(vals, float(len(more)))
        row = lp.rule(cols, vals, "max", float(k), "max_active_lines", (), desc, "lines")
        lp.activation_rows.append(row)

    @staticmethod
    def _switch_rows(lp: LPContext, y0: int, more: Sequence[int] = ()) -> None:
        """Add ``tier <= width x on`` for every tier (hidden ``line_on__<line>`` rows).

        One row per tier, not one per line (``spend <= capacity x on``): relaxed, a line is
        its curve scaled by ``on`` (the convex hull of "off or on"), so the bound is tight
        and few switches end fractional (docs/optimizer.md, "On/off plans always finish").
        The lines of ``more`` (:meth:`_more_rows`) have rows of their own.
        """
        desc = "spend only on lines switched on"
        infos = [
            RowInfo(rule_name("line_on", *key), desc, "max", lp.unit, 0.0, False) for key in lp.keys
        ]
        keep = ~np.isin(lp.tier_line, np.asarray(more, dtype=np.int64))
        tiers, line = lp.tiers[keep], lp.tier_line[keep]
        idx = np.column_stack([tiers, y0 + line])
        val = np.column_stack([np.ones(len(tiers)), -lp.width[keep]])
        first = lp.b.block(idx, val, -INF, 0.0, [infos[li] for li in line.tolist()])
        lp.activation_rows.extend(range(first, first + len(tiers)))

    @staticmethod
    def _more_rows(lp: LPContext, li: int, y: int, least: LineMinimum) -> None:
        """Add the rows of a line that spent ``a`` by a re-plan's day: stop there, or go on.

        ``more`` (the line's binary) 0: its spend stays at ``a`` (hidden ``line_on`` row
        ``spend <= a + (capacity - a) x more``; the spend made is a floor of the line rules);
        1: ``spend >= a + (m - a) x more`` (the rule's row), ``m`` the minimum in all. A
        hidden ``spend >= a x more`` comes last: the on/off search reads a line's least
        spend from its last minimum row, and ``a`` keeps its bound a bound.
        """
        cols, key = lp.line_cols(li), lp.keys[li]
        a, cap = least.spent, float(lp.width[cols].sum())
        ones = np.ones(len(cols))
        idx = np.append(cols, y)
        on = RowInfo(rule_name("line_on", *key), "spend only on lines switched on", "max",
                     lp.unit, a, False)  # fmt: skip
        lp.activation_rows.append(
            lp.b.limit_row(idx, np.append(ones, -max(cap - a, 0.0)), "max", a, on)
        )
        desc = f"{line_words(key)}: {least.words(lp.unit)}"
        row = lp.rule(idx, np.append(ones, -(least.amount - a)), "min", a, least.rule, key, desc)
        lp.activation_rows.append(row)
        hint = RowInfo(rule_name(least.rule, *key), desc, "min", lp.unit, 0.0, False, least.rule)
        lp.activation_rows.append(lp.b.limit_row(idx, np.append(ones, -a), "min", 0.0, hint))

    @staticmethod
    def _min_row(lp: LPContext, li: int, y: int, least: LineMinimum) -> None:
        """Add ``spend >= m x on`` for line ``li`` (``min_line_spend__<line>`` or daily)."""
        cols, key = lp.line_cols(li), lp.keys[li]
        idx = np.append(cols, y)
        desc = f"{line_words(key)}: {least.words(lp.unit)}"
        val = np.append(np.ones(len(cols)), -least.amount)
        lp.activation_rows.append(lp.rule(idx, val, "min", 0.0, least.rule, key, desc))
