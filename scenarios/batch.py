"""Batch runs: every client account's scenario files, on an executor, resumable.

``run_batch(source, out, executor)`` finds the accounts (:func:`find_accounts`), runs each
account's scenario files (history -> forecast -> plans -> exports, ``run_scenario``) as one
task on the executor (``optimizer.parallel``; Dask and Ray through ``scenarios.cluster``) and
writes::

    OUT/<account>/<scenario>/...   what ``adplan scenario run`` writes for that scenario
    OUT/<account>/batch.json       the account's inputs digest, status and index rows
    OUT/index.csv, index.xlsx      one row per account and scenario: totals, status, error

An account that fails is reported in the index with its error; the others still run.
An account whose inputs (every file in its folder, the files its scenarios name, the
options, adplan's version) have the digest its ``batch.json`` records, with status ok (no
scenario failed; an infeasible base is an answer) and its files present, is not run again:
an interrupted batch resumes where it stopped.

Workers read the inputs at the paths the accounts have here (a cluster needs them on a
shared file system) and send the files they write back to this process, which writes OUT.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from optimizer.parallel import Executor, run_each

from .errors import ScenarioError
from .files import Scenario, load_scenario

MANIFEST = "batch.json"
#: held in OUT while a batch writes there
LOCK = ".adplan-batch.lock"
INDEX_COLUMNS = (
    "account", "scenario", "status", "ran", "currency", "result_type", "budget", "total_spend",
    "expected_results", "cost_per_result", "results_p10", "results_p90", "variants",
    "variants_infeasible", "seconds", "error", "folder",
)  # fmt: skip
_SCENARIO_SUFFIXES = (".yaml", ".yml")


class BatchError(ScenarioError, ValueError):
    """A batch cannot start: nothing matches, two accounts share a name, OUT is a file."""


@dataclass(frozen=True, slots=True)
class Account:
    """A client account: a folder and the scenario files in it."""

    name: str
    folder: Path
    scenario_files: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One row of the index: an account's scenario, its base plan's totals and its status.

    ``status`` is ok, infeasible (the base's rules cannot all hold) or failed (``error``);
    ``ran`` is ``now`` or ``unchanged`` (inputs as in the last run: not run again).
    """

    account: str
    scenario: str = ""
    status: str = "failed"
    ran: str = "now"
    currency: str = ""
    result_type: str = ""
    budget: float | None = None
    total_spend: float | None = None
    expected_results: float | None = None
    cost_per_result: float | None = None
    results_p10: float | None = None
    results_p90: float | None = None
    variants: int = 0
    variants_infeasible: int = 0
    seconds: float = 0.0
    error: str = ""
    folder: str = ""

    def to_dict(self) -> dict:
        """Return the row as a dict in :data:`INDEX_COLUMNS` order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class AccountJob:
    """What a worker needs to run one account (picklable, paths as on this machine)."""

    account: Account
    digest: str
    solver: str | None = None
    time_limit: float | None = None


@dataclass(frozen=True, slots=True)
class AccountResult:
    """What a worker sends back: the rows, the files written (relative path, bytes), its cost."""

    account: str
    rows: tuple[IndexRow, ...]
    files: tuple[tuple[str, bytes], ...] = ()
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    worker: str = ""


@dataclass
class BatchResult:
    """A batch's index rows, the accounts' worker figures and the files written."""

    rows: list[IndexRow] = field(default_factory=list)
    results: list[AccountResult] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    #: seconds spent here rather than in the workers: digests, writing OUT, the index
    client_seconds: float = 0.0

    @property
    def failed(self) -> list[IndexRow]:
        """Rows without a plan: failed, or infeasible."""
        return [r for r in self.rows if r.status != "ok"]


# -- finding accounts -------------------------------------------------------------------------


def is_scenario_file(path: Path) -> bool:
    """Whether ``path`` is a scenario file: YAML with a ``spec`` key, or YAML that is broken.

    A broken file is run (and fails, naming its error) rather than passed over in silence.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return True
    return isinstance(data, dict) and "spec" in data


