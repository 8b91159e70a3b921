"""Budgets for the platforms: the platform rules file, its minimums and the bulk files.

``scenarios/platform_rules.yaml`` (or a user's copy, ``--platforms FILE``) holds, per network,
the platform's budget minimums per currency and the layout of its bulk file
(docs/formats.md, "Platform rules file"). Two uses:

- :func:`min_daily_spend` turns the minimums into the spec key ``min_daily_spend`` (an on/off
  rule of the optimizer: a line is off or spends at least the minimum a day x its days), so
  a plan never gives a line a budget its platform refuses;
- :func:`platform_budgets` turns a plan into each network's daily (or lifetime) budgets, one
  row per line and day (or period), in a layout close to the platform's bulk tool, and
  refuses a plan whose line would be below its platform's minimum; :func:`write_budgets`
  writes one CSV per network.

Money is rounded to the cent by largest remainder (:func:`scenarios.money.round_to_total`)
over the whole plan: the files add up to the plan's total spend rounded to the cent (each
network within a cent or so of its own), and the days of a line and period to the line's
cents for that period.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimizer.periods import period_bounds

from .errors import ExportError, ScenarioFileError
from .exports.cells import neutralise_cell
from .exports.plan import plan_dict
from .money import round_to_total

#: the file read when no --platforms FILE is given
DEFAULT_RULES = Path(__file__).with_name("platform_rules.yaml")
#: budget modes of the export
MODES = ("daily", "lifetime")
LEVELS = ("campaign", "ad_group")
_LEVEL_KEYS = ("min_daily", "min_lifetime_per_day", "min_lifetime")
_NETWORK_KEYS = {"platform", "layout", "also", "source", "read", "note", *LEVELS}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
#: the most lines a refusal names (then "and N more")
SHOWN_LINES = 5


# -- layouts ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns of one bulk file: ``(header, source)`` for each mode.

    A source is a field of the row (``container``: adplan's network and segment; ``holder``:
    what carries the budget, named by segment and day or period; ``start``/``stop``: date
    and time, stop the next day at 00:00; ``first_day``/``last_day``: dates, both inclusive;
    ``budget``; ``currency``; ``network``) or, after ``=``, a fixed text.
    """

    name: str
    budget_level: str  # the level that carries a line's budget: ad_group or campaign
    daily: tuple[tuple[str, str], ...]
    lifetime: tuple[tuple[str, str], ...]

    def columns(self, mode: str) -> tuple[tuple[str, str], ...]:
        """Return the columns of ``mode`` (daily or lifetime)."""
        return self.daily if mode == "daily" else self.lifetime


def _layout(name: str, level: str, before: list, daily: list, lifetime: list, after: list):
    return Layout(name, level, tuple(before + daily + after), tuple(before + lifetime + after))


LAYOUTS: dict[str, Layout] = {
    lay.name: lay
    for lay in (
        _layout(
            "meta",
            "ad_group",
            [
                ("Campaign Name", "container"),
                ("Campaign Status", "=ACTIVE"),
                ("Ad Set Name", "holder"),
                ("Ad Set Run Status", "=ACTIVE"),
                ("Ad Set Time Start", "start"),
                ("Ad Set Time Stop", "stop"),
            ],
            [("Ad Set Daily Budget", "budget")],
            [("Ad Set Lifetime Budget", "budget")],
            [],
        ),
        _layout(
            "tiktok",
            "ad_group",
            [
                ("Campaign Name", "container"),
                ("Campaign Budget Mode", "=BUDGET_MODE_INFINITE"),
                ("Ad Group Name", "holder"),
            ],
            [("Budget Mode", "=BUDGET_MODE_DAY")],
            [("Budget Mode", "=BUDGET_MODE_TOTAL")],
            [("Budget", "budget"), ("Schedule Start Time", "start"), ("Schedule End Time", "stop")],
        ),
        _layout(
            "google",
            "campaign",
            [("Campaign", "holder"), ("Labels", "container"), ("Campaign Status", "=Enabled")],
            [("Budget type", "=Daily")],
            [("Budget type", "=Campaign total")],
            [("Budget", "budget"), ("Start Date", "first_day"), ("End Date", "last_day")],
        ),
        _layout(
            "linkedin",
            "campaign",
            [("Campaign Group Name", "container"), ("Campaign Name", "holder")],
            [("Daily Budget", "budget")],
            [("Total Budget", "budget")],
            [("Start Date", "start"), ("End Date", "stop")],
        ),
        _layout(
            "snapchat",
            "ad_group",
            [("Campaign Name", "container"), ("Ad Set Name", "holder")],
            [("Daily Budget", "budget")],
            [("Lifetime Budget", "budget")],
            [("Start Time", "start"), ("End Time", "stop")],
        ),
        _layout(
            "pinterest",
            "ad_group",
            [("Campaign Name", "container"), ("Ad Group Name", "holder")],
            [("Budget Type", "=DAILY")],
            [("Budget Type", "=LIFETIME")],
            [("Budget", "budget"), ("Start Date", "first_day"), ("End Date", "last_day")],
        ),
        _layout(
            "x",
            "campaign",
            [("Campaign Name", "holder"), ("Campaign Group", "container")],
            [("Daily Budget", "budget")],
            [("Total Budget", "budget")],
            [("Start Time", "start"), ("End Time", "stop")],
        ),
        _layout(
            "generic",
            "ad_group",
            [("network", "network"), ("campaign", "container"), ("ad_group", "holder")],
            [("budget_type", "=daily")],
            [("budget_type", "=lifetime")],
            [("budget", "budget"), ("currency", "currency"), ("start", "start"), ("stop", "stop")],
        ),
    )
}


