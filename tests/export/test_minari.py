"""A Minari export loaded with ``minari.load_dataset``: episode count, steps, spaces, T+1 observations, actions and
images exactly equal to the source, terminations/truncations from success, metadata, compressed storage."""

from __future__ import annotations

import json
from pathlib import Path

import minari
import numpy as np
import pyarrow.parquet as pq
import pytest
from export_data import CAMERAS, N_EPISODES, tree_digest
from gymnasium import spaces

DATASET_ID = "robosynth/reach/reach_small-v0"


@pytest.fixture
def loaded(minari_export: Path, monkeypatch: pytest.MonkeyPatch) -> minari.MinariDataset:
    """The export as Minari loads it (MINARI_DATASETS_PATH pointing at --out)."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(minari_export))
    return minari.load_dataset(DATASET_ID)


def test_counts_and_spaces(loaded: minari.MinariDataset, source_episodes: list) -> None:
    assert loaded.total_episodes == N_EPISODES
    assert loaded.total_steps == sum(e.num_steps for e in source_episodes)
    assert loaded.action_space == spaces.Box(-1.0, 1.0, (5,), np.float32)
    obs_space = loaded.observation_space
    assert isinstance(obs_space, spaces.Dict) and set(obs_space.spaces) == set(source_episodes[0].obs)
    for cam in CAMERAS:
        assert obs_space[f"{cam}_image"].shape == (64, 64, 3) and obs_space[f"{cam}_image"].dtype == np.uint8
        assert obs_space[f"{cam}_depth"].dtype == np.float32 and obs_space[f"{cam}_segmentation"].dtype == np.int32
    assert obs_space["robot0_joint_pos"].shape == (7,)
    assert "grasp point" in loaded.storage.metadata["description"]


def test_episodes_equal_source(loaded: minari.MinariDataset, source_episodes: list) -> None:
    for got, want in zip(loaded.iterate_episodes(), source_episodes, strict=True):
        T = want.num_steps
        assert len(got.actions) == T and np.array_equal(got.actions, want.actions)
        assert np.array_equal(got.rewards, want.rewards)
        for key, a in want.obs.items():
            obs = got.observations[key]
            assert obs.shape == (T + 1, *a.shape[1:]) and obs.dtype == a.dtype, key
            assert np.array_equal(obs[:T], a), key
            last = want.next_obs_lowdim[key][-1] if key in want.next_obs_lowdim else want.final_images[key][0]
            assert np.array_equal(obs[T], last), key
        assert got.terminations.tolist() == [False] * (T - 1) + [want.success]
        assert got.truncations.tolist() == [False] * (T - 1) + [not want.success]


def test_episode_metadata(loaded: minari.MinariDataset, source_episodes: list) -> None:
    metas = list(loaded.storage.get_episode_metadata(range(N_EPISODES)))
    for meta, want in zip(metas, source_episodes, strict=True):
        assert meta["seed"] == want.seed
        opts = meta["options"]
        assert opts["robosynth_episode_index"] == want.index and opts["backend"] == "mujoco"
        assert opts["success"] == want.success
        assert json.loads(opts["randomization"]) == want.ep_meta["randomization"]
        cams = json.loads(opts["cameras"])
        for cam in CAMERAS:
            assert np.array_equal(np.array(cams[cam]["T_world_cam"]), want.cameras[cam].T_world_cam)
            assert np.array_equal(np.array(cams[cam]["K"]), want.cameras[cam].K)


def test_storage_is_compressed(minari_export: Path, source: Path, source_digest: str) -> None:
    files = sorted((minari_export / DATASET_ID / "data").rglob("*.parquet"))
    assert len(files) == N_EPISODES
    for f in files:
        meta = pq.ParquetFile(f).metadata
        codecs = {meta.row_group(0).column(i).compression for i in range(meta.num_columns)}
        assert "UNCOMPRESSED" not in codecs, (f, codecs)
    assert tree_digest(source) == source_digest
