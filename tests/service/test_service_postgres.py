"""A PostgreSQL URL works too: a throwaway PostgreSQL server (Debian's postgresql package,
on the CI image and installed by .ci/run if missing) in tmp_path, reached over 127.0.0.1.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from .conftest import HEADERS, ServerThread, free_port


def _pg_bin() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not versions:
        pytest.fail(
            "PostgreSQL's server binaries (pg_ctl, initdb) are not installed: "
            "`apt-get install postgresql` (CI's .ci/run does this)"
        )
    return Path(versions[-1]).parent


def _as_owner(cmd: list[str], owner: str | None) -> list[str]:
    # the server refuses to run as root: run it as the postgres system user there
    return ["runuser", "-u", owner, "--", *cmd] if owner else cmd


def _check(proc: subprocess.CompletedProcess) -> None:
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(proc.args)} failed ({proc.returncode}): {proc.stderr or proc.stdout}"
        )


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory):
    import psycopg  # noqa: F401 - a dev dependency: fail, not skip, when it is missing

    bindir = _pg_bin()
    owner = "postgres" if os.geteuid() == 0 else None
    if owner:  # a folder the postgres user can reach whatever pytest's base temp is
        root = Path(tempfile.mkdtemp(prefix="adplan-pg-", dir="/tmp"))
        shutil.chown(root, user=owner)
    else:
        root = tmp_path_factory.mktemp("pg")
    data = root / "data"
    port = free_port()
    _check(
        subprocess.run(
            _as_owner(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "adplan",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
                owner,
            ),
            capture_output=True,
            text=True,
        )
    )
    _check(
        subprocess.run(
            _as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-w",
                    "-l",
                    str(root / "log"),
                    "-o",
                    f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                    "start",
                ],
                owner,
            ),
            capture_output=True,
            text=True,
        )
    )
    try:
        yield f"postgresql+psycopg://adplan@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], owner),
            capture_output=True,
        )
        if owner:
            shutil.rmtree(root, ignore_errors=True)


def test_plans_persist_in_postgresql_across_a_restart(pg_url, curves, spec, tmp_path):
    from service import Settings, create_app

    settings = Settings(api_keys=["test-key-0123456789"], database_url=pg_url, data_dir=tmp_path)
    with TestClient(create_app(settings)) as c:
        made = c.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec})
        assert made.status_code == 201, made.text
        made = made.json()
    with TestClient(create_app(settings)) as c:  # a restart: a new engine on the same database
        got = c.get(f"/v1/plans/{made['id']}", headers=HEADERS)
        assert got.status_code == 200
        assert got.json()["lines"] == made["lines"]
        csv = c.get(made["links"]["csv"].replace("http://testserver", ""))
        assert csv.status_code == 200 and csv.text.startswith("network,segment,period")
        assert c.delete(f"/v1/plans/{made['id']}", headers=HEADERS).status_code in (200, 204)
        assert c.get(f"/v1/plans/{made['id']}", headers=HEADERS).status_code == 404


def test_concurrent_posts_to_postgresql_are_all_persisted(pg_url, curves, spec, tmp_path):
    from service import Settings, create_app

    settings = Settings(api_keys=["test-key-0123456789"], database_url=pg_url, data_dir=tmp_path)
    ids: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def post_some(url: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            for _ in range(4):
                r = http.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec})
                with lock:
                    (ids if r.status_code == 201 else errors).append(
                        r.json()["id"] if r.status_code == 201 else r.text
                    )

    with ServerThread(create_app(settings)) as a, ServerThread(create_app(settings)) as b:
        threads = [threading.Thread(target=post_some, args=(s.url,)) for s in (a, b) * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors
        assert len(set(ids)) == 32
        with httpx.Client(base_url=a.url, timeout=60) as http:
            for plan_id in ids:
                assert http.get(f"/v1/plans/{plan_id}", headers=HEADERS).status_code == 200
