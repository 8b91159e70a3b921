"""Load on the HTTP service: a real `adplan serve` on 127.0.0.1, concurrent clients posting plans.

Starts the server as a subprocess (its own process, as in production) on a free loopback
port with a throwaway SQLite database, then measures, as ``--parts`` asks:

* ``throughput``: client threads POST /v1/plans; throughput and latency percentiles per
  problem size (fails if a write is lost);
* ``flood``: a second process floods POST /v1/plans with on/off plans from more threads than
  Starlette's thread limiter has while this one polls GET /health; its p50/p99/max latency
  and the flood's answers (201, 503 ``busy``, ...);
* ``memory``: 8 maximal plans (20,000 lines, 200,000 variables, a 9.9 MB body: the default
  limits) posted at once to a fresh server; its peak RSS (``VmHWM``, Linux) and the answers.

Bounded in requests and time; loopback only. ``--server-root`` serves from another checkout
(e.g. ``git archive`` of an older commit) to compare before and after.

    .venv/bin/python benchmarks/bench_service.py                 # default: 8 threads
    .venv/bin/python benchmarks/bench_service.py --threads 8 --requests 200 --json
    .venv/bin/python benchmarks/bench_service.py --parts flood,memory
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEY = "bench-key"

#: (label, networks, segments, periods, tiers)
SIZES = {
    "small": ("small: 4 networks x 5 segments x 4 weeks, 8 tiers (80 lines)", 4, 5, 4, 8),
    "medium": ("medium: 8 x 25 x 4 weeks, 8 tiers (800 lines, 6,400 variables)", 8, 25, 4, 8),
    "large": ("large: 8 x 25 x 13 weeks, 8 tiers (2,600 lines, 20,800 variables)", 8, 25, 13, 8),
}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def problem(size: str) -> dict:
    """Return the ``POST /v1/plans`` body (synthetic curves and a spec) of a size."""
    from optimizer.synthetic import benchmark_spec_dict, synthetic_curves

    _, n, s, p, t = SIZES[size]
    curves = synthetic_curves(n, s, p, t, seed=7)
    return {"curves": curves.to_dict(), "spec": benchmark_spec_dict(curves)}


def mip_problem() -> dict:
    """Return an on/off plan body (``min_line_spend`` on 800 lines: about a second to solve)."""
    from optimizer.synthetic import benchmark_spec_dict, synthetic_curves

    curves = synthetic_curves(8, 25, 4, 8, seed=7)
    spec = benchmark_spec_dict(curves)
    spec["min_line_spend"] = round(spec["budget"] / len(curves.lines) * 1.5, 2)
    return {"curves": curves.to_dict(), "spec": spec}


def maximal_problem() -> dict:
    """Return the largest plan the default limits take: 20,000 lines, 200,000 variables, 9.9 MB."""
    from optimizer.synthetic import benchmark_spec_dict, synthetic_curves

    curves = synthetic_curves(8, 50, 50, 10, seed=7)
    return {"curves": curves.to_dict(), "spec": benchmark_spec_dict(curves)}


def start_server(
    port: int,
    db: Path,
    log: Path,
    workers: int = 1,
    root: Path | None = None,
    env: dict | None = None,
) -> subprocess.Popen:
    """Start ``adplan serve`` on ``port`` with database ``db``; wait until /health answers.

    ``root``: serve from that checkout instead of this one; ``env``: more environment.
    """
    exe = Path(sys.executable).with_name("adplan")
    head = [str(exe)] if exe.exists() and root is None else [sys.executable, "-m", "cli.main"]
    env = {
        **os.environ,
        "ADPLAN_API_KEYS": KEY,
        "ADPLAN_DATABASE_URL": f"sqlite:///{db}",
        "ADPLAN_MAX_REQUEST_BYTES": str(50_000_000),
        **(env or {}),
    }
    if root is not None:
        env["PYTHONPATH"] = str(root)
    cmd = [*head, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(
        cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=root or ROOT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile of ``values``, interpolated linearly (nan when empty)."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def load(url: str, body: dict, threads: int, requests: int, time_limit: float) -> dict:
    """Post ``body`` ``requests`` times from ``threads`` clients; return throughput and latency.

    Stops early after ``time_limit`` seconds.
    """
    payload = json.dumps(body).encode()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    stop_at = time.monotonic() + time_limit

    def worker() -> None:
        headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as c:
            while time.monotonic() < stop_at:
                with lock:
                    if next(counter, None) is None:
                        return
                t0 = time.perf_counter()
                r = c.post("/v1/plans", content=payload)
                dt = time.perf_counter() - t0
                with lock:
                    if r.status_code == 201:
                        latencies.append(dt)
                    else:
                        errors.append(f"{r.status_code}: {r.text[:200]}")

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "requests_ok": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "wall_s": round(wall, 3),
        "throughput_rps": round(len(latencies) / wall, 2) if wall > 0 else None,
        "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "max_ms": round(1000 * max(latencies), 1) if latencies else None,
        "body_kb": round(len(payload) / 1024, 1),
    }


def single(url: str, body: dict, n: int = 5) -> float:
    """Return the median latency in ms of one client alone (the floor under load)."""
    payload = json.dumps(body).encode()
    headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as c:
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            r = c.post("/v1/plans", content=payload)
            ts.append(time.perf_counter() - t0)
            r.raise_for_status()
    return round(1000 * statistics.median(ts), 1)


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server with SIGINT (as Ctrl-C would), killing it if it does not stop."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# -- throughput -----------------------------------------------------------------------------


def count_stored(url: str) -> int:
    """Return the number of plans the server has stored (all pages of GET /v1/plans)."""
    with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=60) as c:
        stored = 0
        page = c.get("/v1/plans", params={"limit": 200}).json()
        while True:
            stored += len(page["items"])
            if not page["next_cursor"]:
                return stored
            page = c.get("/v1/plans", params={"limit": 200, "cursor": page["next_cursor"]}).json()


def throughput(args, url: str) -> dict:
    """Run the load per size; return the results and the plans stored and expected."""
    results = []
    for size in args.sizes.split(","):
        body = problem(size)
        n = args.requests if size != "large" else max(args.threads, args.requests // 4)
        alone = single(url, body)
        r = load(url, body, args.threads, n, args.time_limit)
        results.append(
            {"size": SIZES[size][0], "threads": args.threads, "single_client_p50_ms": alone, **r}
        )
        if not args.json:
            print(
                f"{SIZES[size][0]}\n  {r['requests_ok']} plans ({r['errors']} errors) "
                f"in {r['wall_s']} s, {args.threads} threads, {args.workers} worker(s): "
                f"{r['throughput_rps']} plans/s, p50 {r['p50_ms']} ms, "
                f"p99 {r['p99_ms']} ms (one client alone: {alone} ms; body "
                f"{r['body_kb']} KiB)",
                flush=True,
            )
    stored = count_stored(url)
    expected = sum(r["requests_ok"] for r in results) + 5 * len(results)
    return {"results": results, "plans_stored": stored, "plans_expected": expected}


# -- /health under a flood ------------------------------------------------------------------


def flood_client(url: str, seconds: float, threads: int) -> None:
    """Post on/off plans from ``threads`` threads for ``seconds``; print the answers as JSON.

    Run in its own process (``--flood-client``) so that its threads do not slow the prober.
    """
    payload = json.dumps(mip_problem()).encode()
    counts: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
        with httpx.Client(base_url=url, headers=headers, timeout=300) as c:
            while time.monotonic() < stop_at:
                try:
                    r = c.post("/v1/plans", content=payload)
                    key = f"{r.status_code} {r.json().get('error') or r.json().get('status')}"
                except httpx.HTTPError as e:
                    key = type(e).__name__
                with lock:
                    counts[key] = counts.get(key, 0) + 1
                if key.startswith("503"):
                    time.sleep(0.1)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps(counts))


def health_under_flood(url: str, seconds: float, threads: int) -> dict:
    """Poll GET /health every 20 ms while another process floods the server; the latencies."""
    cmd = [sys.executable, __file__, "--flood-client", url]
    cmd += ["--flood-seconds", str(seconds), "--flood-threads", str(threads)]
    flood = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    latencies: list[float] = []
    failures: list[str] = []
    with httpx.Client(base_url=url, timeout=10) as c:
        time.sleep(1.0)  # let the flood start
        while flood.poll() is None:
            t0 = time.perf_counter()
            try:
                ok = c.get("/health").status_code == 200
            except httpx.HTTPError as e:
                ok, failures = False, [*failures, type(e).__name__]
            if ok:
                latencies.append(time.perf_counter() - t0)
            time.sleep(0.02)
    out, _ = flood.communicate(timeout=60)
    return {
        "flood_threads": threads,
        "flood_seconds": seconds,
        "health_calls": len(latencies) + len(failures),
        "health_failures": failures,
        "health_p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "health_p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "health_max_ms": round(1000 * max(latencies), 1) if latencies else None,
        "flood_answers": json.loads(out.strip().splitlines()[-1]) if out.strip() else None,
    }


# -- peak memory under maximal plans --------------------------------------------------------


def rss_kib(pid: int, field: str = "VmHWM") -> int | None:
    """Return a process's peak (``VmHWM``) or current (``VmRSS``) resident set in KiB (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def post_at_once(url: str, payload: bytes, n: int) -> list[str]:
    """POST ``payload`` from ``n`` threads released together; return each answer's status."""
    barrier = threading.Barrier(n)
    answers: list[str] = []

    def worker() -> None:
        headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
        with httpx.Client(base_url=url, headers=headers, timeout=600) as c:
            barrier.wait()
            try:
                r = c.post("/v1/plans", content=payload)
                answers.append(f"{r.status_code} {r.json().get('error') or r.json().get('status')}")
            except httpx.HTTPError as e:
                answers.append(type(e).__name__)

    ts = [threading.Thread(target=worker) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sorted(answers)


def memory_under_maximal_plans(tmp: Path, n: int, root: Path | None) -> dict:
    """Post ``n`` maximal plans at once to a fresh server; return its peak RSS and the answers."""
    payload = json.dumps(maximal_problem()).encode()
    port = free_port()
    env = {"ADPLAN_MAX_REQUEST_BYTES": str(10_000_000)}  # the default
    proc = start_server(port, tmp / "memory.db", tmp / "memory.log", root=root, env=env)
    try:
        before = rss_kib(proc.pid, "VmRSS")
        t0 = time.perf_counter()
        answers = post_at_once(f"http://127.0.0.1:{port}", payload, n)
        wall = time.perf_counter() - t0
        peak = rss_kib(proc.pid)
    finally:
        stop_server(proc)
    return {
        "plans_at_once": n,
        "body_mb": round(len(payload) / 1e6, 2),
        "rss_at_start_mb": round(before / 1024) if before else None,
        "peak_rss_mb": round(peak / 1024) if peak else None,
        "wall_s": round(wall, 1),
        "answers": answers,
    }


def served(tmp: Path, name: str, args, env: dict | None = None):
    """Start a server of its own for one part; return (process, url)."""
    port = free_port()
    proc = start_server(
        port, tmp / f"{name}.db", tmp / f"{name}.log", args.workers, args.server_root, env
    )
    return proc, f"http://127.0.0.1:{port}"


def main() -> None:
    """Run the parts asked for, each on a fresh server, and print their figures."""
    args = parse_args()
    if args.flood_client:
        flood_client(args.flood_client, args.flood_seconds, args.flood_threads)
        return
    parts = set(args.parts.split(","))
    summary: dict = {"cpu_count": os.cpu_count(), "server_root": str(args.server_root or ROOT)}
    with tempfile.TemporaryDirectory(prefix="adplan-bench-") as tmp:
        if "throughput" in parts:  # every client gets a place: this measures throughput
            proc, url = served(Path(tmp), "bench", args, {"ADPLAN_QUEUE": str(args.threads)})
            try:
                summary["throughput"] = throughput(args, url)
            finally:
                stop_server(proc)
        if "flood" in parts:  # the default pool: 2 workers, 2 waiting places
            proc, url = served(Path(tmp), "flood", args)
            try:
                summary["flood"] = health_under_flood(url, args.flood_seconds, args.flood_threads)
            finally:
                stop_server(proc)
            report("flood", summary["flood"], args.json)
        if "memory" in parts:
            summary["memory"] = memory_under_maximal_plans(Path(tmp), 8, args.server_root)
            report("memory", summary["memory"], args.json)
    finish(summary, args.json)


def parse_args() -> argparse.Namespace:
    """Read the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--requests", type=int, default=160, help="per size (large: a quarter)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per size")
    ap.add_argument("--sizes", default="small,medium,large")
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument("--parts", default="throughput,flood,memory")
    ap.add_argument("--flood-seconds", type=float, default=10.0)
    ap.add_argument("--flood-threads", type=int, default=48)
    ap.add_argument("--flood-client", metavar="URL", help=argparse.SUPPRESS)
    ap.add_argument("--server-root", type=Path, help="serve from this checkout")
    ap.add_argument("--json", action="store_true", help="print only JSON")
    return ap.parse_args()


def report(part: str, figures: dict, quiet: bool) -> None:
    """Print one part's figures (unless ``quiet``)."""
    if not quiet:
        print(f"{part}: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)


def finish(summary: dict, as_json: bool) -> None:
    """Print the summary; exit non-zero if a write was lost or a plan failed under load."""
    tp = summary.get("throughput")
    if as_json:
        print(json.dumps(summary, indent=2))
    elif tp:
        print(
            f"plans stored {tp['plans_stored']} of {tp['plans_expected']} posted "
            f"(cpus: {os.cpu_count()})"
        )
    if tp and (
        tp["plans_stored"] != tp["plans_expected"] or any(r["errors"] for r in tp["results"])
    ):
        sys.exit("lost writes or errors under load")
    if summary.get("flood", {}).get("health_failures"):
        sys.exit("/health failed under the flood")


if __name__ == "__main__":
    main()
