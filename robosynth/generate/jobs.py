"""One episode as a job: a picklable description of what every worker records, and the function a worker runs.

Each worker process keeps one ``EpisodeRunner`` (one engine world) for the whole run; an episode's bytes
depend only on (seed, index, request), never on which worker ran it or what it ran before.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from randomization.config import RandomizationConfig
from randomization.load import load_scene_randomized
from robosynth.dataset import DatasetError, episode_path, open_dataset_file, write_bytes_atomic, write_episode
from robosynth.generate.directory import failed_marker, write_failed_marker
from robosynth.generate.pool import Stages
from robosynth.generate.recording import EpisodeResult, EpisodeRunner, RecordingOptions, UnfinishedEpisode
from robosynth.generate.request import GenerateRequest, dataset_info
from scenes.loader import scene_dir as scene_folder
from scenes.spec import SceneSpec
from sim.backend import BACKENDS
from sim.errors import InputError


@dataclass(frozen=True)
class Job:
    """A picklable description of what every worker records, and how (``render_thread``: MuJoCo frames are drawn
    on a thread of their own while the next step computes; the recorded bytes are the same either way)."""
    request: GenerateRequest
    spec_json: str
    scene_dir: str | None
    randomization_json: str | None
    render_thread: bool = True

    @property
    def draws_mujoco_frames(self) -> bool:
        """Whether its episodes draw MuJoCo camera frames (a MuJoCo backend and at least one camera)."""
        return self.request.backend == "mujoco" and self.request.cameras != ()

    def with_render_thread(self, cores_per_episode: float) -> Job:
        """Return this job drawing on a render thread only where each episode has 2 or more cores to itself
        (with fewer, the workers already fill the cores and a second thread per worker only competes)."""
        return dataclasses.replace(self, render_thread=cores_per_episode >= 2)


def make_job(req: GenerateRequest) -> Job:
    """Validate a GenerateRequest (scene, backend, cameras, randomization) and return its Job."""
    if req.backend not in BACKENDS:
        raise InputError(f"unknown backend '{req.backend}' (choose from: {', '.join(BACKENDS)})")
    spec, cfg = load_scene_randomized(req.scene, req.randomization)
    if req.resolution is not None:
        w, h = req.resolution
        spec = spec.model_copy(update={"cameras": tuple(c.model_copy(update={"width": w, "height": h})
                                                        for c in spec.cameras)})
    scene_dir = str(scene_folder(req.scene))
    job = Job(req, spec.model_dump_json(), scene_dir, cfg.model_dump_json() if cfg is not None else None)
    EpisodeRunner(spec, recording_options(job), Path(scene_dir))  # validates camera names without building
    return job


def recording_options(job: Job) -> RecordingOptions:
    """Return the RecordingOptions every worker of ``job`` records with."""
    spec = SceneSpec.model_validate_json(job.spec_json)
    req = job.request
    cams = tuple(c.name for c in spec.cameras) if req.cameras is None else tuple(req.cameras)
    cfg = None if job.randomization_json is None else RandomizationConfig.model_validate_json(job.randomization_json)
    return RecordingOptions(backend=req.backend, cameras=cams, quality=req.quality, depth_format=req.depth_format,
                            randomization=cfg, max_steps=req.max_steps, pointcloud=req.pointcloud)


_RUNNER: dict[str, EpisodeRunner] = {}


def _runner(job: Job) -> EpisodeRunner:
    key = job.spec_json + str(job.request) + str(job.render_thread)
    if key not in _RUNNER:
        close_runners()
        spec = SceneSpec.model_validate_json(job.spec_json)
        _RUNNER[key] = EpisodeRunner(spec, recording_options(job), Path(job.scene_dir) if job.scene_dir else None,
                                     pipelined=job.render_thread)
    return _RUNNER[key]


def close_runners() -> None:
    """Close this process's cached EpisodeRunner (and its engine world); the next episode builds a new one."""
    for r in _RUNNER.values():
        r.close()
    _RUNNER.clear()


def run_episode(job: Job, out: str, index: int) -> dict[str, Any]:
    """Record one episode, write it (or its failure marker) atomically into ``out``, return a small summary."""
    t0 = time.perf_counter()
    res = record_episode(job, index)
    return store_episode(job, out, res, time.perf_counter() - t0)


def record_episode(job: Job, index: int) -> EpisodeResult:
    """Record episode ``index`` of ``job`` on this process's cached runner (nothing is written)."""
    return _runner(job).run(job.request.seed, index)


def record_episode_unfinished(job: Job, index: int) -> UnfinishedEpisode:
    """:func:`record_episode` up to the end of its steps: ``.finish()`` collects its frames and builds the record
    (the same record), possibly on another thread while this process's runner records the next episode."""
    return _runner(job).run_unfinished(job.request.seed, index)


def begin_episode(job: Job, index: int) -> tuple[UnfinishedEpisode, float]:
    """The first stage of an episode on a worker that overlaps them: :func:`record_episode_unfinished`, and the
    seconds it took (:data:`EPISODE_STAGES`)."""
    t0 = time.perf_counter()
    return record_episode_unfinished(job, index), time.perf_counter() - t0