def _scenario_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in _SCENARIO_SUFFIXES and p.is_file() and is_scenario_file(p)
    )


def _account(folder: Path, files: Iterable[Path] | None = None) -> Account:
    """Return the account of ``folder``, named after it (resolved: ``.`` is the folder's name)."""
    pick = sorted(f for f in files if is_scenario_file(f)) if files else _scenario_files(folder)
    # whole paths: a worker's folder is not this one's
    folder = folder.resolve()
    return Account(folder.name, folder, tuple(p.resolve() for p in pick))


def _is_out(folder: Path, out: Path | None) -> bool:
    return out is not None and folder.resolve() == out.resolve()


def find_accounts(source: str | Path, out: str | Path | None = None) -> list[Account]:
    """Return the accounts ``source`` names, sorted by name.

    A folder: each sub-folder holding scenario files is an account (the folder itself when
    it holds scenario files and no such sub-folder; both at once are refused). A glob: each
    folder it matches that holds scenario files is an account, and the scenario files it
    matches are grouped by their folder. ``out`` (the batch's OUT) is never an account.
    BatchError when nothing matches, or when two accounts would share a folder in OUT.
    """
    src = Path(source)
    out_path = Path(out) if out is not None else None
    if src.is_dir():
        subs = [p for p in sorted(src.iterdir()) if p.is_dir() and not _is_out(p, out_path)]
        accounts = [a for a in map(_account, subs) if a.scenario_files]
        top = _scenario_files(src)
        if accounts and top:
            raise BatchError(
                f"{source}: holds scenario files ({', '.join(p.name for p in top)}) and account "
                "folders: move the files into an account folder, or run them on their own"
            )
        accounts = accounts or [_account(src)]
    else:
        by_folder: dict[Path, list[Path]] = {}
        for m in map(Path, sorted(glob.glob(str(source)))):
            if m.is_dir() and not _is_out(m, out_path):
                by_folder.setdefault(m, [])
            elif m.is_file() and m.suffix.lower() in _SCENARIO_SUFFIXES:
                by_folder.setdefault(m.parent, []).append(m)
        accounts = [_account(f, files) for f, files in by_folder.items()]
        accounts = [a for a in accounts if a.scenario_files]
    if not accounts or (len(accounts) == 1 and not accounts[0].scenario_files and src.is_dir()):
        raise BatchError(
            f"{source}: no account found: give a folder of account folders, each holding "
            "scenario files (YAML with spec:), or a glob such as 'clients/*'"
        )
    _check_names(accounts)
    return sorted(accounts, key=lambda a: a.name)


#: names an account's folder in OUT cannot have (the index's files; nothing at all)
_RESERVED = {"", ".", "..", "index.csv", "index.xlsx"}


def _check_names(accounts: list[Account]) -> None:
    seen: dict[str, Path] = {}
    for a in accounts:
        if a.name.casefold() in _RESERVED or a.name.startswith("."):
            raise BatchError(
                f"{a.folder}: an account's folder cannot be named {a.name!r} (its files go to "
                "OUT/<folder name>, beside adplan's hidden working folders); rename the folder"
            )
        key = a.name.casefold()  # one folder in OUT on file systems that ignore case
        if key in seen:
            raise BatchError(
                f"two accounts are named {a.name!r}: {seen[key]} and {a.folder}; "
                "each account's folder needs its own name"
            )
        seen[key] = a.folder


# -- digests ----------------------------------------------------------------------------------


def _file_digest(h, path: Path, label: str) -> None:
    h.update(label.encode() + b"\0")
    try:
        h.update(path.read_bytes())
    except OSError as e:
        h.update(f"unreadable: {e}".encode())
    h.update(b"\0")


