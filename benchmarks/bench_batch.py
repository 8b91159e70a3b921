"""A generated agency planned in batch: local processes (1 and 2) and a local Dask cluster.

    python benchmarks/bench_batch.py [--accounts 200] [--ray] [--quick]

``scenarios.agency.write_agency`` writes ``--accounts`` accounts (3 networks x 2 segments
each, two years of weekly history, a Q1 2027 scenario with three variants); each executor
then runs ``scenarios.batch.run_batch`` over all of them from scratch (history -> forecast
-> four plans -> workbook, report, frontier). Reported per executor: wall seconds (the
pool's or cluster's start included), accounts per minute, the speed-up over one process,
each worker's peak resident memory (``ru_maxrss`` read in the worker after its last account)
and this process's time spent outside the workers (digests, writing OUT, the index).
Every run's plans are compared with the first one's (expected results to 1e-9, same lines).

From the per-account cost it states what 10,000 accounts would take on N machines: the
workers' seconds per account x 10,000 / (N x cores x the efficiency measured with 2
processes), and the client's share (its seconds per account x 10,000), which does not shrink
with N. ``--quick``: 6 accounts (a check that it runs, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.parallel import LocalProcesses  # noqa: E402
from scenarios.agency import write_agency  # noqa: E402
from scenarios.batch import run_batch  # noqa: E402

#: the cluster sizes the extrapolation is stated for (machines of CORES cores)
MACHINES = (1, 10, 50, 100)
CORES = 16
TARGET = 10_000


def _plans(out: Path) -> dict[str, tuple]:
    """Return every plan.json under ``out``: (expected results, lines) by relative path."""
    found = {}
    for p in sorted(out.rglob("plan.json")):
        d = json.loads(p.read_text())
        lines = tuple(
            (ln["network"], ln["segment"], ln["period"], ln["spend"]) for ln in d["lines"]
        )
        found[str(p.relative_to(out))] = (d["expected_results"], lines)
    return found


def _same(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k, (ra, la) in a.items():
        rb, lb = b[k]
        if abs(ra - rb) > 1e-9 * max(1.0, abs(ra)) or len(la) != len(lb):
            return False
        for x, y in zip(la, lb, strict=True):
            if x[:3] != y[:3] or abs(x[3] - y[3]) > 1e-9 * max(1.0, abs(x[3])):
                return False
    return True


def _executors(ray: bool):
    yield "local, 1 process", lambda: LocalProcesses(1)
    yield "local, 2 processes", lambda: LocalProcesses(2)
    from scenarios.cluster import DaskExecutor, RayExecutor

    yield "Dask LocalCluster, 2 workers", lambda: DaskExecutor(None, 2)
    if ray:
        yield "Ray (local), 2 CPUs", lambda: RayExecutor(None, 2)


def run_one(name: str, make, src: Path, out: Path) -> dict:
    """Run the whole batch on a fresh executor; return its figures."""
    t0 = time.perf_counter()
    ex = make()
    try:
        res = run_batch(src, out, ex, force=True)
    finally:
        ex.close()
    wall = time.perf_counter() - t0
    by_worker: dict[str, float] = {}
    for r in res.results:
        by_worker[r.worker] = max(by_worker.get(r.worker, 0.0), r.peak_rss_mb)
    n = len(res.results)
    return {
        "executor": name,
        "accounts": n,
        "failed": len(res.failed),
        "wall_s": round(wall, 1),
        "accounts_per_min": round(n / wall * 60, 1),
        "worker_s_per_account": round(sum(r.seconds for r in res.results) / n, 2),
        "client_s_per_account": round(res.client_seconds / n, 3),
        "workers": len(by_worker),
        "peak_rss_mb_per_worker": round(max(by_worker.values()), 0),
    }


def extrapolate(one: dict, two: dict) -> list[str]:
    """Say what TARGET accounts take on clusters of MACHINES machines, from the measures."""
    eff = min(1.0, two["accounts_per_min"] / one["accounts_per_min"] / 2)
    per = one["worker_s_per_account"]
    client = TARGET * two["client_s_per_account"]
    out = [
        f"{TARGET:,} accounts at {per:.2f} worker-s each, {eff:.0%} efficiency per added "
        f"process (measured with 2), {CORES} cores per machine; the client writes OUT at "
        f"{two['client_s_per_account'] * 1000:.0f} ms per account ({client / 60:.1f} min "
        "in all, overlapping the workers):"
    ]
    for m in MACHINES:
        workers_min = TARGET * per / (m * CORES * eff) / 60
        out.append(f"  {m:>3} machines: {max(workers_min, client / 60):8.1f} min")
    return out


def main() -> None:
    """Write the agency, run it on each executor, print the table and the extrapolation."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--ray", action="store_true", help="also Ray on this machine")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 6 if args.quick else args.accounts
    with tempfile.TemporaryDirectory(prefix="adplan-bench-batch-") as d:
        src = Path(d) / "agency"
        write_agency(src, n)
        rows, first = [], None
        for name, make in _executors(args.ray):
            out = Path(d) / f"out-{len(rows)}"
            row = run_one(name, make, src, out)
            plans = _plans(out)
            first = plans if first is None else first
            row["same_plans_as_first"] = _same(first, plans)
            rows.append(row)
            print(json.dumps(row), flush=True)
    base = rows[0]["accounts_per_min"]
    print(f"\n{n} accounts (3 networks x 2 segments, 104 weeks, 4 plans each)")
    print(f"{'executor':<30} {'wall s':>7} {'acc/min':>8} {'speed-up':>8} {'MB/worker':>9} same")
    for r in rows:
        print(
            f"{r['executor']:<30} {r['wall_s']:>7} {r['accounts_per_min']:>8} "
            f"{r['accounts_per_min'] / base:>7.2f}x {r['peak_rss_mb_per_worker']:>9.0f} "
            f"{'yes' if r['same_plans_as_first'] else 'NO'}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"client (this process) peak RSS: {peak:.0f} MB")
    print("\n".join(extrapolate(rows[0], rows[1])))
    if not all(r["same_plans_as_first"] and r["failed"] == 0 for r in rows):
        sys.exit("a run failed or its plans differ from the first run's")


if __name__ == "__main__":
    main()
