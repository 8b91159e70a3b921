"""Reading the numbers and mappings of a spec: one message for each kind of bad value.

Every rule family validates its spec fields with these, so ``spec.networks.meta.min: must be
>= 0, got -5`` reads the same whatever the rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from .errors import SpecError

#: the largest budget a plan may have (one trillion in the account currency); the API agrees
MAX_BUDGET = 1e12


def number(value, where: str, *, lo: float | None = 0.0, hi: float | None = None) -> float:
    """Return ``value`` as a finite float within [lo, hi]; SpecError naming ``where`` if not."""
    if isinstance(value, bool):
        raise SpecError(f"{where}: expected a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{where}: expected a number, got {value!r}") from None
    if not math.isfinite(v):
        raise SpecError(f"{where}: expected a finite number, got {value!r}")
    if lo is not None and v < lo:
        raise SpecError(f"{where}: must be >= {lo:g}, got {v:g}")
    if hi is not None and v > hi:
        raise SpecError(f"{where}: must be <= {hi:g}, got {v:g}")
    return v


def optional(d: Mapping, key: str, where: str, **kw) -> float | None:
    """Return ``d[key]`` as a number (see :func:`number`), or None when it is absent."""
    v = d.get(key)
    return None if v is None else number(v, f"{where}.{key}", **kw)


def mapping(value, where: str) -> Mapping:
    """Return ``value`` if it is a mapping ({} for None); SpecError naming ``where`` if not."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def refuse_unknown(d: Mapping, allowed: set[str] | frozenset[str], where: str) -> None:
    """Raise SpecError listing the keys of ``d`` that are not ``allowed``."""
    extra = sorted(str(k) for k in set(d) - set(allowed))
    if extra:
        raise SpecError(f"{where}: unknown keys {extra}; allowed: {sorted(allowed)}")


def line_key(r: Mapping, where: str) -> tuple[str, str, str]:
    """Return the (network, segment, period) a mapping names; SpecError for what it lacks."""
    missing = [k for k in ("network", "segment", "period") if k not in r]
    if missing:
        raise SpecError(f"{where}: lacks {', '.join(missing)}")
    return (str(r["network"]), str(r["segment"]), str(r["period"]))


def line_numbers(raw, where: str, key: str, what: str, read) -> dict[tuple[str, str, str], float]:
    """Read a list of ``{network, segment, period, <key>}`` into {line: read(number)}.

    ``what`` says what ``key`` means (for the message when it is missing); ``read(value,
    where)`` checks the number. A line given twice is refused.
    """
    if not isinstance(raw, list):
        raise SpecError(f"{where}: expected a list of {{network, segment, period, {key}}}")
    out: dict[tuple[str, str, str], float] = {}
    for i, r in enumerate(raw):
        w = f"{where}[{i}]"
        r = mapping(r, w)
        refuse_unknown(r, {"network", "segment", "period", key}, w)
        line = line_key(r, w)
        if key not in r:
            raise SpecError(f"{w}: lacks {key} ({what})")
        if line in out:
            raise SpecError(f"{w}: line {'/'.join(line)} appears twice; keep one {key}")
        out[line] = read(r[key], f"{w}.{key}")
    return out


def check_budget(value, where: str = "spec.budget") -> float:
    """Return ``value`` as a budget: a number above 0 and at most :data:`MAX_BUDGET`.

    Raises SpecError (starting with ``where``) otherwise.
    """
    b = number(value, where, lo=None)
    if not 0 < b <= MAX_BUDGET:
        raise SpecError(
            f"{where}: budget must be above 0 and at most 1e12 (1,000,000,000,000), got {b:g}"
        )
    return b


#: characters no name or cell may hold: C0 and C1 controls (tab and newline included), DEL,
#: the non-characters U+FFFE/U+FFFF and lone surrogates (XLSX and UTF-8 cannot carry them)
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def control_char_message(value: str, where: str) -> str | None:
    r"""Return why ``value`` is refused (its first control character and where), or None.

    The one message for a control character, whichever layer refuses it:
    ``spec.networks: 'me\x00ta' holds the control character U+0000 at position 3; remove it``.
    """
    m = CONTROL_CHARS.search(value)
    if m is None:
        return None
    return (
        f"{where}: {value[:60]!r} holds the control character U+{ord(m.group()):04X} at "
        f"position {m.start() + 1}; remove it"
    )


def check_text(value: str, where: str) -> str:
    """Return ``value``; SpecError (:func:`control_char_message`) if it holds a control character."""
    msg = control_char_message(value, where)
    if msg is not None:
        raise SpecError(msg)
    return value


#: the deepest nesting of lists and mappings a curves file, spec or request may hold
MAX_NESTING = 64


def too_deep(value, limit: int = MAX_NESTING) -> bool:
    """Return True if ``value`` nests lists/mappings more than ``limit`` levels deep.

    Iterative, so a hostile document cannot exhaust Python's recursion limit here.
    """
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, Mapping):
            children = list(v.values())
        elif isinstance(v, list | tuple):
            children = list(v)
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children)
    return False


def too_deep_message(where: str) -> str:
    """Return the one message for a document nested deeper than :data:`MAX_NESTING`."""
    return (
        f"{where}: nested more than {MAX_NESTING} levels deep; adplan reads flatter documents "
        "(lists and objects at most 64 levels deep)"
    )


def check_document_text(doc, where: str) -> None:
    """Raise SpecError for the first key or string in ``doc`` holding a control character.

    Walks nested mappings and lists iteratively; the message names the path
    (``spec.networks``, ``spec.exclude.lines[0].segment``) and the character.
    """
    stack = [(doc, where)]
    while stack:
        v, path = stack.pop()
        if isinstance(v, str):
            check_text(v, path)
        elif isinstance(v, Mapping):
            for k, child in v.items():
                check_text(str(k), path)
                stack.append((child, f"{path}.{k}"))
        elif isinstance(v, list | tuple):
            stack.extend((c, f"{path}[{i}]") for i, c in enumerate(v))
