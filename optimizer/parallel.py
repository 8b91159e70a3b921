"""The executor seam: where adplan's embarrassingly parallel work runs.

Scenario variants and files, an agency's accounts, frontier budgets and backtest folds are
independent tasks. Library functions that run such tasks take an ``executor``:

- ``None`` (the default): in this process, one after another, as before;
- :class:`LocalProcesses`: a pool of local processes (``spawn``), one thread each (HiGHS
  instances sharing a process have crashed: HiGHS issue 3141; BLAS threads are set to 1);
- a Dask or Ray cluster: ``scenarios.cluster`` adapts them (the only module that imports
  them); ``scenarios.cluster.executor_from_url("dask://HOST:PORT")`` returns one.

An executor runs a picklable module-level function over batches of items: many tiny tasks
stall a scheduler (Dask), so :func:`batches` groups items into a few per worker.
:func:`run_each` yields each item's :class:`Outcome` as its batch finishes (a failure is an
outcome, never lost); :func:`map_ordered` returns the results in order and raises the first
failure.
"""

from __future__ import annotations

import os
import pickle
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import OptimizerError

#: environment variables that limit BLAS and OpenMP pools to one thread in a worker
ONE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
#: batches per worker when items are grouped (enough to balance uneven tasks)
BATCHES_PER_WORKER = 4


class TaskError(OptimizerError, RuntimeError):
    """A task failed in a worker and its exception could not travel back as it was.

    Also a worker lost while it ran the task (killed, out of memory): the words say which.
    """


@dataclass(frozen=True, slots=True)
class Outcome:
    """One item's result, or the error it raised (``error`` is then set, ``value`` None)."""

    index: int
    value: Any = None
    error: BaseException | None = None
    trace: str = ""

    @property
    def ok(self) -> bool:
        """Whether the item gave a result."""
        return self.error is None

    def result(self) -> Any:
        """Return the value, or raise the item's error."""
        if self.error is not None:
            raise self.error
        return self.value


#: a batch: ``(index, item)`` pairs; a batch function runs a task over one
Batch = list[tuple[int, Any]]
BatchFn = Callable[[Callable, Batch], list[Outcome]]


class Executor(Protocol):
    """What adplan needs of an executor: run ``fn(batch)`` for each batch, report as done.

    ``submit_batches(fn, batches)`` yields ``(batch number, list of outcomes)`` in the order
    the batches finish; ``fn`` is ``run_batch``-shaped (see :func:`run_batch`).
    """

    @property
    def workers(self) -> int:
        """How many tasks run at once."""
        ...

    def submit_batches(
        self, fn: BatchFn, task: Callable, batches: list[Batch]
    ) -> Iterator[tuple[int, list[Outcome]]]:
        """Run ``fn(task, batch)`` for every batch; yield each batch's outcomes as it finishes."""
        ...

    def close(self) -> None:
        """Release the executor's workers (or the connection it holds)."""
        ...


def _travels(e: BaseException) -> BaseException:
    """Return ``e`` if it survives pickling as it is, else a :class:`TaskError` with its words."""
    try:
        back = pickle.loads(pickle.dumps(e))
    except Exception:  # noqa: BLE001 - any failure to travel: send the words
        back = None
    if back is None or str(back) != str(e) or type(back) is not type(e):
        return TaskError(f"{type(e).__name__}: {e}")
    return e


def run_batch(task: Callable, batch: list[tuple[int, Any]]) -> list[Outcome]:
    """Run ``task(item)`` on each ``(index, item)`` of ``batch``; every failure is an outcome.

    Runs in the worker, limited to one thread (:func:`one_thread`). An exception is sent
    back as it is when it survives pickling, else as a :class:`TaskError` with its type and
    words; its traceback travels as text.
    """
    one_thread()
    out = []
    with _RUN_LOCK:  # one batch at a time per process, whatever threads its executor runs
        for i, item in batch:
            try:
                out.append(Outcome(i, task(item)))
            except Exception as e:  # noqa: BLE001 - the caller decides what a failure means
                out.append(Outcome(i, error=_travels(e), trace=traceback.format_exc()))
    return out


