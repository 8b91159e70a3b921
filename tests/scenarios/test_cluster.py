"""Batches on Dask and Ray give the plans local processes give, and bad addresses are refused.

Two generated accounts run once on two local processes (the reference), then on a real Dask
``LocalCluster`` (two worker processes) reached by its address, then on a local Ray instance
of two CPUs. Every variant's plan must match the reference: expected results to 1e-9
relative and the same lines (network, segment, period, spend to 1e-9 relative).
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

import distributed
import pytest
import ray

from optimizer.parallel import LocalProcesses
from scenarios import cluster
from scenarios.agency import write_agency
from scenarios.batch import BatchResult, run_batch
from scenarios.cluster import ClusterError, DaskExecutor, RayExecutor, executor_from_url

ACCOUNTS = ["account-0001", "account-0002"]
REL = 1e-9


@pytest.fixture(scope="module")
def agency(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cluster-agency")
    write_agency(root, len(ACCOUNTS))
    return root


@pytest.fixture(scope="module")
def local_run(agency, tmp_path_factory) -> tuple[Path, BatchResult]:
    out = tmp_path_factory.mktemp("cluster-local")
    with LocalProcesses(2) as ex:
        res = run_batch(agency, out, ex)
    assert [(r.account, r.status) for r in res.rows] == [(a, "ok") for a in ACCOUNTS]
    return out, res


@pytest.fixture(scope="module")
def dask_port():
    """A Dask scheduler and two worker processes (one thread each) on this machine."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield int(cluster.scheduler_address.rsplit(":", 1)[1])


def _plans(out: Path) -> dict[tuple[str, str], dict]:
    """Every plan.json under OUT by (account, variant)."""
    found = {
        (p.parents[2].name, p.parent.name): json.loads(p.read_text())
        for p in sorted(out.glob("*/*/*/plan.json"))
    }
    assert len(found) == 4 * len(ACCOUNTS), sorted(found)
    return found


def _line(line: dict) -> tuple:
    return line["network"], line["segment"], line["period"]


def _same_plans(out: Path, reference: Path) -> None:
    got, want = _plans(out), _plans(reference)
    assert got.keys() == want.keys()
    for key, w in want.items():
        g = got[key]
        assert g["status"] == w["status"] == "optimal", key
        assert g["expected_results"] == pytest.approx(w["expected_results"], rel=REL), key
        assert g["total_spend"] == pytest.approx(w["total_spend"], rel=REL), key
        assert [_line(x) for x in g["lines"]] == [_line(x) for x in w["lines"]], key
        assert [x["spend"] for x in g["lines"]] == pytest.approx(
            [x["spend"] for x in w["lines"]], rel=REL
        ), key


def _ran_elsewhere(res: BatchResult) -> None:
    """Every account ran, in a process other than this one, and planned."""
    assert sorted(r.account for r in res.results) == ACCOUNTS
    assert all(not r.worker.endswith(f":{os.getpid()}") for r in res.results), res.results
    assert [(r.account, r.status, r.ran) for r in res.rows] == [(a, "ok", "now") for a in ACCOUNTS]


def _same_rows(res: BatchResult, reference: BatchResult) -> None:
    for r, w in zip(res.rows, reference.rows, strict=True):
        assert (r.account, r.budget, r.variants) == (w.account, w.budget, w.variants)
        assert r.expected_results == pytest.approx(w.expected_results, rel=REL)


def test_dask_plans_match_local_processes(agency, local_run, dask_port, tmp_path):
    reference, ref_res = local_run
    ex = executor_from_url(f"dask://127.0.0.1:{dask_port}")
    try:
        assert isinstance(ex, DaskExecutor) and ex.workers == 2
        res = run_batch(agency, tmp_path / "out", ex)
    finally:
        ex.close()
    _ran_elsewhere(res)
    _same_rows(res, ref_res)
    _same_plans(tmp_path / "out", reference)


def test_ray_plans_match_local_processes(agency, local_run, tmp_path):
    reference, ref_res = local_run
    assert not ray.is_initialized()
    ex = executor_from_url("ray", workers=2)
    try:
        assert isinstance(ex, RayExecutor) and ex.workers == 2
        res = run_batch(agency, tmp_path / "out", ex)
    finally:
        ex.close()
    assert not ray.is_initialized()
    _ran_elsewhere(res)
    _same_rows(res, ref_res)
    _same_plans(tmp_path / "out", reference)


def test_local_is_local_processes():
    ex = executor_from_url("local", workers=3)
    assert isinstance(ex, LocalProcesses) and ex.workers == 3
    ex.close()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("nope", "unknown executor 'nope': give local, dask, dask://HOST:PORT, ray or ray://"),
        ("", "unknown executor ''"),
        ("dask://", "unknown executor"),
        ("spark://127.0.0.1:7077", "unknown executor"),
        ("dask://127.0.0.1:0", "executor 'dask://127.0.0.1:0': the port must be 1 to 65535"),
        ("dask://127.0.0.1:70000", "executor 'dask://127.0.0.1:70000': the port must be 1"),
        ("ray://127.0.0.1:0", "executor 'ray://127.0.0.1:0': the port must be 1 to 65535"),
    ],
)
def test_executor_from_url_refuses(text, words):
    with pytest.raises(ClusterError, match="^" + re.escape(words)):
        executor_from_url(text)


def test_workers_must_be_positive():
    with pytest.raises(ClusterError, match="--workers must be at least 1, got 0"):
        executor_from_url("local", workers=0)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("kind", "what"), [("dask", "the Dask scheduler"), ("ray", "Ray")])
def test_an_unreachable_cluster_is_refused(kind, what):
    """Nothing listening: refused at once (Dask and Ray themselves retry for 30 s)."""
    url = f"{kind}://127.0.0.1:{_closed_port()}"
    with pytest.raises(
        ClusterError, match=f"^cannot reach {re.escape(what)} at {re.escape(url)}: "
    ):
        executor_from_url(url)


def test_dask_workers_of_several_threads_are_refused():
    """HiGHS solves in threads of one process have crashed: one thread per worker or nothing."""
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        port = cluster.scheduler_address.rsplit(":", 1)[1]
        with pytest.raises(ClusterError, match=r"workers run 2 threads each.*--nthreads 1"):
            executor_from_url(f"dask://127.0.0.1:{port}")


class _Head:
    """Ray's ``init`` as a Ray Client head answers it: ``fails`` times "Initialization
    failure from server" (the head could not start this client's server), then joined.
    """

    def __init__(self, fails: int):
        self.fails, self.calls = fails, 0

    def init(self, address=None, **kw):
        self.calls += 1
        if self.calls <= self.fails:
            raise ConnectionAbortedError("Initialization failure from server:\nStarting failed")


@pytest.mark.parametrize(("fails", "calls", "joined"), [(0, 1, True), (2, 3, True), (3, 3, False)])
def test_a_client_server_that_fails_to_start_is_asked_again(monkeypatch, fails, calls, joined):
    monkeypatch.setattr(cluster, "RAY_CLIENT_PAUSE_S", 0.0)
    head = _Head(fails)
    if joined:
        cluster._ray_init(head, "ray://127.0.0.1:10001", {})
    else:
        with pytest.raises(ClusterError, match="cannot start or reach Ray at ray://"):
            cluster._ray_init(head, "ray://127.0.0.1:10001", {})
    assert head.calls == calls


def test_a_local_ray_that_fails_is_not_asked_again():
    head = _Head(1)
    with pytest.raises(ClusterError, match="at local"):
        cluster._ray_init(head, None, {})
    assert head.calls == 1
