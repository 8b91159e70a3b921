"""What every command shares: consoles, exit codes and the translation of errors.

Exit codes: 0 done, 1 infeasible rules (the diagnosis is printed), 2 bad input, 3 an
unexpected error (a bug: the message says how to report it). Imports only the standard
library, typer, rich, orjson and ``forecasting.options`` (light: the response options' help
texts).

User text (file names, segments, rule names) is never read as Rich markup or emoji: messages
go through :func:`rich.markup.escape`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

# light on purpose (no pandas): the help texts of the response options; the files are read
# by their own modules, imported only when a file is given
from forecasting.options import CARRYOVER_WORDS, SEASON_WORDS, SHAPE_WORDS

if TYPE_CHECKING:
    from forecasting.options import ResponseOptions

#: ``--solver`` of every command that solves; the choice is ``scenarios.solver.choose_solver``
SolverOpt = Annotated[
    str | None,
    typer.Option(
        "--solver",
        help="highs (HiGHS) or cbc (CBC via PuLP); default: ADPLAN_SOLVER, else highs.",
    ),
]

TimeLimitOpt = Annotated[
    float | None,
    typer.Option(
        "--time-limit",
        envvar="ADPLAN_TIME_LIMIT",
        help="Seconds a plan with on/off rules may search; then the best plan found is "
        "used (status time_limit, with its proven gap). Default 60.",
        show_default=False,
    ),
]

#: ``--executor`` and ``--workers`` of the commands that fan work out
#: (``scenarios.cluster.executor_from_url``; not imported here so that --help stays light)
ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="Where the work runs: local (processes), dask (a local Dask cluster), "
        "dask://HOST:PORT, ray (this machine's Ray) or ray://HOST:PORT. Dask and Ray need "
        "pip install 'adplan[dask]' or 'adplan[ray]'.",
        show_default=False,
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="Processes for local, dask and a new local ray (default: one per CPU); a cluster "
        "you name (dask://, ray://, a running Ray) has its own.",
        show_default=False,
    ),
]


@contextlib.contextmanager
def open_executor(text: str | None, workers: int | None = None):
    """Yield the executor ``text`` names (None: this process), closed at the end."""
    if text is None:
        if workers is not None:
            text = "local"
        else:
            yield None
            return
    from scenarios.cluster import executor_from_url

    ex = executor_from_url(text, workers)
    try:
        yield ex
    finally:
        ex.close()


#: ``--cap-multiple`` of every command that forecasts from ``--history``, checked by
#: :func:`cap_multiple_option` (the bounds and default of ``scenarios.forecast_inputs``, not
#: imported here so that --help stays light)
CapMultipleOpt = Annotated[
    float | None,
    typer.Option(
        "--cap-multiple",
        help="With --history: where each forecast curve ends, as a multiple of the line's "
        "highest spend in one period of its history: a number from 1 to 10 (default 1.5). "
        "No plan spends more on a line than its curve's end.",
        show_default=False,
    ),
]

#: the response options of every command that forecasts from ``--history`` (``--carryover``,
#: ``--season``, ``--shape``, ``--events``, ``--priors``, ``--lift``, ``--incremental``), read
#: into ``forecasting.options.ResponseOptions`` by :func:`response_option`
CarryoverOpt = Annotated[
    str | None,
    typer.Option(
        "--carryover",
        metavar="auto|DECAY",
        help=f"With --history: the {CARRYOVER_WORDS}. Default auto.",
        show_default=False,
    ),
]
SeasonOpt = Annotated[
    str | None,
    typer.Option(
        "--season",
        metavar="auto|common|network",
        help=f"With --history: {SEASON_WORDS}. Default auto.",
        show_default=False,
    ),
]
ShapeOpt = Annotated[
    str | None,
    typer.Option(
        "--shape",
        metavar="auto|power|hill",
        help=f"With --history: {SHAPE_WORDS}. Default auto.",
        show_default=False,
    ),
]
EventsOpt = Annotated[
    Path | None,
    typer.Option(
        "--events",
        metavar="FILE",
        help="With --history: a calendar of events and promotions (name, start, end, network, "
        "promotion; see docs/forecasting.md) the forecast takes into account.",
        show_default=False,
    ),
]
PriorsOpt = Annotated[
    Path | None,
    typer.Option(
        "--priors",
        metavar="FILE",
        help="With --history: priors (YAML; see docs/forecasting.md) that lines with thin "
        "history are pulled toward.",
        show_default=False,
    ),
]
LiftOpt = Annotated[
    Path | None,
    typer.Option(
        "--lift",
        metavar="FILE",
        help="With --history: lift-test calibration (network, segment, result_type, "
        "incremental_per_result, low, high, level; see docs/forecasting.md).",
        show_default=False,
    ),
]
IncrementalOpt = Annotated[
    bool,
    typer.Option(
        "--incremental",
        help="With --history and --lift: plan incremental results (the lift tests' "
        "calibration) rather than the platforms' attributed ones.",
    ),
]

#: ``--platforms`` of the commands that plan (``adplan optimize``, ``adplan replan``), read by
#: :func:`platform_minimums`
PlatformsOpt = Annotated[
    Path | None,
    typer.Option(
        "--platforms",
        help="Platform rules YAML (or 'bundled': the rules adplan ships): each network's "
        "minimum daily budget becomes an on/off rule (min_daily_spend; the spec's own "
        "value wins per network).",
    ),
]

EXIT_OK = 0
EXIT_INFEASIBLE = 1
EXIT_BAD_INPUT = 2
EXIT_BUG = 3

out = Console(emoji=False)  # results
err = Console(stderr=True, emoji=False)  # errors, warnings and progress


#: diagnosis items printed under an infeasible plan's message
MAX_DIAGNOSIS_ITEMS = 10


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {escape(str(message))}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {escape(str(message))}", highlight=False, soft_wrap=True)


@contextlib.contextmanager
def progress_bar(enabled: bool = True):
    """Show a Rich progress bar on stderr; yield its ``on_progress(message, done, total)``.

    The one progress display of the commands, for the one callback signature of the packages
    (``forecasting.progress.Progress``). Yields None (no bar) when ``enabled`` is false.
    """
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=1)

        def on_progress(message: str, done: int, total: int) -> None:
            bar.update(task, description=escape(str(message)), completed=done, total=max(total, 1))

        yield on_progress


def day_option(value: str, flag: str) -> dt.date:
    """Return the day an option names (``optimizer.periods.plan_day``, the one date parser).

    Anything but YYYY-MM-DD within 1900-01-01..2200-12-31 is an error naming ``flag`` and
    the value, with an example (exit 2 inside :func:`cli_errors`).
    """
    from optimizer.periods import plan_day

    return plan_day(value, flag)


def cap_multiple_option(value: float | None, history: Path | None) -> float:
    """Return ``--cap-multiple`` checked (``scenarios.forecast_inputs``), or the default.

    Refused (exit 2) outside 1..10, or given without ``--history``: curves read from a file
    keep their own ends.
    """
    from scenarios.forecast_inputs import DEFAULT_CAP_MULTIPLE, check_cap_multiple

    if value is None:
        return DEFAULT_CAP_MULTIPLE
    if history is None:
        raise fail(
            "--cap-multiple applies to curves forecast from --history; curves read with "
            "--curves keep their own ends (leave --cap-multiple out, or give --history)"
        )
    return check_cap_multiple(value, "--cap-multiple")


def response_option(  # noqa: PLR0913 (one argument per option)
    history: Path | None,
    *,
    carryover: str | None = None,
    season: str | None = None,
    shape: str | None = None,
    events: Path | None = None,
    priors: Path | None = None,
    lift: Path | None = None,
    incremental: bool = False,
) -> ResponseOptions:
    """Return the response options (``forecasting.options.response_options``, the one check).

    Refused (exit 2) given without ``--history`` (curves read with ``--curves`` are already
    made), or when a value is bad (its message names the option), a file cannot be read, or
    ``--incremental`` comes without ``--lift``.
    """
    from forecasting.options import response_options

    given = [
        flag
        for flag, value in (
            ("--carryover", carryover),
            ("--season", season),
            ("--shape", shape),
            ("--events", events),
            ("--priors", priors),
            ("--lift", lift),
            ("--incremental", incremental or None),
        )
        if value is not None
    ]
    if history is None and given:
        raise fail(
            f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} to curves "
            "forecast from --history; curves read with --curves are already made (leave "
            f"{'it' if len(given) == 1 else 'them'} out, or give --history)"
        )
    return response_options(
        carryover="auto" if carryover is None else carryover,
        season="auto" if season is None else season,
        shape="auto" if shape is None else shape,
        events=events,
        priors=priors,
        lift=lift,
        basis="incremental" if incremental else "attributed",
        names={
            "carryover": "--carryover",
            "season": "--season",
            "shape": "--shape",
            "basis": "--incremental",
        },
    )


def print_json(data) -> None:
    """Machine-readable output: standard output holds only the JSON (:func:`json_bytes`).

    Objects JSON has no type for are written as their ``str()``.
    """
    sys.stdout.write(json_bytes(data, as_text=True).decode("ascii"))
    sys.stdout.flush()


#: orjson's options for the JSON adplan writes: indented by two, a newline at the end; keys
#: that are numbers, true, false or null written as text; dataclasses and dates left to
#: ``default`` (as json.dumps leaves them)
JSON_OPTIONS = (
    orjson.OPT_INDENT_2
    | orjson.OPT_APPEND_NEWLINE
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)


def json_bytes(data, *, as_text: bool = False) -> bytes:
    r"""Return ``data`` as the text of ``json.dumps(data, indent=2) + "\n"``, in ASCII bytes.

    orjson writes it (a plan of 208,000 lines: 0.3 s, where json.dumps took 4.5 s), then
    characters beyond ASCII are escaped as json.dumps escapes them. The differences: NaN and
    infinities are written null (json.dumps wrote NaN, which JSON readers refuse), some floats
    are spelt otherwise (0.000058904 for 5.8904e-05, 1e-7 for 1e-07: the same numbers), and
    keys that are dates are written (json.dumps refused them). With ``as_text``, objects
    JSON has no type for are written as their ``str()``; else they are a TypeError. What
    orjson cannot write (an integer beyond 64 bits, a cycle) json.dumps writes, or refuses,
    as before.
    """
    try:
        out = orjson.dumps(data, default=_as_text if as_text else _as_float, option=JSON_OPTIONS)
    except orjson.JSONEncodeError:
        text = json.dumps(data, indent=2, default=str if as_text else None) + "\n"
        return text.encode("ascii")
    if not out.isascii() or b"\x7f" in out:
        out = _BEYOND_ASCII.sub(_escaped, out.decode("utf-8")).encode("ascii")
    return out


def _as_float(obj) -> float:
    """Return a float's subclass (numpy's float64) as a float, as json.dumps writes it."""
    if isinstance(obj, float):
        return float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _as_text(obj) -> float | str:
    """Return a float's subclass as a float, anything else JSON has no type for as its str()."""
    return float(obj) if isinstance(obj, float) else str(obj)