def batches(n: int, workers: int, size: int | None = None) -> list[list[int]]:
    """Split ``range(n)`` into contiguous batches of ``size`` (None: a few per worker).

    With ``size`` None there are about :data:`BATCHES_PER_WORKER` batches per worker.
    """
    if size is None:
        size = max(1, -(-n // (max(workers, 1) * BATCHES_PER_WORKER)))
    elif size < 1:  # a step of 0 or less would lose every item
        raise ValueError(f"batch size must be at least 1, got {size}")
    return [list(range(a, min(a + size, n))) for a in range(0, n, size)]


def run_each(
    executor: Executor | None, task: Callable, items: Sequence, *, batch_size: int | None = None
) -> Iterator[Outcome]:
    """Yield each item's :class:`Outcome` of ``task(item)`` as its batch finishes.

    With ``executor`` None the items run here, in order.
    """
    if executor is None:  # here: an error is raised as it is, nothing travels
        for i, item in enumerate(items):
            try:
                yield Outcome(i, task(item))
            except Exception as e:  # noqa: BLE001 - the caller decides what a failure means
                yield Outcome(i, error=e, trace=traceback.format_exc())
        return
    groups = [[(i, items[i]) for i in b] for b in batches(len(items), executor.workers, batch_size)]
    for _, outs in executor.submit_batches(run_batch, task, groups):
        yield from outs


def map_ordered(
    executor: Executor | None, task: Callable, items: Sequence, *, batch_size: int | None = None
) -> list:
    """Return ``[task(item) for item in items]``, run on ``executor``; raise the first failure."""
    out: list = [None] * len(items)
    failed: list[Outcome] = []
    for o in run_each(executor, task, items, batch_size=batch_size):
        if o.ok:
            out[o.index] = o.value
        else:
            failed.append(o)
    if failed:
        raise min(failed, key=lambda o: o.index).error  # type: ignore[misc]
    return out


#: held while a batch runs (:func:`run_batch`): a worker process of several threads still
#: solves one plan at a time (HiGHS instances in threads of one process: HiGHS issue 3141)
_RUN_LOCK = threading.Lock()
#: set in a worker by :func:`one_thread`: HiGHS then runs one thread too (``solvers``)
_ONE_THREAD = False


def in_one_thread() -> bool:
    """Whether this process is a worker limited to one thread (:func:`one_thread`)."""
    return _ONE_THREAD


def one_thread() -> None:
    """Limit this process to one thread: BLAS, OpenMP and HiGHS (run by every worker).

    Idempotent and cheap after the first call.
    """
    global _ONE_THREAD  # noqa: PLW0603 - one flag per process
    if _ONE_THREAD:
        return
    _ONE_THREAD = True
    os.environ.update(ONE_THREAD_ENV)
    try:  # already loaded libraries: threadpoolctl (scikit-learn's) limits them too
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return
    threadpool_limits(1)


class LocalProcesses:
    """A pool of ``workers`` local processes (``spawn``), one thread each.

    ``workers`` None: one per CPU. The pool starts on first use and lasts until
    :meth:`close` (or the end of a ``with`` block).
    """

    def __init__(self, workers: int | None = None) -> None:
        n = (os.cpu_count() or 1) if workers is None else int(workers)
        if n < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._workers = n
        self._pool: ProcessPoolExecutor | None = None

    @property
    def workers(self) -> int:
        """How many processes run tasks."""
        return self._workers

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(
                self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=one_thread,
            )
        return self._pool

    def submit_batches(
        self, fn: BatchFn, task: Callable, batches: list[Batch]
    ) -> Iterator[tuple[int, list[Outcome]]]:
        """Run ``fn(task, batch)`` for every batch in the pool; yield them as they finish.

        At most ``workers`` batches are in the pool at once. A worker that dies breaks the
        whole pool and fails every batch in it: each such batch runs once more, alone, at the
        end, so only the batch that kills its worker again is reported failed.
        """
        queue = deque(enumerate(batches))
        again: deque[int] = deque()
        running: dict[Future, tuple[int, bool]] = {}
        while queue or again or running:
            while queue and len(running) < self._workers:
                k, b = queue.popleft()
                running[self._submit(fn, task, b)] = (k, False)
            if not running:
                k = again.popleft()
                running[self._submit(fn, task, batches[k])] = (k, True)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in done:
                k, alone = running.pop(f)
                if not alone and isinstance(f.exception(), BrokenProcessPool):
                    again.append(k)
                    continue
                yield k, _batch_outcomes(f, batches[k])

    def _submit(self, fn: BatchFn, task: Callable, batch: Batch) -> Future:
        """Submit one batch; a pool broken by a lost worker is replaced by a fresh one.

        A worker that dies (``os._exit``, killed, out of memory) breaks the whole pool: its
        running and pending batches fail (see :func:`failed_batch`) and it takes no more.
        """
        try:
            return self._started().submit(fn, task, batch)
        except BrokenProcessPool:
            self.close()
            return self._started().submit(fn, task, batch)

    def close(self) -> None:
        """Stop the pool's processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalProcesses(workers={self._workers})"


def _batch_outcomes(f: Future, batch: list[tuple[int, Any]]) -> list[Outcome]:
    """Return a finished batch's outcomes; if the worker itself failed, each item fails."""
    try:
        return f.result()
    except Exception as e:  # noqa: BLE001 - a worker lost (killed, out of memory...)
        return failed_batch(batch, e)


def failed_batch(batch: list[tuple[int, Any]], e: BaseException) -> list[Outcome]:
    """Return an outcome per item of ``batch``, each failed with the worker's error ``e``."""
    err = TaskError(f"the worker running it failed: {type(e).__name__}: {e}")
    return [Outcome(i, error=err) for i, _ in batch]
