"""``--executor ray://HOST:PORT``: a real Ray head started apart, reached through Ray Client.

The head runs as ``ray start --head --block`` in its own process (stopped with it: never
``ray stop``, which would stop every Ray on the machine), with token authentication on, as
docs/scale.md tells users to set it up. The real ``adplan`` executable plans a generated
agency on it, and the plans equal those of two local processes: expected results to 1e-9,
the same lines.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from scenarios.agency import write_agency
from tests.scenarios.test_cluster import _same_plans

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "ADPLAN_"))}
    env["COLUMNS"] = "200"
    return {**env, **extra}


def _head_env(token: str) -> dict[str, str]:
    """The head's environment: Ray's own processes run without coverage's subprocess hook."""
    env = _env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    return {k: v for k, v in env.items() if not k.startswith(("COVERAGE_", "COV_CORE_"))}


def _head_logs(folder: Path) -> str:
    """The tails of the head's Ray Client server logs, to say why a connection failed."""
    logs = sorted(folder.glob("session_latest/logs/ray_client_server*"))
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in logs)


def _wait_for(port: int, proc: subprocess.Popen, seconds: float = 90) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"ray start exited {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"Ray Client did not listen on {port} within {seconds} s")


@pytest.fixture(scope="module")
def head():
    """A Ray head with Ray Client on a free port and token authentication.

    Yields (url, token, its temporary folder).
    """
    tmp = tempfile.mkdtemp(prefix="rh", dir="/tmp")  # Ray's socket paths must stay short
    token = secrets.token_hex(32)
    client = _free_port()
    proc = subprocess.Popen(
        [
            str(BIN / "ray"), "start", "--head", "--block", f"--port={_free_port()}",
            f"--ray-client-server-port={client}", "--num-cpus=2", "--include-dashboard=false",
            "--disable-usage-stats", f"--temp-dir={tmp}",
        ],
        env=_head_env(token),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for(client, proc)
        yield f"ray://127.0.0.1:{client}", token, Path(tmp)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def _batch(src: Path, out: Path, *args: str, env: dict[str, str], logs: Path | None = None):
    p = subprocess.run(
        [str(BIN / "adplan"), "batch", "run", str(src), "--out", str(out), "--json", *args],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    why = _head_logs(logs) if logs and p.returncode else ""
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}\n{why}"
    return p


def test_plans_through_ray_client_equal_the_local_ones(head, tmp_path):
    url, token, folder = head
    write_agency(tmp_path / "agency", 2, seed=5)
    _batch(tmp_path / "agency", tmp_path / "local", "--workers", "2", env=_env())
    env = _env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    rows = json.loads(
        _batch(
            tmp_path / "agency", tmp_path / "ray", "--executor", url, env=env, logs=folder
        ).stdout
    )
    assert [r["status"] for r in rows["rows"]] == ["ok", "ok"]
    # the tasks ran in the head's workers, not in a Ray the client started for itself
    assert list(folder.glob("session_latest/logs/worker-*.out"))
    # the 8 plans (2 accounts x 4): status, results, spend and lines as the local run's
    _same_plans(tmp_path / "ray", tmp_path / "local")
