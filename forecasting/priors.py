"""Benchmark priors: a cost per result and an elasticity per network, segment, result type.

A priors file (docs/formats.md, "Priors file") gives what a line's curve is expected to be
before its history is read: ``cpr``, the cost per result at the line's typical spend per
period (or at ``spend``), and ``elasticity``, b in results = A·spend^b. The forecast combines
each with what the history measured by precision weighting on the log scale
(:func:`combine_level`, :func:`combine_elasticity`): a prior worth ``weight`` results pulls a
line with 10 results a long way and one with 10,000 hardly at all. An entry naming a segment
the history never saw is a line forecast from its prior alone
(:meth:`Priors.lines_without_history`, :func:`check_standalone`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optimizer.values import MAX_BUDGET

from .errors import ForecastingError
from .events import (
    Entry,
    FileKind,
    entries_from_list,
    most_specific,
    network_value,
    number_value,
    read_entries,
    refuse_repeated_keys,
    text_value,
    top_list,
)

#: how many results of history a CPR prior is worth when the entry gives no weight
DEFAULT_WEIGHT = 50.0
#: the prior standard deviation of the elasticity when the entry gives none
DEFAULT_ELASTICITY_SD = 0.15
#: the elasticities a prior may give: b in results = A·spend^b
ELASTICITY_RANGE = (0.05, 1.0)
#: a line without history may spend this multiple of ``spend`` when no ``max_spend`` is given
MAX_SPEND_FACTOR = 1.5

PRIORS = FileKind(
    what="priors file",
    key="priors",
    columns=(
        "network",
        "segment",
        "result_type",
        "cpr",
        "elasticity",
        "weight",
        "elasticity_sd",
        "spend",
        "max_spend",
    ),
    required=("network",),
    doc='docs/formats.md, "Priors file"',
)


@dataclass(frozen=True, slots=True)
class Prior:
    """What one network (or segment, or result type) is expected to cost and return.

    ``cpr``: the benchmark cost per result (> 0) at the line's typical spend per period, or
    at ``spend`` when given. ``elasticity``: b in results = A·spend^b, in [0.05, 1].
    ``weight``: how many results of history the CPR prior is worth (> 0). ``elasticity_sd``:
    the elasticity's prior standard deviation (> 0). ``spend``: the typical spend per plan
    period ``cpr`` refers to (> 0). ``max_spend``: the most a line without history may spend
    per period (> spend). ``where``: ``priors.yaml: priors[3]``, for messages.
    """

    network: str
    segment: str | None
    result_type: str | None
    cpr: float | None
    elasticity: float | None
    weight: float
    elasticity_sd: float
    spend: float | None
    max_spend: float | None
    where: str

    def __post_init__(self) -> None:
        at = f"{self.where}, "
        if self.cpr is None and self.elasticity is None:
            raise ForecastingError(
                f"{self.where}: neither cpr nor elasticity: give the benchmark cost per result "
                "(cpr), the elasticity, or both"
            )
        _positive(self.cpr, at + "cpr", "the benchmark cost per result", MAX_BUDGET)
        _elasticity(self.elasticity, at + "elasticity")
        _positive(self.weight, at + "weight", "how many results of history the cpr is worth")
        _positive(self.elasticity_sd, at + "elasticity_sd", "the elasticity's prior sd", 10.0)
        _positive(self.spend, at + "spend", "the typical spend per period", MAX_BUDGET)
        _max_spend(self.spend, self.max_spend, at + "max_spend")


def _positive(value: float | None, at: str, what: str, hi: float = math.inf) -> None:
    if value is not None and not (math.isfinite(value) and 0 < value <= hi):
        top = "" if hi == math.inf else f" and at most {hi:g}"
        raise ForecastingError(f"{at}: {value:g} is not above 0{top}: give {what}")


def _elasticity(value: float | None, at: str) -> None:
    lo, hi = ELASTICITY_RANGE
    if value is not None and not lo <= value <= hi:
        raise ForecastingError(
            f"{at}: {value:g} is outside {lo:g}..{hi:g}: give b of results = A·spend^b (1: "
            "results grow as fast as spend; 0.5: doubling spend gives 41% more results)"
        )


def _max_spend(spend: float | None, max_spend: float | None, at: str) -> None:
    if max_spend is None:
        return
    if spend is None:
        raise ForecastingError(
            f"{at}: {max_spend:g} without spend: give spend, the typical spend per period the "
            "cpr refers to, or remove max_spend"
        )
    if not (math.isfinite(max_spend) and spend < max_spend <= MAX_BUDGET):
        raise ForecastingError(
            f"{at}: {max_spend:g} is not above spend {spend:g}: give the most a line without "
            f"history may spend per period, above spend (default {MAX_SPEND_FACTOR:g} × spend)"
        )


@dataclass(frozen=True, slots=True)
class Priors:
    """The priors of one file or request (``source`` names it in messages)."""

    entries: tuple[Prior, ...]
    source: str

    def for_line(self, network: str, segment: str | None, result_type: str | None) -> Prior | None:
        """Return the most specific entry for the line, or None.

        Segment and result type beat segment, which beats result type, which beats the
        network alone; an entry with a result type matches that type only.
        """
        return most_specific(self.entries, network, segment, result_type)

    def lines_without_history(self, result_type: str, known: set[tuple[str, str]]) -> list[Prior]:
        """Return the entries for lines the history never saw, most specific one per line.

        They name a segment, match ``result_type`` (or name none) and their (network,
        segment) is not in ``known``. Each is forecast from its prior alone: see
        :func:`check_standalone`.
        """
        by_line: dict[tuple[str, str], list[Prior]] = {}
        for p in self.entries:  # one pass; an entry naming the segment beats the network's
            if p.segment is not None and (p.network, p.segment) not in known:
                by_line.setdefault((p.network, p.segment), []).append(p)
        out: list[Prior] = []
        for (net, seg), entries in by_line.items():
            best = most_specific(entries, net, seg, result_type)
            if best is not None:
                out.append(best)
        return out

    def networks_without_history(self, result_type: str, networks: set[str]) -> list[Prior]:
        """Return the network-wide entries (no segment) for networks not in ``networks``."""
        return [
            p
            for p in self.entries
            if p.segment is None
            and p.network not in networks
            and p.result_type in (None, result_type)
        ]


def check_standalone(prior: Prior) -> None:
    """Refuse a prior that cannot forecast a line on its own: it needs cpr, elasticity, spend."""
    missing = [k for k in ("cpr", "elasticity", "spend") if getattr(prior, k) is None]
    if missing:
        line = prior.network + ("" if prior.segment is None else f"/{prior.segment}")
        raise ForecastingError(
            f"{prior.where}: line {line} has no history, so it is forecast from this prior "
            f"alone, which has no {' and no '.join(missing)}: give cpr (the cost per result at "
            "spend), elasticity and spend (the typical spend per period) for it, or remove it"
        )


def load_priors(path: str | Path) -> Priors:
    """Read a priors file: YAML (``priors:``) or CSV by its suffix (docs/formats.md)."""
    source, entries = read_entries(path, PRIORS)
    return _priors(entries, source)


def priors_from_data(data: Mapping, source: str = "priors") -> Priors:
    """Return the priors of a mapping already parsed (an HTTP body), checked as a file's."""
    prefix = PRIORS.key if source == PRIORS.key else f"{source}: {PRIORS.key}"
    return _priors(entries_from_list(top_list(data, source, PRIORS), prefix, PRIORS), source)


