"""End to end: `adplan serve` as a subprocess on a free loopback port, across a restart."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import HEADERS, KEY, free_port


def _command(port: int, *extra: str) -> list[str]:
    exe = Path(sys.executable).with_name("adplan")
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "cli.main"]
    return [
        *head,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "info",
        *extra,
    ]


class Served:
    def __init__(self, port: int, env: dict, log: Path, *extra: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            _command(port, *extra), env=env, stdout=self._out, stderr=self._out
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"adplan serve exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail(f"adplan serve did not answer /health: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._out.close()


def test_serve_post_download_restart_read_back(tmp_path, curves, spec):
    db = tmp_path / "e2e.db"
    env = {
        **os.environ,
        "ADPLAN_API_KEYS": f"{KEY},other",
        "ADPLAN_DATABASE_URL": f"sqlite:///{db}",
    }
    env.pop("ADPLAN_CURVES_PATH", None)
    port = free_port()
    log = tmp_path / "serve.log"

    first = Served(port, env, log)
    try:
        first.wait_ready()
        r = httpx.post(
            f"{first.url}/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec}
        )
        assert r.status_code == 201, r.text
        plan = r.json()
        csv_link = plan["links"]["csv"]
        assert csv_link.startswith(first.url)
        # a spreadsheet pull: the token in the link, no header
        d = httpx.get(csv_link)
        assert d.status_code == 200
        rows = list(csv.DictReader(io.StringIO(d.text)))
        assert len(rows) == len(plan["lines"])
        assert httpx.get(f"{first.url}/v1/plans/{plan['id']}").status_code == 401
    finally:
        first.stop()
    assert first.proc.returncode is not None

    second = Served(port, env, log)
    try:
        second.wait_ready()
        r = httpx.get(f"{second.url}/v1/plans/{plan['id']}", headers={"X-API-Key": "other"})
        assert r.status_code == 200
        back = r.json()
        assert back["lines"] == plan["lines"]
        assert back["expected_results"] == plan["expected_results"]
        assert httpx.get(csv_link).text == d.text  # the token survives the restart
    finally:
        second.stop()
    text = log.read_text()
    assert "Traceback" not in text
    token = csv_link.split("token=")[1]
    assert token not in text and "token=***" in text  # the access log hides tokens


def test_serve_refuses_to_start_without_keys(tmp_path):
    env = {**os.environ, "ADPLAN_API_KEYS": "", "ADPLAN_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    proc = subprocess.run(
        _command(free_port()), env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "ADPLAN_API_KEYS" in proc.stderr


def test_serve_with_two_worker_processes_shares_one_database(tmp_path, curves, spec):
    env = {
        **os.environ,
        "ADPLAN_API_KEYS": KEY,
        "ADPLAN_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
    }
    served = Served(free_port(), env, tmp_path / "workers.log", "--workers", "2")
    try:
        served.wait_ready()
        with httpx.Client(base_url=served.url, headers=HEADERS, timeout=60) as c:
            ids = [
                c.post("/v1/plans", json={"curves": curves, "spec": spec}).json()["id"]
                for _ in range(6)
            ]
            listed = {it["id"] for it in c.get("/v1/plans").json()["items"]}
        assert set(ids) == listed
    finally:
        served.stop()
