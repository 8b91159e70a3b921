"""Persistence: SQLite in WAL mode with synchronous=FULL, restarts lose nothing, concurrent
writes all land.
"""

from __future__ import annotations

import threading

import httpx
from fastapi.testclient import TestClient

from .conftest import HEADERS, ServerThread


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    store = app.state.store
    assert store.journal_mode() == "wal"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_sqlite_syncs_every_commit_to_disk(app, db_url):
    """synchronous=FULL (2): a plan answered 201 survives a power cut, not only a crash.

    Read back from a new connection of the app's engine and from one the sqlite3 module
    opens itself (the pragma is per connection: every connection of the engine sets it).
    """
    import sqlite3

    store = app.state.store
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    fresh = store.engine.raw_connection()  # another pooled connection
    try:
        assert fresh.cursor().execute("PRAGMA synchronous").fetchone()[0] == 2
    finally:
        fresh.close()
    path = db_url.removeprefix("sqlite:///")
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # kept in the file
    raw.close()


def test_the_store_keeps_its_tables(app):
    from sqlalchemy import inspect

    tables = set(inspect(app.state.store.engine).get_table_names())
    assert {"plans", "scenario_runs", "idempotency_keys"} <= tables
    plan_cols = {c["name"] for c in inspect(app.state.store.engine).get_columns("plans")}
    assert "workspace" in plan_cols


def test_default_database_is_a_file_in_the_data_dir(tmp_path):
    from service import Settings, create_app

    s = Settings(api_keys=["k"], data_dir=tmp_path / "nested" / "data")
    create_app(s).state.store.close()
    assert (tmp_path / "nested" / "data" / "adplan.db").is_file()


def test_a_new_app_on_the_same_database_reads_everything_back(settings, curves, spec):
    from service import create_app

    with TestClient(create_app(settings)) as c:
        made = c.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec}).json()
    with TestClient(create_app(settings)) as c:  # a restart
        got = c.get(f"/v1/plans/{made['id']}", headers=HEADERS)
        assert got.status_code == 200
        assert got.json()["lines"] == made["lines"]
        assert c.get(made["links"]["csv"].replace("http://testserver", "")).status_code == 200


def test_any_sqlalchemy_url_works_in_memory_sqlite(curves, spec):
    from service import Settings, create_app

    with TestClient(create_app(Settings(api_keys=["k"], database_url="sqlite://"))) as c:
        r = c.post("/v1/plans", headers={"X-API-Key": "k"}, json={"curves": curves, "spec": spec})
        assert r.status_code == 201
        assert c.get(f"/v1/plans/{r.json()['id']}", headers={"X-API-Key": "k"}).status_code == 200


def test_concurrent_posts_to_a_real_server_are_all_persisted(settings, curves):
    """8 client threads on one server and a second app (another engine, as another process
    would have) writing to the same SQLite file at the same time: nothing lost or corrupted.
    """
    from service import create_app

    app_a, app_b = create_app(settings), create_app(settings)
    per_thread, threads = 4, 8
    ids: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client_thread(url: str, k: int) -> None:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=60) as c:
            for i in range(per_thread):
                body = {"curves": curves, "spec": {"budget": 1000 + 100 * k + i}}
                r = c.post("/v1/plans", json=body)
                with lock:
                    if r.status_code == 201:
                        ids.append(r.json()["id"])
                    else:
                        errors.append(f"{r.status_code} {r.text[:200]}")

    with ServerThread(app_a) as a, ServerThread(app_b) as b:
        workers = [
            threading.Thread(target=client_thread, args=(a.url if k % 2 else b.url, k))
            for k in range(threads)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
    assert not errors, errors[:3]
    assert len(ids) == len(set(ids)) == threads * per_thread
    store = create_app(settings).state.store
    assert store.count_plans() == threads * per_thread
    for pid in ids:
        assert store.get_plan(pid, workspace=None) is not None
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_store_lists_newest_first_and_deletes(tmp_path):
    from service.db import NewPlan, PlanStore

    n = 3
    store = PlanStore(f"sqlite:///{tmp_path / 's.db'}")
    made = [store.add_plan(NewPlan(kind="curves", inputs={}, result={"status": "optimal"}))[0]]
    made += [store.add_plan(NewPlan(kind="curves", inputs={}, result={}))[0] for _ in range(n - 1)]
    page, nxt = store.list_plans(limit=n)
    assert store.list_plans(limit=n, workspace="other") == ([], None)
    assert [p["id"] for p in page] == [p.id for p in reversed(made)] and nxt is None
    assert page[-1]["status"] == "optimal" and page[0]["status"] is None
    assert store.delete_plan(made[0].id) and not store.delete_plan(made[0].id)
    assert store.count_plans() == n - 1


def test_a_replan_advances_a_name_only_while_its_current_version_is_the_replanned_plan(
    tmp_path, monkeypatch
):
    """The current version is checked in the write itself, not only when the names are read."""
    from service.db import PlanStore

    store = PlanStore(f"sqlite:///{tmp_path / 's.db'}")
    store.add_version("q1", "plan-a", source="plan", workspace="w")
    store.add_version("q1", "plan-b", source="plan", workspace="w")
    assert store.names_of_plan("plan-a", workspace="w") == []  # an older version only
    assert store.names_of_plan("plan-b", workspace="w") == ["q1"]
    assert store.names_of_plan("plan-b", workspace="other") == []
    # q1 moved on to plan-b between reading the names and writing: the write refuses it
    monkeypatch.setattr(store, "names_of_plan", lambda *_, **__: ["q1"])
    assert store.advance_current("plan-a", "replan-a", source="replan", workspace="w") == []
    monkeypatch.undo()
    named = store.get_named("q1", workspace="w")
    assert named is not None and [v.plan_id for v in named.versions] == ["plan-a", "plan-b"]
    (named,) = store.advance_current("plan-b", "replan-b", source="replan", workspace="w")
    assert (named.current.version, named.current.plan_id, named.current.source) == (
        3,
        "replan-b",
        "replan",
    )
    assert store.advance_current("plan-b", "again", source="replan", workspace="w") == []
    store.close()
