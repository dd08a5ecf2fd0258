"""Closed-loop rollouts of one policy on one engine under one randomization (a *cell* of an evaluation).

Episodes run through ``generate``'s own ``EpisodeRunner`` (the same world reset, randomization, action noise and
latency as recorded data), so ``--policy expert`` reproduces exactly what ``generate`` records, and ``--record``
writes ordinary robosynth episodes with ``generate``'s writer.

Seeds: evaluation episode ``i`` of ``--seed S`` is episode ``i`` of the dataset seed ``evaluation_seed(S)``, a
62-bit number derived from S on its own seed stream (``SeedSequence(S, spawn_key=(purpose_id("evaluate"),))``).
Training data recorded with ``generate --seed S`` uses ``SeedSequence(S, spawn_key=(i,))`` for i < 2^32, so the
two never share an episode; every engine and randomization of one evaluation uses the same episode seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from randomization.config import RandomizationConfig
from randomization.seeding import purpose_id, stream
from robosynth.dataset import build_index, episode_path, write_episode_file, write_text_atomic
from robosynth.generate import GenerateRequest, check_output_dir, dataset_info
from robosynth.generate.recording import EpisodeResult, EpisodeRunner, Policy, RecordingOptions
from scenes.spec import SceneSpec

EVAL_PURPOSE = "evaluate"
FAILURE_KINDS = ("timeout", "physics", "policy_error")


def evaluation_seed(seed: int) -> int:
    """Return the dataset seed of the evaluation episodes of ``--seed seed`` (never a training episode's)."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(purpose_id(EVAL_PURPOSE),))
    state = ss.generate_state(2, dtype=np.uint32)
    return ((int(state[0]) << 31) ^ int(state[1])) & ((1 << 62) - 1)


def failure_kind(reason: str) -> str:
    """Return the category of a failure reason: timeout, physics (a blow-up) or policy_error ("" on success)."""
    if not reason:
        return ""
    if reason.startswith("policy error"):
        return "policy_error"
    if reason.startswith("no success within"):
        return "timeout"
    return "physics"


@dataclass(frozen=True)
class Outcome:
    """One evaluation episode."""

    index: int
    success: bool
    steps: int
    failure_reason: str

    @property
    def failure_kind(self) -> str:
        """Return timeout, physics, policy_error, or "" on success."""
        return failure_kind(self.failure_reason)


@dataclass
class CellResult:
    """The episodes of one (engine, randomization) cell."""

    backend: str
    randomization: str
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Cell:
    """What one cell runs: an engine and a randomization (its label as given, and its validated config)."""

    backend: str
    randomization: str
    config: RandomizationConfig | None = field(default=None, compare=False, hash=False)


class Recorder:
    """Writes a cell's rollouts as a robosynth dataset (``generate``'s writer and index) in ``out``."""

    def __init__(self, out: Path, scene: str, cell: Cell, provenance: dict[str, Any]):
        check_output_dir(out, resume=False)
        self.out = out
        ref = None if cell.randomization == "scene" else cell.randomization
        self.info = dataset_info(GenerateRequest(scene=scene, backend=cell.backend, cameras=(), randomization=ref))
        self.provenance = provenance
        self.written = 0

    def add(self, result: EpisodeResult) -> None:
        """Write one rollout (failed ones too: failures are what an evaluation looks at)."""
        if result.record is None:
            return  # the policy failed before its first action: nothing to write
        path = episode_path(self.out, result.index)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_episode_file(path, self.info, result.record, compression="gzip")
        self.written += 1

    def finish(self) -> None:
        """Write the index (dataset.hdf5) and evaluate.json (policy, scene, seeds)."""
        if self.written:
            import json

            build_index(self.out, self.info)
            write_text_atomic(self.out / "evaluate.json", json.dumps(self.provenance, indent=1, sort_keys=True))


def run_cell(spec: SceneSpec, scene_dir: Path | None, cell: Cell, policy: Policy | None, seed: int, episodes: int,
             recorder: Recorder | None = None, max_steps: int | None = None,
             on_episode: Callable[[Outcome], None] | None = None) -> CellResult:
    """Run ``episodes`` evaluation episodes of ``policy`` (None: the task's expert) in one cell."""
    import time

    eval_seed = evaluation_seed(seed)
    options = RecordingOptions(backend=cell.backend, cameras=(), randomization=cell.config, max_steps=max_steps)
    runner = EpisodeRunner(spec, options, scene_dir)
    result = CellResult(cell.backend, cell.randomization)
    start = time.perf_counter()
    try:
        for i in range(episodes):
            hook = getattr(policy, "seed_episode", None)
            if callable(hook):
                hook(stream(eval_seed, i, "policy"))
            res = runner.run(eval_seed, i, policy=policy)
            if recorder is not None:
                recorder.add(res)
            outcome = Outcome(i, res.success, res.steps, res.failure_reason)
            result.outcomes.append(outcome)
            if on_episode is not None:
                on_episode(outcome)
    finally:
        runner.close()
        if recorder is not None:
            recorder.finish()
    result.seconds = time.perf_counter() - start
    return result
