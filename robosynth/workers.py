"""Executors for ``generate``: in-process, a local process pool, or Ray. Workers write their own episodes.

Each worker process keeps one ``EpisodeRunner`` (one engine world) for the whole run; an episode's bytes
depend only on (seed, index, request), never on which worker ran it or what it ran before.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robosynth.episode_pool import MAX_ATTEMPTS, EpisodePool
from sim.errors import InputError


@dataclass(frozen=True)
class Job:
    """A picklable description of what every worker records."""

    request: Any  # GenerateRequest
    spec_json: str
    scene_dir: str | None
    randomization_json: str | None


def make_job(req) -> Job:
    """Validate a GenerateRequest (scene, backend, cameras, randomization) and return its Job."""
    from randomization.config import load_randomization
    from robosynth.recording import EpisodeRunner
    from scenes.loader import BUILTIN_DIR, builtin_names, load_scene
    from sim.backend import BACKENDS

    if req.backend not in BACKENDS:
        raise InputError(f"unknown backend '{req.backend}' (choose from: {', '.join(BACKENDS)})")
    spec = load_scene(req.scene)
    if req.resolution is not None:
        w, h = req.resolution
        spec = spec.model_copy(update={"cameras": tuple(c.model_copy(update={"width": w, "height": h})
                                                        for c in spec.cameras)})
    scene_dir = str(BUILTIN_DIR) if req.scene in builtin_names() else str(Path(req.scene).resolve().parent)
    cfg = load_randomization(req.randomization, spec)
    job = Job(req, spec.model_dump_json(), scene_dir, cfg.model_dump_json() if cfg is not None else None)
    EpisodeRunner(spec, _options(job), Path(scene_dir))  # validates camera names without building
    return job


def _options(job: Job):
    from randomization.config import RandomizationConfig
    from robosynth.recording import RecordingOptions
    from scenes.spec import SceneSpec

    spec = SceneSpec.model_validate_json(job.spec_json)
    req = job.request
    cams = tuple(c.name for c in spec.cameras) if req.cameras is None else tuple(req.cameras)
    cfg = None if job.randomization_json is None else RandomizationConfig.model_validate_json(job.randomization_json)
    return RecordingOptions(backend=req.backend, cameras=cams, quality=req.quality, depth_format=req.depth_format,
                            randomization=cfg, max_steps=req.max_steps)


_RUNNER: dict[str, Any] = {}


def _runner(job: Job):
    from robosynth.recording import EpisodeRunner
    from scenes.spec import SceneSpec

    key = job.spec_json + str(job.request)
    if key not in _RUNNER:
        close_runners()
        spec = SceneSpec.model_validate_json(job.spec_json)
        _RUNNER[key] = EpisodeRunner(spec, _options(job), Path(job.scene_dir) if job.scene_dir else None)
    return _RUNNER[key]


def close_runners() -> None:
    """Close this process's cached EpisodeRunner (and its engine world); the next episode builds a new one."""
    for r in _RUNNER.values():
        r.close()
    _RUNNER.clear()


def run_episode(job: Job, out: str, index: int) -> dict[str, Any]:
    """Record one episode, write it (or its failure marker) atomically, and return a small summary."""
    from robosynth.generate import dataset_info, failed_marker
    from robosynth.schema import episode_path, write_episode_file

    req = job.request
    res = _runner(job).run(req.seed, index)
    written = False
    if res.record is not None and (res.success or req.keep_failed):
        episode_path(out, index).parent.mkdir(parents=True, exist_ok=True)
        write_episode_file(episode_path(out, index), dataset_info(req), res.record, compression=req.compression)
        written = True
    elif not res.success:
        _write_marker(failed_marker(Path(out), index), {"index": index, "failure_reason": res.failure_reason,
                                                         "steps": res.steps})
    return {"index": index, "success": res.success, "failure_reason": res.failure_reason, "steps": res.steps,
            "written": written}


def _write_marker(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with open(tmp, "w") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _pool_init(parent_pid: int) -> None:
    """Pool worker setup: one BLAS thread, and die with the parent (``kill -9`` must not leave orphans)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _die_with_parent(parent_pid)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; elsewhere a thread polls the parent pid."""
    import signal
    import sys
    import threading
    import time

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


def give_up_episode(out: str, index: int, reason: str) -> dict[str, Any]:
    """Record episode ``index`` as failed with ``reason`` (a marker, so --resume counts it) and return its result."""
    from robosynth.generate import failed_marker

    _write_marker(failed_marker(Path(out), index), {"index": index, "failure_reason": reason, "steps": 0})
    return {"index": index, "success": False, "failure_reason": reason, "steps": 0, "written": False}


def _tmp_dirs(out: str) -> list[Path]:
    from robosynth.generate import FAILED_DIR
    from robosynth.schema import EPISODES_DIRNAME

    return [Path(out), Path(out) / EPISODES_DIRNAME, Path(out) / FAILED_DIR]


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
    pool = EpisodePool(run_episode, job, out, workers, init=_pool_init, tmp_dirs=_tmp_dirs(out),
                       on_give_up=lambda index, reason: give_up_episode(out, index, reason), on_retry=on_retry)
    yield from pool.run(indices)


def _remove_tmp_files_of_episode(out: str, index: int) -> None:
    """Delete temporary files of episode ``index`` left by a writer that died (no other writer holds it)."""
    for d in _tmp_dirs(out):
        for p in d.glob(f"ep_{index:06d}.*.tmp-*") if d.is_dir() else ():
            p.unlink(missing_ok=True)


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
        submit(_Worker.remote())
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        actor, index = pending.pop(ready[0])
        try:
            result = ray.get(ready[0])
        except (RayActorError, WorkerCrashedError) as exc:
            _remove_tmp_files_of_episode(out, index)
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
                submit(_Worker.remote())
            continue
        submit(actor)
        yield result
