"""Batch runs of an agency's accounts: finding them, their digests, the index, resuming.

Three generated accounts (``write_agency``), written once per module: account-0001 and
account-0002 plan; account-0003's scenario names a history file that is not there, so it
fails. The first batch runs on two local processes; the other tests re-run it in this process
(an unchanged account costs nothing) and change one thing at a time. Each test starts by
settling the batch (a run that finds every account unchanged), so none depends on another's
order.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from optimizer.parallel import LocalProcesses
from scenarios.agency import write_agency
from scenarios.batch import (
    INDEX_COLUMNS,
    MANIFEST,
    BatchError,
    BatchResult,
    IndexRow,
    account_digest,
    find_accounts,
    run_batch,
)

GOOD = ("account-0001", "account-0002")
BROKEN = "account-0003"
SCENARIO = "q1-2027"


@pytest.fixture(scope="module")
def agency(tmp_path_factory) -> Path:
    """Three generated accounts (copy before changing anything)."""
    root = tmp_path_factory.mktemp("agency")
    write_agency(root, 3)
    return root


@pytest.fixture()
def accounts(agency, tmp_path) -> Path:
    """A private copy of the three accounts."""
    return Path(shutil.copytree(agency, tmp_path / "clients"))


@dataclass(frozen=True)
class Batch:
    """The module's batch: its source, OUT, first result and what it wrote then."""

    src: Path
    out: Path
    first: BatchResult
    plans: dict[str, dict]
    index_csv: str
    index_xlsx: bytes


@pytest.fixture(scope="module")
def batch(agency, tmp_path_factory) -> Batch:
    """The first run on two local processes, and its files as they were just after it."""
    root = tmp_path_factory.mktemp("batch")
    src = Path(shutil.copytree(agency, root / "clients"))
    broken = src / BROKEN / "scenario.yaml"
    broken.write_text(broken.read_text().replace("history.csv", "missing.csv"))
    out = root / "out"
    with LocalProcesses(2) as ex:
        first = run_batch(src, out, ex)
    plans = {a: json.loads(_plan_path(out, a).read_text()) for a in GOOD}
    return Batch(
        src, out, first, plans, (out / "index.csv").read_text(), (out / "index.xlsx").read_bytes()
    )


def _plan_path(out: Path, account: str, variant: str = SCENARIO) -> Path:
    return out / account / SCENARIO / variant / "plan.json"


def _by_account(rows: list[IndexRow]) -> dict[str, IndexRow]:
    assert len({r.account for r in rows}) == len(rows), rows
    return {r.account: r for r in rows}


def _mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def _settled(b: Batch) -> BatchResult:
    """Run the batch again until nothing is left to run (the broken account always runs)."""
    res = run_batch(b.src, b.out)
    rows = _by_account(res.rows)
    assert [rows[a].ran for a in GOOD] == ["unchanged"] * len(GOOD), res.rows
    return res


def _ran(res: BatchResult) -> dict[str, str]:
    return {r.account: r.ran for r in res.rows}


# -- finding accounts -------------------------------------------------------------------------


def test_find_accounts_in_a_folder_of_accounts(accounts):
    found = find_accounts(accounts)
    assert [a.name for a in found] == ["account-0001", "account-0002", "account-0003"]
    for a in found:
        assert a.folder == accounts / a.name
        assert a.scenario_files == (accounts / a.name / "scenario.yaml",)


def test_find_accounts_by_a_glob_of_folders(accounts):
    found = find_accounts(f"{accounts}/account-000[13]")
    assert [a.name for a in found] == ["account-0001", "account-0003"]
    assert found[1].scenario_files == (accounts / "account-0003" / "scenario.yaml",)


def test_find_accounts_by_a_glob_of_files(accounts):
    """Matched files are grouped by folder; a folder's other scenario files are left out."""
    extra = accounts / "account-0002" / "other.yaml"
    shutil.copy(accounts / "account-0002" / "scenario.yaml", extra)
    assert len(find_accounts(accounts)[1].scenario_files) == 2
    found = find_accounts(f"{accounts}/*/scenario.yaml")
    assert [a.name for a in found] == ["account-0001", "account-0002", "account-0003"]
    assert found[1].scenario_files == (accounts / "account-0002" / "scenario.yaml",)


