"""``--help`` reads well: flags shown as flags, every option explained, no sentence cut in two."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from cli.main import app


def _commands() -> list[tuple[tuple[str, ...], object]]:
    """Every command and subcommand of ``adplan`` with the words that call it.

    Duck-typed: some Typer versions carry their own copy of click.
    """
    found: list[tuple[tuple[str, ...], object]] = []

    def walk(words: tuple[str, ...], cmd) -> None:
        found.append((words, cmd))
        if getattr(cmd, "commands", None):
            for name, sub in sorted(cmd.commands.items()):
                walk((*words, name), sub)

    walk((), typer.main.get_command(app))
    return found


COMMANDS = _commands()
IDS = [" ".join(w) or "adplan" for w, _ in COMMANDS]


def test_every_command_is_listed():
    names = {" ".join(w) for w, _ in COMMANDS}
    for name in ("demo", "ingest", "forecast", "backtest", "optimize", "frontier", "replan",
                 "serve", "scenario run", "scenario compare"):  # fmt: skip
        assert name in names


@pytest.mark.parametrize(("words", "cmd"), COMMANDS, ids=IDS)
def test_help_shows_flags_as_flags(words, cmd):
    r = CliRunner().invoke(app, [*words, "--help"], terminal_width=100)
    assert r.exit_code == 0, r.output
    assert "<bool>" not in r.output
    for p in cmd.params:
        if getattr(p, "is_flag", False):
            assert p.opts[0] in r.output


@pytest.mark.parametrize(("words", "cmd"), COMMANDS, ids=IDS)
def test_every_option_has_help(words, cmd):
    for p in cmd.params:
        text = getattr(p, "help", None)
        assert text and text.strip(), f"adplan {' '.join(words)}: {p.name} has no help text"


@pytest.mark.parametrize(("words", "cmd"), COMMANDS, ids=IDS)
def test_summary_is_one_line(words, cmd):
    """The first paragraph is what the command list shows: a hard break there cuts a sentence."""
    summary = (cmd.help or "").strip().split("\n\n")[0]
    assert summary, f"adplan {' '.join(words)} has no help"
    assert "\n" not in summary.strip(), f"adplan {' '.join(words)}: {summary!r}"
    assert summary.rstrip().endswith((".", ")")), summary
