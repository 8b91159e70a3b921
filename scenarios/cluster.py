"""Executors on Dask and Ray: the one module of adplan that imports them.

``executor_from_url(text, workers)`` turns what a user types into an executor
(``optimizer.parallel``):

==========================  ================================================================
``local``                   local processes, ``workers`` of them (default: one per CPU)
``dask``                    a Dask ``LocalCluster`` of ``workers`` processes, one thread each
``dask://HOST:PORT``        an existing Dask ``distributed`` scheduler
``ray``                     Ray on this machine: the cluster ``RAY_ADDRESS`` names or one
                            ``ray start`` left running here, else a new local one of
                            ``workers`` CPUs
``ray://HOST:PORT``         an existing Ray cluster through Ray Client
==========================  ================================================================

Dask and Ray are optional: ``pip install 'adplan[dask]'`` or ``'adplan[ray]'``. Their workers
must run the same adplan (checked on connecting: :class:`ClusterError` names what differs).
Tasks are ``optimizer.parallel.run_batch`` over batches; a batch lost with its worker comes
back as failed items, never as a crash of the caller.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from optimizer.parallel import Batch, BatchFn, LocalProcesses, Outcome, failed_batch

from .errors import ScenarioError

_ADDRESS = re.compile(r"^(dask|ray)://([A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$")
EXECUTOR_HELP = "local, dask, dask://HOST:PORT, ray or ray://HOST:PORT"
#: seconds an address may take to accept a connection (Dask and Ray retry for 30 s)
CONNECT_TIMEOUT_S = 10
#: seconds a Ray cluster has to run the version check (a cluster of no free CPU never does)
VERSION_TIMEOUT_S = 120
# a Ray Client head that fails to start this client's server is asked again
RAY_CLIENT_TRIES = 3
RAY_CLIENT_PAUSE_S = 5.0


class ClusterError(ScenarioError):
    """An executor that cannot be used: unknown, its package missing, workers that differ."""


def adplan_version() -> str:
    """Return this process's adplan version (what every worker must run too)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("adplan")
    except PackageNotFoundError:  # pragma: no cover - a tree that is not installed
        return "unknown"


def _missing(module: str, extra: str) -> ClusterError:
    return ClusterError(
        f"the {extra.capitalize()} executor needs {module}: pip install 'adplan[{extra}]'"
    )


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise _missing("distributed", "dask") from None
    return distributed


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise _missing("ray", "ray") from None
    return ray


def _check_workers(executor, ask: Callable[[], dict[str, str]], where: str) -> None:
    """Check every worker runs this adplan; close ``executor`` and raise ClusterError if not.

    ``ask()`` returns each worker's version; a worker that cannot answer (adplan missing,
    an older one without this module) is refused in words too.
    """
    try:
        found = ask()
    except Exception as e:  # noqa: BLE001 - whatever a worker without adplan raises
        executor.close()
        raise ClusterError(
            f"{where}: the workers could not run adplan ({type(e).__name__}: {e}); install "
            f"adplan {adplan_version()} with its extra on every worker"
        ) from None
    try:
        _check_versions(found, where)
    except ClusterError:
        executor.close()
        raise


def _check_versions(found: dict[str, str], where: str) -> None:
    mine = adplan_version()
    other = sorted({v for v in found.values() if v != mine})
    if other:
        raise ClusterError(
            f"{where}: workers run adplan {', '.join(other)}, this machine runs {mine}: "
            "install the same adplan on every worker"
        )


class DaskExecutor:
    """Batches as Dask futures on a ``distributed`` scheduler (``address``) or a local cluster.

    With no address a ``LocalCluster`` of ``workers`` processes (one thread each) is started
    and closed with the executor.
    """

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        distributed = _distributed()
        self._cluster = None
        if address is None:
            self._cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            address = self._cluster.scheduler_address
        try:
            self.client = distributed.Client(address, timeout=30)
        except OSError as e:
            self.close()
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {e}") from None
        self.address = address
        self._one_thread_workers()
        _check_workers(self, lambda: self.client.run(adplan_version), f"Dask at {address}")

    def _one_thread_workers(self) -> None:
        """Wait for a worker; ClusterError (closed) if none comes or one runs several threads.

        Tasks in threads of one process would share it with other HiGHS solves (HiGHS issue
        3141): adplan takes workers of one thread each, as many as you like.
        """
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - a TimeoutError whatever its module
            self.close()
            raise ClusterError(
                f"Dask at {self.address}: no worker joined within {CONNECT_TIMEOUT_S:g} s; "
                "start workers: dask worker ADDRESS --nthreads 1"
            ) from None
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        many = sorted({int(w.get("nthreads", 1)) for w in info.values()} - {1})
        if many:
            self.close()
            raise ClusterError(
                f"Dask at {self.address}: workers run {', '.join(map(str, many))} threads each; "
                "adplan solves one plan per process (HiGHS issue 3141): start them with "
                "--nthreads 1 (and more --nworkers)"
            )

    @property
    def workers(self) -> int:
        """Threads across the cluster's workers (each runs one task at a time)."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.values()))

    def submit_batches(
        self, fn: BatchFn, task: Callable, batches: list[Batch]
    ) -> Iterator[tuple[int, list[Outcome]]]:
        """Submit every batch; yield each one's outcomes as it finishes."""
        from distributed import as_completed

        futures = [self.client.submit(fn, task, b, pure=False) for b in batches]
        index = {f.key: k for k, f in enumerate(futures)}
        done = as_completed(futures)
        del futures  # each result is released once read (a batch's files can be large)
        for f in done:
            k = index[f.key]
            try:
                out = f.result()
            except Exception as e:  # noqa: BLE001 - a lost worker: its items fail
                out = failed_batch(batches[k], e)
            f.release()
            yield k, out

    def close(self) -> None:
        """Close the client, and the local cluster if this executor started it."""
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __repr__(self) -> str:
        return f"DaskExecutor({getattr(self, 'address', None)!r})"


