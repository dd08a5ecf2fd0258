"""The LeRobot export loaded the way LeRobot v3.0 loads a dataset, with its own loaders (Hugging Face ``datasets``
and pandas; ``lerobot`` itself needs torch): data parquet through ``Dataset.from_parquet`` with the features of
``meta/info.json`` converted as LeRobot's ``get_hf_features_from_features`` does, episodes through
``load_dataset("parquet")``, tasks through ``pandas.read_parquet``, and each frame's video image looked up at
``from_timestamp + timestamp`` within LeRobot's default tolerance (1e-4 s)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

datasets = pytest.importorskip("datasets")
pd = pytest.importorskip("pandas")

TOLERANCE_S = 1e-4  # LeRobotDataset's default tolerance_s


def hf_features(features: dict) -> datasets.Features:
    """LeRobot's mapping from info.json features to ``datasets`` features (video features are not in parquet)."""
    out = {}
    for key, ft in features.items():
        shape = tuple(ft["shape"])
        if ft["dtype"] == "video":
            continue
        if ft["dtype"] == "image":
            out[key] = datasets.Image()
        elif shape == (1,):
            out[key] = datasets.Value(dtype=ft["dtype"])
        elif len(shape) == 1:
            out[key] = datasets.Sequence(length=shape[0], feature=datasets.Value(dtype=ft["dtype"]))
        else:
            out[key] = {2: datasets.Array2D, 3: datasets.Array3D}[len(shape)](shape=shape, dtype=ft["dtype"])
    return datasets.Features(out)


def load(root: Path, cache: Path) -> tuple[dict, object, object, object]:
    info = json.loads((root / "meta" / "info.json").read_text())
    paths = sorted(str(p) for p in (root / "data").glob("*/*.parquet"))
    data = datasets.Dataset.from_parquet(paths, features=hf_features(info["features"]), cache_dir=str(cache))
    episodes = datasets.load_dataset("parquet", data_files=str(root / "meta/episodes/chunk-000/file-000.parquet"),
                                     split="train", cache_dir=str(cache))
    tasks = pd.read_parquet(root / "meta" / "tasks.parquet")
    return info, data, episodes, tasks


def frame_at(path: Path, ts: float) -> np.ndarray:
    """Return the decoded frame whose timestamp is within TOLERANCE_S of ``ts`` (LeRobot's lookup)."""
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            if abs(float(frame.pts * frame.time_base) - ts) < TOLERANCE_S:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {ts} s in {path}")


def test_loads_like_lerobot(lerobot_video: Path, source_episodes: list, tmp_path: Path) -> None:
    info, data, episodes, tasks = load(lerobot_video, tmp_path)
    assert len(data) == info["total_frames"] and len(episodes) == info["total_episodes"]
    assert tasks.index[0] == tasks.iloc[0].name and tasks.iloc[0]["task_index"] == 0  # task string is the index
    assert data.features["observation.cameras.wrist.T_world_cam"].dtype == "float64"
    rows = data.with_format("numpy")
    ep_rows = episodes.to_list()
    key = "observation.images.agentview"
    video = lerobot_video / info["video_path"].format(video_key=key, chunk_index=0, file_index=0)
    for i, src in enumerate(source_episodes):
        ep = ep_rows[i]
        frames = rows[ep["dataset_from_index"]:ep["dataset_to_index"]]
        assert np.array_equal(frames["action"], src.actions)
        assert np.array_equal(frames["observation.segmentation.wrist"], src.obs["wrist_segmentation"])
        # datasets' numpy (and LeRobot's torch) formatting hands floats out as float32; stored float64 (test_lerobot)
        pose = frames["observation.cameras.wrist.T_world_cam"]
        assert np.array_equal(pose, src.cameras["wrist"].T_world_cam.astype(np.float32))
        depth = np.stack([np.asarray(d) for d in frames["observation.images.agentview_depth"]])
        assert np.array_equal(depth.reshape(src.obs["agentview_depth"].shape), src.obs["agentview_depth"])
        last = src.num_steps - 1  # LeRobot's query: the episode's from_timestamp + the frame's timestamp
        image = frame_at(video, ep[f"videos/{key}/from_timestamp"] + float(frames["timestamp"][last]))
        assert image.shape == (64, 64, 3)
        assert np.abs(image.astype(int) - src.obs["agentview_image"][last]).mean() < 8  # the same frame, lossy
    assert [e["robosynth/seed"] for e in ep_rows] == [e.seed for e in source_episodes]


def test_png_images_decode_like_lerobot(lerobot_png: Path, source_episodes: list, tmp_path: Path) -> None:
    _info, data, _episodes, _tasks = load(lerobot_png, tmp_path)
    first = data[0]
    assert first["observation.images.wrist"].mode == "RGB"  # PIL images, as LeRobot's transform receives them
    assert first["observation.images.wrist_depth"].mode == "F"  # float32 depth, LeRobot >= 0.6 raw-depth form
    assert np.array_equal(np.asarray(first["observation.images.wrist"]), source_episodes[0].obs["wrist_image"][0])