def account_digest(account: Account, options: dict, skip: Path | None = None) -> str:
    """Return the SHA-256 of everything an account's plans depend on.

    Every file in its folder (recursively, hidden ones aside), the history or curves files its
    scenarios name wherever they are, the scenarios as loaded (specs read from other files
    included), ``options`` and adplan's version. Files under ``skip`` (the batch's OUT, when
    it lies inside the account's folder) are left out.
    """
    from .cluster import adplan_version

    h = hashlib.sha256()
    h.update(json.dumps({"adplan": adplan_version(), **options}, sort_keys=True).encode())
    folder = account.folder.resolve()
    inside = skip is not None and skip.resolve().is_relative_to(folder)
    for p in sorted(account.folder.rglob("*")):
        rel = p.relative_to(account.folder)
        if inside and skip is not None and p.resolve().is_relative_to(skip.resolve()):
            continue
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            _file_digest(h, p, str(rel))
    for f in account.scenario_files:
        try:
            sc = load_scenario(f)
        except Exception as e:  # noqa: BLE001 - it fails when run too: digest its words
            h.update(str(e).encode())
            continue
        h.update(repr(sc).encode())
        for named in (sc.history_path, sc.curves_path):
            if named is not None:
                _file_digest(h, Path(named), str(named))
    return h.hexdigest()


# -- one account, in a worker -----------------------------------------------------------------


def _row(account: str, sc_name: str, run, seconds: float, folder: str) -> IndexRow:
    base = run.base
    infeasible = sum(1 for v in run.variants[1:] if not v.ok)
    common: dict[str, Any] = {
        "account": account, "scenario": sc_name, "variants": len(run.variants) - 1,
        "variants_infeasible": infeasible, "seconds": round(seconds, 3), "folder": folder,
    }  # fmt: skip
    if base.plan is None:
        return IndexRow(status="infeasible", error=base.error or "no plan", **common)
    p = base.plan
    total = (p.ranges or {}).get("total") or {}
    return IndexRow(
        status="ok",
        currency=p.currency,
        result_type=p.result_type,
        budget=p.budget,
        total_spend=p.total_spend,
        expected_results=p.expected_results,
        cost_per_result=p.cost_per_result,
        results_p10=total.get("p10"),
        results_p90=total.get("p90"),
        **common,
    )


def _error_words(e: Exception) -> str:
    from forecasting.errors import ForecastingError
    from optimizer import OptimizerError

    if isinstance(e, ScenarioError | ForecastingError | OptimizerError | OSError):
        return str(e)
    return f"internal error: {type(e).__name__}: {e}"


def _one_scenario(job: AccountJob, path: Path, tmp: Path, names: set[str]) -> IndexRow:
    from .runs import run_scenario

    t0 = time.perf_counter()
    name = job.account.name
    try:
        sc: Scenario = load_scenario(path)
        if sc.name.casefold() in names:  # one folder on file systems that ignore case
            return IndexRow(name, sc.name, error=f"{path.name}: {_TWICE}")
        names.add(sc.name.casefold())
        run = run_scenario(
            sc, tmp / sc.name, solver=job.solver, time_limit=job.time_limit, threads=1
        )
    except Exception as e:  # noqa: BLE001 - the account fails, the batch carries on
        words = _error_words(e)
        err = words if path.name in words else f"{path.name}: {words}"
        secs = round(time.perf_counter() - t0, 3)
        return IndexRow(name, path.stem, error=err, seconds=secs)
    return _row(name, sc.name, run, time.perf_counter() - t0, f"{name}/{sc.name}")


def _read_files(tmp: Path) -> tuple[tuple[str, bytes], ...]:
    return tuple(
        (p.relative_to(tmp).as_posix(), p.read_bytes())
        for p in sorted(tmp.rglob("*"))
        if p.is_file()
    )


def run_account(job: AccountJob) -> AccountResult:
    """Run every scenario file of ``job``'s account; return its rows and the files written.

    Runs in a worker (one thread); a scenario that fails gives a failed row, never raises.
    """
    import resource
    import socket

    t0 = time.perf_counter()
    rows: list[IndexRow] = []
    names: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="adplan-batch-") as d:
        tmp = Path(d)
        if not job.account.scenario_files:
            rows.append(IndexRow(job.account.name, error=_NO_SCENARIO))
        for path in job.account.scenario_files:
            rows.append(_one_scenario(job, path, tmp, names))
        files = _read_files(tmp)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = f"{socket.gethostname()}:{os.getpid()}"
    return AccountResult(
        job.account.name, tuple(rows), files, time.perf_counter() - t0, peak, worker
    )


