"""Fused point clouds (``generate --pointcloud N``) and normalized depth survive both exports exactly."""

from __future__ import annotations

import json
from pathlib import Path

import minari
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from export_data import robosynth

from robosynth.dataset import iter_episodes

KEYS = {"pointcloud": np.float32, "pointcloud_rgb": np.uint8, "pointcloud_seg": np.int32}


@pytest.fixture(scope="module")
def cloud_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cloud") / "clouds"
    r = robosynth("generate", "reach", "--out", out, "-n", 1, "--cameras", "agentview", "--resolution", "32x32",
                  "--max-steps", 5, "--keep-failed", "--pointcloud", 64, "--depth-format", "normalized")
    assert r.returncode == 0, r.stderr
    return out


def test_lerobot_point_clouds(cloud_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "lr"
    assert robosynth("export", cloud_source, "--format", "lerobot", "--images", "png", "--out", out).returncode == 0
    ep = next(iter_episodes(cloud_source))
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["features"]["observation.images.agentview_depth"]["info"]["depth_unit"] is None  # not metres
    table = pq.read_table(out / "data" / "chunk-000" / "file-000.parquet")
    for key, dtype in KEYS.items():
        assert info["features"][f"observation.{key}"]["shape"] == list(ep.obs[key].shape[1:])
        col = table.column(f"observation.{key}").combine_chunks()
        while pa.types.is_list(col.type):
            col = col.flatten()
        values = col.to_numpy().reshape(ep.obs[key].shape)
        assert values.dtype == dtype and np.array_equal(values, ep.obs[key])


def test_minari_point_clouds(cloud_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "mn"
    assert robosynth("export", cloud_source, "--format", "minari", "--out", out).returncode == 0
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(out))
    got = next(minari.load_dataset("robosynth/reach/clouds-v0").iterate_episodes())
    ep = next(iter_episodes(cloud_source))
    for key in KEYS:
        assert np.array_equal(got.observations[key][:-1], ep.obs[key])
        assert np.array_equal(got.observations[key][-1], ep.final_images[key][0])
