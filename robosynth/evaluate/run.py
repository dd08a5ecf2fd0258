"""``robosynth evaluate``: every engine x randomization cell of one policy, as a results dict (docs/evaluate.md).

Everything a user can get wrong (scene, engines, randomizations, policy, episode count, output directories) is
checked before the first rollout, so bad input is one line and exit 2 and nothing is half-written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from randomization.load import load_randomization, load_scene_randomized
from robosynth.evaluate.policies import GuardedPolicy, PolicyRef, RandomPolicy, load_policy, parse_policy
from robosynth.evaluate.results import build_results
from robosynth.evaluate.rollout import Cell, CellResult, Outcome, Recorder, evaluation_seed, run_cell
from scenes.loader import scene_dir as scene_folder
from sim.backend import BACKENDS
from sim.errors import InputError

MAX_EPISODES = 1_000_000
SCENE_RANDOMIZATION = "scene"  # the label of the scene's own randomization section (no --randomization)


@dataclass(frozen=True)
class EvaluateRequest:
    """What ``robosynth evaluate`` runs."""

    scene: str
    policy: str = "expert"
    backends: tuple[str, ...] = ("mujoco",)
    episodes: int = 10
    seed: int = 0
    randomizations: tuple[str, ...] = ()  # () = the scene's own section
    record: Path | None = None
    max_steps: int | None = None


def parse_backends(text: str) -> tuple[str, ...]:
    """Return the engines of ``--backend a,b`` (or ``all``), in order, without repeats."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return BACKENDS
    bad = [n for n in names if n not in BACKENDS]
    if bad or not names:
        raise InputError(f"unknown backend '{bad[0] if bad else text}' (choose from: {', '.join(BACKENDS)}, all; "
                         f"several as mujoco,pybullet)")
    return tuple(dict.fromkeys(names))


def parse_randomizations(text: str | None) -> tuple[str, ...]:
    """Return the randomizations of ``--randomization a,b`` (presets, files, heldout:REF); () for none given."""
    if text is None:
        return ()
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise InputError("--randomization: give a preset, a YAML file or heldout:REF (several comma-separated)")
    return names


def _slug(label: str) -> str:
    stem = Path(label.removeprefix("heldout:")).stem if label.endswith((".yaml", ".yml", ".json")) else label
    prefix = "heldout-" if label.startswith("heldout:") and stem != label else ""
    return prefix + re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-")


def record_dir(root: Path, cell: Cell) -> Path:
    """Return where ``--record DIR`` writes one cell: ``DIR/<engine>-<randomization>``."""
    return root / f"{cell.backend}-{_slug(cell.randomization)}"


def _check(req: EvaluateRequest) -> None:
    if not 1 <= req.episodes <= MAX_EPISODES:
        raise InputError(f"--episodes must be in 1..{MAX_EPISODES}, got {req.episodes}")
    if req.seed < 0:
        raise InputError(f"--seed must be >= 0, got {req.seed}")
    if req.max_steps is not None and req.max_steps < 1:
        raise InputError("--max-steps must be >= 1")
    bad = [b for b in req.backends if b not in BACKENDS]
    if bad or not req.backends:
        raise InputError(f"unknown backend '{bad[0] if bad else ''}' (choose from: {', '.join(BACKENDS)})")


def evaluate(req: EvaluateRequest, on_start: Callable[[Cell, int], None] | None = None,
             on_episode: Callable[[Cell, Outcome], None] | None = None,
             policy_object: Any = None) -> dict[str, Any]:
    """Run every cell of ``req`` and return the results dict (``robosynth.evaluate.results``).

    ``policy_object`` (library use, e.g. a policy just trained in the same process): an object with ``reset()`` and
    ``act(obs)`` that runs instead of loading ``req.policy`` (which then only labels the results).
    """
    _check(req)
    ref = parse_policy(req.policy) if policy_object is None else PolicyRef("object", "", req.policy)
    spec, own = load_scene_randomized(req.scene)
    labels = req.randomizations or (SCENE_RANDOMIZATION,)
    configs = {lab: own if lab == SCENE_RANDOMIZATION else load_randomization(lab, spec) for lab in labels}
    cells = [Cell(b, lab, configs[lab]) for b in req.backends for lab in labels]
    from sim.control import Controller

    action_dim = Controller(spec.robot).action_dim
    loaded = load_policy(ref, action_dim) if policy_object is None else policy_object
    policy = loaded if loaded is None or isinstance(loaded, RandomPolicy) else GuardedPolicy(loaded, action_dim)
    meta = {"scene": req.scene, "policy": ref.label, "seed": req.seed, "evaluation_seed": evaluation_seed(req.seed),
            "episodes": req.episodes, "max_steps": req.max_steps or spec.task.horizon}
    recorders = {}
    dirs = [record_dir(req.record, c) for c in cells] if req.record is not None else []
    if len(set(dirs)) < len(dirs):
        raise InputError("--record: two --randomization values share a directory name; rename one of the files")
    if req.record is not None:  # every output directory is checked before the first rollout
        recorders = {c: Recorder(record_dir(req.record, c), req.scene, c, {**meta, "backend": c.backend,
                                                                         "randomization": c.randomization})
                     for c in cells}
    folder = scene_folder(req.scene)
    results: list[CellResult] = []
    for cell in cells:
        if on_start is not None:
            on_start(cell, req.episodes)
        results.append(run_cell(
            spec, folder, cell, policy, req.seed, req.episodes, recorders.get(cell), req.max_steps,
            None if on_episode is None else (lambda o, c=cell: on_episode(c, o))))  # type: ignore[misc]
    out = build_results(meta, results)
    if req.record is not None:
        out["recorded"] = {f"{c.backend}/{c.randomization}": str(record_dir(req.record, c)) for c in cells}
    return out