_NO_SCENARIO = (
    "no scenario file in the folder (a scenario file is YAML with spec: and curves: or history:)"  # noqa: E501
)
_TWICE = "another scenario file of this account has the same name: give each its own name"


# -- the batch, here --------------------------------------------------------------------------


def _manifest(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def unchanged_rows(out: Path, account: Account, digest: str) -> tuple[IndexRow, ...] | None:
    """Return the account's rows from its last run if its inputs have not changed since.

    None (run it again) unless ``batch.json`` records ``digest``, status ok and files that
    are all still there.
    """
    folder = out / account.name
    m = _manifest(folder)
    if m is None or m.get("digest") != digest or m.get("status") != "ok":
        return None
    if not all((folder / f).is_file() for f in m.get("files", [])):
        return None
    try:
        rows = [IndexRow(**{**r, "ran": "unchanged"}) for r in m["rows"]]
    except (KeyError, TypeError):
        return None
    return tuple(rows)


def write_account(out: Path, job: AccountJob, res: AccountResult) -> Path:
    """Write an account's files and ``batch.json`` into OUT/<account>, replacing what was there.

    The files go to a hidden folder first; the last run's folder is then moved aside, the new
    one renamed into place and the old one removed, so OUT/<account> is always a whole run
    (:func:`settle` puts back one left aside by an interruption). An account that failed
    without writing anything (a lost worker) leaves its last run as it was.
    """
    name = job.account.name
    target = out / name
    if not res.files and all(r.status == "failed" for r in res.rows) and target.exists():
        return target
    staging, aside = out / f".{name}.partial", out / f".{name}.old"
    shutil.rmtree(staging, ignore_errors=True)
    for rel, data in res.files:
        p = staging / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    # an infeasible base is an answer (the same inputs give it again): only failures rerun
    status = "failed" if any(r.status == "failed" for r in res.rows) else "ok"
    manifest = {
        "account": name,
        "folder": str(job.account.folder),
        "digest": job.digest,
        "status": status,
        "files": [rel for rel, _ in res.files],
        "rows": [r.to_dict() for r in res.rows],
    }
    staging.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest, indent=2, allow_nan=False, default=str) + "\n"
    (staging / MANIFEST).write_text(text, encoding="utf-8")
    if target.exists():
        target.rename(aside)
    try:
        staging.rename(target)
    except OSError:
        if aside.exists() and not target.exists():
            aside.rename(target)  # the last run, whole, rather than nothing
        raise
    shutil.rmtree(aside, ignore_errors=True)
    return target


def settle(out: Path, accounts: list[Account], force: bool = False) -> None:
    """Check OUT can take the accounts' folders, and tidy what an interrupted run left.

    BatchError (before anything runs) when OUT/<account> would be an account's own folder
    or hold one, is a folder adplan did not write (no ``batch.json``), or holds another
    folder's account of the same name (unless ``force``). A run left aside and not replaced
    is put back; a half-written one is removed.
    """
    for a in accounts:
        target, folder = (out / a.name).resolve(), a.folder.resolve()
        if folder == target or folder.is_relative_to(target):
            raise BatchError(
                f"--out {out}: {out / a.name} would be the account's own folder {a.folder}; "
                "give an --out outside the accounts' folders"
            )
        aside = out / f".{a.name}.old"
        if aside.is_dir() and not target.exists():
            aside.rename(target)
        shutil.rmtree(out / f".{a.name}.partial", ignore_errors=True)
        shutil.rmtree(aside, ignore_errors=True)
        if target.exists() and not (target / MANIFEST).is_file():
            raise BatchError(
                f"--out {out}: {out / a.name} exists and was not written by adplan batch (no "
                f"{MANIFEST}); give another --out, or move that folder"
            )
        was = (_manifest(target) or {}).get("folder")
        if not force and was is not None and Path(was) != a.folder:
            raise BatchError(
                f"--out {out}: {out / a.name} holds the account of {was}, not of {a.folder}; "
                "give another --out, or --force to replace it"
            )