# -- the rules file ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelRules:
    """The minimums of one level (campaign or ad group), per currency."""

    min_daily: Mapping[str, float] = field(default_factory=dict)
    min_lifetime_per_day: Mapping[str, float] = field(default_factory=dict)
    min_lifetime: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NetworkRules:
    """One network's platform, bulk layout, minimums and where they were read."""

    network: str
    platform: str
    layout: str
    levels: Mapping[str, LevelRules]
    also: tuple[str, ...] = ()
    source: str = ""
    read: str = ""

    @property
    def budget_level(self) -> LevelRules:
        """Return the minimums of the level that carries a line's budget in its layout."""
        return self.levels.get(LAYOUTS[self.layout].budget_level, LevelRules())


@dataclass(frozen=True, slots=True)
class PlatformRules:
    """Every network's rules, and the file they were read from."""

    path: str
    networks: Mapping[str, NetworkRules]

    def of(self, network: str) -> NetworkRules | None:
        """Return the rules of ``network`` (by its slug or one of its ``also``), or None."""
        if network in self.networks:
            return self.networks[network]
        return next((r for r in self.networks.values() if network in r.also), None)


#: the word that names the bundled rules file on the command line (``--platforms bundled``)
BUNDLED = "bundled"


def load_platform_rules(path: str | Path | None = None) -> PlatformRules:
    """Read a platform rules file (None or ``bundled``: ``scenarios/platform_rules.yaml``).

    ``bundled`` names the rules adplan ships (a file of that name, if there is one, wins).
    A file that cannot be read or has a bad key or value raises ScenarioFileError naming
    the file and the key.
    """
    import yaml

    p = DEFAULT_RULES if path is None else Path(path)
    if str(path) == BUNDLED and not p.exists():
        p = DEFAULT_RULES
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        what = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise ScenarioFileError(
            f"{p}: cannot read the platform rules file ({what})", file=str(p)
        ) from None
    except yaml.YAMLError as e:
        raise ScenarioFileError(f"{p}: not valid YAML ({e})", file=str(p)) from None
    nets = data.get("networks") if isinstance(data, Mapping) else None
    if not isinstance(nets, Mapping) or not nets:
        raise _bad(p, "networks", "must map each network's slug to its rules")
    networks = {str(n): _network(p, str(n), r) for n, r in nets.items()}
    return PlatformRules(str(p), networks)


def _bad(p: Path, key: str, what: str) -> ScenarioFileError:
    return ScenarioFileError(
        f"{p}: {key}: {what} (docs/formats.md, 'Platform rules file')", file=str(p), key=key
    )


