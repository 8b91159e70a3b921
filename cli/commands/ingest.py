"""``adplan ingest``: platform exports -> one canonical history CSV and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.commands._common import cli_errors, err, fail, out, print_json, warn

_SOURCES_HELP = (
    "Force the format instead of detecting it from the headers: meta, google, linkedin, "
    "tiktok, improvado-facebook, improvado-tiktok, improvado-bing, improvado-twitter, canonical."
)


def register(app: typer.Typer) -> None:
    """Add ``adplan ingest`` to ``app``."""
    app.command("ingest")(ingest)


def ingest(
    files: Annotated[
        list[Path],
        typer.Argument(help="Exports to merge (Meta, Google Ads, LinkedIn, TikTok, canonical...)"),
    ],
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Canonical history CSV to write (.csv). Without it nothing is written: the "
            "summary is printed only.",
        ),
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help=_SOURCES_HELP)] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the ingest report as JSON only.")
    ] = False,
) -> None:
    """Merge ad platform exports into one canonical history CSV and summarise what was read.

    The summary shows the rows read, written, merged and skipped (with the reason), the date span, the networks and segments, and the spend and results per result type. Without --out nothing is written.
    """
    with cli_errors():
        _check_out(files, out_path)
        from forecasting.history import write_history
        from forecasting.ingest import ingest_files

        def progress(name: str, i: int, n: int) -> None:
            if not as_json and n > 1:
                err.print(f"[dim]reading {i + 1}/{n}: {escape(str(name))}[/]", highlight=False)

        result = ingest_files(files, source=source, on_progress=progress)
        report = result.report
        if result.history.empty:
            raise fail(
                f"{'no rows to write' if out_path else 'no data rows'}: {_why_empty(report)}"
            )
        written = None if out_path is None else write_history(result.history, out_path)
        if written is None:
            err.print(
                "nothing written: no --out given (add --out FILE.csv to write the canonical "
                "history)",
                highlight=False,
            )
        if as_json:
            print_json({"out": None if written is None else str(written), **report.to_dict()})
            return
        _print_summary(result, written)


def _check_out(files: list[Path], out_path: Path | None) -> None:
    """Refuse an --out that is not a .csv file, or that is one of the inputs."""
    if out_path is None:
        return
    if out_path.suffix.lower() != ".csv":
        suffix = f'"{out_path.suffix}"' if out_path.suffix else "no suffix"
        raise fail(
            f"--out {out_path}: the canonical history is written as CSV, but the name has "
            f"{suffix}; give a file name ending in .csv"
        )
    _refuse_input_as_out(files, out_path)


def _print_summary(result, written: Path | None) -> None:
    """Print the files' notes and the tables of what was read, then what was written."""
    report = result.report
    for f in report.files:
        for note in f.notes:
            warn(f"{f.file}: {note}")
    out.print(_files_table(report))
    skipped = _skipped_table(report)
    if skipped is not None:
        out.print(skipped)
    out.print(_lines_table(result.history))
    out.print(_totals_table(report))
    span = (
        f"({report.date_start} to {report.date_end}; {len(report.networks)} networks, "
        f"{len(report.segments)} segments)"
    )
    if written is None:
        out.print(f"Read {report.rows_written} rows {span}; nothing written.", highlight=False)
    else:
        out.print(
            f"Wrote {report.rows_written} rows to [bold]{escape(str(written))}[/] {span}.",
            highlight=False,
        )


def _refuse_input_as_out(files: list[Path], out_path: Path) -> None:
    """Refuse an --out that is one of the inputs: writing it would overwrite that export."""
    target = out_path.resolve()
    for f in files:
        same = f.resolve() == target
        if not same and f.exists() and out_path.exists():
            try:
                same = f.samefile(out_path)
            except OSError:
                same = False
        if same:
            raise fail(
                f"--out {out_path} is also an input ({f}); writing it would overwrite the file "
                "being read. Give --out another file name"
            )


