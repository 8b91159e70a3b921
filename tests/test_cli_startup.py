"""Start-up is part of speed: ``adplan --help`` must not import pandas or scikit-learn."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("pandas", "sklearn", "matplotlib", "fastapi", "sqlalchemy", "pulp", "highspy")


def _loaded_after(args: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from cli.main import app\n"
        "from typer.testing import CliRunner\n"
        f"r = CliRunner().invoke(app, {args!r})\n"
        "assert r.exit_code == 0, r.output\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(proc.stdout.strip().split(","))


@pytest.mark.parametrize(
    "args",
    [["--help"], ["optimize", "--help"], ["forecast", "--help"], ["ingest", "--help"]],
)
def test_help_does_not_import_heavy_libraries(args):
    loaded = _loaded_after(args)
    assert not (loaded & set(HEAVY)), f"`adplan {' '.join(args)}` imported {loaded & set(HEAVY)}"


def test_every_documented_command_is_registered():
    from typer.testing import CliRunner

    from cli.main import app

    out = CliRunner().invoke(app, ["--help"]).output
    for name in (
        "demo",
        "ingest",
        "forecast",
        "backtest",
        "optimize",
        "frontier",
        "scenario",
        "replan",
        "serve",
    ):
        assert name in out, f"`adplan {name}` is missing from --help"
