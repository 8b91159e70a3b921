"""A batch never touches what it did not write, and never takes a folder for an account.

Each case is refused (BatchError, before anything runs) or handled without running a plan:
OUT that would be an account's own folder, a folder in OUT adplan did not write, names that
cannot be a folder in OUT, folders without scenario files, OUT inside SOURCE, a run left
aside by an interruption, an account lost with its worker. No plan is solved here except
where one account is run to see its folder replaced whole.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scenarios.agency import write_agency
from scenarios.batch import (
    MANIFEST,
    AccountJob,
    AccountResult,
    BatchError,
    IndexRow,
    account_digest,
    find_accounts,
    run_batch,
    settle,
    write_account,
)
from scenarios.exports.index import index_csv_text


@pytest.fixture(scope="module")
def agency(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("agency")
    write_agency(root, 2, seed=3)
    return root


@pytest.fixture()
def clients(agency, tmp_path) -> Path:
    return Path(shutil.copytree(agency, tmp_path / "clients"))


def test_out_that_is_the_accounts_own_folder_is_refused(clients):
    # --out clients: OUT/account-0001 would be the account's own folder
    with pytest.raises(BatchError, match="would be the account's own folder"):
        run_batch(clients, clients)
    assert (clients / "account-0001" / "history.csv").is_file()
    assert not (clients / "account-0001" / MANIFEST).exists()


def test_a_folder_in_out_adplan_did_not_write_is_refused(clients, tmp_path):
    out = tmp_path / "reports"
    mine = out / "account-0002"
    mine.mkdir(parents=True)
    (mine / "budget-2026.xlsx").write_bytes(b"the user's own file")
    with pytest.raises(BatchError, match=r"account-0002 exists and was not written by adplan"):
        run_batch(clients, out)
    assert (mine / "budget-2026.xlsx").read_bytes() == b"the user's own file"


@pytest.mark.parametrize("name", ["index.csv", "INDEX.xlsx"])
def test_names_that_cannot_be_a_folder_in_out(clients, name):
    (clients / "account-0002").rename(clients / name)
    with pytest.raises(BatchError, match="cannot be named"):
        find_accounts(clients)


def test_names_that_differ_only_in_case_are_one_folder_in_out(clients):
    shutil.copytree(clients / "account-0001", clients / "ACCOUNT-0001")
    with pytest.raises(BatchError, match="two accounts are named"):
        find_accounts(clients)


def test_a_dot_source_is_named_after_its_folder(clients, monkeypatch):
    monkeypatch.chdir(clients / "account-0001")
    (found,) = find_accounts(".")
    assert found.name == "account-0001"


def test_folders_without_scenario_files_are_not_accounts(clients, tmp_path):
    shared = clients / "_shared"
    shared.mkdir()
    (shared / "base-spec.yaml").write_text("budget: 1000\n")
    out = clients / "out"
    (out / "account-0001").mkdir(parents=True)
    (out / "account-0001" / MANIFEST).write_text("{}")
    (out / "account-0001" / "notes.yaml").write_text("spec: {budget: 1}\n")
    for source in (clients, f"{clients}/*"):
        names = [a.name for a in find_accounts(source, out)]
        assert names == ["account-0001", "account-0002"], source


def test_scenario_files_beside_account_folders_are_refused(clients):
    shutil.copy(clients / "account-0001" / "scenario.yaml", clients / "loose.yaml")
    with pytest.raises(BatchError, match=r"holds scenario files \(loose.yaml\) and account"):
        find_accounts(clients)


def test_the_digest_follows_the_files_when_out_holds_the_accounts(tmp_path, agency):
    out = tmp_path / "out"
    src = Path(shutil.copytree(agency, out / "clients"))
    (acct,) = [a for a in find_accounts(src) if a.name == "account-0001"]
    before = account_digest(acct, {}, skip=out)
    hist = acct.folder / "history.csv"
    hist.write_text(hist.read_text().replace(",EUR,", ",EUR,", 1) + "\n")
    assert account_digest(acct, {}, skip=out) != before
    # OUT inside the account's folder is left out of its digest
    inner = acct.folder / "out"
    before = account_digest(acct, {}, skip=inner)
    (inner / "x").mkdir(parents=True)
    (inner / "x" / "plan.json").write_text("{}")
    assert account_digest(acct, {}, skip=inner) == before


def _job(clients: Path, name: str = "account-0001") -> AccountJob:
    (acct,) = [a for a in find_accounts(clients) if a.name == name]
    return AccountJob(acct, "digest")


def test_an_account_lost_with_its_worker_keeps_its_last_run(clients, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    job = _job(clients)
    ok = AccountResult(job.account.name, (IndexRow(job.account.name, status="ok"),),
                       (("q1/plan.json", b"{}"),))  # fmt: skip
    target = write_account(out, job, ok)
    lost = AccountResult(job.account.name, (IndexRow(job.account.name, error="worker lost"),))
    assert write_account(out, job, lost) == target
    assert (target / "q1" / "plan.json").read_bytes() == b"{}"
    assert json.loads((target / MANIFEST).read_text())["status"] == "ok"


def test_a_run_left_aside_is_put_back_and_a_half_written_one_removed(clients, tmp_path):
    out = tmp_path / "out"
    job = _job(clients)
    row = IndexRow(job.account.name, status="ok")
    target = write_account(out, job, AccountResult(job.account.name, (row,), (("a", b"1"),)))
    target.rename(out / ".account-0001.old")  # interrupted between the two renames
    (out / ".account-0001.partial").mkdir()
    settle(out, find_accounts(clients))
    assert (target / "a").read_bytes() == b"1"
    assert not (out / ".account-0001.old").exists()
    assert not (out / ".account-0001.partial").exists()


def test_index_csv_makes_formulas_inert():
    text = index_csv_text([IndexRow("=HYPERLINK(1)", "q1", error="+1 bad")])
    assert "'=HYPERLINK(1)" in text and "'+1 bad" in text


def test_a_rerun_replaces_an_accounts_folder_whole(clients, tmp_path):
    out = tmp_path / "out"
    src = tmp_path / "one"
    shutil.copytree(clients / "account-0002", src / "account-0002")
    first = run_batch(src, out)
    assert [r.status for r in first.rows] == ["ok"]
    stale = out / "account-0002" / "q1-2027" / "old-variant"
    stale.mkdir()
    again = run_batch(src, out, force=True)
    assert [r.ran for r in again.rows] == ["now"]
    assert not stale.exists()
    assert sorted(p.name for p in out.iterdir()) == ["account-0002", "index.csv", "index.xlsx"]


def test_a_second_batch_on_the_same_out_is_refused(clients, tmp_path):
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".adplan-batch.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another batch writing there
        with pytest.raises(BatchError, match="another adplan batch is writing there"):
            run_batch(clients, out)
    assert sorted(p.name for p in out.iterdir()) == [".adplan-batch.lock"]


def test_out_holding_another_folders_account_of_the_same_name(clients, tmp_path):
    out = tmp_path / "out"
    north = Path(shutil.copytree(clients / "account-0001", tmp_path / "north" / "acme"))
    south = Path(shutil.copytree(clients / "account-0001", tmp_path / "south" / "acme"))
    job = AccountJob(find_accounts(north)[0], "digest")
    row = IndexRow("acme", status="ok")
    write_account(out, job, AccountResult("acme", (row,), (("a", b"1"),)))
    with pytest.raises(BatchError, match=r"holds the account of .*north/acme, not of .*south"):
        settle(out, find_accounts(south))
    settle(out, find_accounts(south), force=True)  # --force replaces it
    settle(out, find_accounts(north))


def test_hidden_names_and_globs_of_specs_only(clients, tmp_path, monkeypatch):
    hidden = Path(shutil.copytree(clients / "account-0001", tmp_path / "h" / ".acme.old"))
    with pytest.raises(BatchError, match="cannot be named '.acme.old'"):
        find_accounts(f"{hidden.parent}/.*")
    shared = clients / "_shared"
    shared.mkdir()
    (shared / "base.yaml").write_text("budget: 1000\n")
    names = [a.name for a in find_accounts(f"{clients}/*/*.yaml")]
    assert names == ["account-0001", "account-0002"]
    monkeypatch.chdir(clients)  # relative paths become whole ones: a worker's folder differs
    found = find_accounts("account-000*")
    assert all(a.folder.is_absolute() for a in found)
    assert all(p.is_absolute() for a in found for p in a.scenario_files)
