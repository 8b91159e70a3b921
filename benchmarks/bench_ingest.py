"""Ingest time for a large generated Meta Ads Manager export (and its canonical write/read).

    .venv/bin/python benchmarks/bench_ingest.py [--rows 200000] [--repeat 3] [--json]

Writes a Meta export (English headers, BOM, a summary row, daily rows broken down by age and
gender, about 2% of rows without a result type, 3% with "—" results) to a temporary folder,
then times ``ingest_files`` on it, ``write_history`` and ``read_history`` on the result,
and reports the medians and the process's peak resident memory. Checks the spend total to
the cent against the sum computed while writing the file.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AGES = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
GENDERS = ["female", "male", "unknown"]


def write_meta_export(path: Path, rows: int, seed: int = 1) -> Decimal:
    """Write a Meta export of ``rows`` data rows to ``path``; return their total spend."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    days = pd.date_range("2025-01-01", periods=max(1, rows // 360), freq="D").strftime("%Y-%m-%d")
    header = [
        "Reporting starts", "Reporting ends", "Campaign name", "Ad set name", "Day", "Age",
        "Gender", "Result type", "Results", "Cost per result", "Amount spent (EUR)",
        "Impressions", "Link clicks",
    ]  # fmt: skip
    spend = np.round(rng.lognormal(3.5, 0.8, rows), 2)
    results = rng.poisson(spend / 25.0)
    total = Decimal(0)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        body = []
        for i in range(rows):
            day = days[(i // 360) % len(days)]
            camp = i % 360
            adset, combo = divmod(camp, 18)
            age, gender = AGES[combo % 6], GENDERS[combo // 6]
            s = f"{spend[i]:.2f}"
            total += Decimal(s)
            rtype = "" if i % 50 == 7 else ("Website purchases" if adset % 3 else "Leads")
            res = "—" if i % 33 == 5 else str(int(results[i]))
            body.append(
                [days[0], days[-1], f"Campaign {adset % 5}", f"Ad set {adset}", day, age, gender,
                 rtype, res, "", s, str(int(spend[i] * 90)), str(int(spend[i] * 1.2))]
            )  # fmt: skip
        w.writerow([days[0], days[-1], "", "", "", "", "", "", "", "", f"{total}", "", ""])
        w.writerows(body)
    return total


def main() -> None:
    """Time ingest, write and read of a generated export; print the medians (or JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from forecasting import ingest_files, read_history, write_history

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "meta_export.csv"
        total = write_meta_export(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        t_ingest, t_write, t_read = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = ingest_files([path])
            t_ingest.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            out = write_history(result.history, Path(tmp) / "history.csv")
            t_write.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            back = read_history(out)
            t_read.append(time.perf_counter() - t0)
        # written + skipped activity = every data row of the file (the summary row excepted)
        got = sum(Decimal(str(v)) for v in result.report.spend_by_result_type.values())
        for reason, amount in result.report.skipped_spend.items():
            if reason not in ("summary_row", "total_row"):
                got += Decimal(str(amount))
        f = result.report.files[0]
        figures = {
            "rows": args.rows,
            "file_mb": round(size_mb, 1),
            "ingest_s": round(statistics.median(t_ingest), 3),
            "rows_per_s": round(args.rows / statistics.median(t_ingest)),
            "write_history_s": round(statistics.median(t_write), 3),
            "read_history_s": round(statistics.median(t_read), 3),
            "rows_written": f.rows_written,
            "rows_merged": f.rows_merged,
            "skipped": f.skipped,
            "spend_matches_to_the_cent": got.quantize(Decimal("0.01"))
            == total.quantize(Decimal("0.01")),
            "round_trip_rows": len(back),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    if args.json:
        print(json.dumps(figures))
    else:
        for k, v in figures.items():
            print(f"{k:>28}: {v}")


if __name__ == "__main__":
    main()