def end_episode(job: Job, out: str, begun: tuple[UnfinishedEpisode, float]) -> dict[str, Any]:
    """The second stage: finish and store what :func:`begin_episode` returned; the same summary as
    :func:`run_episode`."""
    episode, seconds = begun
    return finish_and_store(job, out, episode, seconds)


EPISODE_STAGES = Stages(begin_episode, end_episode)
""":func:`run_episode` in two stages, for pool workers that write one episode while they record the next."""


def finish_and_store(job: Job, out: str, episode: UnfinishedEpisode, seconds: float = 0.0) -> dict[str, Any]:
    """Finish ``episode`` and store it (:func:`store_episode`, whose ``seconds`` then include the finishing)."""
    t0 = time.perf_counter()
    res = episode.finish()
    return store_episode(job, out, res, seconds + time.perf_counter() - t0)


def store_episode(job: Job, out: str, res: EpisodeResult, seconds: float = 0.0) -> dict[str, Any]:
    """Write a recorded episode (or its failure marker) atomically into ``out``; return :func:`run_episode`'s
    summary, ``seconds`` being the recording time plus this write's. Safe on a thread other than the recorder's.

    A file system error is a :class:`DatasetError` naming the episode file (exit 2 in the CLI); episodes already
    written stay complete on disk."""
    req = job.request
    t0 = time.perf_counter()
    path = episode_path(out, res.index)
    signature = None
    try:
        if res.record is not None and (res.success or req.keep_failed):
            path.parent.mkdir(parents=True, exist_ok=True)
            signature = write_episode(path, dataset_info(req), res.record, compression=req.compression)
        elif not res.success:
            write_failed_marker(Path(out), res.index, res.failure_reason, res.steps)
    except OSError as exc:
        raise DatasetError(f"cannot write episode {res.index} into '{out}': "
                           f"{exc.strerror or exc} ({exc.filename or path})") from exc
    written = signature is not None
    return {"index": res.index, "success": res.success, "failure_reason": res.failure_reason, "steps": res.steps,
            "written": written, "bytes": path.stat().st_size if written else 0, "signature": signature,
            "seconds": seconds + time.perf_counter() - t0}


def record_episode_bytes(job: Job, index: int) -> dict[str, Any]:
    """Record one episode on a worker that may not share the driver's disk; return its summary and file bytes.

    The episode file is written (by the same writer as :func:`run_episode`) into a temporary directory of this
    process's own machine (``TMPDIR``), read back and deleted; ``payload`` holds its bytes (``None`` when the
    episode is not kept). Nothing is written anywhere else: the driver stores the result with :func:`store_result`.
    """
    req = job.request
    t0 = time.perf_counter()
    res = _runner(job).run(req.seed, index)
    payload = signature = None
    if res.record is not None and (res.success or req.keep_failed):
        with tempfile.TemporaryDirectory(prefix="robosynth-episode-") as tmp:
            path = episode_path(tmp, index)
            path.parent.mkdir(parents=True)
            signature = write_episode(path, dataset_info(req), res.record, compression=req.compression)
            payload = path.read_bytes()
    return {"index": index, "success": res.success, "failure_reason": res.failure_reason, "steps": res.steps,
            "payload": payload, "signature": signature, "host": os.uname().nodename, "pid": os.getpid(),
            "tmp": tempfile.gettempdir(), "seconds": time.perf_counter() - t0}


def store_result(out: str, result: dict[str, Any]) -> dict[str, Any]:
    """Driver side of :func:`record_episode_bytes`: write the episode file (or failure marker) atomically into
    ``out`` and return the summary :func:`run_episode` returns (plus where the episode ran)."""
    index, payload = result["index"], result.get("payload")
    if payload is not None:
        episode_path(out, index).parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(episode_path(out, index), payload)
    elif not result["success"]:
        write_failed_marker(Path(out), index, result["failure_reason"], result["steps"])
    summary = {k: v for k, v in result.items() if k != "payload"}
    summary.update(written=payload is not None, bytes=0 if payload is None else len(payload))
    return summary


def finished_result(out: str, index: int) -> dict[str, Any] | None:
    """Return the summary of episode ``index`` if its file or failure marker in ``out`` is complete, else None
    (a worker that died right after writing it: the episode must not be written twice)."""
    path, marker = episode_path(out, index), failed_marker(Path(out), index)
    try:
        if path.is_file():
            with open_dataset_file(path) as f:
                a = f["data"][f"demo_{index}"].attrs
                return {"index": index, "success": bool(a["success"]), "failure_reason": str(a["failure_reason"]),
                        "steps": int(a["num_samples"]), "written": True, "bytes": path.stat().st_size}
        if marker.is_file():
            m = json.loads(marker.read_text())
            return {"index": index, "success": False, "failure_reason": str(m["failure_reason"]),
                    "steps": int(m["steps"]), "written": False, "bytes": 0}
    except (DatasetError, KeyError, ValueError, OSError):
        return None  # torn or unreadable: the episode runs again
    return None


def give_up_episode(out: str, index: int, reason: str) -> dict[str, Any]:
    """Record episode ``index`` as failed with ``reason`` (a marker, so --resume counts it) and return its result."""
    write_failed_marker(Path(out), index, reason, 0)
    return {"index": index, "success": False, "failure_reason": reason, "steps": 0, "written": False, "bytes": 0}