def _network(p: Path, name: str, raw: Any) -> NetworkRules:
    """Read one network's rules; errors name ``networks.<name>.<key>``."""
    at = f"networks.{name}"
    if not isinstance(raw, Mapping):
        raise _bad(p, at, "must be a mapping (platform, layout, campaign, ad_group, ...)")
    unknown = sorted(set(map(str, raw)) - _NETWORK_KEYS)
    if unknown:
        raise _bad(p, f"{at}.{unknown[0]}", f"unknown key; use {', '.join(sorted(_NETWORK_KEYS))}")
    layout = str(raw.get("layout", "generic"))
    if layout not in LAYOUTS:
        raise _bad(p, f"{at}.layout", f"'{layout}' is not a layout; use {', '.join(LAYOUTS)}")
    also = raw.get("also") or []
    if not isinstance(also, list) or not all(isinstance(a, str) for a in also):
        raise _bad(p, f"{at}.also", "must be a list of network slugs")
    levels = {lv: _level(p, f"{at}.{lv}", raw[lv]) for lv in LEVELS if lv in raw}
    return NetworkRules(
        network=name,
        platform=str(raw.get("platform") or name),
        layout=layout,
        levels=levels,
        also=tuple(also),
        source=str(raw.get("source") or ""),
        read=str(raw.get("read") or ""),
    )


def _level(p: Path, at: str, raw: Any) -> LevelRules:
    """Read one level's minimums: ``{min_daily: {USD: 20}, ...}``."""
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise _bad(p, at, f"must be a mapping of {', '.join(_LEVEL_KEYS)}")
    unknown = sorted(set(map(str, raw)) - set(_LEVEL_KEYS))
    if unknown:
        raise _bad(p, f"{at}.{unknown[0]}", f"unknown key; use {', '.join(_LEVEL_KEYS)}")
    return LevelRules(**{k: _amounts(p, f"{at}.{k}", raw[k]) for k in _LEVEL_KEYS if k in raw})


def _amounts(p: Path, at: str, raw: Any) -> dict[str, float]:
    """Read ``{currency: amount}``: ISO codes, amounts of 0 or more."""
    if not isinstance(raw, Mapping):
        raise _bad(p, at, "must map currencies to amounts, e.g. {USD: 20, EUR: 20}")
    out = {}
    for cur, v in raw.items():
        if not _CURRENCY.match(str(cur)):
            raise _bad(p, f"{at}.{cur}", "a currency is a 3-letter ISO code such as USD or EUR")
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < float("inf"):
            raise _bad(p, f"{at}.{cur}", f"must be an amount of 0 or more, got {v!r}")
        out[str(cur)] = float(v)
    return out


# -- minimums ---------------------------------------------------------------------------------


def _per_day(rules: PlatformRules, net: NetworkRules, key: str, currency: str) -> float | None:
    """Return the budget level's ``key`` minimum in ``currency`` (None: no minimum given).

    ScenarioFileError when the level gives minimums but not in ``currency``.
    """
    amounts = getattr(net.budget_level, key)
    if not amounts:
        return None
    if currency not in amounts:
        level = LAYOUTS[net.layout].budget_level
        raise ScenarioFileError(
            f"{rules.path}: networks.{net.network}.{level}.{key} has no minimum in {currency}, "
            f"the plan's currency (it has {', '.join(sorted(amounts))}); add {currency}: "
            "<amount> to it",
            file=rules.path,
            key=f"networks.{net.network}.{level}.{key}",
        )
    return amounts[currency]


def min_daily_spend(
    rules: PlatformRules, curves_or_networks: Any, currency: str, periods: Iterable[str] = ()
) -> dict[str, float]:
    """Return the spec key ``min_daily_spend`` for the plan's networks in ``currency``.

    ``curves_or_networks``: curves (their ``networks`` and ``periods``) or network names
    (with ``periods``, the plan's periods). Per network the largest of its budget level's
    daily minimum, lifetime minimum per day, and flat lifetime minimum (``min_lifetime``)
    over the days of the plan's shortest period: every line switched on then meets each of
    them, in daily and lifetime budgets alike (:func:`platform_budgets` checks the same).
    Networks with no rules, or no minimum in the file, get none.
    """
    names = getattr(curves_or_networks, "networks", curves_or_networks)
    days = _shortest_days(getattr(curves_or_networks, "periods", periods))
    out: dict[str, float] = {}
    for name in sorted(set(names)):
        net = rules.of(name)
        if net is None:
            continue
        keys = ("min_daily", "min_lifetime_per_day")
        known = [v for v in (_per_day(rules, net, k, currency) for k in keys) if v is not None]
        flat = _per_day(rules, net, "min_lifetime", currency)
        if flat and days:
            known.append(flat / days)
        if known and max(known) > 0:
            out[name] = max(known)
    return out


