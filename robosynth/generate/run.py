"""``robosynth generate``: record a crash-safe, resumable dataset of expert episodes (see docs/datasets.md).

``--resume`` after ``kill -9`` finishes the same dataset, a larger ``--episodes`` extends it, and ``--indices``
runs only some indices of a dataset of ``--episodes`` N (e.g. to regenerate one recorded episode bit-identically).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from renderers.sensors import close_prestarted_gl_thread, prestart_gl_thread
from robosynth.dataset import build_index, list_episode_files
from robosynth.generate.directory import check_output_dir, done_indices, kept_failures, load_or_store_request
from robosynth.generate.executors import run_jobs
from robosynth.generate.jobs import Job, make_job
from robosynth.generate.progress import RunStats, bytes_on_disk
from robosynth.generate.ray_exec import RayOptions, ray_session
from robosynth.generate.request import GenerateRequest, dataset_info, selected_indices
from sim.errors import InputError


@dataclass
class GenerateSummary:
    """What a generate run did."""

    out: Path
    requested: int
    written: int = 0
    failed: int = 0
    skipped: int = 0
    steps: int = 0
    failures: dict[int, str] = field(default_factory=dict)
    stats: RunStats = field(default_factory=RunStats)
    bytes_on_disk: int = 0


def generate(req: GenerateRequest, out: Path, *, workers: int = 1, executor: str = "local", resume: bool = False,
             progress: Callable[[dict], None] | None = None,
             on_start: Callable[[int, int], None] | None = None,
             on_retry: Callable[[int, str, int], None] | None = None,
             explicit: set[str] | None = None, ray: RayOptions | None = None,
             on_info: Callable[[str], None] | None = None, stats: RunStats | None = None) -> GenerateSummary:
    """Record the dataset described by ``req`` into ``out``, rebuild its index and return a summary.

    ``on_start(to_run, already_done)`` is called once before the first episode, ``progress(result)`` after each,
    ``on_retry(index, reason, attempt)`` when a dead worker's episode runs again. With ``resume``, ``req`` must
    agree with the stored request on every field named in ``explicit`` (default: all), see
    :func:`reconcile_request`. ``ray`` says where ``executor="ray"`` runs; ``on_info(line)`` is told which Ray
    cluster it uses. ``stats`` (the progress view's counts, see :mod:`robosynth.generate.progress`) is kept up to
    date while it runs and returned as ``summary.stats``.
    """
    if req.episodes < 0:
        raise InputError("--episodes must be >= 0")
    if workers < 1:
        raise InputError("--workers must be >= 1")
    if executor not in ("local", "ray"):
        raise InputError(f"unknown executor '{executor}' (choose from: local, ray)")
    selected_indices(req)
    check_output_dir(out, resume)
    job = make_job(req)  # validates scene, backend, cameras, randomization before touching the disk
    if executor == "local" and workers == 1 and job.draws_mujoco_frames and req.episodes:
        prestart_gl_thread()  # MuJoCo's import and the GL context start beside the world build (docs/performance.md)
    session = ray_session(ray or RayOptions(), workers, on_info) if executor == "ray" else contextlib.nullcontext()
    try:
        with session:  # a wrong cluster address is refused before anything is written
            return _generate(req, job, out, workers, executor, resume, explicit, ray, stats, progress, on_start,
                             on_retry)
    finally:
        close_prestarted_gl_thread()  # left unused when no episode was recorded here (e.g. all done on --resume)


def _generate(req: GenerateRequest, job: Job, out: Path, workers: int, executor: str, resume: bool,
              explicit: set[str] | None, ray: RayOptions | None, stats: RunStats | None,
              progress: Callable[[dict], None] | None, on_start: Callable[[int, int], None] | None,
              on_retry: Callable[[int, str, int], None] | None) -> GenerateSummary:
    req = load_or_store_request(out, req, resume, explicit)
    if resume:
        job = make_job(req)
    wanted = selected_indices(req)
    done, failed = done_indices(out)
    todo = [i for i in wanted if i not in done and i not in failed]
    stats = stats if stats is not None else RunStats()
    summary = GenerateSummary(out=out, requested=len(wanted), skipped=len(wanted) - len(todo), stats=stats)
    summary.failures.update({i: r for i, r in failed.items() if i in set(wanted)})
    if req.keep_failed:
        summary.failures.update(kept_failures(out, sorted(done & set(wanted))))
    summary.failed = len(summary.failures)
    stats.start(len(todo), summary.skipped)
    if on_start is not None:
        on_start(len(todo), summary.skipped)

    def retried(index: int, reason: str, attempt: int) -> None:
        stats.retry()
        if on_retry is not None:
            on_retry(index, reason, attempt)

    written: dict[int, dict] = {}  # {index: demo signature} of the files this run wrote (not reopened for the index)
    for res in run_jobs(job, str(out), todo, workers=workers, executor=executor, on_retry=retried, ray=ray):
        if res.get("signature") is not None:
            written[res["index"]] = res["signature"]
        stats.add(res)
        summary.steps += res["steps"]
        if res["written"]:
            summary.written += 1
        if not res["success"]:
            summary.failed += 1
            summary.failures[res["index"]] = res["failure_reason"]
        if progress is not None:
            progress(res)
    if list_episode_files(out):
        build_index(out, dataset_info(req), train_ratio=req.train_ratio, written=written)
    stats.finish()
    summary.bytes_on_disk = bytes_on_disk(out)
    return summary
