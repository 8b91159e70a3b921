"""``adplan demo``: the whole pipeline on the bundled sample history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ._common import SolverOpt, TimeLimitOpt, cli_errors, out, print_json, progress_bar


def register(app: typer.Typer) -> None:
    """Add ``adplan demo`` to ``app``."""

    @app.command("demo")
    def demo_cmd(
        out_dir: Annotated[
            Path, typer.Option("--out", "-o", help="Folder for everything the demo writes.")
        ] = Path("adplan-demo"),
        solver: SolverOpt = None,
        time_limit: TimeLimitOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print only JSON.")] = False,
    ) -> None:
        """Run adplan end to end on its sample history and write every file it makes to --out.

        The steps: sample history, ingest, backtest, forecast Q1 2027, optimise, two what-ifs and a mid-quarter re-plan. The output lists each step and where each file is.
        """
        with cli_errors():
            from scenarios.demo import run_demo
            from scenarios.solver import choose_solver

            solver = choose_solver(solver)
            with progress_bar(not as_json) as on_progress:
                result = run_demo(out_dir, on_progress, solver=solver, time_limit=time_limit)
            if as_json:
                print_json(result.to_dict())
                return
            t = Table(title=f"adplan demo -> {escape(str(result.out_dir))}")
            t.add_column("step")
            t.add_column("what happened")
            t.add_column("s", justify="right")
            for s in result.steps:
                t.add_row(
                    escape(s.name),
                    escape(s.detail) if s.status == "done" else f"[yellow]{escape(s.detail)}",
                    f"{s.seconds:.1f}",
                )
            out.print(t)
            out.print("[bold]Files[/]")
            width = max(len(k) for k in result.files) if result.files else 0
            for k, p in result.files.items():  # whole paths, never cut, to copy and open
                out.print(f"  {k:<{width}}  {p}", highlight=False, soft_wrap=True, markup=False)
