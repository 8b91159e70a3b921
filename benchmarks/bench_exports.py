"""What the finance outputs cost: workbook, report, feeds and platform budgets, and pages printed.

    python benchmarks/bench_exports.py [--quick]

On the demo's plan (624 lines, 8 segments x 6 networks x 13 weeks, from
``adplan demo``'s sample) and on a 2,600-line plan of synthetic curves (8 networks x 25
segments x 13 weeks), it times each export of one plan: the XLSX workbook, the HTML report
(with the response curves), the plan CSV, the five spreadsheet feeds in ``?locale=fr``
and the platforms' daily budget files; and, where LibreOffice is installed, the pages each
workbook prints (``soffice --convert-to pdf``, counted by ``pdfinfo``). Medians of a few
repeats; wall seconds; sizes in kB.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import PlanSpec, allocate  # noqa: E402
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves  # noqa: E402
from scenarios.exports import plan_csv_text, plan_html_text, plan_xlsx_bytes  # noqa: E402
from scenarios.exports.feeds import FEEDS, check_locale, feed_csv_text  # noqa: E402
from scenarios.platforms import (  # noqa: E402
    load_platform_rules,
    platform_budgets,
    with_platform_minimums,
)


def median(fn, repeats: int) -> tuple[float, object]:
    """Return the median wall seconds of ``fn()`` and its last result."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def demo_case():
    """Return the demo's curves and plan spec (the sample history forecast for Q1 2027)."""
    from forecasting import forecast_curves, generate_sample_history
    from scenarios.demo import sample_spec

    curves = forecast_curves(generate_sample_history(), "2027-01-04", "2027-04-04").curves
    return curves, sample_spec(curves)


def synthetic_case():
    """Return 2,600 lines of synthetic curves (8 x 25 x 13, 8 tiers) and the benchmark spec."""
    curves = synthetic_curves(8, 25, 13, 8, seed=1)
    return curves, PlanSpec.from_dict(benchmark_spec_dict(curves))


def pages(xlsx: bytes, folder: Path) -> int | None:
    """Return the pages LibreOffice prints the workbook in (None without soffice/pdfinfo)."""
    if not (shutil.which("soffice") and shutil.which("pdfinfo")):
        return None
    book = folder / "plan.xlsx"
    book.write_bytes(xlsx)
    profile = f"-env:UserInstallation=file://{folder / 'lo'}"
    subprocess.run(
        ["soffice", profile, "--headless", "--convert-to", "pdf", "--outdir", str(folder), book],
        check=True,
        capture_output=True,
        timeout=600,
    )
    info = subprocess.run(
        ["pdfinfo", str(folder / "plan.pdf")], check=True, capture_output=True, text=True
    ).stdout
    return int(next(ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")))


def measure(name: str, curves, spec: PlanSpec, repeats: int) -> dict:
    """Time every export of the plan of ``curves`` under ``spec``; count its printed pages."""
    plan = allocate(curves, spec).to_dict()
    rules = load_platform_rules()
    on_off = allocate(curves, with_platform_minimums(spec, curves, rules), time_limit=60)
    xlsx_s, xlsx = median(lambda: plan_xlsx_bytes(plan), repeats)
    html_s, html = median(lambda: plan_html_text(plan, curves=curves), repeats)
    csv_s, _ = median(lambda: plan_csv_text(plan), repeats)
    fr = check_locale("fr")
    kinds = [k for k in FEEDS if k != "comparison"]  # a comparison needs a scenario run
    feeds_s, _ = median(lambda: [feed_csv_text(k, plan, locale=fr) for k in kinds], repeats)
    budgets_s, budgets = median(lambda: platform_budgets(on_off.to_dict(), rules), repeats)
    with tempfile.TemporaryDirectory() as tmp:
        printed = pages(xlsx, Path(tmp))
    return {
        "case": name,
        "lines": len(plan["lines"]),
        "xlsx_s": xlsx_s,
        "xlsx_kb": len(xlsx) / 1000,
        "pages": printed,
        "html_s": html_s,
        "html_kb": len(html.encode()) / 1000,
        "csv_s": csv_s,
        "feeds_s": feeds_s,
        "budgets_s": budgets_s,
        "budget_rows": sum(len(nb.rows) for nb in budgets.values()),
        "on_off_status": on_off.status,
    }


def main() -> None:
    """Measure the demo's plan and, unless --quick, the 2,600-line plan; print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the demo's plan only, one repeat")
    args = ap.parse_args()
    repeats = 1 if args.quick else 3
    rows = [measure("demo", *demo_case(), repeats)]
    if not args.quick:
        rows.append(measure("synthetic", *synthetic_case(), repeats))
    head = (
        f"{'case':<10}{'lines':>7}{'xlsx s':>8}{'kB':>7}{'pages':>7}{'html s':>8}{'kB':>7}"
        f"{'csv s':>7}{'feeds s':>9}{'budgets s':>11}{'rows':>8}  on/off plan"
    )
    print(head)
    for r in rows:
        print(
            f"{r['case']:<10}{r['lines']:>7}{r['xlsx_s']:>8.2f}{r['xlsx_kb']:>7.0f}"
            f"{r['pages'] if r['pages'] is not None else '-':>7}{r['html_s']:>8.2f}"
            f"{r['html_kb']:>7.0f}{r['csv_s']:>7.3f}{r['feeds_s']:>9.3f}{r['budgets_s']:>11.3f}"
            f"{r['budget_rows']:>8}  {r['on_off_status']}"
        )


if __name__ == "__main__":
    main()