def _priors(entries: list[Entry], source: str) -> Priors:
    priors = [_prior(e) for e in entries]
    refuse_repeated_keys(entries, priors, "a prior")
    return Priors(tuple(priors), source)


def _prior(entry: Entry) -> Prior:
    n = {k: number_value(entry, k) for k in PRIORS.columns[3:]}
    _refuse_unused(entry, n)
    spend, max_spend = n["spend"], n["max_spend"]
    if max_spend is None and spend is not None:
        max_spend = MAX_SPEND_FACTOR * spend
    return Prior(
        network=str(network_value(entry, required=True)),
        segment=text_value(entry, "segment"),
        result_type=_slug(text_value(entry, "result_type")),
        cpr=n["cpr"],
        elasticity=n["elasticity"],
        weight=DEFAULT_WEIGHT if n["weight"] is None else n["weight"],
        elasticity_sd=DEFAULT_ELASTICITY_SD if n["elasticity_sd"] is None else n["elasticity_sd"],
        spend=spend,
        max_spend=max_spend,
        where=entry.where,
    )


#: a key that says something only with another: (key, needs, why)
_NEEDS = (
    ("weight", "cpr", "the weight is how much the cpr counts"),
    ("elasticity_sd", "elasticity", "elasticity_sd is how far the elasticity may be off"),
    ("spend", "cpr", "spend is the spend per period the cpr refers to"),
)


