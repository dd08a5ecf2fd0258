"""A LeRobot v3.0 export read back with a reader written against the v3.0 layout (pyarrow + PyAV + Pillow):
layout, info.json features, parquet columns, index ranges, video frames and timestamps, statistics, and values
equal to the source (RGB within a PSNR bound as video, exactly as PNG)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from export_data import CAMERAS, FPS, N_EPISODES, tree_digest
from PIL import Image

# Video RGB is lossy (AV1, CRF 30, 4:2:0 chroma, as LeRobot encodes). Measured on these tiny 64x64 renders: worst
# frame ~24.5 dB, mean ~27-30 dB per camera; larger frames do better (docs/export.md). Bounds with a margin:
MIN_FRAME_PSNR_DB = 22.0
MIN_MEAN_PSNR_DB = 25.0
STAT_NAMES = {"min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99"}


def read_info(root: Path) -> dict:
    return json.loads((root / "meta" / "info.json").read_text())


def read_data(root: Path, info: dict) -> pa.Table:
    """Concatenate every data file named by the episodes table, in order."""
    eps = read_episodes(root)
    files = sorted({(c, f) for c, f in zip(eps["data/chunk_index"], eps["data/file_index"], strict=True)})
    return pa.concat_tables(pq.read_table(root / info["data_path"].format(chunk_index=c, file_index=f))
                            for c, f in files)


def read_episodes(root: Path) -> dict:
    return pq.read_table(root / "meta" / "episodes" / "chunk-000" / "file-000.parquet").to_pydict()


def column(table: pa.Table, key: str, shape: list[int]) -> np.ndarray:
    """Return a column as a (N, *shape) numpy array (nested lists flattened)."""
    col = table.column(key).combine_chunks()
    if shape == [1]:
        return col.to_numpy(zero_copy_only=False)
    while pa.types.is_list(col.type) or pa.types.is_fixed_size_list(col.type):
        col = col.flatten()
    return col.to_numpy(zero_copy_only=False).reshape(table.num_rows, *shape)


def decode_video(path: Path) -> tuple[np.ndarray, list[float]]:
    """Return every frame of an mp4 (RGB) and its presentation time in seconds."""
    frames, times = [], []
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            times.append(float(frame.pts * frame.time_base))
    return np.stack(frames), times


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2, axis=(1, 2, 3))
    return 10 * np.log10(255.0**2 / np.maximum(mse, 1e-12))


def stack(eps: list, get) -> np.ndarray:
    return np.concatenate([get(e) for e in eps])


def test_layout_and_info(lerobot_video: Path, source_episodes: list) -> None:
    root = lerobot_video
    for rel in ("meta/info.json", "meta/stats.json", "meta/tasks.parquet", "meta/episodes/chunk-000/file-000.parquet",
                "data/chunk-000/file-000.parquet"):
        assert (root / rel).is_file(), rel
    info = read_info(root)
    total = sum(e.num_steps for e in source_episodes)
    assert info["codebase_version"] == "v3.0" and info["robot_type"] == "panda" and info["fps"] == FPS
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (N_EPISODES, total, 1)
    assert info["splits"] == {"train": f"0:{N_EPISODES}"}
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    assert info["video_path"] == "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    f = info["features"]
    for key in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert f[key]["shape"] == [1]
    assert f["observation.state"]["shape"] == [16] and len(f["observation.state"]["names"]) == 16
    assert f["observation.environment_state"] == {"dtype": "float32", "shape": [6], "names": [
        f"object_{i}" for i in range(6)]}
    assert f["action"]["names"] == ["delta_x", "delta_y", "delta_z", "delta_yaw", "gripper"]
    for cam in CAMERAS:
        video = f[f"observation.images.{cam}"]
        assert video["dtype"] == "video" and video["shape"] == [64, 64, 3]
        assert video["info"]["video.codec"] in ("av1", "h264") and video["info"]["video.fps"] == FPS
        assert video["info"]["is_depth_map"] is False
        depth = f[f"observation.images.{cam}_depth"]
        assert depth["dtype"] == "image" and depth["shape"] == [64, 64, 1]
        assert depth["info"]["is_depth_map"] is True and depth["info"]["depth_unit"] == "m"
        seg = f[f"observation.segmentation.{cam}"]
        assert seg["dtype"] == "int32" and seg["shape"] == [64, 64, 1]
        ids = {int(k) for k in seg["info"]["segmentation_ids"]}
        assert set().union(*(e.segmentation_ids for e in source_episodes)) <= ids
    tasks = pq.read_table(root / "meta" / "tasks.parquet")
    assert tasks.column("task_index").to_pylist() == [0]
    assert tasks.column("task").to_pylist()[0].startswith("Franka Panda moves its grasp point")
    assert json.loads(tasks.schema.metadata[b"pandas"])["index_columns"] == ["task"]  # pandas.read_parquet index


def test_frames_equal_source(lerobot_video: Path, source_episodes: list) -> None:
    info = read_info(lerobot_video)
    f, table = info["features"], read_data(lerobot_video, info)
    eps = source_episodes
    assert set(table.column_names) == {k for k, v in f.items() if v["dtype"] != "video"}
    total = sum(e.num_steps for e in eps)
    assert table.num_rows == total
    assert np.array_equal(column(table, "index", [1]), np.arange(total))
    ep_idx = column(table, "episode_index", [1])
    frame_idx = column(table, "frame_index", [1])
    assert np.array_equal(ep_idx, stack(eps, lambda e: np.full(e.num_steps, eps.index(e))))
    assert np.array_equal(frame_idx, stack(eps, lambda e: np.arange(e.num_steps)))
    assert np.allclose(column(table, "timestamp", [1]), frame_idx / FPS)
    assert table.schema.field("action").type == pa.list_(pa.float32(), 5)
    assert np.array_equal(column(table, "action", [5]), stack(eps, lambda e: e.actions))
    state = stack(eps, lambda e: np.concatenate([e.obs[k] for k in ("robot0_joint_pos", "robot0_gripper_qpos",
                                                                    "robot0_eef_pos", "robot0_eef_quat")], 1))
    assert np.array_equal(column(table, "observation.state", [16]), state)
    assert np.array_equal(column(table, "observation.environment_state", [6]), stack(eps, lambda e: e.obs["object"]))
    assert np.array_equal(column(table, "next.reward", [1]), stack(eps, lambda e: e.rewards))
    assert np.array_equal(column(table, "next.done", [1]), stack(eps, lambda e: e.dones.astype(bool)))
    success = column(table, "next.success", [1])
    assert success.sum() == 1 and success[eps[0].num_steps - 1]
    for cam in CAMERAS:
        seg = column(table, f"observation.segmentation.{cam}", [64, 64, 1])
        assert seg.dtype == np.int32
        assert np.array_equal(seg, stack(eps, lambda e, cam=cam: e.obs[f"{cam}_segmentation"]))
        depth = np.stack([np.array(Image.open(io.BytesIO(d["bytes"])))[..., None]
                          for d in table.column(f"observation.images.{cam}_depth").to_pylist()])
        assert depth.dtype == np.float32 and np.array_equal(depth, stack(eps, lambda e, cam=cam: e.obs[f"{cam}_depth"]))
        k = column(table, f"observation.cameras.{cam}.K", [3, 3])
        assert np.array_equal(k, stack(eps, lambda e, cam=cam: np.broadcast_to(e.cameras[cam].K, (e.num_steps, 3, 3))))
        pose = column(table, f"observation.cameras.{cam}.T_world_cam", [4, 4])
        assert np.array_equal(pose, stack(eps, lambda e, cam=cam: e.cameras[cam].T_world_cam))


def test_episodes_table_and_videos(lerobot_video: Path, source_episodes: list) -> None:
    root, info = lerobot_video, read_info(lerobot_video)
    eps = read_episodes(root)
    lengths = [e.num_steps for e in source_episodes]
    assert eps["episode_index"] == list(range(N_EPISODES)) and eps["length"] == lengths
    assert eps["dataset_from_index"] == list(np.cumsum([0, *lengths[:-1]]))
    assert eps["dataset_to_index"] == list(np.cumsum(lengths))
    task = pq.read_table(root / "meta" / "tasks.parquet").column("task").to_pylist()[0]
    assert eps["tasks"] == [[task]] * N_EPISODES
    assert eps["robosynth/episode_index"] == [e.index for e in source_episodes]
    assert eps["robosynth/seed"] == [e.seed for e in source_episodes]
    assert eps["robosynth/backend"] == ["mujoco"] * N_EPISODES
    assert eps["robosynth/success"] == [True, False, False]
    assert [json.loads(r) for r in eps["robosynth/randomization"]] == [
        e.ep_meta["randomization"] for e in source_episodes]
    for cam in CAMERAS:
        key = f"observation.images.{cam}"
        path = root / info["video_path"].format(video_key=key, chunk_index=0, file_index=0)
        frames, times = decode_video(path)
        assert len(frames) == sum(lengths)
        assert np.allclose(times, np.arange(len(frames)) / FPS)
        quality = []
        for i, src_ep in enumerate(source_episodes):
            t0, t1 = eps[f"videos/{key}/from_timestamp"][i], eps[f"videos/{key}/to_timestamp"][i]
            assert (eps[f"videos/{key}/chunk_index"][i], eps[f"videos/{key}/file_index"][i]) == (0, 0)
            assert round((t1 - t0) * FPS) == src_ep.num_steps
            sel = [j for j, t in enumerate(times) if t0 - 1e-6 <= t < t1 - 1e-6]  # LeRobot: from_ts + timestamp
            assert len(sel) == src_ep.num_steps
            quality.append(psnr(frames[sel], src_ep.obs[f"{cam}_image"]))
        db = np.concatenate(quality)
        assert db.min() > MIN_FRAME_PSNR_DB and db.mean() > MIN_MEAN_PSNR_DB, (cam, db)


def test_stats(lerobot_video: Path, source_episodes: list) -> None:
    root, info = lerobot_video, read_info(lerobot_video)
    stats = json.loads((root / "meta" / "stats.json").read_text())
    expected = {k for k in info["features"] if not k.startswith("observation.segmentation.")}
    assert set(stats) == expected
    assert all(set(s) == STAT_NAMES for s in stats.values())
    actions = np.concatenate([e.actions for e in source_episodes]).astype(np.float64)
    assert np.allclose(stats["action"]["mean"], actions.mean(0)) and np.allclose(stats["action"]["std"], actions.std(0))
    assert np.allclose(stats["action"]["min"], actions.min(0)) and np.allclose(stats["action"]["max"], actions.max(0))
    assert stats["action"]["count"] == [len(actions)]
    for cam in CAMERAS:
        rgb = stats[f"observation.images.{cam}"]
        assert np.shape(rgb["mean"]) == (3, 1, 1)
        assert 0.0 <= np.min(rgb["min"]) and np.max(rgb["max"]) <= 1.0
        pixels = np.concatenate([e.obs[f"{cam}_image"] for e in source_episodes]).reshape(-1, 3) / 255.0
        assert np.allclose(np.ravel(rgb["mean"]), pixels.mean(0))  # every frame sampled: episodes < 100 frames
        depth = stats[f"observation.images.{cam}_depth"]
        assert np.shape(depth["max"]) == (1, 1, 1)
        assert np.isclose(np.ravel(depth["max"])[0], max(e.obs[f"{cam}_depth"].max() for e in source_episodes))
    ep_cols = read_episodes(root)
    assert ep_cols["stats/action/count"] == [[e.num_steps] for e in source_episodes]


def test_png_images_are_lossless(lerobot_png: Path, source_episodes: list) -> None:
    info = read_info(lerobot_png)
    assert info["video_path"] is None and not (lerobot_png / "videos").exists()
    table = read_data(lerobot_png, info)
    for cam in CAMERAS:
        key = f"observation.images.{cam}"
        assert info["features"][key]["dtype"] == "image"
        frames = np.stack([np.array(Image.open(io.BytesIO(d["bytes"])).convert("RGB"))
                           for d in table.column(key).to_pylist()])
        assert np.array_equal(frames, stack(source_episodes, lambda e, cam=cam: e.obs[f"{cam}_image"]))


def test_source_unchanged(source: Path, source_digest: str, lerobot_video: Path, lerobot_png: Path) -> None:
    assert tree_digest(source) == source_digest


@pytest.mark.parametrize("key", ["robosynth.json"])
def test_provenance(lerobot_video: Path, source: Path, key: str) -> None:
    meta = json.loads((lerobot_video / "meta" / key).read_text())
    assert meta["scene"] == "reach" and meta["env_name"] == "robosynth/Reach-v0"
    assert meta["video_encoder"] in ("libsvtav1", "libx264")


def test_files_roll_over_by_size(source: Path, source_episodes: list, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With file size limits of 0 MB every episode starts new data and video files; readers follow the indices."""
    from robosynth.export import export_dataset, lerobot, prepare_export

    monkeypatch.setattr(lerobot, "DATA_FILE_MB", 0)
    monkeypatch.setattr(lerobot, "VIDEO_FILE_MB", 0)
    out = tmp_path / "rolled"
    export_dataset(prepare_export(source, out, "lerobot"), out, "lerobot")
    info, eps = read_info(out), read_episodes(out)
    assert eps["data/file_index"] == list(range(N_EPISODES)) and eps["data/chunk_index"] == [0] * N_EPISODES
    table = read_data(out, info)
    assert np.array_equal(column(table, "action", [5]), stack(source_episodes, lambda e: e.actions))
    for i, src_ep in enumerate(source_episodes):
        rows = pq.read_table(out / info["data_path"].format(chunk_index=0, file_index=i))
        assert rows.num_rows == src_ep.num_steps and set(rows.column("episode_index").to_pylist()) == {i}
        key = "observation.images.wrist"
        assert eps[f"videos/{key}/file_index"][i] == i and eps[f"videos/{key}/from_timestamp"][i] == 0.0
        frames, _ = decode_video(out / info["video_path"].format(video_key=key, chunk_index=0, file_index=i))
        assert len(frames) == src_ep.num_steps
