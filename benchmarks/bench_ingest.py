"""Ingest time for a large generated Meta Ads Manager export (and its canonical write/read).

    .venv/bin/python benchmarks/bench_ingest.py [--rows 200000] [--repeat 3]
        [--canonical-rows 986400] [--json]

Writes a Meta export (English headers, BOM, a summary row, daily rows broken down by age and
gender, about 2% of rows without a result type, 3% with "—" results) to a temporary folder,
then times ``ingest_files`` on it, ``write_history`` and ``read_history`` on the result,
and reports the medians and the process's peak resident memory. Checks the spend total to
the cent against the sum computed while writing the file.

Then writes a canonical history CSV of ``--canonical-rows`` rows (the shape of
bench_forecast.py's history: 10 networks x 30 segments x 1,096 days x 3 campaigns) and
times ``forecasting.load_history`` on it in a fresh process (pyarrow reads it: see
``forecasting.ingest.arrow_csv``), reporting the seconds (wall and CPU), that process's
peak resident memory and its memory after the imports, and whether the spend and results
read total those of the file (to the cent).

    .venv/bin/python benchmarks/bench_ingest.py --hostile [--json]

Builds the worst workbooks a user could hand adplan (a zip bomb in a sheet and in the shared
strings, a part lying about its size, a full 1,048,576-row sheet of history, a million
formatted empty rows, a 16,384-column sheet, a sheet with a value in its last column on every
row, 3,000,000 shared strings (63 MiB)) and ingests each in a fresh subprocess, reporting what
happened (rows read, or the refusal), the seconds and the subprocess's peak resident memory.
Needs about 100 MB in the temporary folder and a few minutes (the full sheet, the strings).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import chain
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# the one way to make a zip part lie about its size (the tests' hostile workbooks)
from tests.forecasting.test_ingest_workbook_limits import declare_size  # noqa: E402

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


# ---------------------------------------------------------------------------------------
# hostile workbooks
# ---------------------------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Target="xl/workbook.xml" '
        f'Type="{_REL}/officeDocument"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}


def write_xlsx(path: Path, rows: Iterable[bytes], strings: Iterable[bytes] = ()) -> Path:
    """Write a workbook whose sheet XML is ``rows`` (``<row>`` elements) streamed to the zip.

    ``strings`` are the ``<si>`` elements of the shared strings. Nothing is held in memory:
    a part of a few GB is deflated as it is generated.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in _PARTS.items():
            zf.writestr(name, text)
        parts = (
            ("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{_MAIN}"><dimension ref="A1"/>'
             "<sheetData>", rows, "</sheetData></worksheet>"),
            ("xl/sharedStrings.xml", f'<sst xmlns="{_MAIN}">', strings, "</sst>"),
        )  # fmt: skip
        for name, head, body, tail in parts:
            with zf.open(name, "w") as fh:
                fh.write(head.encode())
                buf = bytearray()
                for chunk in body:
                    buf += chunk
                    if len(buf) > 1 << 20:
                        fh.write(buf)
                        buf.clear()
                fh.write(buf)
                fh.write(tail.encode())
    return path


def _col(n: int) -> str:
    letters = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _cells(row: int, values: Iterable[tuple[int, str]]) -> bytes:
    """Return a ``<row>`` of cells: ints are shared-string indices ("s"), else numbers."""
    out = [f'<row r="{row}">']
    for col, v in values:
        kind = ' t="s"' if isinstance(v, int) else ""
        out.append(f'<c r="{_col(col)}{row}"{kind}><v>{v}</v></c>')
    out.append("</row>")
    return "".join(out).encode()


_CANONICAL = ["date", "network", "segment", "result_type", "spend", "results"]


def _si(texts: Iterable[str]) -> Iterator[bytes]:
    for t in texts:
        yield f"<si><t>{t}</t></si>".encode()