def _refuse_unused(entry: Entry, n: Mapping[str, float | None]) -> None:
    """Refuse a value that would be ignored (a weight without a cpr...)."""
    for key, needs, why in _NEEDS:
        if n[key] is not None and n[needs] is None:
            raise ForecastingError(
                f"{entry.at(key)}: given without {needs}, and {why}: give {needs} too, or "
                f"remove {key}"
            )


# -- combining a prior with the history ----------------------------------------------------


def combine_level(log_data, var_data, log_prior, weight):
    """Return (log_post, var_post, share): a log level from data and a prior, precision-weighted.

    The data's precision is 1/var_data (a log level measured from n results has variance
    about 1/n; var_data = inf: no data), the prior's is ``weight`` (results-equivalent)::

        share    = weight / (weight + 1/var_data)        (1 when var_data is inf)
        log_post = share·log_prior + (1 - share)·log_data
        var_post = 1 / (weight + 1/var_data) = share / weight

    Vectorised over numpy arrays (scalars in, floats out). var_data 0.01 and weight 100 give
    share 0.5 and var_post 0.005.
    """
    ld, vd, lp, w = np.broadcast_arrays(
        *(np.asarray(x, float) for x in (log_data, var_data, log_prior, weight))
    )
    if np.any(~(w > 0) | ~np.isfinite(w)):
        raise ForecastingError("combine_level: the prior's weight must be a finite number above 0")
    if np.any(~(vd >= 0)):
        raise ForecastingError("combine_level: var_data must be 0 or more (inf: no data)")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        share = 1.0 / (1.0 + 1.0 / (w * vd))  # 1 when var_data is inf, 0 when it is 0
        post = np.where(share >= 1.0, lp, ld + share * (lp - ld))
    return _out(post), _out(share / w), _out(share)


def combine_elasticity(b_data, se_data, b_prior, sd_prior):
    """Return (b_post, se_post, share): an elasticity from data and a prior, precision-weighted.

    Precisions 1/se_data² (se_data = inf: no data) and 1/sd_prior²::

        share  = (1/sd²) / (1/sd² + 1/se²) = se² / (se² + sd²)   (1 when se is inf)
        b_post = share·b_prior + (1 - share)·b_data
        se_post = sqrt(1 / (1/sd² + 1/se²)) = sd·sqrt(share)

    Vectorised over numpy arrays (scalars in, floats out).
    """
    bd, se, bp, sd = np.broadcast_arrays(
        *(np.asarray(x, float) for x in (b_data, se_data, b_prior, sd_prior))
    )
    if np.any(~(sd > 0) | ~np.isfinite(sd)):
        raise ForecastingError("combine_elasticity: sd_prior must be a finite number above 0")
    if np.any(~(se >= 0)):
        raise ForecastingError("combine_elasticity: se_data must be 0 or more (inf: no data)")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        share = 1.0 / (1.0 + (sd / se) ** 2)  # 1 when se_data is inf, 0 when it is 0
        post = np.where(share >= 1.0, bp, bd + share * (bp - bd))
    return _out(post), _out(sd * np.sqrt(share)), _out(share)


def _out(x: np.ndarray):
    """Return a 0-d array as a float, others as they are."""
    return float(x) if np.ndim(x) == 0 else x


def _slug(result_type: str | None) -> str | None:
    """Return a result type as the history names it (``Purchases`` -> ``purchases``)."""
    if result_type is None:
        return None
    from .ingest._base import result_type_slug

    return result_type_slug(result_type)