def _why_empty(report) -> str:
    """Say why an ingest kept no row: per file, only a header or every row skipped."""
    parts = []
    for f in report.files:
        if f.rows_read == 0:
            parts.append(f"{f.file} has only a header")
        else:
            reasons = ", ".join(f"{r}: {n}" for r, n in f.skipped.items())
            parts.append(f"all {f.rows_read} rows of {f.file} were skipped ({reasons})")
    return "; ".join(parts)


def _files_table(report) -> Table:
    t = Table(title="Files", title_justify="left")
    t.add_column("file", overflow="fold", max_width=34)
    t.add_column("format")
    t.add_column("read", justify="right")
    t.add_column("written", justify="right")
    t.add_column("merged", justify="right")
    t.add_column("skipped", justify="right")
    t.add_column("dates")
    for f in report.files:
        t.add_row(
            escape(Path(f.file).name),
            escape(f.source),
            str(f.rows_read),
            str(f.rows_written),
            str(f.rows_merged),
            str(f.rows_skipped),
            f"{f.date_start} .. {f.date_end}" if f.date_start else "-",
        )
    if len(report.files) > 1:
        t.add_row(
            "[bold]all files[/]",
            "",
            str(report.rows_read),
            str(report.rows_written),
            str(report.rows_merged),
            str(report.rows_skipped),
            f"{report.date_start} .. {report.date_end}" if report.date_start else "-",
        )
    t.caption = "merged: rows of one export sharing date, network, segment, result type, campaign"
    return t


def _skipped_table(report) -> Table | None:
    from forecasting.ingest.report import SKIP_REASONS

    rows = [(f, r, n) for f in report.files for r, n in f.skipped.items()]
    if not rows:
        return None
    t = Table(title="Skipped rows", title_justify="left")
    t.add_column("file", overflow="fold", max_width=34)
    t.add_column("reason")
    t.add_column("rows", justify="right")
    t.add_column("spend", justify="right")
    t.add_column("results", justify="right")
    for f, reason, count in rows:
        shown = f"{f.skipped_spend.get(reason, 0.0):,.2f}"
        results = f"{f.skipped_results.get(reason, 0.0):,.6g}"
        if reason in ("summary_row", "total_row"):
            shown = f"({shown}, repeats the rows)"
            results = f"({results})"
        t.add_row(
            escape(Path(f.file).name),
            escape(SKIP_REASONS.get(reason, reason)),
            str(count),
            shown,
            results,
        )
    return t


def _lines_table(history) -> Table:
    t = Table(title="Networks", title_justify="left")
    t.add_column("network")
    t.add_column("segments", justify="right")
    t.add_column("result types")
    t.add_column("rows", justify="right")
    t.add_column("dates")
    for network, part in history.groupby("network", sort=True):
        t.add_row(
            escape(str(network)),
            str(part["segment"].nunique()),
            escape(", ".join(sorted(part["result_type"].unique()))),
            str(len(part)),
            f"{part['date'].min().date()} .. {part['date'].max().date()}",
        )
    return t


def _totals_table(report) -> Table:
    stated = [f for f in report.files if f.currencies]
    cur = "/".join(report.currencies) if report.currencies else "currency not stated"
    if stated and len(stated) < len(report.files):
        cur += "; some files state no currency"
    t = Table(title=f"Spend and results per result type ({escape(cur)})", title_justify="left")
    t.add_column("result type")
    t.add_column("spend", justify="right")
    t.add_column("results", justify="right")
    t.add_column("cost per result", justify="right")
    for rt, spend in report.spend_by_result_type.items():
        results = report.results_by_result_type.get(rt, 0.0)
        cpr = f"{spend / results:,.2f}" if results else "-"
        if rt in ("reach", "impressions") and results:
            cpr = f"{1000 * spend / results:,.2f} per 1,000"
        t.add_row(escape(rt), f"{spend:,.2f}", f"{results:,.2f}".rstrip("0").rstrip("."), cpr)
    return t
