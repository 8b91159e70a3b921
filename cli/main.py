"""The ``adplan`` command line: Typer parses, Rich shows.

Each command lives in ``cli/commands/<topic>.py`` as a few lines over a library
function and registers itself with :func:`register`. Command modules import only typer,
rich and the standard library at import time, so ``adplan --help`` never loads pandas or
scikit-learn; the heavy imports happen inside the command bodies.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

app = typer.Typer(
    name="adplan",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: command modules, in the order their commands appear in --help
COMMAND_MODULES = (
    "demo",
    "ingest",
    "forecast",
    "optimize",
    "scenario",
    "batch",
    "export",
    "serve",
)

for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"cli.commands.{_name}")
    except ModuleNotFoundError as _e:  # a module not written yet
        if _e.name != f"cli.commands.{_name}":
            raise
        continue
    _mod.register(app)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("adplan")
        except PackageNotFoundError:  # pragma: no cover - run from a tree that is not installed
            v = "unknown (not installed)"
        typer.echo(f"adplan {v}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print adplan's version and exit.",
        ),
    ] = False,
) -> None:
    """Plan paid social budgets: ingest ad history, forecast cost per result, optimise the spend.

    Compare what-if scenarios, re-plan mid-quarter and serve the plans over HTTP.
    """


def main() -> None:
    """Run the ``adplan`` command line."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
