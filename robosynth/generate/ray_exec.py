"""The Ray executor: episodes as Ray tasks on a local Ray or on an existing cluster (``--ray-address``).

The driver owns the dataset: each task records its episode into a temporary directory of the machine it runs on
and returns the finished file's bytes through Ray's object store (:func:`record_episode_bytes`); only the driver
writes into ``--out`` (:func:`store_result`), so a node need not share the driver's disk. A task whose worker or
node dies runs again (at most ``MAX_ATTEMPTS`` times); every result is stored once. On any exit (also Ctrl-C or
SIGTERM) the tasks still in flight are stopped: the driver disconnects from a session it opened, which ends the
job's workers on every node (see :func:`_stop_tasks`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from robosynth.generate.jobs import Job, give_up_episode, record_episode_bytes, store_result
from robosynth.generate.pool import MAX_ATTEMPTS
from sim.errors import InputError

RetryFn = Callable[[int, str, int], None]
ADDRESS_ENV = "RAY_ADDRESS"
CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RayOptions:
    """How ``--executor ray`` runs: the cluster (None: ``RAY_ADDRESS`` or a new local Ray) and per-task resources."""

    address: str | None = None
    cpus_per_episode: float = 1.0
    gpus_per_episode: float = 0.0

    def resolved_address(self) -> str | None:
        """Return ``--ray-address``, else ``RAY_ADDRESS`` (Ray's convention), else None (start a local Ray)."""
        return self.address or os.environ.get(ADDRESS_ENV) or None


def check_ray_options(opts: RayOptions) -> None:
    """Raise InputError for per-episode resources Ray cannot schedule or a cluster address nothing answers at
    (before anything is written: ``ray.init`` itself would retry a wrong address for minutes)."""
    if not (opts.cpus_per_episode > 0 and math.isfinite(opts.cpus_per_episode)):
        raise InputError(f"--ray-cpus-per-episode must be > 0, got {opts.cpus_per_episode:g}")
    if not (opts.gpus_per_episode >= 0 and math.isfinite(opts.gpus_per_episode)):
        raise InputError(f"--ray-gpus-per-episode must be >= 0, got {opts.gpus_per_episode:g}")
    address = opts.resolved_address()
    if address is not None:
        _check_reachable(address)


def robosynth_episode(job: Job, index: int) -> dict[str, Any]:
    """The Ray task (its worker's title reads ``ray::robosynth_episode``): record one episode, return its bytes."""
    return record_episode_bytes(job, index)


def _host_port(address: str) -> tuple[str, int] | None:
    """Return (host, port) of 'host:port' or 'ray://host:port'; None for Ray's own words ('auto', 'local')."""
    if address in ("auto", "local"):
        return None
    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--ray-address '{address}' is not HOST:PORT (e.g. 10.0.0.5:6379 or ray://head:10001)")
    return host.strip("[]"), int(port)


def _check_reachable(address: str) -> None:
    """Fail fast (InputError) when nothing listens at the address: ray.init would retry for minutes."""
    hp = _host_port(address)
    if hp is None:
        return
    try:
        socket.create_connection(hp, timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise InputError(f"cannot reach a Ray cluster at --ray-address '{address}' "
                         f"({exc.strerror or exc}); is the head node running?") from None


def connect(opts: RayOptions, workers: int) -> tuple[bool, str]:
    """Connect to the cluster (or start a local Ray); return (whether we started it, a line describing it)."""
    import ray

    address = opts.resolved_address()
    with _keep_sigterm_handler():
        if address is None:
            ray.init(num_cpus=max(1, math.ceil(workers * opts.cpus_per_episode)), include_dashboard=False,
                     log_to_driver=False, logging_level=logging.WARNING)
            return True, "started a local Ray: " + _describe(ray)
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise InputError(f"cannot connect to the Ray cluster at '{address}': {exc}") from None
    return True, f"connected to the Ray cluster at {address}: " + _describe(ray)


@contextlib.contextmanager
def _keep_sigterm_handler() -> Iterator[None]:
    """Restore the process's SIGTERM handler after ``ray.init`` (which replaces it with one that just exits), so
    that the application's own (the CLI stops its work and keeps a resumable dataset) still runs."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    finally:
        if main and previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _describe(ray: Any) -> str:
    """Return 'N node(s), C CPUs, G GPUs' of the cluster."""
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    res = ray.cluster_resources()
    return f"{len(nodes)} node(s), {res.get('CPU', 0):g} CPUs, {res.get('GPU', 0):g} GPUs"


def _capacity_note(resources: dict[str, float], opts: RayOptions, workers: int) -> str:
    """InputError if no node could ever run an episode task; a note if fewer than ``workers`` fit at once."""
    cpus, gpus = resources.get("CPU", 0.0), resources.get("GPU", 0.0)
    if opts.gpus_per_episode > gpus:
        raise InputError(f"--ray-gpus-per-episode {opts.gpus_per_episode:g}: the Ray cluster has {gpus:g} GPUs")
    if opts.cpus_per_episode > cpus:
        raise InputError(f"--ray-cpus-per-episode {opts.cpus_per_episode:g}: the Ray cluster has {cpus:g} CPUs")
    fit = int(cpus // opts.cpus_per_episode)
    if opts.gpus_per_episode > 0:
        fit = min(fit, int(gpus // opts.gpus_per_episode))
    if fit < workers:
        return f"note: the cluster fits {fit} episode task(s) at once; --workers {workers} runs at most that many"
    return ""


def _system_errors() -> tuple[type[BaseException], ...]:
    """Return the Ray errors that mean the task's process or node died (the episode itself did not fail)."""
    from ray import exceptions as rex

    return (rex.WorkerCrashedError, rex.NodeDiedError, rex.ObjectLostError, rex.OwnerDiedError,
            rex.LocalRayletDiedError, rex.TaskCancelledError, rex.OutOfMemoryError)


@contextlib.contextmanager
def ray_session(opts: RayOptions, workers: int, on_info: Callable[[str], None] | None = None) -> Iterator[None]:
    """Connect to the cluster (or start a local Ray) for the duration of the block and tell ``on_info`` what it is;
    InputError (before anything is written) when Ray is missing, the address is wrong or no node fits a task.
    Inside a session already open (``ray.is_initialized()``) it does nothing; on exit it disconnects only what
    it connected."""
    try:
        import ray
    except ImportError:
        raise InputError("--executor ray needs ray: pip install 'robosynth[ray]'") from None
    if ray.is_initialized():
        yield
        return
    check_ray_options(opts)
    owned, line = connect(opts, workers)
    _OWNED.append(owned)
    try:
        note = _capacity_note(ray.cluster_resources(), opts, workers)
        for text in (line, note):
            if text and on_info is not None:
                on_info(text)
        yield
    finally:
        _OWNED.pop()
        if owned:
            ray.shutdown()


_OWNED: list[bool] = []  # whether the innermost open ray_session connected Ray itself (and so disconnects it)


def _stop_tasks(ray: Any, refs: list[Any]) -> None:
    """Stop episode tasks still in flight when the run ends early (Ctrl-C, SIGTERM, an error).

    In a session this module opened, disconnecting (``ray.shutdown``) ends the job's workers on every node;
    ``ray.cancel(force=True)`` before it can crash Ray 2.60's core worker when a task completes at that moment
    (a failed check in its task manager, seen under load), so it is used only in a session the caller owns.
    """
    if _OWNED and _OWNED[-1]:
        return
    for ref in refs:
        with contextlib.suppress(Exception):  # already finished or its node is gone: nothing to stop
            ray.cancel(ref, force=True)


def run_ray(job: Job, out: str, indices: list[int], workers: int, opts: RayOptions,
            on_retry: RetryFn | None = None, on_info: Callable[[str], None] | None = None) -> Iterator[dict]:
    """Yield one stored result per episode (completion order) with at most ``workers`` episodes in flight."""
    with ray_session(opts, workers, on_info):
        yield from _run_tasks(job, out, indices, workers, opts, on_retry)


def _run_tasks(job: Job, out: str, indices: list[int], workers: int, opts: RayOptions,
               on_retry: RetryFn | None) -> Iterator[dict]:
    import ray

    task = ray.remote(robosynth_episode).options(num_cpus=opts.cpus_per_episode, num_gpus=opts.gpus_per_episode,
                                                 max_retries=0, retry_exceptions=False)
    queue, pending, attempts = deque(indices), {}, {}  # type: ignore[var-annotated]
    stored: set[int] = set()
    try:
        while queue or pending:
            while queue and len(pending) < workers:
                index = queue.popleft()
                pending[task.remote(job, index)] = index
            ready, _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except _system_errors() as exc:
                attempts[index] = attempts.get(index, 0) + 1
                reason = f"Ray worker or node died ({type(exc).__name__})"
                if attempts[index] >= MAX_ATTEMPTS:
                    stored.add(index)
                    yield give_up_episode(out, index, f"worker process died {attempts[index]} times running "
                                                      f"this episode (last: {reason})")
                else:
                    queue.appendleft(index)
                    if on_retry is not None:
                        on_retry(index, reason, attempts[index] + 1)
                continue
            if index not in stored:  # an episode is written at most once
                stored.add(index)
                yield store_result(out, result)
    finally:
        _stop_tasks(ray, list(pending))
