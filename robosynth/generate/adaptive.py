"""``robosynth generate --adaptive``: record expert episodes while the randomization ranges adapt to success (ADR;
the state machine and its settings are ``randomization.adaptive``, docs/randomization.md "Adaptive randomization").

Episode ``i`` draws its config (current ranges, possibly one pinned bound) from the ``adr`` seed stream of
(seed, i) and records it in ``ep_meta["adaptive"]`` (``config``, ``ranges``, ``boundary``), so each episode is
regenerable on its own: ``sample_episode_params(config, scene, seed, i)`` gives its parameters back exactly. The
ranges change only between batches, from the outcomes of earlier batches in episode order, so a run is a
deterministic function of its request. It runs in one process (``--workers 1``, the local executor, no
``--resume``): a batch's episodes are independent, so running them in parallel would keep the results the same for
any worker count, but that is not implemented yet. ``OUT/adaptive.json`` holds the settings and the ranges after
every batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from randomization.adaptive import AdaptiveState
from randomization.adaptive_settings import AdaptiveSettings
from randomization.config import RandomizationConfig
from randomization.params import sample_episode_params
from randomization.seeding import stream
from robosynth.dataset import build_index, episode_path, list_episode_files, write_episode_file, write_text_atomic
from robosynth.generate.directory import check_output_dir, load_or_store_request, write_failed_marker
from robosynth.generate.jobs import make_job, recording_options
from robosynth.generate.recording import EpisodeResult, EpisodeRunner
from robosynth.generate.request import GenerateRequest, dataset_info, selected_indices
from robosynth.generate.run import GenerateSummary
from scenes.spec import SceneSpec
from sim.errors import InputError

ADAPTIVE_FILE = "adaptive.json"


def check_adaptive(req: GenerateRequest, workers: int, executor: str, resume: bool,
                   mode: str = "--adaptive") -> None:
    """Raise InputError for what ``--adaptive`` (or ``--focus-failures``) does not support (one line)."""
    for bad, flag in ((workers != 1, f"--workers {workers}"), (executor != "local", f"--executor {executor}"),
                      (resume, "--resume"), (req.indices is not None, "--indices")):
        if bad:
            raise InputError(f"{mode} runs in one local process from episode 0; drop {flag}")


def write_result(out: Path, req: GenerateRequest, res: EpisodeResult) -> bool:
    """Write one episode (or its failure marker) like ``generate`` does; return True if an episode file was written."""
    if res.record is not None and (res.success or req.keep_failed):
        path = episode_path(out, res.index)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_episode_file(path, dataset_info(req), res.record, compression=req.compression)
        return True
    if not res.success:
        write_failed_marker(out, res.index, res.failure_reason, res.steps)
    return False


def generate_adaptive(req: GenerateRequest, out: Path, progress: Callable[[dict], None] | None = None
                      ) -> GenerateSummary:
    """Record ``req`` (with ``adaptive`` set) into ``out`` with adaptive ranges; return the summary."""
    if req.episodes < 1:
        raise InputError("--episodes must be >= 1")
    selected_indices(req)
    check_output_dir(out, resume=False)
    job = make_job(req)
    load_or_store_request(out, req, resume=False)
    spec = SceneSpec.model_validate_json(job.spec_json)
    cfg = RandomizationConfig.model_validate_json(job.randomization_json or "{}")
    state = AdaptiveState(cfg.to_dict(), cfg.adaptive or AdaptiveSettings())
    runner = EpisodeRunner(spec, recording_options(job), Path(job.scene_dir) if job.scene_dir else None)
    summary = GenerateSummary(out=out, requested=req.episodes)
    history: list[dict[str, Any]] = [{"before_episode": 0, "ranges": state.current()}]
    try:
        for start in range(0, req.episodes, state.settings.batch):
            outcomes = []
            for i in range(start, min(req.episodes, start + state.settings.batch)):
                res, boundary = _run_one(runner, state, spec, req.seed, i)
                outcomes.append((boundary, res.success))
                count_result(summary, res, write_result(out, req, res))
                if progress is not None:
                    progress({"index": i, "success": res.success, "failure_reason": res.failure_reason,
                              "steps": res.steps})
            for boundary, success in outcomes:  # in episode order: the ranges depend on outcomes only
                state.update(boundary, success)
            history.append({"before_episode": min(req.episodes, start + state.settings.batch),
                            "ranges": state.current()})
    finally:
        runner.close()
    report = {"settings": state.settings.model_dump(), "initial": history[0]["ranges"],
              "envelope": {r.name: list(r.limit) for r in state.ranges}, "final": state.current(),
              "history": history}
    write_text_atomic(out / ADAPTIVE_FILE, json.dumps(report, indent=1, sort_keys=True))
    if list_episode_files(out):
        build_index(out, dataset_info(req), train_ratio=req.train_ratio)
    return summary


def _run_one(runner: EpisodeRunner, state: AdaptiveState, spec: SceneSpec, seed: int, index: int
             ) -> tuple[EpisodeResult, dict[str, Any] | None]:
    """Run episode ``index`` from the current ranges; record its config, ranges and pinned bound in ep_meta."""
    data, boundary = state.episode_config(stream(seed, index, "adr"))
    params = sample_episode_params(RandomizationConfig.model_validate(data), spec, seed, index)
    res = runner.run(seed, index, params)
    if res.record is not None:
        res.record.ep_meta["adaptive"] = {"config": data, "ranges": state.current(), "boundary": boundary}
    return res, boundary


def count_result(summary: GenerateSummary, res: EpisodeResult, written: bool) -> None:
    """Add one episode to a run's summary."""
    summary.steps += res.steps
    summary.written += int(written)
    if not res.success:
        summary.failed += 1
        summary.failures[res.index] = res.failure_reason
