"""The dataset index read exactly as robomimic 0.3's SequenceDataset reads a file.

robomimic opens ``h5py.File(path, "r", swmr=True, libver="latest")``, sorts ``data/demo_*`` by the int after
``demo_``, reads ``attrs["num_samples"]``, ``obs/<k>``, ``next_obs/<k>``, ``actions``, decodes ``mask/<key>``
byte strings and needs every demo to hold the same keys with 2-D low-dim obs.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from test_schema import INFO, make_episode, write_dataset

from robosynth.dataset import build_index, episode_path, image_key_parts, write_episode_file
from robosynth.dataset import index as dataset_index
from robosynth.dataset import writer as dataset_writer


def robomimic_load(path: Path, filter_key: str | None = None) -> dict[str, Any]:
    """Load a dataset the way robomimic 0.3 does (SequenceDataset + FileUtils), returning what it reads."""
    with h5py.File(path, "r", swmr=True, libver="latest") as f:
        env_meta = json.loads(f["data"].attrs["env_args"])
        if filter_key is not None:
            demos = [elem.decode("utf-8") for elem in np.array(f[f"mask/{filter_key}"][:])]
        else:
            demos = list(f["data"].keys())
        inds = np.argsort([int(elem[5:]) for elem in demos])
        demos = [demos[i] for i in inds]
        first = f[f"data/{demos[0]}"]
        obs_keys = sorted(first["obs"].keys())
        shapes = {k: first[f"obs/{k}"].shape[1:] for k in obs_keys}
        episodes = {}
        for ep in demos:
            g = f[f"data/{ep}"]
            assert sorted(g["obs"].keys()) == obs_keys and sorted(g["next_obs"].keys()) == obs_keys
            episodes[ep] = {
                "num_samples": int(g.attrs["num_samples"]),
                "obs": {k: f[f"data/{ep}/obs/{k}"][()] for k in obs_keys},
                "next_obs": {k: f[f"data/{ep}/next_obs/{k}"][()] for k in obs_keys},
                "actions": f[f"data/{ep}/actions"][()].astype("float32"),
                "rewards": f[f"data/{ep}/rewards"][()].astype("float32"),
                "dones": f[f"data/{ep}/dones"][()].astype("float32"),
            }
        return {"env_meta": env_meta, "demos": demos, "shapes": shapes, "episodes": episodes,
                "total": int(f["data"].attrs["total"])}


def check_against_sources(loaded: dict[str, Any]) -> None:
    """Assert robomimic-visible content equals the synthetic episodes that were written."""
    for name, ep in loaded["episodes"].items():
        src = make_episode(int(name[5:]))
        T = ep["num_samples"]
        assert ep["actions"].shape == (T, 5)
        for k, a in ep["obs"].items():
            assert a.ndim >= 2 and a.shape[0] == T, k  # robomimic crashes on (T,) low-dim obs
            np.testing.assert_array_equal(a, src.obs[k])
            expected_next = src.next_obs_lowdim[k] if image_key_parts(k) is None else \
                np.concatenate([src.obs[k][1:], src.final_images[k]])
            np.testing.assert_array_equal(ep["next_obs"][k], expected_next)


def test_index_reads_like_robomimic(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", n=12)
    loaded = robomimic_load(root / "dataset.hdf5")
    assert loaded["demos"] == [f"demo_{i}" for i in range(12)]  # numeric, not lexicographic, order
    assert loaded["total"] == 12
    assert loaded["env_meta"]["type"] == 2 and loaded["env_meta"]["env_name"] == "robosynth/PickPlace-v0"
    assert all(len(s) >= 1 for s in loaded["shapes"].values())
    assert loaded["shapes"]["agentview_image"] == (16, 16, 3) and loaded["shapes"]["robot0_eef_pos"] == (3,)
    check_against_sources(loaded)
    train = robomimic_load(root / "dataset.hdf5", "train")["demos"]
    valid = robomimic_load(root / "dataset.hdf5", "valid")["demos"]
    assert len(train) == 11 and len(valid) == 1 and set(train) | set(valid) == set(loaded["demos"])


def test_index_links_resolve_relative_to_the_index_not_the_cwd(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_dataset(tmp_path / "ds", n=2)
    decoy = tmp_path / "elsewhere"
    (decoy / "episodes").mkdir(parents=True)  # same relative names, different content
    write_episode_file(episode_path(decoy, 0), INFO, make_episode(0, seed=77))
    write_episode_file(episode_path(decoy, 1), INFO, make_episode(1, seed=78))
    monkeypatch.chdir(decoy)
    loaded = robomimic_load(root / "dataset.hdf5")
    check_against_sources(loaded)
    assert loaded["demos"] == ["demo_0", "demo_1"]
    moved = tmp_path / "moved"
    shutil.move(root, moved)
    monkeypatch.chdir("/")
    loaded = robomimic_load(moved / "dataset.hdf5")
    check_against_sources(loaded)
    assert loaded["demos"] == ["demo_0", "demo_1"]


@pytest.mark.parametrize("libver", [("earliest", "v110"), ("v110", "v110")])
def test_swmr_latest_open_works_for_episode_files_not_written_latest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, libver: tuple[str, str]) -> None:
    monkeypatch.setattr(dataset_writer, "LIBVER", libver)
    root = tmp_path / "ds"
    (root / "episodes").mkdir(parents=True)
    for i in range(2):
        write_episode_file(episode_path(root, i), INFO, make_episode(i))
    build_index(root, INFO)
    with h5py.File(episode_path(root, 0), "r") as f:
        superblock = f.id.get_create_plist().get_version()[0]
    assert superblock < 4  # not the HDF5 2.0 "latest" format, so HDF5 1.10+ readers open it
    check_against_sources(robomimic_load(root / "dataset.hdf5"))
    check_against_sources(robomimic_load(episode_path(root, 1)))


def test_episode_file_alone_reads_like_robomimic(tmp_path: Path) -> None:
    path = write_episode_file(tmp_path / "ep.hdf5", INFO, make_episode(5))
    loaded = robomimic_load(path)
    assert loaded["demos"] == ["demo_5"] and loaded["total"] == 1
    check_against_sources(loaded)
    assert os.path.getsize(path) > 0


@pytest.mark.parametrize("n", range(2, 11))
def test_small_datasets_have_a_non_empty_valid_mask(tmp_path: Path, n: int) -> None:
    """robomimic's ``SequenceDataset(filter_by_attribute="valid")`` refuses an empty mask (num_samples=0)."""
    root = write_dataset(tmp_path / "ds", n=n)
    train = robomimic_load(root / "dataset.hdf5", "train")["demos"]
    valid = robomimic_load(root / "dataset.hdf5", "valid")["demos"]
    assert len(valid) >= 1 and len(train) >= 1
    assert sorted(train + valid, key=lambda d: int(d[5:])) == [f"demo_{i}" for i in range(n)]
    assert len(valid) == max(1, n - int(np.floor(n * 0.9 + 0.5)))


def test_split_is_a_fixed_function_of_the_names_and_the_ratio() -> None:
    names = [f"demo_{i}" for i in (7, 2, 11, 4)]
    a = dataset_index.split_demos(names, 0.75)
    assert a == dataset_index.split_demos(list(reversed(names)), 0.75)
    assert len(a[1]) == 1
    assert dataset_index.split_demos(names, 0.5)[1] != [] and len(dataset_index.split_demos(names, 0.5)[1]) == 2
    assert dataset_index.split_demos(names, 1.0)[1] == []  # an explicit ratio of 0 valid keeps none
    assert dataset_index.split_demos(["demo_0"], 0.9) == (["demo_0"], [])