#: what json.dumps escapes that orjson writes as it is (orjson escapes the control characters)
_BEYOND_ASCII = re.compile(r"[^\x00-\x7e]")


def _escaped(m: re.Match) -> str:
    r"""Return a character as json.dumps escapes it (``\u00e9``; a surrogate pair beyond FFFF)."""
    c = ord(m.group())
    if c < 0x10000:
        return f"\\u{c:04x}"
    c -= 0x10000
    return f"\\u{0xD800 | (c >> 10):04x}\\u{0xDC00 | (c & 0x3FF):04x}"


@contextlib.contextmanager
def cli_errors() -> Iterator[None]:
    """Translate the packages' errors into a clear message and an exit code.

    InfeasibleError -> 1 with its diagnosis; any other package error, a missing file or a
    bad value -> 2. Anything else is a bug and keeps its traceback.
    """
    try:
        yield
    except typer.Exit:
        raise
    except Exception as e:  # noqa: BLE001 - classified below, re-raised if unknown
        code = _classify(e)
        if code is None:
            if os.environ.get("ADPLAN_DEBUG"):
                traceback.print_exc()
            raise fail(
                f"unexpected {type(e).__name__}: {e}. This is a bug in adplan: please report it "
                "with the output of the same command run with ADPLAN_DEBUG=1.",
                EXIT_BUG,
            ) from None
        if code == EXIT_INFEASIBLE:
            err.print("[bold red]infeasible:[/] the rules cannot all hold.", highlight=False)
            err.print(escape(str(e)), highlight=False, soft_wrap=True)
            items = getattr(e, "diagnosis", []) or []
            shown = 0
            for item in items:
                msg = item.get("message") if isinstance(item, dict) else str(item)
                if msg and msg not in str(e):
                    if shown == MAX_DIAGNOSIS_ITEMS:
                        err.print(f"  ... and {len(items) - shown} more (see the JSON diagnosis)")
                        break
                    err.print(f"  - {escape(msg)}", highlight=False, soft_wrap=True)
                    shown += 1
            raise typer.Exit(EXIT_INFEASIBLE) from None
        raise fail(str(e), code) from None


