"""New lines, thin lines and priors: what a forecast knows beyond a line's own history.

- **A segment without history inside a known network** (rows of another result type or
  without spend in the history, or named by a prior) gets its network's pooled curve
  (the model's network estimate), flagged ``new_line``; it spends up to the median cap of
  the network's lines unless its prior gives ``spend`` / ``max_spend``.
- **A brand-new network** (named only by a prior) is forecast from its prior alone, flagged
  ``prior_only``: ``results = spend/cpr`` at the prior's ``spend``, elasticity ``b``, flat
  over the periods, up to ``max_spend`` (its ranges from the prior's weight and sd).
- **Priors on any line** (``forecasting.priors``): the line's log level at its typical spend
  and its elasticity are combined with the prior's by precision: the data's level variance
  ``v0`` against the prior's ``weight`` (results-equivalent), the elasticity's ``se²``
  against ``elasticity_sd²``. The shares of the estimate that came from the prior are
  reported per line (``prior_share``, ``prior_elasticity_share``); the posterior variances
  become the line's ranges.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from .priors import check_standalone, combine_elasticity, combine_level
from .ranges import MAX_V, POOLED, POOLED_V, TAU, LineSpread

#: a pooled (new or thin) line's elasticity is known to about its network's spread
POOLED_SE = TAU


def new_lines(stats: pd.DataFrame, all_lines, priors, rtype: str, cap_multiple: float):
    """Return (stats with the new lines, priors of brand-new networks, warnings).

    ``stats`` (index network, segment; columns n, max_spend, typical, spend, results) gains a
    row per segment without history in a known network, with ``new`` True.
    """
    stats = stats.assign(new=False)
    nets = set(stats.index.get_level_values(0))
    known = set(stats.index)
    wanted = [ln for ln in all_lines if ln not in known and ln[0] in nets]
    prior_for: dict = {}
    standalone = []
    if priors is not None:
        for p in priors.lines_without_history(rtype, known):
            key = (p.network, p.segment)
            if p.network in nets:
                prior_for[key] = p
                if key not in wanted:
                    wanted.append(key)
            else:
                check_standalone(p)
                standalone.append(p)
    warnings = [
        f"{p.where}: network {p.network} has no history of result type '{rtype}': a prior "
        "for a whole network cannot make its lines; name a segment to forecast one from the "
        "prior alone"
        for p in (priors.networks_without_history(rtype, nets) if priors is not None else [])
    ]
    rows = []
    by_net = stats.groupby(level=0)
    for net, seg in wanted:
        g = by_net.get_group(net)
        typ, top = float(g["typical"].median()), float(g["max_spend"].median())
        p = prior_for.get((net, seg))
        if p is not None and p.spend is not None:
            typ = p.spend
            top = (p.max_spend if p.max_spend is not None else 1.5 * p.spend) / cap_multiple
        rows.append(((net, seg), 0, top, typ, 0.0, 0.0, True))
        warnings.append(
            f"line {net}/{seg}: no history with spend for result type '{rtype}'; using network "
            f"{net}'s pooled curve (flag new_line), up to {top * cap_multiple:,.2f} a period"
        )
    for key in [ln for ln in all_lines if ln not in known and ln[0] not in nets]:
        if not any((p.network, p.segment) == key for p in standalone):
            warnings.append(
                f"line {key[0]}/{key[1]}: network {key[0]} has no history with spend for result "
                f"type '{rtype}'; no curve (give a prior for it, or history)"
            )
    if rows:
        extra = pd.DataFrame(
            [r[1:] for r in rows],
            index=pd.MultiIndex.from_tuples([r[0] for r in rows], names=stats.index.names),
            columns=["n", "max_spend", "typical", "spend", "results", "new"],
        )
        stats = pd.concat([stats, extra]).sort_index()
    return stats, standalone, warnings


def prior_only(law, standalone: list, n_periods: int, cap_multiple: float):
    """Return ``law`` with the lines of brand-new networks appended, from their priors."""
    if not standalone:
        return law
    k = len(standalone)
    b = np.array([p.elasticity for p in standalone], float)
    s_typ = np.array([p.spend for p in standalone], float)
    top = np.array([p.max_spend or 1.5 * p.spend for p in standalone], float)
    loga = np.log(s_typ / np.array([p.cpr for p in standalone])) - b * np.log(s_typ)

    def cat(a, new):
        return np.concatenate([a, new])

    per = lambda v: np.repeat(v[:, None], n_periods, axis=1)  # noqa: E731
    return replace(
        law,
        keys=list(law.keys) + [(p.network, p.segment) for p in standalone],
        b_raw=np.vstack([law.b_raw, per(b)]),
        b=np.vstack([law.b, per(b)]),
        loga=np.vstack([law.loga, per(loga)]),
        s_max=cat(law.s_max, top / cap_multiple),
        typical=cat(law.typical, s_typ),
        pooled=cat(law.pooled, np.ones(k, bool)),
        nores=cat(law.nores, np.zeros(k, bool)),
        thin=cat(law.thin, np.zeros(k, bool)),
        new=cat(law.new, np.ones(k, bool)),
        alone=cat(law.alone, np.ones(k, bool)),
    )


def apply_priors(law, spreads: list, priors, rtype: str, n_standalone: int, shaped: dict):
    """Combine each line's level and elasticity with its prior, in place (``law``, ``shaped``).

    Returns (spreads, level shares, elasticity shares, lines banded by their own spread):
    the shares are None for lines without a prior. Brand-new networks' lines (the last
    ``n_standalone``) are the prior alone (share 1). A Hill line (``shaped``: its curve,
    ``respond.hill_curves``) keeps its own shape: its level at the typical spend is read
    from its curve and the prior's level moves the whole curve; the prior's elasticity is
    not used.
    """
    L = len(law.keys)
    level_share: list = [None] * L
    b_share: list = [None] * L
    own = ~law.pooled.copy()
    spreads = list(spreads)
    if priors is None:
        return spreads, level_share, b_share, own
    for i, (net, seg) in enumerate(law.keys):
        p = priors.for_line(net, seg, rtype)
        if p is None:
            continue
        alone = i >= L - n_standalone
        s = spreads[i]
        typ = float(law.typical[i])
        log_typ = math.log(typ)
        b0 = float(law.b[i, 0])
        level = float(law.loga[i, 0]) + b0 * log_typ  # log results at the typical spend
        hill = shaped.get(i)
        if hill is not None:
            x, y = np.concatenate([[0.0], hill[0][0]]), np.concatenate([[0.0], hill[1][0]])
            level = math.log(max(float(np.interp(typ, x, y)), 1e-300))
        var = math.inf if alone else (POOLED_V if law.pooled[i] else s.v0)
        se = math.inf if alone else (POOLED_SE if law.pooled[i] else s.se)
        v_post, lev_post, ls = var, level, None
        if p.cpr is not None:
            at = p.spend or typ
            b_for = p.elasticity if p.elasticity is not None else b0
            prior_level = math.log(at / p.cpr) + b_for * (log_typ - math.log(at))
            lev_post, v_post, ls = (
                float(x) for x in combine_level(level, var, prior_level, p.weight)
            )
        b_post, se_post, bs = b0, se, None
        if p.elasticity is not None and hill is None:
            b_post, se_post, bs = (
                float(x) for x in combine_elasticity(b0, se, p.elasticity, p.elasticity_sd)
            )
        # the new law pivots at the typical spend: level there, then the new slope
        shift = lev_post - level
        if hill is not None:
            shaped[i] = (hill[0], hill[1] * math.exp(shift), hill[2])
        law.loga[i] = law.loga[i] + shift + (b0 - b_post) * log_typ
        law.b[i] = law.b[i] - b0 + b_post
        law.b_raw[i] = law.b_raw[i] - b0 + b_post
        spreads[i] = LineSpread(
            v0=min(v_post, MAX_V),
            centre=log_typ,
            se=min(se_post, 1.0),
            log_spend_sd=s.log_spend_sd,  # the spend's own variation: whether it is flat
        )
        own[i] = True
        level_share[i], b_share[i] = ls, bs
    return spreads, level_share, b_share, own


def spreads_of(law, fitted) -> list:
    """Return each line's spread: its own, or the pooled one for pooled lines."""
    own = getattr(fitted, "spreads_", {})
    return [POOLED if law.pooled[i] else own.get(k, POOLED) for i, k in enumerate(law.keys)]
