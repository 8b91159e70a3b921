"""Load: the heavy-work pool, a /health that never waits, and slow clients cut off.

The live tests start a real `adplan serve` (1 worker, 1 waiting place, 2 s solver limit,
2 s client timeout) and flood it from more threads than Starlette's thread limiter has (40)
with on/off plans; the others check :class:`service.pool.HeavyPool` and /health in process.
No test asserts speed: the bounds are liveness bounds (every /health answered within a 5 s
client timeout; a slow client cut off well before it would have finished).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from .conftest import HEADERS, KEY, free_port

CLIENT_TIMEOUT = 2.0
FLOOD_THREADS = 41  # one more than Starlette's default thread limiter
FLOOD_SECONDS = 3.0


def mip_plan() -> dict:
    """An on/off plan (``min_line_spend`` on 800 lines): about a second of branch and bound."""
    from optimizer.synthetic import benchmark_spec_dict, synthetic_curves

    curves = synthetic_curves(8, 25, 4, 8, seed=7)
    spec = benchmark_spec_dict(curves)
    spec["min_line_spend"] = round(spec["budget"] / len(curves.lines) * 1.5, 2)
    return {"curves": curves.to_dict(), "spec": spec}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`adplan serve` with a pool of 1 worker and 1 waiting place, on a free loopback port."""
    tmp = tmp_path_factory.mktemp("load")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADPLAN_")}
    env.update(
        ADPLAN_API_KEYS=KEY,
        ADPLAN_DATABASE_URL=f"sqlite:///{tmp / 'load.db'}",
        ADPLAN_WORKERS="1",
        ADPLAN_QUEUE="1",
        ADPLAN_TIME_LIMIT="2",
        ADPLAN_REQUEST_TIME_BUDGET="8",
        ADPLAN_CLIENT_TIMEOUT=str(CLIENT_TIMEOUT),
    )
    exe = Path(sys.executable).with_name("adplan")
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "cli.main"]
    cmd = [*head, "serve", "--port", str(port), "--log-level", "warning"]
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, url, log)
        yield url, port
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_ready(proc, url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"adplan serve exited {proc.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail(f"adplan serve did not answer /health: {log.read_text()}")


#: the flood, run in a process of its own so that its threads do not starve the /health
#: prober of this one's GIL: argv url, payload file, threads, seconds; prints the answers
FLOOD = """
import json, sys, threading, time
import httpx

url, path, threads, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
payload = open(path, "rb").read()
headers = {"X-API-Key": sys.argv[5], "Content-Type": "application/json"}
stop_at = time.monotonic() + seconds
out = []

def flood():
    with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
        while time.monotonic() < stop_at:
            try:
                r = c.post("/v1/plans", content=payload)
            except httpx.HTTPError as e:
                out.append(["transport", repr(e), None])
                continue
            out.append([r.status_code, r.json(), r.headers.get("Retry-After")])
            if r.status_code == 503:
                time.sleep(min(float(r.headers.get("Retry-After", 1)), 0.5))

ts = [threading.Thread(target=flood) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
for p in out:
    if p[0] == 201:
        p[1] = {"status": p[1]["status"]}
print(json.dumps(out))
"""


def _poll_health(url: str, stop: threading.Event, out: list) -> None:
    with httpx.Client(base_url=url, timeout=5) as c:
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                status = c.get("/health").status_code
            except httpx.HTTPError as e:
                status = repr(e)
            out.append((status, time.perf_counter() - t0))
            time.sleep(0.05)


def _drained(url: str, timeout: float = 60) -> dict:
    """Wait until no heavy request holds a place (the solves of the flood have ended)."""
    deadline = time.monotonic() + timeout
    while True:
        heavy = httpx.get(f"{url}/health", timeout=5).json()["heavy"]
        if heavy["admitted"] == 0 or time.monotonic() > deadline:
            return heavy
        time.sleep(0.1)


def _ms(xs: list[float], q: float) -> float | None:
    xs = sorted(xs)
    return round(1000 * xs[min(len(xs) - 1, int(q * len(xs)))], 1) if xs else None


def test_flood_gets_503_while_health_answers_and_a_plan_after_is_201(
    served, curves, spec, tmp_path
):
    url, _ = served
    body = tmp_path / "plan.json"
    body.write_bytes(httpx.Request("POST", "/", json=mip_plan()).content)
    args = [url, str(body), str(FLOOD_THREADS), str(FLOOD_SECONDS), KEY]
    flood = subprocess.Popen([sys.executable, "-c", FLOOD, *args], stdout=subprocess.PIPE)
    health: list = []
    with httpx.Client(base_url=url, timeout=5) as c:
        while flood.poll() is None:
            t0 = time.perf_counter()
            try:
                status = c.get("/health").status_code
            except httpx.HTTPError as e:
                status = repr(e)
            health.append((status, time.perf_counter() - t0))
            time.sleep(0.05)
    plans = json.loads(flood.communicate(timeout=60)[0])

    latencies = [dt for status, dt in health if status == 200]
    codes = sorted({str(p[0]) for p in plans})
    print(
        f"\n/health under flood: {len(health)} calls, p50 {_ms(latencies, 0.5)} ms, "
        f"p99 {_ms(latencies, 0.99)} ms, max {_ms(latencies, 1.0)} ms; "
        f"plans: {len(plans)} answers, statuses {codes}"
    )
    assert len(health) >= 3 and all(status == 200 for status, _ in health), health
    assert not [p for p in plans if p[0] == "transport"], plans[:5]
    busy = [p for p in plans if p[0] == 503 and p[1]["error"] == "busy"]
    assert busy, codes
    assert all(int(retry) >= 1 and body["retry_after"] == int(retry) for _, body, retry in busy)
    assert all(p[0] in (201, 503) for p in plans), codes
    assert all(p[1]["status"] in ("optimal", "time_limit") for p in plans if p[0] == 201)

    heavy = _drained(url)
    assert heavy["admitted"] == 0 and heavy["running"] == 0 and heavy["refused"] >= len(busy)
    r = httpx.post(f"{url}/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec})
    assert r.status_code == 201, r.text


def _slow_send(port: int, first: bytes, slow: bytes, limit: float) -> tuple[bytes, float]:
    """Send ``first`` at once, then ``slow`` a byte every quarter second; return the answer.

    Stops when the server closes the connection (or after ``limit`` seconds); also returns
    the seconds that took.
    """
    t0 = time.monotonic()
    got = b""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(first)
        s.settimeout(0.25)
        i = 0
        while time.monotonic() - t0 < limit:
            try:
                if i < len(slow):
                    s.send(slow[i : i + 1])
                    i += 1
                chunk = s.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # reset or broken pipe: cut off
                break
            if not chunk:
                break
            got += chunk
    return got, time.monotonic() - t0


def test_a_body_sent_a_byte_at_a_time_is_cut_off_with_408(served):
    _, port = served
    head = (
        "POST /v1/plans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-API-Key: {KEY}\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    got, took = _slow_send(port, head, b" " * 1000, CLIENT_TIMEOUT + 8)
    print(f"\nslow body cut off after {took:.1f} s: {got[:60]!r}")
    assert got.startswith(b"HTTP/1.1 408"), got
    assert b'"error":"request_timeout"' in got.replace(b" ", b"")
    assert took < CLIENT_TIMEOUT + 8


def test_a_head_sent_a_byte_at_a_time_is_cut_off(served):
    _, port = served
    head = f"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: {'y' * 200}\r\n\r\n".encode()
    got, took = _slow_send(port, b"", head, CLIENT_TIMEOUT + 8)
    print(f"\nslow head cut off after {took:.1f} s: {got[:60]!r}")
    assert got.startswith(b"HTTP/1.1 408"), got  # before the head was complete
    assert took < CLIENT_TIMEOUT + 8


def test_an_idle_connection_is_closed(served):
    _, port = served
    got, took = _slow_send(port, b"", b"", CLIENT_TIMEOUT + 8)
    assert got == b"" and took < CLIENT_TIMEOUT + 8


# -- in process -----------------------------------------------------------------------------


@pytest.fixture
def small_pool_app(tmp_path):
    from service import Settings, create_app

    settings = Settings(
        api_keys=[KEY],
        database_url=f"sqlite:///{tmp_path / 'pool.db'}",
        workers=1,
        queue=0,
        request_time_budget=1,
    )
    return create_app(settings)


def test_full_pool_is_503_busy_with_retry_after_before_the_body_is_parsed(
    small_pool_app, curves, spec
):
    pool = small_pool_app.state.heavy_pool
    with TestClient(small_pool_app) as c:
        ticket = pool.admit()  # the one place
        try:
            r = c.post("/v1/plans", headers=HEADERS, content=b"{not json")
            assert r.status_code == 503
            assert r.json()["error"] == "busy" and "ADPLAN_WORKERS" in r.json()["detail"]
            assert int(r.headers["Retry-After"]) == r.json()["retry_after"] >= 1
            health = c.get("/health").json()
            assert health["heavy"]["admitted"] == 1 and health["heavy"]["refused"] == 1
            assert c.get("/v1/plans", headers=HEADERS).status_code == 200  # light: not pooled
        finally:
            ticket.release()
        r = c.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec})
        assert r.status_code == 201, r.text
        assert c.get("/health").json()["heavy"]["admitted"] == 0


def test_a_full_pool_refuses_at_the_headers_without_reading_the_body(small_pool_app):
    """A flood of refused requests costs their headers only: the body is never received."""
    import asyncio

    pool = small_pool_app.state.heavy_pool
    ticket = pool.admit()  # the one place
    received: list[int] = []
    sent: list[dict] = []

    async def receive():
        received.append(1)
        await asyncio.sleep(3600)  # a client that never sends its body

    async def send(message):
        sent.append(message)

    headers = [(b"content-length", b"5000000"), (b"x-api-key", KEY.encode())]
    scope = {
        "type": "http", "method": "POST", "path": "/v1/plans", "raw_path": b"/v1/plans",
        "root_path": "", "query_string": b"", "headers": headers, "http_version": "1.1",
        "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
    }  # fmt: skip
    try:
        asyncio.run(asyncio.wait_for(small_pool_app(scope, receive, send), 2))
    finally:
        ticket.release()
    start = sent[0]
    assert start["status"] == 503 and (b"connection", b"close") in start["headers"]
    assert json.loads(sent[1]["body"])["error"] == "busy"
    assert received == []


def test_time_budget_spent_waiting_is_503_and_the_waiting_work_is_cancelled():
    from service.pool import HeavyPool, TimeBudgetSpent

    pool = HeavyPool(workers=1, queue=1, budget=0.3)
    release = threading.Event()
    ran: list[str] = []

    def block() -> None:
        with contextlib.suppress(TimeBudgetSpent):  # its own budget runs out too
            pool.run(release.wait, 5)

    blocker = threading.Thread(target=block)
    blocker.start()
    try:
        while pool.stats()["running"] == 0:
            time.sleep(0.01)
        with pytest.raises(TimeBudgetSpent, match="before a worker was free") as e:
            pool.run(ran.append, "never")
        assert e.value.status_code == 503 and e.value.headers["Retry-After"]
        assert pool.stats()["admitted"] == 1  # the waiting work was cancelled, its place freed
    finally:
        release.set()
        blocker.join(timeout=10)
    deadline = time.monotonic() + 10
    while pool.stats()["admitted"] and time.monotonic() < deadline:  # the blocker's work ends
        time.sleep(0.01)
    pool.shutdown()
    assert ran == [] and pool.stats()["admitted"] == 0


def test_a_solve_gets_the_time_limit_cut_to_what_is_left_of_the_budget():
    from service import Settings
    from service.pool import HeavyPool, solver_time_limit

    settings = Settings(api_keys=[KEY], time_limit=60, request_time_budget=10)
    assert solver_time_limit(settings) == 60  # outside a request: the setting
    pool = HeavyPool(workers=1, queue=0, budget=10)
    try:
        limit = pool.run(solver_time_limit, settings)
    finally:
        pool.shutdown()
    assert 8.5 < limit <= 9  # 10 s budget, 1 s kept for saving and answering


def test_health_does_not_wait_for_a_busy_database(small_pool_app, monkeypatch):
    store = small_pool_app.state.store
    gate = threading.Event()
    monkeypatch.setattr(store, "ping", lambda: gate.wait(10))
    with TestClient(small_pool_app) as c:
        try:
            t0 = time.monotonic()
            body = c.get("/health").json()
            assert body["database_state"] == "busy" and body["status"] == "ok"
            assert time.monotonic() - t0 < 5
        finally:
            gate.set()
        time.sleep(0.05)
        assert c.get("/health").json()["database_state"] == "ok"


def test_every_heavy_route_is_a_route_of_the_app(app):
    from service.pool import HEAVY_ROUTES

    paths = app.openapi()["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert HEAVY_ROUTES <= routes


def test_health_runs_on_the_event_loop():
    import asyncio

    from service.routers.health import health

    assert asyncio.iscoroutinefunction(health)
