"""The ``adplan`` command line: Typer parses, Rich shows.

Each command lives in ``scenarios/commands/<topic>.py`` as a few lines over a library
function and registers itself with :func:`register`. Command modules import only typer,
rich and the standard library at import time, so ``adplan --help`` never loads pandas or
scikit-learn; the heavy imports happen inside the command bodies.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="adplan",
    help="Plan paid social budgets: ingest ad history, forecast cost per result, "
    "optimise the spend, compare what-if scenarios, serve the plans over HTTP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: command modules, in the order their commands appear in --help
COMMAND_MODULES = ("demo", "ingest", "forecast", "optimize", "scenario", "serve")

for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"scenarios.commands.{_name}")
    except ModuleNotFoundError as _e:  # a module not written yet
        if _e.name != f"scenarios.commands.{_name}":
            raise
        continue
    _mod.register(app)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
