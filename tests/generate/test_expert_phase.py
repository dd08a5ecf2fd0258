"""Scripted experts record their phase per step (obs/expert_phase + ep_meta["expert_phases"]); other policies and
phase-less experts record none; the files still verify."""

from __future__ import annotations

import numpy as np

from randomization.load import load_scene_randomized
from robosynth.dataset import DatasetInfo, verify_path, write_episode_file
from robosynth.generate.buffer import EXPERT_PHASE_KEY
from robosynth.generate.recording import EpisodeRunner, RecordingOptions
from scenes.loader import scene_dir


def _runner(scene: str) -> EpisodeRunner:
    spec, cfg = load_scene_randomized(scene)
    return EpisodeRunner(spec, RecordingOptions(backend="mujoco", randomization=cfg), scene_dir(scene))


def test_pick_place_expert_records_its_phases_in_order(tmp_path):
    runner = _runner("pick_place")
    try:
        res = runner.run(3, 0)
    finally:
        runner.close()
    assert res.success and res.record is not None
    rec = res.record
    names = rec.ep_meta["expert_phases"]
    assert names == ["approach", "descend", "close", "carry"]
    phase = rec.obs[EXPERT_PHASE_KEY]
    assert phase.shape == (rec.num_steps, 1) and phase.dtype == np.float32
    seq = phase[:, 0].astype(int)
    assert seq[0] == 0 and np.all(np.diff(seq) >= 0)  # approach -> descend -> close -> carry, never back
    assert set(seq) == {0, 1, 2, 3}
    assert np.count_nonzero(seq == 2) == 5  # the expert closes for exactly 5 steps (its hidden counter)
    np.testing.assert_array_equal(rec.next_obs_lowdim[EXPERT_PHASE_KEY][:-1], phase[1:])
    path = write_episode_file(tmp_path / "ep.hdf5", DatasetInfo("robosynth/PickPlace-v0", "0", {}), rec)
    assert verify_path(path) == []


def test_phase_less_experts_and_other_policies_record_no_phase():
    runner = _runner("reach")
    try:
        assert EXPERT_PHASE_KEY not in runner.run(0, 0).record.obs  # the reach expert has no phases
    finally:
        runner.close()

    class Hold:
        PHASES = ("a",)
        phase = "a"

        def reset(self) -> None:
            pass

        def act(self, obs):
            return np.zeros(5, np.float32)

    runner = _runner("pick_place")
    try:
        rec = runner.run(0, 0, policy=Hold()).record
        assert EXPERT_PHASE_KEY not in rec.obs and "expert_phases" not in rec.ep_meta
    finally:
        runner.close()