def test_a_folder_that_is_an_account(accounts):
    (found,) = find_accounts(accounts / "account-0002")
    assert found.name == "account-0002"
    assert found.scenario_files == (accounts / "account-0002" / "scenario.yaml",)


@pytest.mark.parametrize("kind", ["empty folder", "glob matching nothing", "only a spec"])
def test_no_account_found(tmp_path, kind):
    src = tmp_path / "clients"
    src.mkdir()
    if kind == "glob matching nothing":
        src = tmp_path / "clients" / "acme-*"
    if kind == "only a spec":
        (src / "budget.yaml").write_text("budget: 1000\n")
    with pytest.raises(BatchError, match="no account found"):
        find_accounts(src)


def test_two_accounts_with_one_name(accounts, tmp_path):
    for team in ("north", "south"):
        shutil.copytree(accounts / "account-0001", tmp_path / team / "acme")
    with pytest.raises(BatchError, match="two accounts are named 'acme'") as e:
        find_accounts(f"{tmp_path}/*/acme")
    assert str(tmp_path / "north" / "acme") in str(e.value)
    assert str(tmp_path / "south" / "acme") in str(e.value)


def test_a_spec_beside_the_scenario_is_not_one_and_broken_yaml_is(accounts, tmp_path):
    """A spec YAML (no spec: key) is passed over; a broken YAML runs and fails at its line."""
    folder = accounts / "account-0001"
    (folder / "budget.yaml").write_text("budget: 1000\nnetworks: {}\n")
    (folder / "notes.yaml").write_text("- a list, not a scenario\n")
    assert find_accounts(folder)[0].scenario_files == (folder / "scenario.yaml",)
    bad = tmp_path / "acme" / "broken.yaml"
    bad.parent.mkdir()
    bad.write_text("name: broken\nspec:\n  budget: [1000\nhistory: history.csv\n")
    (found,) = find_accounts(bad.parent)
    assert found.scenario_files == (bad,)
    res = run_batch(bad.parent, tmp_path / "out")
    (row,) = res.rows
    assert (row.account, row.scenario, row.status) == ("acme", "broken", "failed")
    assert "line 4" in row.error and "not valid YAML" in row.error, row.error
    assert res.failed == [row]


# -- digests ----------------------------------------------------------------------------------


def test_account_digest_follows_the_inputs_bytes(accounts):
    (account,) = find_accounts(accounts / "account-0001")
    options = {"solver": None, "time_limit": None}
    first = account_digest(account, options)
    assert len(first) == 64 and account_digest(account, options) == first
    history = account.folder / "history.csv"
    text = history.read_text()
    history.write_text(text)  # rewritten, the same bytes: the same digest
    (account.folder / ".DS_Store").write_bytes(b"\0hidden")
    assert account_digest(account, options) == first
    lines = text.splitlines(keepends=True)
    cells = lines[1].split(",")
    cells[4] = f"{float(cells[4]) * 1.5:.2f}"
    history.write_text("".join([lines[0], ",".join(cells), *lines[2:]]))
    changed = account_digest(account, options)
    assert changed != first
    history.write_text(text)
    assert account_digest(account, options) == first
    (account.folder / "notes.txt").write_text("call the client on Monday\n")
    added = account_digest(account, options)
    assert added not in (first, changed)
    assert account_digest(account, {"solver": "cbc", "time_limit": None}) != added
    assert account_digest(account, {"solver": None, "time_limit": 5.0}) != added


# -- the batch --------------------------------------------------------------------------------


def test_first_run_rows_match_the_plans(batch):
    rows = _by_account(batch.first.rows)
    assert list(rows) == [*GOOD, BROKEN]
    assert [(r.scenario, r.ran) for r in rows.values()] == [
        (SCENARIO, "now"),
        (SCENARIO, "now"),
        ("scenario", "now"),  # named after its file: it could not be read
    ]
    for a in GOOD:
        r, plan = rows[a], batch.plans[a]
        assert (r.status, r.error, r.folder) == ("ok", "", f"{a}/{SCENARIO}")
        assert (r.currency, r.result_type) == (plan["currency"], plan["result_type"])
        assert r.budget == plan["budget"] and r.total_spend == plan["total_spend"]
        assert r.expected_results == plan["expected_results"]
        assert r.cost_per_result == plan["cost_per_result"]
        assert (r.variants, r.variants_infeasible) == (3, 0)
        assert r.results_p10 < r.expected_results < r.results_p90
    assert [r.account for r in batch.first.failed] == [BROKEN]