def _history_rows(n: int, width: int = 6) -> Iterator[bytes]:
    """Yield a canonical history header and ``n`` rows (strings shared: 0-5 header, ...)."""
    yield _cells(1, enumerate(range(6), start=1))
    for i in range(n):
        day = 6 + (i % 3650)
        seg = 6 + 3650 + (i // 3650) % 1000
        extra = [(width, "1")] if width > 6 else []
        yield _cells(i + 2, [(1, day), (2, 6 + 3650 + 1000), (3, seg), (4, 6 + 3650 + 1001),
                             (5, f"{(i % 997) + 0.25}"), (6, f"{i % 13}"), *extra])  # fmt: skip


def _history_strings() -> Iterator[bytes]:
    import datetime as dt

    first = dt.date(2010, 1, 1)
    days = [(first + dt.timedelta(days=i)).isoformat() for i in range(3650)]
    yield from _si([*_CANONICAL, *days, *(f"seg-{k}" for k in range(1000)), "meta", "purchases"])


def _spaces(n_mib: int) -> Iterator[bytes]:
    chunk = b" " * (1 << 20)
    for _ in range(n_mib):
        yield chunk


def hostile_workbooks(folder: Path) -> dict[str, Path]:
    """Write the worst workbooks (see the module docstring) to ``folder``; return them by name."""
    h = [_cells(1, enumerate(range(6), start=1))]
    files = {
        "zip bomb: 1 GiB sheet": write_xlsx(folder / "bomb_sheet.xlsx", chain(h, _spaces(1024)),
                                            _si(_CANONICAL)),
        "zip bomb: 1 GiB shared strings": write_xlsx(folder / "bomb_strings.xlsx", h,
                                                     chain(_si(_CANONICAL), _spaces(1024))),
        "1,048,576-row history sheet": write_xlsx(folder / "full_rows.xlsx",
                                                  _history_rows(1_048_575), _history_strings()),
        "1,048,576 formatted empty rows": write_xlsx(
            folder / "empty_rows.xlsx",
            chain(h, (f'<row r="{r}" ht="20" customHeight="1"><c r="A{r}" s="0"/></row>'.encode()
                      for r in range(2, 1_048_577))), _si(_CANONICAL)),
        "16,384-column sheet (1,000 rows)": write_xlsx(
            folder / "wide.xlsx", _history_rows(1_000, width=16_384), _history_strings()),
        "a value in column XFD on 1,048,575 rows": write_xlsx(
            folder / "wide_bomb.xlsx", _history_rows(1_048_575, width=16_384),
            _history_strings()),
        "3,000,000 shared strings (63 MiB)": write_xlsx(
            folder / "strings_63mib.xlsx", h,
            chain(_si(_CANONICAL), _si(f"{k:x}" for k in range(3_000_000)))),
    }  # fmt: skip
    lying = write_xlsx(folder / "lying_size.xlsx", chain(h, _spaces(1024)), _si(_CANONICAL))
    declare_size(lying, "xl/worksheets/sheet1.xml", 1000)
    files["a sheet declaring 1,000 bytes that holds 1 GiB"] = lying
    return files


def measure(path: str) -> None:
    """Ingest ``path`` in this process; print JSON: the outcome, seconds, peak RSS (MB)."""
    from forecasting import ingest_files

    t0 = time.perf_counter()
    try:
        result = ingest_files([path])
        outcome = f"read {result.report.rows_read:,} rows"
    except Exception as e:  # noqa: BLE001 - the outcome is reported, whatever it is
        outcome = f"{type(e).__name__}: {str(e).split(': ', 1)[-1][:160]}"
    print(
        json.dumps(
            {
                "outcome": outcome,
                "seconds": round(time.perf_counter() - t0, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def write_canonical_history(path: Path, rows: int, seed: int = 0) -> tuple[Decimal, int]:
    """Write a canonical history CSV of about ``rows`` rows; return its spend and results totals.

    One row per network x segment x day x campaign (10 x 30 x days x 3), spend in whole
    cents (so that the total is known exactly), results whole numbers.
    """
    import numpy as np
    import pandas as pd

    lines, campaigns = 300, 3
    days = max(1, -(-rows // (lines * campaigns)))
    n = lines * days * campaigns
    rng = np.random.default_rng(seed)
    li = np.repeat(np.arange(lines), days * campaigns)
    di = np.tile(np.repeat(np.arange(days), campaigns), lines)
    cents = np.round(rng.lognormal(5.5, 0.8, n) * 100).astype(np.int64) + 1
    results = rng.poisson(cents / 2500.0)
    dates = pd.date_range("2024-01-01", periods=days, freq="D").strftime("%Y-%m-%d").to_numpy()
    frame = pd.DataFrame(
        {
            "date": dates[di],
            "network": np.char.add("net", (li // 30).astype(str)),
            "segment": np.char.add("seg", (li % 30).astype(str)),
            "result_type": "purchases",
            "spend": [f"{c // 100}.{c % 100:02d}" for c in cents.tolist()],
            "results": results,
            "currency": "EUR",
            "campaign": np.char.add("c", (np.arange(n) % campaigns).astype(str)),
        }
    )
    frame.to_csv(path, index=False)
    return Decimal(int(cents.sum())) / 100, int(results.sum())


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB.

    Linux's ``VmHWM``: ``ru_maxrss`` of a process started by another one holds the peak of
    the parent at the time (it is carried over exec), not this process's own.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def measure_history(path: str) -> None:
    """Time ``load_history(path)`` in this process; print JSON: seconds, memory, totals."""
    import math

    from forecasting import load_history

    after_imports = peak_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    history = load_history(path)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        json.dumps(
            {
                "rows": len(history),
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "peak_rss_mb": round(peak_rss_mb()),
                "rss_after_imports_mb": round(after_imports),
                "spend": repr(math.fsum(history["spend"].to_numpy())),
                "results": repr(math.fsum(history["results"].to_numpy())),
            }
        )
    )


def measure_in_child(flag: str, path: Path) -> dict:
    """Run this script with ``flag path`` in a fresh process; return the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, __file__, flag, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def canonical_figures(rows: int) -> dict:
    """Write a canonical history of ``rows`` rows and time its load_history in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.csv"
        spend, results = write_canonical_history(path, rows)
        got = measure_in_child("--measure-history", path)
        size_mb = path.stat().st_size / 1e6
    return {
        "canonical_rows": got["rows"],
        "canonical_file_mb": round(size_mb, 1),
        "canonical_load_history_s": got["seconds"],
        "canonical_load_history_cpu_s": got["cpu_seconds"],
        "canonical_peak_rss_mb": got["peak_rss_mb"],
        "canonical_rss_after_imports_mb": got["rss_after_imports_mb"],
        "canonical_totals_match_the_file": (
            Decimal(got["spend"]).quantize(Decimal("0.01")) == spend
            and Decimal(got["results"]) == results
        ),
    }


def run_hostile(as_json: bool) -> None:
    """Build the hostile workbooks and ingest each in a fresh subprocess; print the figures."""
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in hostile_workbooks(Path(tmp)).items():
            got = measure_in_child("--measure", path)
            got["file_mb"] = round(path.stat().st_size / 1e6, 1)
            figures[label] = got
    if as_json:
        print(json.dumps(figures))
        return
    for label, got in figures.items():
        print(f"{label}: {got['file_mb']} MB file, {got['seconds']} s, "
              f"peak RSS {got['peak_rss_mb']} MB: {got['outcome']}")  # fmt: skip


def main() -> None:
    """Time ingest, write and read of a generated export; print the medians (or JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--canonical-rows",
        type=int,
        default=986_400,
        help="rows of the canonical history CSV whose load_history is timed (0: none)",
    )
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--hostile", action="store_true", help="measure the hostile workbooks")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--measure-history", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        return measure(args.measure)
    if args.measure_history:
        return measure_history(args.measure_history)
    if args.hostile:
        return run_hostile(args.json)

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
    if args.canonical_rows > 0:
        figures.update(canonical_figures(args.canonical_rows))
    if args.json:
        print(json.dumps(figures))
    else:
        for k, v in figures.items():
            print(f"{k:>28}: {v}")


if __name__ == "__main__":
    main()