class RayExecutor:
    """Batches as Ray tasks (one CPU each) on ``address`` (``ray://HOST:PORT``) or locally.

    With no address Ray joins the cluster ``RAY_ADDRESS`` names or one ``ray start`` left on
    this machine (with its CPUs), else starts a local one of ``workers`` CPUs; an instance
    this executor started is shut down with it.
    """

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        ray = _ray()
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            kw: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
            if address is None and workers is not None and not os.environ.get("RAY_ADDRESS"):
                kw["num_cpus"] = workers  # joining RAY_ADDRESS's cluster, Ray refuses num_cpus
            _ray_init(ray, address, kw)
        self.address = address or os.environ.get("RAY_ADDRESS") or "local"
        remote_version = ray.remote(num_cpus=1)(adplan_version)
        _check_workers(
            self,
            lambda: {"ray": ray.get(remote_version.remote(), timeout=VERSION_TIMEOUT_S)},
            f"Ray at {self.address}",
        )

    @property
    def workers(self) -> int:
        """CPUs in the Ray cluster (each task takes one)."""
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def submit_batches(
        self, fn: BatchFn, task: Callable, batches: list[Batch]
    ) -> Iterator[tuple[int, list[Outcome]]]:
        """Submit every batch as a Ray task; yield each one's outcomes as it finishes."""
        ray = self._ray
        remote = ray.remote(num_cpus=1, max_retries=1)(fn)  # a lost worker: once more
        pending = [remote.remote(task, b) for b in batches]
        index = {r.hex(): k for k, r in enumerate(pending)}
        while pending:  # a result is released once read: nothing else holds its reference
            ready, pending = ray.wait(pending, num_returns=1)
            k = index[ready[0].hex()]
            try:
                out = ray.get(ready[0])
            except Exception as e:  # noqa: BLE001 - a lost worker: its items fail
                out = failed_batch(batches[k], e)
            del ready
            yield k, out

    def close(self) -> None:
        """Shut Ray down if this executor started it."""
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False

    def __repr__(self) -> str:
        return f"RayExecutor({self.address!r})"


def _ray_init(ray, address: str | None, kw: dict[str, Any]) -> None:
    """Start or join Ray; ClusterError in words if it cannot.

    Joining a cluster already running on this machine, Ray refuses ``num_cpus``: the
    cluster's CPUs are used then. A Ray Client head that fails to start this client's
    server (``ConnectionAbortedError``, "Initialization failure from server") is asked
    again, RAY_CLIENT_TRIES times in all, RAY_CLIENT_PAUSE_S apart.
    """
    for attempt in range(1, RAY_CLIENT_TRIES + 1):
        try:
            _ray_init_once(ray, address, kw)
            return
        except ConnectionAbortedError as e:
            if attempt == RAY_CLIENT_TRIES or not (address or "").startswith("ray://"):
                raise ClusterError(
                    f"cannot start or reach Ray at {address or 'local'}: {e}"
                ) from None
            time.sleep(RAY_CLIENT_PAUSE_S)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise ClusterError(f"cannot start or reach Ray at {address or 'local'}: {e}") from None


def _ray_init_once(ray, address: str | None, kw: dict[str, Any]) -> None:
    try:
        ray.init(address=address, **kw)
    except ValueError as e:
        if "num_cpus" not in kw or "num_cpus" not in str(e):
            raise
        ray.init(address=address, **{k: v for k, v in kw.items() if k != "num_cpus"})


def _reachable(kind: str, host: str, port: int) -> None:
    """Raise ClusterError now when nothing accepts a connection at ``host:port``."""
    import socket

    try:
        socket.create_connection((host.strip("[]"), port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        what = "the Dask scheduler" if kind == "dask" else "Ray"
        raise ClusterError(
            f"cannot reach {what} at {kind}://{host}:{port}: {e.strerror or e}"
        ) from None


def executor_from_url(text: str, workers: int | None = None):
    """Return the executor ``text`` names (see the module docstring); ClusterError if none."""
    t = (text or "").strip()
    if workers is not None and workers < 1:
        raise ClusterError(f"--workers must be at least 1, got {workers}")
    if t == "local":
        return LocalProcesses(workers)
    if t == "dask":
        return DaskExecutor(None, workers)
    if t == "ray":
        return RayExecutor(None, workers)
    m = _ADDRESS.match(t)
    if m is None:
        raise ClusterError(f"unknown executor {text!r}: give {EXECUTOR_HELP}")
    kind, host, port = m.group(1), m.group(2), int(m.group(3))
    if not 0 < port < 65536:
        raise ClusterError(f"executor {text!r}: the port must be 1 to 65535")
    _reachable(kind, host, port)
    if kind == "dask":
        return DaskExecutor(f"tcp://{host}:{port}", workers)
    return RayExecutor(f"ray://{host}:{port}", workers)