def test_a_failed_account_has_its_error_and_the_others_run(batch):
    bad = _by_account(batch.first.rows)[BROKEN]
    assert bad.status == "failed"
    assert "missing.csv" in bad.error and "no such file" in bad.error, bad.error
    assert bad.error.startswith("scenario.yaml: ")
    assert (bad.budget, bad.expected_results, bad.folder) == (None, None, "")
    manifest = json.loads((batch.out / BROKEN / MANIFEST).read_text())
    assert (manifest["status"], manifest["files"]) == ("failed", [])
    assert manifest["rows"][0]["error"] == bad.error


def _cell(value: str, expected):
    if expected is None:
        return None if value == "" else value
    return type(expected)(value)


def test_index_csv_holds_the_rows(batch):
    table = list(csv.reader(io.StringIO(batch.index_csv)))
    assert tuple(table[0]) == INDEX_COLUMNS
    assert len(table) == 1 + len(batch.first.rows)
    for line, row in zip(table[1:], batch.first.rows, strict=True):
        want = row.to_dict()
        got = {k: _cell(v, want[k]) for k, v in zip(INDEX_COLUMNS, line, strict=True)}
        assert got == want


def test_index_xlsx_lists_the_accounts(batch):
    wb = openpyxl.load_workbook(io.BytesIO(batch.index_xlsx))
    assert wb.sheetnames == ["Accounts", "Failed"]
    accounts = [row[0] for row in wb["Accounts"].iter_rows(min_row=2, values_only=True)]
    assert accounts == [*GOOD, BROKEN]
    failed = [row[0] for row in wb["Failed"].iter_rows(min_row=2, values_only=True)]
    assert failed == [BROKEN]
    header = [c.value for c in wb["Accounts"][1]]
    spend = header.index(next(h for h in header if "spend" in str(h).lower()))
    totals = [row[spend] for row in wb["Accounts"].iter_rows(min_row=2, values_only=True)]
    assert totals[:2] == pytest.approx([batch.plans[a]["total_spend"] for a in GOOD], abs=0.01)


def test_rerun_skips_the_unchanged_accounts(batch):
    settled = _settled(batch)
    before = {a: _mtimes(batch.out / a) for a in GOOD}
    res = run_batch(batch.src, batch.out)
    assert _ran(res) == {**dict.fromkeys(GOOD, "unchanged"), BROKEN: "now"}
    assert {a: _mtimes(batch.out / a) for a in GOOD} == before
    again = _by_account(res.rows)
    for a in GOOD:
        assert again[a] == _by_account(settled.rows)[a]
    assert again[BROKEN].status == "failed"
    assert [r.account for r in res.results] == [BROKEN]
    index = list(csv.DictReader((batch.out / "index.csv").open()))
    assert [(r["account"], r["ran"]) for r in index] == list(_ran(res).items())


def test_a_changed_history_reruns_only_that_account(batch):
    _settled(batch)
    kept = _mtimes(batch.out / "account-0002")
    old = json.loads((batch.out / "account-0001" / MANIFEST).read_text())["digest"]
    history = batch.src / "account-0001" / "history.csv"
    lines = history.read_text().splitlines(keepends=True)
    cells = lines[-1].split(",")
    cells[4] = f"{float(cells[4]) * 1.1:.2f}"
    history.write_text("".join([*lines[:-1], ",".join(cells)]))
    res = run_batch(batch.src, batch.out)
    assert _ran(res) == {"account-0001": "now", "account-0002": "unchanged", BROKEN: "now"}
    assert _by_account(res.rows)["account-0001"].status == "ok"
    assert _mtimes(batch.out / "account-0002") == kept
    new = json.loads((batch.out / "account-0001" / MANIFEST).read_text())["digest"]
    assert new != old
    (account,) = find_accounts(batch.src / "account-0001")
    assert new == account_digest(account, {"solver": None, "time_limit": None})


