"""``adplan batch``, run as users run it: the real executable in a subprocess.

One generated agency of two accounts (``adplan batch sample``) is run once on two local
processes; a broken account is then added and the batch run again into the same folder (the
two planned accounts are unchanged and not run again), with ``--json`` and without.
"""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ADPLAN = Path(sys.executable).with_name("adplan")
ACCOUNTS = ["account-0001", "account-0002"]
EXECUTORS = "local, dask, dask://HOST:PORT, ray or ray://HOST:PORT"


def adplan(*args: str | Path, code: int = 0) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "ADPLAN_SOLVER")}
    env["COLUMNS"] = "200"
    p = subprocess.run(
        [str(ADPLAN), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert p.returncode == code, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


@dataclass(frozen=True)
class Runs:
    """The sampled agency, OUT, and the three runs: all planned, then one account broken."""

    src: Path
    out: Path
    sample: subprocess.CompletedProcess
    ok: subprocess.CompletedProcess
    failing: subprocess.CompletedProcess
    failing_words: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    root = tmp_path_factory.mktemp("cli-batch")
    src, out = root / "clients", root / "out"
    sample = adplan("batch", "sample", src, "--accounts", "2")
    ok = adplan("batch", "run", src, "--out", out, "--workers", "2", "--json")
    broken = src / "account-broken"
    broken.mkdir()
    text = (src / "account-0001" / "scenario.yaml").read_text()
    (broken / "scenario.yaml").write_text(text.replace("history.csv", "missing.csv"))
    failing = adplan("batch", "run", src, "--out", out, "--workers", "2", "--json", code=1)
    words = adplan("batch", "run", src, "--out", out, "--workers", "1", code=1)
    return Runs(src, out, sample, ok, failing, words)


def test_sample_writes_the_accounts(runs):
    assert sorted(p.name for p in runs.src.iterdir()) == [*ACCOUNTS, "account-broken"]
    for a in ACCOUNTS:
        assert sorted(p.name for p in (runs.src / a).iterdir()) == ["history.csv", "scenario.yaml"]
    assert f"2 accounts in {runs.src}" in " ".join(runs.sample.stdout.split())


def test_run_json_prints_only_json(runs):
    doc = json.loads(runs.ok.stdout)  # nothing else on standard output
    assert doc["failed"] == 0
    assert [(r["account"], r["status"], r["ran"]) for r in doc["rows"]] == [
        (a, "ok", "now") for a in ACCOUNTS
    ]
    assert {k: Path(v) for k, v in doc["files"].items()} == {
        "csv": runs.out / "index.csv",
        "xlsx": runs.out / "index.xlsx",
    }
    for r in doc["rows"]:
        plan = json.loads((runs.out / r["folder"] / r["scenario"] / "plan.json").read_text())
        assert r["expected_results"] == plan["expected_results"]
        assert r["total_spend"] == plan["total_spend"] and r["budget"] == plan["budget"]


def test_a_failing_account_exits_1_with_its_error(runs):
    doc = json.loads(runs.failing.stdout)
    rows = {r["account"]: r for r in doc["rows"]}
    assert list(rows) == ["account-0001", "account-0002", "account-broken"]
    assert [rows[a]["ran"] for a in ACCOUNTS] == ["unchanged", "unchanged"]
    bad = rows["account-broken"]
    assert (bad["status"], bad["ran"], doc["failed"]) == ("failed", "now", 1)
    assert "missing.csv" in bad["error"] and "no such file" in bad["error"], bad["error"]
    index = {r["account"]: r for r in csv.DictReader((runs.out / "index.csv").open())}
    assert list(index) == list(rows)
    assert index["account-broken"]["error"] == bad["error"]
    assert index["account-0001"]["status"] == "ok"


def test_a_failing_account_in_words(runs):
    """Without --json: the counts, then the account without a plan and its error."""
    text = " ".join(runs.failing_words.stdout.split())
    assert "3 accounts, 3 scenarios: 2 planned, 1 without a plan; 1 run now, 2 unchanged" in text
    assert "Without a plan" in text and "account-broken" in text and "missing.csv" in text
    assert str(runs.out / "index.csv") in text


def _on_a_terminal(*args: str | Path) -> tuple[int, str]:
    """Run adplan with its standard error on a terminal (a pty); return its code and that text."""
    main, side = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "NO_COLOR")}
    p = subprocess.Popen(
        [str(ADPLAN), *map(str, args)], stdout=subprocess.DEVNULL, stderr=side, env=env
    )
    os.close(side)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the other side closed: the process has finished writing
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    code = p.wait(timeout=300)
    return code, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode())


def test_a_terminal_shows_a_progress_bar(runs):
    code, shown = _on_a_terminal("batch", "run", runs.src, "--out", runs.out, "--workers", "1")
    assert code == 1
    assert "starting" in shown and "0/1" in shown
    assert "account-broken" in shown and "3/3" in shown
    assert "━" in shown


def test_an_unknown_executor_exits_2_naming_the_choices(runs, tmp_path):
    p = adplan("batch", "run", runs.src, "--out", tmp_path / "o", "--executor", "nope", code=2)
    assert "unknown executor 'nope'" in p.stderr and EXECUTORS in " ".join(p.stderr.split())
    assert p.stdout == ""
    assert not (tmp_path / "o").exists()


def test_no_accounts_exits_2(tmp_path):
    (tmp_path / "empty").mkdir()
    p = adplan("batch", "run", tmp_path / "empty", "--out", tmp_path / "o", "--json", code=2)
    assert "no account found" in p.stderr
    assert p.stdout == ""


def test_help_lists_batch_and_its_options():
    assert "batch" in adplan("--help").stdout.split()
    run_help = adplan("batch", "run", "--help").stdout
    for flag in ("--executor", "--workers", "--force", "--json", "--out"):
        assert flag in run_help
    assert "dask://HOST:PORT" in run_help
    assert "--accounts" in adplan("batch", "sample", "--help").stdout
