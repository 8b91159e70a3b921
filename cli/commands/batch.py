"""``adplan batch run`` and ``adplan batch sample``: an agency's accounts, on any executor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ._common import (
    EXIT_INFEASIBLE,
    ExecutorOpt,
    SolverOpt,
    TimeLimitOpt,
    WorkersOpt,
    cli_errors,
    err,
    open_executor,
    out,
    print_json,
    progress_bar,
)

#: failed rows listed under the summary (the index has them all)
MAX_FAILED_SHOWN = 20


def register(app: typer.Typer) -> None:
    """Add ``adplan batch run`` and ``adplan batch sample`` to ``app``."""
    batch = typer.Typer(
        help="Many accounts at once: run every account's scenario files, on local processes, "
        "Dask or Ray.",
        no_args_is_help=True,
    )
    app.add_typer(batch, name="batch")
    batch.command("run")(run_cmd)
    batch.command("sample")(sample_cmd)


def run_cmd(  # noqa: PLR0913 (one argument per option)
    source: Annotated[
        str,
        typer.Argument(
            help="A folder of account folders (each with its scenario files), or a glob "
            "such as 'clients/*'.",
        ),
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for every account's files and the index.")
    ] = Path("batch-out"),
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = None,
    solver: SolverOpt = None,
    time_limit: TimeLimitOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run accounts whose inputs have not changed too.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON.")] = False,
) -> None:
    """Run every account's scenario files (history -> forecast -> plans -> exports).

    Writes OUT/<account>/<scenario>/ (as adplan scenario run) and OUT/index.csv and OUT/index.xlsx, one row per account and scenario with its totals and status. An account that fails is in the index with its error and the others still run; the exit code is then 1. Accounts whose inputs have not changed since the last run are not run again (an interrupted batch resumes).
    """
    with cli_errors():
        from scenarios.batch import run_batch
        from scenarios.solver import choose_solver

        solver = choose_solver(solver)
        with open_executor(executor or "local", workers) as ex:
            with progress_bar(not as_json) as on_progress:
                res = run_batch(
                    source, out_dir, ex, solver=solver, time_limit=time_limit, force=force,
                    on_progress=on_progress,
                )  # fmt: skip
        if as_json:
            print_json(
                {
                    "rows": [r.to_dict() for r in res.rows],
                    "files": {k: str(v) for k, v in res.files.items()},
                    "failed": len(res.failed),
                    "seconds": round(res.seconds, 3),
                }
            )
        else:
            _print_summary(res)
        if res.failed:
            raise typer.Exit(EXIT_INFEASIBLE)


def _print_summary(res) -> None:
    """Print the counts, the failed rows with their errors, and the index's files."""
    now = sum(1 for r in res.rows if r.ran == "now")
    ok = len(res.rows) - len(res.failed)
    out.print(
        f"{len({r.account for r in res.rows})} accounts, {len(res.rows)} scenarios: "
        f"{ok} planned, {len(res.failed)} without a plan; {now} run now, "
        f"{len(res.rows) - now} unchanged; {res.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
    if res.failed:
        t = Table(title="Without a plan")
        for c in ("account", "scenario", "status", "error"):
            t.add_column(c, overflow="fold")
        for r in res.failed[:MAX_FAILED_SHOWN]:
            t.add_row(escape(r.account), escape(r.scenario), r.status, escape(r.error))
        out.print(t)
        if len(res.failed) > MAX_FAILED_SHOWN:
            err.print(f"... and {len(res.failed) - MAX_FAILED_SHOWN} more: see the index")
    out.print("[bold]Files[/]")
    for k, p in res.files.items():
        out.print(f"  index {k}  {p}", highlight=False, soft_wrap=True, markup=False)


def sample_cmd(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the accounts into.")],
    accounts: Annotated[
        int, typer.Option("--accounts", min=1, max=100_000, help="How many accounts.")
    ] = 20,
    seed: Annotated[int, typer.Option("--seed", help="The same seed writes the same agency.")] = 1,
) -> None:
    """Write a generated agency: one folder per account with two years of weekly history and a scenario file (a Q1 2027 plan and three variants)."""
    with cli_errors():
        from scenarios.agency import write_agency

        made = write_agency(out_dir, accounts, seed=seed)
        out.print(
            f"{len(made)} accounts in {escape(str(out_dir))}: adplan batch run "
            f"{escape(str(out_dir))} --out batch-out",
            highlight=False,
            soft_wrap=True,
        )
