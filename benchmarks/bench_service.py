"""Load on the HTTP service: a real `adplan serve` on 127.0.0.1, concurrent clients posting plans.

Starts the server as a subprocess (its own process, as in production) on a free loopback
port with a throwaway SQLite database, then runs client threads that POST /v1/plans and
reports throughput and latency percentiles per problem size. Bounded in requests and time;
loopback only.

    .venv/bin/python benchmarks/bench_service.py                 # default: 8 threads
    .venv/bin/python benchmarks/bench_service.py --threads 8 --requests 200 --json
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


def start_server(port: int, db: Path, log: Path, workers: int = 1) -> subprocess.Popen:
    """Start ``adplan serve`` on ``port`` with database ``db``; wait until /health answers."""
    exe = Path(sys.executable).with_name("adplan")
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "cli.main"]
    env = {
        **os.environ,
        "ADPLAN_API_KEYS": KEY,
        "ADPLAN_DATABASE_URL": f"sqlite:///{db}",
        "ADPLAN_MAX_REQUEST_BYTES": str(50_000_000),
    }
    cmd = [*head, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
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


def main() -> None:
    """Run the load per size, then check that every posted plan was stored."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--requests", type=int, default=160, help="per size (large: a quarter)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per size")
    ap.add_argument("--sizes", default="small,medium,large")
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument("--json", action="store_true", help="print only JSON")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="adplan-bench-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(port, Path(tmp) / "bench.db", Path(tmp) / "serve.log", args.workers)
        results = []
        try:
            for size in args.sizes.split(","):
                body = problem(size)
                n = args.requests if size != "large" else max(args.threads, args.requests // 4)
                alone = single(url, body)
                r = load(url, body, args.threads, n, args.time_limit)
                results.append(
                    {
                        "size": SIZES[size][0],
                        "threads": args.threads,
                        "single_client_p50_ms": alone,
                        **r,
                    }
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
            with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=60) as c:
                stored = 0
                page = c.get("/v1/plans", params={"limit": 200}).json()
                while True:
                    stored += len(page["items"])
                    if not page["next_cursor"]:
                        break
                    page = c.get(
                        "/v1/plans", params={"limit": 200, "cursor": page["next_cursor"]}
                    ).json()
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        expected = sum(r["requests_ok"] for r in results) + 5 * len(results)
        summary = {
            "cpu_count": os.cpu_count(),
            "results": results,
            "plans_stored": stored,
            "plans_expected": expected,
        }
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print(f"plans stored {stored} of {expected} posted (cpus: {os.cpu_count()})")
        if stored != expected or any(r["errors"] for r in results):
            sys.exit("lost writes or errors under load")


if __name__ == "__main__":
    main()
