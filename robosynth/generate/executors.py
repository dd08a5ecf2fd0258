"""Executors for ``generate``: in-process, a local process pool that survives its workers dying, or Ray.

Local pool workers write their own episodes (same machine); Ray tasks return theirs to the driver, which writes
them (:mod:`robosynth.generate.ray_exec`). A worker that dies costs only the episode it held, which runs again.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from pathlib import Path

from robosynth.generate.directory import tmp_dirs
from robosynth.generate.jobs import (
    EPISODE_STAGES,
    Job,
    begin_episode,
    end_episode,
    finished_result,
    give_up_episode,
    run_episode,
)
from robosynth.generate.pool import EpisodePool
from robosynth.generate.ray_exec import RayOptions, run_ray
from robosynth.generate.writer_thread import writer_thread
from sim.errors import InputError
from sim.files import pid_alive


def _pool_init(parent_pid: int, rasterizer_threads: int = 1) -> None:
    """Pool worker setup: one BLAS thread, ``rasterizer_threads`` llvmpipe rasterizer threads (its share of the
    cores: one where W workers already fill them, measured 5 % less CPU per episode and wall time with 2 workers on
    2 cores), and die with the parent (``kill -9`` must not leave orphans). Set before the worker's first GL
    context, which reads it."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("LP_NUM_THREADS", str(rasterizer_threads))
    _die_with_parent(parent_pid)


def _die_with_parent(parent_pid: int) -> None:
    """Die when the driver ``parent_pid`` does: Linux SIGKILLs this process when its own parent dies (the driver,
    or the fork server, which exits when the driver does); elsewhere a thread polls. Exits at once if the driver
    is already gone."""
    parent = os.getppid()  # the driver (spawn) or the fork server the driver started

    def gone() -> bool:
        return os.getppid() != parent or not pid_alive(parent_pid)

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if gone():  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while not gone():
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="robosynth-parent-watch").start()


RetryFn = Callable[[int, str, int], None]


def usable_cores() -> int:
    """Return the cores this process may run on (its CPU affinity where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def run_in_process(job: Job, out: str, indices: list[int]) -> Iterator[dict]:
    """Record the episodes in this process, each finished (its last frames collected, its record built) and
    written on a writer thread while the next one records: the render thread draws an episode's last frames while
    the next episode resets and starts (docs/performance.md).

    At most one write is in flight (two episodes in memory); its summary is yielded once it is on disk, and a
    write error is raised here, after the writes already finished. On any exit (error, Ctrl-C, the caller
    stopping early) the write in flight completes first, so a recorded episode is never left half-written.
    """
    with writer_thread() as writer:
        pending: Future[dict] | None = None
        try:
            for i in indices:
                begun = begin_episode(job, i)
                if pending is not None:
                    yield pending.result()
                pending = writer.submit(end_episode, job, out, begun)
            if pending is not None:
                done, pending = pending, None
                yield done.result()
        finally:
            if pending is not None:
                wait([pending])


def run_jobs(job: Job, out: str, indices: list[int], workers: int = 1, executor: str = "local",
             on_retry: RetryFn | None = None, ray: RayOptions | None = None,
             on_info: Callable[[str], None] | None = None) -> Iterator[dict]:
    """Yield one summary per episode as they finish (any order).

    A worker process that dies (``kill -9``, out of memory) costs only the episode it held: that episode
    runs again in a fresh worker (``on_retry(index, reason, attempt)`` is told), and after
    ``MAX_ATTEMPTS`` deaths it is recorded as failed with the reason, and the run goes on. ``ray`` says where
    and how Ray runs (``executor="ray"``); ``on_info(line)`` is told which cluster it connected to.
    """
    if executor not in ("local", "ray"):
        raise InputError(f"unknown executor '{executor}' (choose from: local, ray)")
    if executor == "ray":
        opts = ray or RayOptions()
        yield from run_ray(job.with_render_thread(opts.cpus_per_episode), out, indices, workers, opts, on_retry,
                           on_info)
        return
    if workers == 1 or len(indices) <= 1:
        yield from run_in_process(job, out, indices)
        return
    yield from run_local_pool(job, out, indices, workers, on_retry)


def run_local_pool(job: Job, out: str, indices: list[int], workers: int,
                   on_retry: RetryFn | None = None) -> Iterator[dict]:
    """Record the episodes on a local pool of ``workers`` processes (see :func:`run_jobs`), each set up for its
    share of this process's cores."""
    cores = usable_cores() / workers
    job = job.with_render_thread(cores)
    # With 2 or more cores each, a worker records one episode while its writer thread writes the previous one, as
    # the in-process executor does; with fewer, the writer thread only competes (measured 2 % slower on 2 cores).
    pool = EpisodePool(EPISODE_STAGES if job.render_thread else run_episode, job, out, workers,
                       init=functools.partial(_pool_init, rasterizer_threads=max(1, int(cores))),
                       tmp_dirs=tmp_dirs(Path(out)),
                       on_give_up=lambda index, reason: give_up_episode(out, index, reason), on_retry=on_retry,
                       recover=lambda index: finished_result(out, index), backend=job.request.backend)
    yield from pool.run(indices)
