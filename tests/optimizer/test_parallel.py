"""The executor seam: batches, outcomes and errors, a real process pool, the frontier on it."""

from __future__ import annotations

import os
import threading
import time

import pytest

from optimizer import frontier
from optimizer.parallel import (
    LocalProcesses,
    Outcome,
    TaskError,
    batches,
    map_ordered,
    run_each,
)
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves

# -- tasks: module-level so that a spawned worker can import them ---------------------------


def _square(x: int) -> int:
    return x * x


def _fail_on_some(x: int) -> int:
    """Items 1 and 6 fail; 1 only after a pause, so that 6's batch fails first."""
    if x == 1:
        time.sleep(0.3)
    if x in (1, 6):
        raise ValueError(f"bad item {x}")
    return x * x


class TwoArgError(Exception):
    """Pickles, but cannot be rebuilt from its args (``__init__`` needs two)."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what} failed: {why}")


class LockError(Exception):
    """Holds a lock: cannot be pickled at all."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


def _raise_two_arg(x: int) -> int:
    if x == 1:
        raise TwoArgError("item 1", "no reason")
    return x


def _raise_lock(x: int) -> int:
    if x == 0:
        raise LockError("locked out")
    return x


def _return_lock(x: int):
    return threading.Lock() if x == 1 else x


def _die_on(x):
    if x == "die":
        os._exit(1)
    return x


def _thread_settings(_):
    import numpy  # noqa: F401 - loads BLAS in the worker, after its initializer ran
    from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

    return os.environ.get("OMP_NUM_THREADS"), [p["num_threads"] for p in threadpool_info()]


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(params=["here", "pool"])
def executor(request, pool):
    """No executor (this process, in order) and the real process pool."""
    return None if request.param == "here" else pool


# -- batches --------------------------------------------------------------------------------