def _failed_result(job: AccountJob, error: BaseException | None) -> AccountResult:
    words = _error_words(error) if isinstance(error, Exception) else str(error)
    return AccountResult(job.account.name, (IndexRow(job.account.name, error=words),))


def _plan_accounts(root: Path, accounts: list[Account], options: dict, force: bool):
    """Return (rows of the unchanged accounts, jobs of the others)."""
    rows: dict[str, tuple[IndexRow, ...]] = {}
    todo: list[AccountJob] = []
    for a in accounts:
        digest = account_digest(a, options, skip=root)
        kept = None if force else unchanged_rows(root, a, digest)
        if kept is not None:
            rows[a.name] = kept
        else:
            todo.append(AccountJob(a, digest, options["solver"], options["time_limit"]))
    return rows, todo


def _written(root: Path, job: AccountJob, res: AccountResult) -> AccountResult:
    """Write the account's files; a write that fails makes the account fail, not the batch."""
    try:
        write_account(root, job, res)
    except OSError as e:
        row = IndexRow(job.account.name, error=f"could not write {root / job.account.name}: {e}")
        return AccountResult(res.account, (row,), (), res.seconds, res.peak_rss_mb, res.worker)
    return AccountResult(res.account, res.rows, (), res.seconds, res.peak_rss_mb, res.worker)


def run_batch(  # noqa: PLR0913 (one argument per option)
    source: str | Path,
    out: str | Path,
    executor: Executor | None = None,
    *,
    solver: str | None = None,
    time_limit: float | None = None,
    force: bool = False,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> BatchResult:
    """Run every account ``source`` names on ``executor``; write OUT (module docstring).

    ``force`` runs accounts whose inputs have not changed too. ``on_progress(message, done,
    total)`` is called as accounts finish. Returns the index rows (``failed``: those without
    a plan) and each account's worker figures. The index of an earlier run is removed first:
    until this one ends, OUT holds no index that disagrees with its folders.
    """
    t0 = time.perf_counter()
    progress = on_progress or (lambda *_: None)
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise BatchError(f"--out {root}: is a file; give a folder")
    accounts = find_accounts(source, root)
    root.mkdir(parents=True, exist_ok=True)
    with _only_run(root):
        return _run(root, accounts, executor, (solver, time_limit, force), progress, t0)


@contextlib.contextmanager
def _only_run(root: Path) -> Iterator[None]:
    """Hold OUT's lock for the run: a second batch on the same OUT is refused, not mixed in."""
    import fcntl

    with open(root / LOCK, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BatchError(
                f"--out {root}: another adplan batch is writing there; wait for it to end, "
                "or give another --out"
            ) from None
        try:
            yield
        finally:
            (root / LOCK).unlink(missing_ok=True)


def _run(root: Path, accounts, executor, options: tuple, progress, t0: float) -> BatchResult:  # noqa: PLR0913
    """Run the accounts that changed, write OUT; ``options`` = (solver, time_limit, force)."""
    solver, time_limit, force = options
    settle(root, accounts, force)
    for name in ("index.csv", "index.xlsx"):
        (root / name).unlink(missing_ok=True)
    rows, todo = _plan_accounts(root, accounts, {"solver": solver, "time_limit": time_limit}, force)
    total, done = len(accounts), len(rows)
    progress(f"{done} accounts unchanged", done, total)
    result = BatchResult()
    here = time.perf_counter() - t0
    for o in run_each(executor, run_account, todo, batch_size=1):
        t1 = time.perf_counter()
        job = todo[o.index]
        res = _written(root, job, o.value if o.ok else _failed_result(job, o.error))
        rows[job.account.name] = res.rows
        result.results.append(res)
        done += 1
        progress(job.account.name, done, total)
        here += time.perf_counter() - t1
    result.rows = [r for a in accounts for r in rows[a.name]]
    from .exports.index import write_index

    t1 = time.perf_counter()
    result.files = write_index(root, result.rows)
    result.seconds = time.perf_counter() - t0
    result.client_seconds = here + result.seconds - (t1 - t0)
    return result