@pytest.mark.parametrize(
    ("how", "account", "ran"),
    [
        ("a file of its run lost", "account-0002", "now"),
        ("stopped between the two renames", "account-0001", "unchanged"),
    ],
)
def test_an_interrupted_batch_resumes(batch, how, account, ran):
    _settled(batch)
    other = next(a for a in GOOD if a != account)
    kept = _mtimes(batch.out / other)
    partial = batch.out / f".{account}.partial"
    if how == "a file of its run lost":
        _plan_path(batch.out, account).unlink()
    else:  # the last run moved aside, the new one written but not yet renamed into place
        (batch.out / account).rename(batch.out / f".{account}.old")
        shutil.copytree(batch.out / f".{account}.old", partial)
    res = run_batch(batch.src, batch.out)
    assert _ran(res) == {account: ran, other: "unchanged", BROKEN: "now"}
    assert [r.account for r in res.failed] == [BROKEN]
    assert _mtimes(batch.out / other) == kept
    assert not partial.exists()
    manifest = json.loads((batch.out / account / MANIFEST).read_text())
    assert manifest["status"] == "ok"
    assert all((batch.out / account / f).is_file() for f in manifest["files"])
    assert _plan_path(batch.out, account).is_file()
    assert sorted(p.name for p in batch.out.iterdir() if p.name.startswith(".")) == []


def test_a_folder_without_its_batch_json_is_not_replaced(batch):
    _settled(batch)
    (batch.out / "account-0002" / MANIFEST).unlink()
    before = _mtimes(batch.out / "account-0002")
    with pytest.raises(BatchError, match="not written by adplan batch"):
        run_batch(batch.src, batch.out)
    assert _mtimes(batch.out / "account-0002") == before
    manifest = {"digest": "", "status": "failed", "files": [], "rows": []}
    (batch.out / "account-0002" / MANIFEST).write_text(json.dumps(manifest))
    res = run_batch(batch.src, batch.out)  # adplan's again: run and replaced
    assert _ran(res)["account-0002"] == "now"


def test_force_reruns_every_account(batch):
    """force: the accounts the source names run again though their inputs have not changed."""
    _settled(batch)
    source = f"{batch.src}/account-000[23]"
    before = _mtimes(batch.out / "account-0002")
    res = run_batch(source, batch.out, force=True)
    assert _ran(res) == {"account-0002": "now", BROKEN: "now"}
    assert [r.account for r in res.results] == ["account-0002", BROKEN]
    after = _mtimes(batch.out / "account-0002")
    assert after.keys() == before.keys()
    assert all(after[k] != before[k] for k in before if k.endswith(".json"))
    plan = json.loads(_plan_path(batch.out, "account-0002").read_text())
    want = batch.plans["account-0002"]
    assert plan["expected_results"] == pytest.approx(want["expected_results"], rel=1e-9)
    assert len(plan["lines"]) == len(want["lines"])
    assert _ran(run_batch(source, batch.out)) == {"account-0002": "unchanged", BROKEN: "now"}


def test_an_infeasible_account_is_an_answer_not_run_again(agency, tmp_path):
    src = tmp_path / "one"
    folder = Path(shutil.copytree(agency / GOOD[0], src / "infeasible-co"))
    sc = folder / "scenario.yaml"
    text = sc.read_text()
    net = text.split("networks:\n", 1)[1].split(":", 1)[0].strip()
    sc.write_text(text.replace(f"{net}:\n      min_share: 0.2", f"{net}:\n      min: 1.0e+9"))
    first = run_batch(src, tmp_path / "out")
    (row,) = first.rows
    assert (row.status, row.ran, row.variants) == ("infeasible", "now", 3)
    assert "network floor (network_min__" in row.error and "cannot hold" in row.error, row.error
    assert first.failed == [row]
    again = run_batch(src, tmp_path / "out")
    (row2,) = again.rows
    assert (row2.status, row2.ran, row2.error) == ("infeasible", "unchanged", row.error)
    assert again.failed == [row2]  # still without a plan: the CLI exits 1