def test_batches_small_cases_exactly():
    assert batches(0, 2) == []
    assert batches(0, 2, 3) == []
    assert batches(0, 2, 1) == []
    assert batches(3, 2, 1) == [[0], [1], [2]]
    assert batches(10, 1, 4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches(10, 2) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]  # 8 wanted: size 2
    assert batches(5, 8) == [[0], [1], [2], [3], [4]]  # more workers than items


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 33, 100])
@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("size", [None, 1, 3, 200])
def test_batches_cover_every_index_once_contiguously(n, workers, size):
    got = batches(n, workers, size)
    assert [i for b in got for i in b] == list(range(n))
    assert all(b == list(range(b[0], b[-1] + 1)) for b in got)
    want = size if size is not None else -(-n // (workers * 4))
    assert all(len(b) == want for b in got[:-1])
    assert 1 <= len(got[-1]) <= want
    if size is None:
        assert len(got) <= workers * 4


@pytest.mark.parametrize("size", [0, -1])
def test_batches_refuse_a_size_below_one(size):
    with pytest.raises(ValueError, match="at least 1"):
        batches(5, 2, size)


# -- LocalProcesses -------------------------------------------------------------------------


def test_local_processes_workers():
    with pytest.raises(ValueError, match="at least 1"):
        LocalProcesses(0)
    with pytest.raises(ValueError, match="at least 1"):
        LocalProcesses(-2)
    assert LocalProcesses().workers == (os.cpu_count() or 1)
    assert LocalProcesses(3).workers == 3
    assert repr(LocalProcesses(3)) == "LocalProcesses(workers=3)"


def test_workers_run_with_one_blas_thread(pool):
    for env, threads in map_ordered(pool, _thread_settings, range(4), batch_size=1):
        assert env == "1"
        assert threads and set(threads) == {1}


# -- results and errors, here and in the pool -----------------------------------------------


@pytest.mark.parametrize("batch_size", [None, 1, 4])
def test_map_ordered_keeps_the_order(executor, batch_size):
    items = list(range(23))
    assert map_ordered(executor, _square, items, batch_size=batch_size) == [x * x for x in items]
    assert map_ordered(executor, _square, [], batch_size=batch_size) == []


def test_run_each_gives_every_outcome_once(executor):
    outs = list(run_each(executor, _fail_on_some, list(range(9)), batch_size=1))
    assert sorted(o.index for o in outs) == list(range(9))
    if executor is None:
        assert [o.index for o in outs] == list(range(9))  # here: in order
    for o in outs:
        assert isinstance(o, Outcome)
        if o.index in (1, 6):
            assert not o.ok and o.value is None
            assert type(o.error) is ValueError and str(o.error) == f"bad item {o.index}"
            assert "ValueError: bad item" in o.trace and "_fail_on_some" in o.trace
            with pytest.raises(ValueError, match=f"bad item {o.index}"):
                o.result()
        else:
            assert o.ok and o.result() == o.index**2 and o.trace == ""


@pytest.mark.parametrize("batch_size", [None, 1])
def test_map_ordered_raises_the_first_failure_by_index(executor, batch_size):
    # item 6 fails before item 1 does (1 pauses first): the error raised is item 1's
    with pytest.raises(ValueError, match=r"^bad item 1$"):
        map_ordered(executor, _fail_on_some, list(range(9)), batch_size=batch_size)


def test_an_exception_that_cannot_be_rebuilt_comes_back_as_task_error(executor):
    outs = sorted(run_each(executor, _raise_two_arg, [0, 1, 2], batch_size=1), key=_index)
    assert [o.ok for o in outs] == [True, False, True]
    err = outs[1].error
    assert "TwoArgError" in outs[1].trace
    if executor is None:  # here nothing travels: the error is raised as it was
        assert type(err) is TwoArgError and str(err) == "item 1 failed: no reason"
        return
    # a spawned worker has no tblib pickling support (distributed installs it where imported)
    assert type(err) is TaskError
    assert str(err) == "TwoArgError: item 1 failed: no reason"
    with pytest.raises(TaskError, match=r"^TwoArgError: item 1 failed: no reason$"):
        map_ordered(executor, _raise_two_arg, [0, 1, 2])


def test_an_exception_holding_a_lock_comes_back_as_task_error(executor):
    want = LockError if executor is None else TaskError
    words = r"^locked out$" if executor is None else r"^LockError: locked out$"
    with pytest.raises(want, match=words):
        map_ordered(executor, _raise_lock, [0, 1])


def test_a_result_that_cannot_travel_fails_its_batch_only(pool):
    outs = sorted(run_each(pool, _return_lock, [0, 1, 2], batch_size=1), key=_index)
    assert [o.ok for o in outs] == [True, False, True]
    assert [o.value for o in outs] == [0, None, 2]
    assert type(outs[1].error) is TaskError
    assert str(outs[1].error).startswith("the worker running it failed:")
    assert "lock" in str(outs[1].error)


def _index(o: Outcome) -> int:
    return o.index


# -- a worker that dies ---------------------------------------------------------------------


def test_a_dead_worker_fails_its_batch_and_the_pool_recovers(pool):
    outs = sorted(run_each(pool, _die_on, ["a", "die", "b"], batch_size=3), key=_index)
    assert [o.index for o in outs] == [0, 1, 2]
    for o in outs:  # one batch: every item of it fails, none is lost
        assert type(o.error) is TaskError
        assert str(o.error).startswith("the worker running it failed: BrokenProcessPool")
    # the broken pool is replaced: later calls run
    assert map_ordered(pool, _square, [1, 2, 3], batch_size=1) == [1, 4, 9]


def test_a_dead_worker_among_batches(pool):
    items = ["a", "b", "die", "c", "d"]
    outs = sorted(run_each(pool, _die_on, items, batch_size=1), key=_index)
    assert [o.index for o in outs] == [0, 1, 2, 3, 4]
    assert type(outs[2].error) is TaskError and "BrokenProcessPool" in str(outs[2].error)
    # the batches the broken pool took down with it run again, alone: only "die" fails
    assert [o.value for o in outs if o.ok] == ["a", "b", "c", "d"]
    with pytest.raises(TaskError, match="BrokenProcessPool"):
        map_ordered(pool, _die_on, items, batch_size=1)
    assert map_ordered(pool, _square, [4, 5]) == [16, 25]


def test_a_closed_pool_starts_again_on_use(pool):
    pool.close()
    pool.close()  # twice is harmless
    assert map_ordered(pool, _square, [2, 3], batch_size=1) == [4, 9]


# -- the frontier on the pool equals the frontier here --------------------------------------

SPEC = {
    "budget": 30000,
    "networks": {"net00": {"max_share": 0.4}, "net01": {"min": 2000}},
    "periods": {"2027-W02": {"max": 15000}},
}


@pytest.fixture(scope="module")
def curves():
    return synthetic_curves(4, 5, 3, 5, seed=3)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize(
    "budgets",
    [
        [60000, 5000, 30000, 120000, 15000, 400000, 1000, 45000],  # unsorted, one infeasible
        [30000, 15000, 30000, 15000, 60000, 15000],  # duplicates
        [22000, 41000],  # one budget per worker
        [30000],
    ],
    ids=["unsorted", "duplicates", "two", "single"],
)
def test_frontier_on_the_pool_equals_the_frontier_here(curves, pool, solver, budgets):
    here = frontier(curves, SPEC, budgets, solver=solver)
    there = frontier(curves, SPEC, budgets, solver=solver, executor=pool)
    assert len(there) == len(here) == len(budgets)
    assert [p["budget"] for p in there] == [float(b) for b in budgets]
    for a, b in zip(here, there, strict=True):
        assert b.keys() == a.keys()
        assert b["status"] == a["status"]
        if a["expected_results"] is None:
            assert b["expected_results"] is None
        else:
            assert b["expected_results"] == pytest.approx(a["expected_results"], rel=1e-9)
    if 1000 in budgets:
        assert {p["status"] for p in there} == {"optimal", "infeasible"}


def test_the_frontier_checks_the_time_limit_as_typed_on_an_executor():
    from optimizer.errors import SpecError

    curves = synthetic_curves(networks=2, segments=2, periods=2, tiers=2)
    spec = benchmark_spec_dict(curves)
    ex = LocalProcesses(2)  # never started: refused before any task
    with pytest.raises(SpecError, match="at most 86,400"):
        frontier(curves, spec, [1000.0, 2000.0], time_limit=90_000, executor=ex)
