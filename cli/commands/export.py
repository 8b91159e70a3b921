"""``adplan export platforms``: a plan's budgets in the layouts of the platforms' bulk tools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.commands._common import cli_errors, err, fail, out

PlatformsOpt = Annotated[
    Path | None,
    typer.Option(
        "--platforms",
        help="Platform rules YAML (minimum budgets and bulk layouts per network); default: "
        "the bundled scenarios/platform_rules.yaml.",
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``adplan export platforms`` to ``app``."""
    export = typer.Typer(
        help="Export a plan for other tools: the platforms' bulk budget files.",
        no_args_is_help=True,
    )
    app.add_typer(export, name="export")
    export.command("platforms")(platforms_cmd)


def platforms_cmd(
    plan_path: Annotated[Path, typer.Argument(help="The plan JSON (adplan optimize --out).")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the CSV files.")],
    budget: Annotated[
        str, typer.Option("--budget", help="daily (one row per line and day) or lifetime.")
    ] = "daily",
    platforms: PlatformsOpt = None,
) -> None:
    """Write each network's budgets, one CSV per network, as its bulk tool takes them.

    Daily: one row per line (network x segment) and day, the period's spend spread over its days to the cent; lifetime: one row per line and period. A re-plan (adplan replan) gets budgets from its --as-of on: in the running period what is left over the days left. A line below its platform's minimum is refused (exit 2): re-plan with adplan optimize --platforms bundled or adplan replan --platforms bundled (or your own rules FILE).
    """
    with cli_errors():
        if budget not in ("daily", "lifetime"):
            raise fail(f"--budget must be daily or lifetime, got '{budget}'")
        if out_dir.exists() and not out_dir.is_dir():
            raise fail(f"--out {out_dir} is a file; give a folder for the CSV files")
        from scenarios.platforms import (
            load_platform_rules,
            platform_budgets,
            read_plan_json,
            write_budgets,
        )

        plan = read_plan_json(plan_path)
        rules = load_platform_rules(platforms)
        budgets = platform_budgets(plan, rules, budget)
        paths = write_budgets(budgets, out_dir)
        _show(budgets, str(plan.get("currency")), budget)
        for p in paths:
            err.print(f"wrote {escape(str(p))}", highlight=False, soft_wrap=True)


def _show(budgets, currency: str, mode: str) -> None:
    """Print one row per network: platform, lines, days and the budgets' total."""
    t = Table(title=f"{mode.capitalize()} budgets for the platforms", title_justify="left")
    for name, justify in (
        ("network", "left"),
        ("platform", "left"),
        ("lines", "right"),
        ("days", "right"),
        (f"total ({escape(currency)})", "right"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for nb in budgets.values():
        t.add_row(
            escape(nb.network), escape(nb.platform), str(nb.lines), str(nb.days), f"{nb.total:,.2f}"
        )
    total = sum(round(nb.total * 100) for nb in budgets.values()) / 100
    t.add_row("total", "", "", "", f"{total:,.2f}", style="bold")
    out.print(t)
