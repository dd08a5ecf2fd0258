"""Randomized episodes are reproducible, independent of history, solvable, and rebuild only when structural.

(a) recorded params replayed on a fresh runner give bit-identical frames and trajectories;
(b) episodes 5..9 are identical whether 0..4 ran before them in the same runner or not;
(c) with the ``full`` preset the pick_place expert still succeeds >= 80 % on both engines;
(d) distractors (pybullet_data random_urdfs) rebuild the world; parametric-only changes reuse it.
Episodes are short (``max_steps``) and cameras tiny to keep this file fast, except (c).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from randomization.apply import apply_params
from randomization.load import preset, validate_randomization
from randomization.params import EpisodeParams
from randomization.seeding import stream
from robosynth.dataset import episode_checksum
from robosynth.generate.recording import EpisodeRunner, RecordingOptions
from scenes.loader import load_scene

SEED = 2024
SPEC = load_scene("pick_place")
SMALL = SPEC.model_copy(update={"cameras": tuple(c.model_copy(update={"width": 32, "height": 32})
                                                  for c in SPEC.cameras)})
FULL = preset("full", SMALL)


def runner(backend: str, steps: int = 8, cameras: tuple[str, ...] = ("agentview", "wrist"),
           randomization=FULL, spec=SMALL) -> EpisodeRunner:
    """Return an episode runner of the small scene (short episodes, tiny cameras)."""
    return EpisodeRunner(spec, RecordingOptions(backend=backend, cameras=cameras, randomization=randomization,
                                                max_steps=steps, quality="fast"))


def test_recorded_params_replay_bit_identically(backend):
    first = runner(backend)
    rec = first.run(SEED, 3).record
    other = first.run(SEED, 4).record  # the same runner moves on to another episode in between
    first.close()
    params = EpisodeParams.from_json(json.dumps(rec.ep_meta["randomization"]))
    assert params.visual["textures"]["floor"] and params.camera["agentview"] and params.sensor["wrist"]
    fresh = runner(backend, randomization=None)  # no config: the recorded values alone rebuild the episode
    again = fresh.run(SEED, 3, params=params).record
    fresh.close()
    for key in ("agentview_image", "agentview_depth", "wrist_image", "wrist_segmentation"):
        assert np.array_equal(again.obs[key][0], rec.obs[key][0]), key
        assert not np.array_equal(other.obs[key][0], rec.obs[key][0]) or key.endswith("segmentation"), key
    assert np.array_equal(again.states, rec.states) and np.array_equal(again.actions, rec.actions)
    assert episode_checksum(again) == episode_checksum(rec)
    assert episode_checksum(other) != episode_checksum(rec)


def test_no_leak_between_episodes(backend):
    warm = runner(backend, steps=6, cameras=("agentview",))
    sums = {i: episode_checksum(warm.run(SEED, i).record) for i in range(10)}
    warm.close()
    cold = runner(backend, steps=6, cameras=("agentview",))
    for i in range(5, 10):
        assert episode_checksum(cold.run(SEED, i).record) == sums[i], f"episode {i} depends on history"
    cold.close()
    assert len(set(sums.values())) == 10


@pytest.mark.slow
def test_full_preset_expert_success(backend):
    run = runner(backend, steps=None, cameras=(), randomization=preset("full", SPEC), spec=SPEC)
    results = [run.run(SEED, i) for i in range(20)]
    run.close()
    ok = sum(r.success for r in results)
    print(f"\nfull preset, {backend}: pick_place expert succeeded in {ok}/20 episodes")
    assert ok >= 16, [(r.index, r.failure_reason) for r in results if not r.success]


DISTRACTORS = {"placement": {"distractors": {
    "count": {"dist": "choice", "values": [2]}, "meshes": [0, 1, 2, 3, 4, 5],
    "size": {"dist": "uniform", "low": 0.4, "high": 0.6}, "region": [[0.35, -0.3], [0.7, 0.3]], "z": 0.45}}}
FIXED_DISTRACTOR = {"placement": {"distractors": {
    "count": {"dist": "choice", "values": [1]}, "meshes": [3], "size": {"dist": "uniform", "low": 0.5, "high": 0.5},
    "region": [[0.35, -0.3], [0.7, 0.3]], "z": 0.45}}}


def _structural(backend: str) -> tuple[int, bool]:
    """Check distractor worlds on ``backend``; return (distractors checked, whether the world was rebuilt)."""
    cfg = validate_randomization({**DISTRACTORS, "visual": {"objects": {"cube": {
        "rgba": {"dist": "uniform", "low": [0.1] * 3, "high": [0.9] * 3}}}}}, SPEC)
    run = runner(backend, steps=2, cameras=(), randomization=cfg, spec=SPEC)
    p0, p1 = run.sample_params(SEED, 0), run.sample_params(SEED, 1)
    assert p0.structural_key() != p1.structural_key() and len(p0.distractors) == 2
    checked = 0
    for params in (p0, p1):
        sim = run._world_for(params)  # the world EpisodeRunner.run builds for these params, then applies
        sim.backend.restore_nominal_params()
        sim.reset(stream(SEED, params.episode_index, "task"))
        apply_params(sim, None, params)
        for d in params.distractors:
            pos, quat = sim.backend.body_pose(d["name"])
            assert np.allclose(pos, d["pos"], atol=1e-9)
            assert min(np.abs(quat - d["quat"]).max(), np.abs(quat + d["quat"]).max()) < 1e-9
            inst = [i for i in sim.backend.instances() if i.name == d["name"]]
            assert inst and inst[0].cls == "distractor"
            checked += 1
    b0 = run.run(SEED, 0)
    backend0 = run._sim.backend
    assert b0.steps == 2
    run.run(SEED, 1)
    rebuilt = run._sim.backend is not backend0  # different meshes/sizes: rebuilt
    run.close()
    return checked, rebuilt


def test_structural_change_rebuilds_with_distractors_pybullet():
    checked, rebuilt = _structural("pybullet")
    assert checked == 4 and rebuilt  # 2 distractors in each of 2 episodes


def test_structural_change_rebuilds_with_distractors_mujoco():
    checked, rebuilt = _structural("mujoco")
    assert checked == 4 and rebuilt  # 2 distractors in each of 2 episodes


@pytest.mark.parametrize("cfg", ["full", "fixed_distractor"])
def test_parametric_changes_reuse_the_world(backend, cfg):
    config = FULL if cfg == "full" else validate_randomization(FIXED_DISTRACTOR, SMALL)
    run = runner(backend, steps=1, cameras=(), randomization=config)
    p = [run.sample_params(SEED, i) for i in range(3)]
    assert p[0].structural_key() == p[1].structural_key() == p[2].structural_key()
    assert p[0].to_json() != p[1].to_json()
    run.run(SEED, 0)
    world = run._sim.backend
    for i in (1, 2):
        run.run(SEED, i)
        assert run._sim.backend is world
    run.close()
