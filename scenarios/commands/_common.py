"""What every command shares: consoles, exit codes and the translation of errors.

Exit codes: 0 done, 1 infeasible rules (the diagnosis is printed), 2 bad input.
Imports only the standard library, typer and rich.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator

import typer
from rich.console import Console

EXIT_OK = 0
EXIT_INFEASIBLE = 1
EXIT_BAD_INPUT = 2

out = Console()  # results
err = Console(stderr=True)  # errors, warnings and progress


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


def print_json(data) -> None:
    """Machine-readable output: standard output holds only the JSON."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


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
            raise
        if code == EXIT_INFEASIBLE:
            err.print("[bold red]infeasible:[/] the rules cannot all hold.", highlight=False)
            err.print(str(e), highlight=False, soft_wrap=True)
            for item in getattr(e, "diagnosis", []) or []:
                msg = item.get("message") if isinstance(item, dict) else str(item)
                if msg and msg not in str(e):
                    err.print(f"  - {msg}", highlight=False, soft_wrap=True)
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