def _shortest_days(periods: Iterable[str]) -> int | None:
    """Return the days of the shortest of ``periods`` whose days can be told (None: none)."""
    days = []
    for p in periods:
        try:
            start, end = period_bounds(p)
        except ValueError:
            continue  # the optimizer refuses it, naming min_daily_spend
        days.append((end - start).days)
    return min(days, default=None)


def with_platform_minimums(spec: Any, curves: Any, rules: PlatformRules) -> Any:
    """Return ``spec`` with ``min_daily_spend`` from ``rules`` for the networks of ``curves``.

    The spec's own ``min_daily_spend`` wins for a network it names (its names matched to
    the curves' first, ``PlanSpec.for_curves``); the other networks get the file's minimums
    in the curves' currency.
    """
    from dataclasses import replace

    spec = spec.for_curves(curves)
    found = min_daily_spend(rules, curves, curves.currency)
    return replace(spec, min_daily_spend={**found, **spec.min_daily_spend})


# -- the export -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NetworkBudgets:
    """One network's bulk file: its rows in its layout, and what they add up to."""

    network: str
    platform: str
    layout: str
    mode: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    total: float  # the budgets added up, to the cent
    lines: int  # network x segment lines with a budget
    days: int  # days with a budget (any line)


@dataclass(frozen=True, slots=True)
class _Part:
    """One line in one period of the plan, its spend and its days."""

    network: str
    segment: str
    period: str
    spend: float
    first: dt.date
    days: int


def read_plan_json(path: str | Path) -> dict:
    """Return the Plan JSON of ``path`` (``adplan optimize --out plan.json``).

    ScenarioFileError naming the file when it cannot be read, is not JSON or not a plan.
    """
    from optimizer.curves import read_json

    p = Path(path)

    def error(message: str) -> ScenarioFileError:
        return ScenarioFileError(message, file=str(p))

    hint = "give the plan JSON that `adplan optimize --out plan.json` writes"
    data = read_json(p, "the plan JSON file", error, hint)
    if not isinstance(data, Mapping) or not isinstance(data.get("lines"), list):
        raise error(f"{p}: not a plan: expected a JSON object with 'lines'; {hint}")
    return dict(data)


def platform_budgets(plan, rules: PlatformRules, mode: str = "daily") -> dict[str, NetworkBudgets]:
    """Return each network's budgets (``mode`` daily or lifetime) for ``plan``.

    ``plan`` is a :class:`~optimizer.Plan` or its Plan JSON dict (the file ``adplan
    optimize --out plan.json`` writes), read by :func:`scenarios.exports.plan.plan_dict`.

    Daily: one row per line and day of each period it spends in (the period's spend / its
    days, to the cent); lifetime: one row per line and period. Lines with no spend in a
    period have no rows (paused). A re-plan (``adplan replan``: a ``replan`` section) gets
    rows from its ``as_of`` on only: none for elapsed periods, and in the period running on
    ``as_of`` what is left to spend (re-planned - actual) over the days left. ExportError
    when a line's budget would be below its platform's minimum (the message names the lines
    and says how to re-plan), or when a line's spend is not a number of 0 or more, or two
    lines of a network and segment share a day.
    """
    if mode not in MODES:
        raise ExportError(f"budget mode '{mode}' is not known; use daily or lifetime")
    plan = plan_dict(plan)
    currency = str(plan.get("currency") or "")
    if not currency:
        raise ExportError("plan: 'currency' is missing; export a plan JSON adplan wrote")
    parts = _parts(plan)
    by_net: dict[str, list[_Part]] = {}
    for part in parts:
        by_net.setdefault(part.network, []).append(part)
    least = _refuse_below_minimum(by_net, rules, currency, mode)
    ordered = sorted(parts, key=lambda p: (p.network, p.segment, p.first))
    # cents by largest remainder over the whole plan: the networks add up to its total
    cents = _cents([p.spend for p in ordered], [least.get(id(p), 0) for p in ordered])
    cents_of = dict(zip(map(id, ordered), cents, strict=True))
    return {
        n: _network_budgets(n, ps, rules, currency, mode, cents_of)
        for n, ps in sorted(by_net.items())
    }