def _classify(e: Exception) -> int | None:
    mods = sys.modules
    opt = mods.get("optimizer.errors")
    if opt is not None and isinstance(e, opt.InfeasibleError):
        return EXIT_INFEASIBLE
    roots = []
    for modname, cls in (
        ("optimizer.errors", "OptimizerError"),
        ("forecasting.errors", "ForecastingError"),
        ("scenarios.errors", "ScenarioError"),
    ):
        m = mods.get(modname)
        if m is not None and hasattr(m, cls):
            roots.append(getattr(m, cls))
    if roots and isinstance(e, tuple(roots)):
        return EXIT_BAD_INPUT
    if isinstance(e, FileNotFoundError | IsADirectoryError | PermissionError):
        return EXIT_BAD_INPUT
    return None


def platform_minimums(spec, curves, path: Path):
    """Return ``spec`` with the platforms' minimums of ``path`` (``--platforms``); say which.

    ``scenarios.platforms.with_platform_minimums`` on the rules file read (``bundled``: the
    rules adplan ships); prints the minimum a day each network gets on stderr.
    """
    from scenarios.platforms import load_platform_rules, with_platform_minimums

    spec = with_platform_minimums(spec, curves, load_platform_rules(path))
    shown = ", ".join(
        f"{n} {v:,.2f} {curves.currency}" for n, v in sorted(spec.min_daily_spend.items())
    )
    err.print(
        f"minimum daily spend per line switched on: {escape(shown or 'none')}",
        highlight=False,
        soft_wrap=True,
    )
    return spec
