"""Executors for ``generate``: in-process, a local process pool that survives its workers dying, or Ray.

Workers write their own episodes; a worker that dies costs only the episode it held, which runs again.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from robosynth.generate.directory import remove_episode_tmp_files, tmp_dirs
from robosynth.generate.jobs import Job, give_up_episode, run_episode
from robosynth.generate.pool import MAX_ATTEMPTS, EpisodePool
from sim.errors import InputError


def _pool_init(parent_pid: int) -> None:
    """Pool worker setup: one BLAS thread, and die with the parent (``kill -9`` must not leave orphans)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _die_with_parent(parent_pid)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; elsewhere a thread polls the parent pid."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != parent_pid:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="robosynth-parent-watch").start()


RetryFn = Callable[[int, str, int], None]


def run_jobs(job: Job, out: str, indices: list[int], workers: int = 1, executor: str = "local",
             on_retry: RetryFn | None = None) -> Iterator[dict]:
    """Yield one summary per episode as they finish (any order).

    A worker process that dies (``kill -9``, out of memory) costs only the episode it held: that episode
    runs again in a fresh worker (``on_retry(index, reason, attempt)`` is told), and after
    ``MAX_ATTEMPTS`` deaths it is recorded as failed with the reason, and the run goes on.
    """
    if executor not in ("local", "ray"):
        raise InputError(f"unknown executor '{executor}' (choose from: local, ray)")
    if executor == "ray":
        yield from _run_ray(job, out, indices, workers, on_retry)
        return
    if workers == 1 or len(indices) <= 1:
        for i in indices:
            yield run_episode(job, out, i)
        return
    pool = EpisodePool(run_episode, job, out, workers, init=_pool_init, tmp_dirs=tmp_dirs(Path(out)),
                       on_give_up=lambda index, reason: give_up_episode(out, index, reason), on_retry=on_retry)
    yield from pool.run(indices)


def _run_ray(job: Job, out: str, indices: list[int], workers: int, on_retry: RetryFn | None) -> Iterator[dict]:
    try:
        import ray
        from ray.exceptions import RayActorError, WorkerCrashedError
    except ImportError:
        raise InputError("--executor ray needs ray: pip install 'robosynth[ray]'") from None
    if not ray.is_initialized():
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)

    @ray.remote(max_restarts=0, max_task_retries=0)
    class _Worker:
        def run(self, job: Job, out: str, index: int) -> dict[str, Any]:
            return run_episode(job, out, index)

    queue = deque(indices)
    attempts: dict[int, int] = {}
    pending: dict[Any, tuple[Any, int]] = {}

    def submit(actor: Any) -> None:
        if queue:
            index = queue.popleft()
            pending[actor.run.remote(job, out, index)] = (actor, index)

    for _ in range(max(1, min(workers, len(indices)))):
        # ray.remote turns the class into an ActorClass at run time; ray's typing still says type[_Worker]
        submit(_Worker.remote())  # type: ignore[attr-defined]
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        actor, index = pending.pop(ready[0])
        try:
            result = ray.get(ready[0])
        except (RayActorError, WorkerCrashedError) as exc:
            remove_episode_tmp_files(Path(out), index)
            attempts[index] = attempts.get(index, 0) + 1
            reason = f"Ray worker died ({type(exc).__name__})"
            if attempts[index] >= MAX_ATTEMPTS:
                yield give_up_episode(out, index, f"worker process died {attempts[index]} times running this "
                                                  f"episode (last: {reason})")
            else:
                queue.appendleft(index)
                if on_retry is not None:
                    on_retry(index, reason, attempts[index] + 1)
            ray.kill(actor, no_restart=True)
            if queue:
                submit(_Worker.remote())  # type: ignore[attr-defined]  # ActorClass.remote (see above)
            continue
        submit(actor)
        yield result