def _cents(amounts: list[float], least: list[int] | None = None) -> list[int]:
    """Return ``amounts`` in whole cents adding up to their rounded total (largest remainder).

    ``least``: the fewest cents each may get (a platform's minimum): one rounded below it
    takes the cents it lacks from those rounded up the most that stay at or above their own
    least (then from those with the most to spare); only when none can give is it raised
    above the total.
    """
    exact = [100 * a for a in amounts]
    out = [int(round(c)) for c in round_to_total(exact)]
    if least is None:
        return out
    for i, low in enumerate(least):
        while out[i] < low:
            givers = [j for j in range(len(out)) if j != i and out[j] - 1 >= least[j]]
            if givers:
                j = max(givers, key=lambda j: (out[j] - exact[j], out[j] - least[j]))
                out[j] -= 1
            out[i] += 1
    return out


def _parts(d: Mapping) -> list[_Part]:
    """Return the budgets to write: each funded line and period with its first day and days.

    A re-plan's from its ``as_of`` on (:func:`_replan_parts`). ExportError for a spend that
    is not a number of 0 or more, a period of no days, or two lines sharing a day.
    """
    sec = d.get("replan")
    out = _replan_parts(d, sec) if isinstance(sec, Mapping) else _plan_parts(d)
    _refuse_overlaps(out)
    return [p for p in out if p.spend > 0]


def _plan_parts(d: Mapping) -> list[_Part]:
    """Return every line of the plan (spend 0 included) with its period's days."""
    out = []
    for i, ln in enumerate(d.get("lines") or []):
        try:
            key = (str(ln["network"]), str(ln["segment"]), str(ln["period"]))
            raw = ln["spend"]
        except (KeyError, TypeError):
            raise ExportError(
                f"plan: lines[{i}] needs network, segment, period and spend"
            ) from None
        spend = _amount(raw, f"plan: line {'/'.join(key)}: spend")
        if spend == 0:
            continue
        first, end = _bounds(key)
        out.append(_Part(*key, spend, first, (end - first).days))
    return out


def _amount(raw: Any, where: str) -> float:
    """Return ``raw`` as an amount of money (a finite number of 0 or more); else ExportError."""
    try:
        v = float(raw) if not isinstance(raw, bool) else float("nan")
    except (TypeError, ValueError):
        v = float("nan")
    if not 0 <= v < float("inf"):
        raise ExportError(
            f"{where} is {raw!r}, not an amount of 0 or more; export a plan JSON adplan wrote"
        )
    return v


def _bounds(key: tuple[str, str, str]) -> tuple[dt.date, dt.date]:
    """Return the first day and the day after the period of ``key``; ExportError if unknown."""
    try:
        return period_bounds(key[2])
    except ValueError:
        raise ExportError(
            f"plan: line {'/'.join(key)}: the days of period '{key[2]}' cannot be told; "
            "budgets for the platforms need ISO weeks (2027-W03), months (2027-01) or "
            "days (2027-01-04)"
        ) from None


def _replan_parts(d: Mapping, sec: Mapping) -> list[_Part]:
    """Return a re-plan's budgets from its ``as_of`` on.

    Elapsed periods: none (their money is spent). The period running on ``as_of``: its
    re-planned spend less the actual spend on the line (``replan_lines``), over the days
    from ``as_of`` to its end. Open periods: their re-planned spend over all their days.
    """
    from .exports.replan import replan_lines

    lines = replan_lines(d)  # ExportError unless rows and off_plan are lists of objects
    as_of = _as_of(sec.get("as_of"))
    for r in sec.get("rows") or []:
        where = "/".join(str(r.get(k, "")) for k in ("network", "segment", "period"))
        _amount(r.get("replanned"), f"plan: replan row {where}: replanned")
        if r.get("actual") is not None:
            _amount(r.get("actual"), f"plan: replan row {where}: actual")
    out = []
    for row in lines:
        status = row["status"]
        if status not in ("current", "open"):
            continue  # elapsed, off-plan: spent already
        key = (row["network"], row["segment"], row["period"])
        first, end = _bounds(key)
        spend = row["replanned_spend"]
        if status == "current":
            first = max(first, as_of)
            spend -= row["actual_spend"] or 0.0
        if spend > 0.005 and first < end:
            out.append(_Part(*key, spend, first, (end - first).days))
    return out


def _as_of(raw: Any) -> dt.date:
    """Return a re-plan's ``as_of``: a string YYYY-MM-DD (not 20270110); else ExportError."""
    try:
        if not isinstance(raw, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ExportError(
            f'plan: replan.as_of is {raw!r}, not a date "YYYY-MM-DD" (a string); export '
            "the re-plan JSON `adplan replan --out` wrote"
        ) from None


def _refuse_overlaps(parts: list[_Part]) -> None:
    """Raise ExportError when two lines of one network and segment share a day."""
    last: dict[tuple[str, str], _Part] = {}
    for p in sorted(parts, key=lambda p: (p.network, p.segment, p.first)):
        before = last.get((p.network, p.segment))
        if before is not None and p.first < before.first + dt.timedelta(days=before.days):
            line = f"{p.network}/{p.segment}/{p.period}"
            what = (
                f"line {line} is there twice"
                if before.period == p.period
                else f"lines {p.network}/{p.segment}/{before.period} and {line} share days"
            )
            raise ExportError(
                f"plan: {what} (from {p.first.isoformat()}): each network, segment and day "
                "takes one budget; export a plan JSON adplan wrote (one line per network, "
                "segment and period)"
            )
        last[(p.network, p.segment)] = p


def _minimum(rules: PlatformRules, net: NetworkRules, part: _Part, cur: str, mode: str):
    """Return (amount, words) of ``part``'s platform minimum; None when its platform sets none.

    A lifetime budget's flat minimum (``min_lifetime``) holds whole in a period budgeted
    from its first day; in the period running on a re-plan's ``as_of`` (``part`` starts
    later) it counts for the days left only: ``min_lifetime x days left / the period's
    days``. The optimizer asks at least that there (:func:`min_daily_spend` makes the flat
    minimum one a day over the shortest period, x the days left), so a re-plan made with
    the same rules file is never refused.
    """
    if mode == "daily":
        per_day = _per_day(rules, net, "min_daily", cur)
        flat = None
    else:
        per_day = _per_day(rules, net, "min_lifetime_per_day", cur)
        flat = _per_day(rules, net, "min_lifetime", cur)
    start, end = period_bounds(part.period)
    full = (end - start).days
    share = part.days / full if part.first > start and flat else 1.0
    amount = max((per_day or 0.0) * part.days, (flat or 0.0) * share)
    if amount <= 0:
        return None
    days = f"{part.days} day{'s' if part.days != 1 else ''}"
    if per_day is not None and per_day * part.days >= (flat or 0.0) * share:
        words = f"{net.platform}'s minimum of {per_day:,.2f} {cur} a day x {days}"
    elif share < 1:
        words = (
            f"{net.platform}'s lifetime minimum of {flat or 0.0:,.2f} {cur} x the {days} left "
            f"of the period's {full}"
        )
    else:
        words = f"{net.platform}'s lifetime minimum of {flat or 0.0:,.2f} {cur}"
    return amount, words


def _least_cents(amount: float, part: _Part, mode: str) -> int:
    """Return the fewest cents ``part`` may get: every daily budget at its minimum or above."""
    if mode == "daily":
        return math.ceil(round(amount / part.days * 100, 6)) * part.days
    return math.ceil(round(amount * 100, 6))


def _refuse_below_minimum(
    by_net: Mapping[str, list[_Part]], rules: PlatformRules, cur: str, mode: str
) -> dict[int, int]:
    """Raise ExportError naming the lines whose budget is below their platform's minimum.

    Return the fewest cents of each part with a minimum (by ``id``), for the rounding.
    """
    low, least = [], {}
    for network, parts in by_net.items():
        net = rules.of(network)
        if net is None:
            continue
        for part in parts:
            found = _minimum(rules, net, part, cur, mode)
            if found is None:
                continue
            if part.spend < found[0] - 0.005:
                low.append(
                    f"{part.network}/{part.segment}/{part.period}{_from(part)} gets "
                    f"{part.spend:,.2f} {cur}, below {found[0]:,.2f} ({found[1]})"
                )
            least[id(part)] = _least_cents(found[0], part, mode)
    if low:
        shown = "; ".join(low[:SHOWN_LINES])
        more = f"; and {len(low) - SHOWN_LINES} more" if len(low) > SHOWN_LINES else ""
        raise ExportError(
            f"{len(low)} line budget{'s are' if len(low) > 1 else ' is'} below the platform's "
            f"minimum ({rules.path}): {shown}{more}. The platforms refuse such budgets: re-plan "
            "with `adplan optimize ... --platforms bundled` or `adplan replan ... --platforms "
            "bundled` (or your own rules FILE), which adds the minimums to the spec "
            "(min_daily_spend) so each line is either off or at least at its minimum"
        )
    return least


def _from(part: _Part) -> str:
    """Return `` from <day>`` when ``part`` starts after its period's first day (a re-plan)."""
    try:
        start = period_bounds(part.period)[0]
    except ValueError:
        return ""
    return f" from {part.first.isoformat()}" if part.first > start else ""


def _network_budgets(
    network: str,
    parts: list[_Part],
    rules: PlatformRules,
    cur: str,
    mode: str,
    cents_of: dict[int, int],
) -> NetworkBudgets:
    """Return one network's rows: its parts' cents (``cents_of``), split over their days."""
    net = rules.of(network)
    layout = LAYOUTS[net.layout if net is not None else "generic"]
    parts = sorted(parts, key=lambda p: (p.segment, p.first))
    cents = [cents_of[id(p)] for p in parts]
    rows: list[tuple[Any, ...]] = []
    days: set[dt.date] = set()
    for part, c in zip(parts, cents, strict=True):
        for first, n, amount in _spans(part, c, mode):
            days.update(first + dt.timedelta(days=k) for k in range(n))
            rows.append(_row(layout, mode, part, first, n, amount, cur))
    return NetworkBudgets(
        network=network,
        platform=net.platform if net is not None else network,
        layout=layout.name,
        mode=mode,
        columns=tuple(h for h, _ in layout.columns(mode)),
        rows=tuple(rows),
        total=sum(cents) / 100,
        lines=len({p.segment for p in parts}),
        days=len(days),
    )


def _spans(part: _Part, cents: int, mode: str) -> list[tuple[dt.date, int, int]]:
    """Return (first day, days, cents) of each row of ``part``: its days, or the period."""
    if mode == "lifetime":
        return [(part.first, part.days, cents)]
    per_day = _cents([cents / 100 / part.days] * part.days)
    return [(part.first + dt.timedelta(days=k), 1, v) for k, v in enumerate(per_day)]


def _row(layout: Layout, mode: str, part: _Part, first: dt.date, n: int, cents: int, cur: str):
    """Return one row's cells in the layout's columns."""
    stop = first + dt.timedelta(days=n)
    label = first.isoformat() if mode == "daily" else part.period
    fields = {
        "network": part.network,
        "container": f"adplan {part.network} {part.segment}",
        "holder": f"{part.segment} {label}",
        "start": f"{first.isoformat()} 00:00",
        "stop": f"{stop.isoformat()} 00:00",
        "first_day": first.isoformat(),
        "last_day": (stop - dt.timedelta(days=1)).isoformat(),
        "budget": f"{cents // 100}.{cents % 100:02d}",
        "currency": cur,
    }
    return tuple(
        src[1:] if src.startswith("=") else neutralise_cell(fields[src])
        for _, src in layout.columns(mode)
    )


def file_name(network: str, taken: Iterable[str] = ()) -> str:
    """Return the CSV file name of a network: its slug made safe, unique among ``taken``."""
    base = re.sub(r"[^a-z0-9_-]+", "-", network.lower()).strip("-") or "network"
    name, k = f"{base}.csv", 2
    while name in set(taken):
        name, k = f"{base}-{k}.csv", k + 1
    return name


def write_budgets(budgets: Mapping[str, NetworkBudgets], out_dir: str | Path) -> list[Path]:
    """Write one CSV (UTF-8, a header row) per network into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for nb in budgets.values():
        path = out / file_name(nb.network, [p.name for p in paths])
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(nb.columns)
            w.writerows(nb.rows)
        paths.append(path)
    return paths


__all__ = [
    "DEFAULT_RULES",
    "LAYOUTS",
    "MODES",
    "NetworkBudgets",
    "PlatformRules",
    "load_platform_rules",
    "min_daily_spend",
    "platform_budgets",
    "read_plan_json",
    "with_platform_minimums",
    "write_budgets",
]
