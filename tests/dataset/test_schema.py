"""HDF5 schema "1" on synthetic episodes: round trip, verify, corruption, VDS next_obs, crash safety, resume."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from robosynth import dataset as schema
from robosynth.dataset import (
    CameraRecord,
    DatasetError,
    DatasetInfo,
    EpisodeRecord,
    RecordError,
    build_index,
    completed_episode_indices,
    dataset_dir_kind,
    demo_signature,
    episode_checksum,
    episode_path,
    iter_episodes,
    read_dataset_info,
    read_episode,
    split_demos,
    summarize,
    verify_path,
    write_episode,
    write_episode_file,
)
from sim.errors import InputError

INFO = DatasetInfo(env_name="robosynth/PickPlace-v0", env_version="0", env_kwargs={"backend": "mujoco"},
                   robosynth_version="0.1.0")
LOWDIM = {"robot0_joint_pos": 7, "robot0_eef_pos": 3, "robot0_eef_quat": 4, "robot0_gripper_qpos": 2, "object": 10}
SEG_IDS = {1: {"name": "table", "class": "table", "body": "table"},
           2: {"name": "cube_red", "class": "cube", "body": "cube_red"},
           3: {"name": "panda_hand", "class": "robot", "body": "panda_hand"}}


def _pose(t: float) -> np.ndarray:
    c, s = np.cos(t), np.sin(t)
    T = np.eye(4)
    T[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]] @ np.diag([1.0, -1.0, -1.0])  # looking down, OpenCV
    T[:3, 3] = [0.5, 0.1 * t, 1.2]
    return T


def make_camera(name: str, T: int, H: int, W: int) -> CameraRecord:
    """Return a pinhole camera record with a slowly moving rigid pose."""
    K = np.array([[20.0, 0, W / 2], [0, 20.0, H / 2], [0, 0, 1]])
    return CameraRecord(name=name, K=K, width=W, height=H, distortion=np.zeros(5), near=0.05, far=5.0,
                        depth_units="m", depth_kind="z", T_world_cam=np.stack([_pose(0.01 * t) for t in range(T)]))


def make_images(rng: np.random.Generator, T: int, H: int, W: int) -> dict[str, np.ndarray]:
    """Return smooth-gradient RGB, metric depth (with a few 0 = no return) and a few flat-id blobs."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    rgb = np.empty((T, H, W, 3), np.uint8)
    depth = np.empty((T, H, W, 1), np.float32)
    seg = np.zeros((T, H, W, 1), np.int32)
    for t in range(T):
        rgb[t] = np.stack([60 + 100 * yy / H, 90 + 80 * xx / W, 120 + 0 * xx + t], -1).astype(np.uint8)
        depth[t, ..., 0] = 1.0 / (0.45 + 0.35 * yy / H + 0.12 * xx / W)
        seg[t, ..., 0] = 1
        for i, (cy, cx, r) in enumerate([(H / 3, W / 3 + t, H / 5), (2 * H / 3, W / 2, H / 6)], start=2):
            m = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
            rgb[t][m] = rng.integers(0, 255, 3, dtype=np.uint8)
            depth[t, ..., 0][m] = 0.8
            seg[t, ..., 0][m] = i
    depth[:, 0, 0, 0] = 0.0  # "no return" pixels are legal
    return {"image": rgb, "depth": depth, "segmentation": seg}


def make_episode(index: int = 0, T: int = 5, H: int = 16, W: int = 16, cams: tuple[str, ...] = ("agentview",),
                 seed: int | None = None) -> EpisodeRecord:
    """Return a valid synthetic episode of T steps with low-dim obs and image obs for every camera."""
    rng = np.random.default_rng(index if seed is None else seed)
    full = {k: rng.normal(size=(T + 1, d)).astype(np.float32) for k, d in LOWDIM.items()}
    obs: dict[str, np.ndarray] = {k: a[:T] for k, a in full.items()}
    final: dict[str, np.ndarray] = {}
    for cam in cams:
        for kind, a in make_images(rng, T + 1, H, W).items():  # frame T: the observation after the last action
            obs[f"{cam}_{kind}"], final[f"{cam}_{kind}"] = a[:T], a[T:]
    return EpisodeRecord(
        index=index, seed=1000 + index, backend="mujoco", engine_version="3.1.6", scene_name="pick_place",
        success=bool(index % 2 == 0), failure_reason="" if index % 2 == 0 else "timeout",
        model_file="<mujoco model='pick_place'/>", ep_meta={"randomization": {"cube_mass": 0.1 * (index + 1)},
                                                             "versions": {"mujoco": "3.1.6"}},
        actions=rng.uniform(-1, 1, (T, 5)).astype(np.float32), rewards=rng.random(T).astype(np.float32),
        dones=(np.arange(T) == T - 1).astype(np.uint8), states=rng.normal(size=(T, 30)),
        obs=obs, next_obs_lowdim={k: a[1:] for k, a in full.items()},
        cameras={cam: make_camera(cam, T, H, W) for cam in cams}, segmentation_ids=dict(SEG_IDS), quality="fast",
        final_images=final)


def assert_episodes_equal(a: EpisodeRecord, b: EpisodeRecord) -> None:
    """Assert identical metadata and bit-identical arrays (dtype, shape, values)."""
    for name in ("index", "seed", "backend", "engine_version", "scene_name", "success", "failure_reason",
                 "model_file", "ep_meta", "segmentation_ids", "quality"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("actions", "rewards", "dones", "states"):
        _same(getattr(a, name), getattr(b, name))
    for field in ("obs", "next_obs_lowdim", "final_images"):
        assert getattr(a, field).keys() == getattr(b, field).keys()
        for k in getattr(a, field):
            _same(getattr(a, field)[k], getattr(b, field)[k])
    assert a.cameras.keys() == b.cameras.keys()
    for cam, ca in a.cameras.items():
        cb = b.cameras[cam]
        for name in ("name", "width", "height", "near", "far", "depth_units", "depth_kind"):
            assert getattr(ca, name) == getattr(cb, name)
        for name in ("K", "distortion", "T_world_cam"):
            np.testing.assert_array_equal(getattr(ca, name), getattr(cb, name))


def _same(x: np.ndarray, y: np.ndarray) -> None:
    assert x.dtype == y.dtype and x.shape == y.shape
    np.testing.assert_array_equal(x, y)


def write_dataset(root: Path, n: int = 3, **kw) -> Path:
    """Write n episode files and the index into a dataset directory; return the directory."""
    (root / "episodes").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        write_episode_file(episode_path(root, i), INFO, make_episode(i, **kw))
    build_index(root, INFO)
    return root


@pytest.fixture()
def ep_file(tmp_path: Path) -> Path:
    return write_episode_file(tmp_path / "ep.hdf5", INFO, make_episode(0))


# ------------------------------------------------------------------------------------- corruption helpers


def truncate(path: Path, keep: float = 0.5) -> None:
    """Cut a file to a fraction of its size (a crash mid-copy)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def edit(path: Path, fn: Callable[[h5py.File], None]) -> None:
    """Open a file read-write and apply ``fn`` to it."""
    with h5py.File(path, "r+") as f:
        fn(f)


def inject_nan(f: h5py.File, name: str = "data/demo_0/obs/robot0_eef_pos") -> None:
    f[name][2, 1] = np.nan


def replace_dataset(f: h5py.File, name: str, value: np.ndarray) -> None:
    del f[name]
    f[name] = value


# ------------------------------------------------------------------------------------------ round trip


def test_round_trip_is_identical(ep_file: Path) -> None:
    assert_episodes_equal(make_episode(0), read_episode(ep_file))
    with h5py.File(ep_file) as f:
        data, demo = f["data"], f["data/demo_0"]
        assert data.attrs["total"] == 1 and data.attrs["robosynth_schema"] == "1"
        assert json.loads(data.attrs["env_args"]) == {"env_name": "robosynth/PickPlace-v0", "type": 2,
                                                      "env_version": "0", "env_kwargs": {"backend": "mujoco"}}
        assert demo.attrs["num_samples"] == 5 and demo.attrs["episode_index"] == 0
        assert demo["obs/agentview_image"].chunks == (1, 16, 16, 3)
        assert demo["obs/agentview_image"].compression == "gzip"
        assert json.loads(demo.attrs["segmentation_ids"])["2"]["name"] == "cube_red"
        assert demo.attrs["checksum"] == episode_checksum(make_episode(0))
    assert read_dataset_info(ep_file) == INFO


@pytest.mark.parametrize("compression", ["lzf", None])
def test_other_compressions_round_trip(tmp_path: Path, compression: str | None) -> None:
    path = write_episode_file(tmp_path / "ep.hdf5", INFO, make_episode(1), compression=compression)
    assert_episodes_equal(make_episode(1), read_episode(path))
    assert verify_path(path) == []
    with pytest.raises(InputError):
        write_episode_file(tmp_path / "x.hdf5", INFO, make_episode(1), compression="zstd")


def test_same_record_gives_byte_identical_files(tmp_path: Path) -> None:
    a = write_episode_file(tmp_path / "a.hdf5", INFO, make_episode(3), created="2024-01-01T00:00:00+00:00")
    b = write_episode_file(tmp_path / "b.hdf5", INFO, make_episode(3), created="2024-01-01T00:00:00+00:00")
    assert a.read_bytes() == b.read_bytes()


def test_large_model_file_and_float64_inputs_are_stored(tmp_path: Path) -> None:
    ep = make_episode(0)
    big = EpisodeRecord(**{**vars(ep), "model_file": "<mujoco>" + "x" * 1_000_000 + "</mujoco>",
                           "actions": ep.actions.astype(np.float64)})
    back = read_episode(write_episode_file(tmp_path / "ep.hdf5", INFO, big))
    assert back.model_file == big.model_file and back.actions.dtype == np.float32


def test_iter_episodes_over_directory_and_index(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", n=3)
    for source in (root, root / "dataset.hdf5"):
        eps = list(iter_episodes(source))
        assert [e.index for e in eps] == [0, 1, 2]
        assert_episodes_equal(eps[2], make_episode(2))


# ------------------------------------------------------------------------------------ writer rejects


@pytest.mark.parametrize("mutate, message", [
    (lambda ep: {"obs": {**ep.obs, "object": ep.obs["object"][:, 0]}}, "reshape (T,) to (T, 1)"),
    (lambda ep: {"actions": np.full_like(ep.actions, np.nan)}, "actions: 25 NaN/inf"),
    (lambda ep: {"obs": {**ep.obs, "agentview_depth": ep.obs["agentview_depth"] + 10}}, "depth values"),
    (lambda ep: {"segmentation_ids": {1: SEG_IDS[1]}}, "ids [2, 3] missing"),
    (lambda ep: {"obs": {**ep.obs, "agentview_image": ep.obs["agentview_image"].astype(np.float32)}},
     "image dtype must be uint8"),
    (lambda ep: {"cameras": {}}, "no CameraRecord"),
    (lambda ep: {"next_obs_lowdim": {}}, "next_obs_lowdim: keys"),
    (lambda ep: {"final_images": {}}, "final_images/agentview_depth: missing"),
    (lambda ep: {"final_images": {**ep.final_images, "agentview_depth": ep.obs["agentview_depth"][-2:]}},
     "final_images/agentview_depth: shape (2, 16, 16, 1)"),
    (lambda ep: {"final_images": {**ep.final_images, "agentview_segmentation": ep.final_images[
        "agentview_segmentation"] + 7}}, "final_images/agentview_segmentation: ids"),
    (lambda ep: {"ep_meta": {"x": object()}}, "ep_meta: not JSON"),
])
def test_writer_rejects_invalid_records(tmp_path: Path, mutate: Callable, message: str) -> None:
    ep = make_episode(0)
    with pytest.raises(RecordError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        write_episode_file(tmp_path / "ep.hdf5", INFO, EpisodeRecord(**{**vars(ep), **mutate(ep)}))
    assert list(tmp_path.iterdir()) == []


def test_write_is_atomic_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_episode_file(tmp_path / "ep.hdf5", INFO, make_episode(0))
    before = path.read_bytes()

    def boom(*args, **kwargs):
        assert list(tmp_path.glob(f"ep.hdf5.tmp-{os.getpid()}")), "writes go to <path>.tmp-<pid>"
        raise KeyboardInterrupt

    monkeypatch.setattr("robosynth.dataset.writer._create_next_obs_vds", boom)
    with pytest.raises(KeyboardInterrupt):
        write_episode_file(path, INFO, make_episode(1))
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ep.hdf5"]
    with pytest.raises(DatasetError, match="not a writable directory"):
        write_episode_file(tmp_path / "missing" / "ep.hdf5", INFO, make_episode(0))


# ---------------------------------------------------------------------------------------------- verify


def test_verify_passes_on_fresh_data(tmp_path: Path, ep_file: Path) -> None:
    assert verify_path(ep_file) == []
    root = write_dataset(tmp_path / "ds", n=3, cams=("agentview", "wrist"))
    assert verify_path(root) == []
    assert verify_path(root / "dataset.hdf5") == []


@pytest.mark.parametrize("corrupt, expected", [
    (inject_nan, ["1 NaN/inf values", "checksum mismatch"]),
    (lambda f: replace_dataset(f, "data/demo_0/rewards", f["data/demo_0/rewards"][()].astype(np.float64)),
     ["rewards: dtype float64, expected float32"]),
    (lambda f: f["data/demo_0"].attrs.__delitem__("seed"), ["missing attr seed"]),
    (lambda f: f["data/demo_0"].attrs.__setitem__("segmentation_ids", json.dumps({"1": SEG_IDS[1]})),
     ["ids [2, 3] missing from segmentation_ids"]),
    (lambda f: f["data"].attrs.__setitem__("total", 4), ["attr total=4 but the file holds 1 demos"]),
    (lambda f: f["data"].attrs.__setitem__("robosynth_schema", "99"), ["unsupported robosynth_schema '99'"]),
    (lambda f: f["data/demo_0/obs/agentview_depth"].__setitem__((1, 3, 3, 0), 99.0),
     ["1 depth values neither 0 (no return) nor within [near, far]"]),
    (lambda f: f["data/demo_0/cameras/agentview/T_world_cam"].__setitem__((0, 0, 0), 2.0),
     ["not a rigid transform"]),
    (lambda f: replace_dataset(f, "data/demo_0/obs/object", f["data/demo_0/obs/object"][:, 0]),
     ["low-dim obs must be 2-D"]),
    (lambda f: replace_dataset(f, "data/demo_0/actions", f["data/demo_0/actions"][:3]), ["actions: shape (3, 5)"]),
    (lambda f: f["data/demo_0/cameras/agentview"].attrs.__delitem__("K"), ["missing attrs K"]),
    (lambda f: f.create_dataset("mask/train", data=np.array([b"demo_0", b"demo_7"])), ["names not in data: demo_7"]),
    (lambda f: f["data/demo_0"].attrs.__setitem__("checksum", "0" * 64), ["checksum mismatch"]),
    (lambda f: replace_dataset(f, "data/demo_0/next_obs/agentview_image", f["data/demo_0/obs/agentview_image"][()]),
     ["image next_obs must be a virtual dataset"]),
    (lambda f: f["data"].attrs.__setitem__("env_args", json.dumps({"env_name": "x", "type": 1})),
     ["env_args must hold env_name, type 2"]),
])
def test_verify_reports_problems(ep_file: Path, corrupt: Callable[[h5py.File], None], expected: list[str]) -> None:
    edit(ep_file, corrupt)
    problems = verify_path(ep_file)
    for text in expected:
        assert any(text in p for p in problems), (text, problems)


def test_unreadable_files_raise_dataset_error(tmp_path: Path, ep_file: Path) -> None:
    truncate(ep_file)
    (tmp_path / "notes.hdf5").write_text("not hdf5")
    with h5py.File(tmp_path / "foreign.hdf5", "w") as f:
        f["data/x"] = np.zeros(3)
    for path, message in [(ep_file, "unreadable or truncated"), (tmp_path / "notes.hdf5", "not an HDF5 file"),
                          (tmp_path / "foreign.hdf5", "foreign HDF5"), (tmp_path / "nope.hdf5", "no such file")]:
        for fn in (verify_path, read_episode, summarize):
            with pytest.raises(DatasetError, match=message) as info:
                fn(path)
            assert "\n" not in str(info.value)
    assert issubclass(DatasetError, InputError)


def test_verify_directory_reports_missing_index_links_and_leftovers(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", n=3)
    write_episode_file(episode_path(root, 3), INFO, make_episode(3))
    (root / "episodes" / "ep_000004.hdf5.tmp-123").write_bytes(b"partial")
    episode_path(root, 1).unlink()
    truncate(episode_path(root, 2))
    problems = verify_path(root)
    assert any("ep_000002.hdf5: unreadable or truncated" in p for p in problems), problems
    assert any("episodes not in the index: demo_3" in p for p in problems), problems
    assert any("leftover temporary file" in p for p in problems)
    assert any("demo_1: broken link" in p for p in problems)


# ---------------------------------------------------------------------------------------- VDS next_obs


def test_image_next_obs_are_virtual_views(tmp_path: Path) -> None:
    ep = make_episode(0, T=6)
    path = write_episode_file(tmp_path / "ep.hdf5", INFO, ep)
    with h5py.File(path) as f:
        g = f["data/demo_0"]
        for key in ("agentview_image", "agentview_depth", "agentview_segmentation"):
            nxt = g[f"next_obs/{key}"]
            assert nxt.is_virtual and nxt.dtype == ep.obs[key].dtype and nxt.shape == ep.obs[key].shape
            np.testing.assert_array_equal(nxt[:-1], ep.obs[key][1:])
            np.testing.assert_array_equal(nxt[-1:], ep.final_images[key])
            assert not np.array_equal(nxt[-1], ep.obs[key][-1])
            np.testing.assert_array_equal(nxt[2:4], ep.obs[key][3:5])
        assert not g["next_obs/object"].is_virtual
        np.testing.assert_array_equal(g["next_obs/object"][()], ep.next_obs_lowdim["object"])


def test_single_step_episode_next_obs(tmp_path: Path) -> None:
    ep = make_episode(0, T=1)
    path = write_episode_file(tmp_path / "ep.hdf5", INFO, ep)
    assert verify_path(path) == []
    with h5py.File(path) as f:
        np.testing.assert_array_equal(f["data/demo_0/next_obs/agentview_depth"][()],
                                      ep.final_images["agentview_depth"])


def test_virtual_next_obs_add_under_five_percent(tmp_path: Path) -> None:
    ep = make_episode(0, T=40, H=48, W=48)
    with_next = write_episode_file(tmp_path / "a.hdf5", INFO, ep).stat().st_size
    without = write_episode_file(tmp_path / "b.hdf5", INFO, ep, image_next_obs=False).stat().st_size
    assert without < with_next < 1.05 * without, (with_next, without)
    assert verify_path(tmp_path / "b.hdf5") == []
    back = read_episode(tmp_path / "b.hdf5")
    assert back.final_images == {} and back.obs.keys() == ep.obs.keys()


# --------------------------------------------------------------------------- directories, index, resume


def test_index_links_masks_and_split(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", n=10)
    with h5py.File(root / "dataset.hdf5") as f:
        assert f["data"].attrs["total"] == 10
        assert isinstance(f["data"].get("demo_4", getlink=True), h5py.ExternalLink)
        train = [n.decode() for n in f["mask/train"][()]]
        valid = [n.decode() for n in f["mask/valid"][()]]
    assert len(train) == 9 and len(valid) == 1 and sorted(set(train) | set(valid)) == sorted(f"demo_{i}" for i in
                                                                                            range(10))
    assert split_demos([f"demo_{i}" for i in range(10)], 0.9, 0) == (train, valid)
    assert split_demos([f"demo_{i}" for i in range(10)], 0.9, 1) != (train, valid)
    assert split_demos(["demo_0"], 0.9, 0) == (["demo_0"], [])


def test_index_rejects_inconsistent_keys(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", n=2)
    write_episode_file(episode_path(root, 2), INFO, make_episode(2, cams=("wrist",)))
    with pytest.raises(DatasetError, match="differ from ep_000000.hdf5"):
        build_index(root, INFO)


def test_index_from_the_signatures_the_writer_returned_equals_one_that_reopens_every_file(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    (root / "episodes").mkdir(parents=True)
    written = {i: write_episode(episode_path(root, i), INFO, make_episode(i)) for i in range(3)}
    with h5py.File(episode_path(root, 0), "r") as f:  # computed from the record, equal to the file's, key order too
        assert list(written[0].items()) == list(demo_signature(f["data/demo_0"]).items())
    for cams, image_next_obs in ((("wrist", "agentview"), True), (("agentview",), False)):
        path = tmp_path / f"other_{image_next_obs}.hdf5"
        sig = write_episode(path, INFO, make_episode(0, cams=cams), image_next_obs=image_next_obs)
        with h5py.File(path, "r") as f:
            assert list(sig.items()) == list(demo_signature(f["data/demo_0"]).items())
            assert any(k.startswith("next_obs/agentview") for k in sig) == image_next_obs

    def index_content() -> dict:
        with h5py.File(root / "dataset.hdf5", "r") as f:
            links = {k: (f["data"].get(k, getlink=True).filename, f["data"].get(k, getlink=True).path)
                     for k in f["data"]}
            return {"links": links, "masks": {k: list(f["mask"][k][()]) for k in f["mask"]},
                    "attrs": dict(f["data"].attrs)}

    build_index(root, INFO, created="2026-01-01T00:00:00+00:00")
    reopened = index_content()
    build_index(root, INFO, created="2026-01-01T00:00:00+00:00", written={0: written[0], 2: written[2]})
    assert index_content() == reopened
    write_episode_file(episode_path(root, 3), INFO, make_episode(3, cams=("wrist",)))  # not in `written`: reopened
    with pytest.raises(DatasetError, match="differ from ep_000000.hdf5"):
        build_index(root, INFO, written=written)


def test_dataset_dir_kind(tmp_path: Path) -> None:
    assert dataset_dir_kind(tmp_path / "new") == "absent"
    (tmp_path / "empty").mkdir()
    assert dataset_dir_kind(tmp_path / "empty") == "empty"
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"x")
    assert dataset_dir_kind(tmp_path / "photos") == "foreign"
    root = write_dataset(tmp_path / "ds", n=1)
    (root / "preview.png").write_bytes(b"png")
    assert dataset_dir_kind(root) == "robosynth" and schema.is_robosynth_dataset(root)
    (root / "dataset.hdf5").unlink()
    assert dataset_dir_kind(root) == "robosynth"  # interrupted before the index was built


def test_completed_episode_indices_for_resume(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", n=3)
    tmp = root / "episodes" / "ep_000003.hdf5.tmp-999999"
    tmp.write_bytes(b"half an episode")
    (root / "dataset.hdf5.tmp-999999").write_bytes(b"half an index")
    truncate(episode_path(root, 2))
    assert completed_episode_indices(root) == {0, 1}
    assert not tmp.exists() and not (root / "dataset.hdf5.tmp-999999").exists()
    assert completed_episode_indices(tmp_path / "nothing") == set()


def test_summarize(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", n=3)
    s = summarize(root)
    assert s["episodes"] == 3 and s["total_steps"] == 15 and s["backends"] == {"mujoco": 3}
    assert s["seeds"] == [1000, 1001, 1002] and s["success_rate"] == pytest.approx(2 / 3)
    assert s["keys"]["obs/agentview_image"] == {"shape": ["T", 16, 16, 3], "dtype": "uint8"}
    assert s["keys"]["obs/object"] == {"shape": ["T", 10], "dtype": "float32"}
    assert s["bytes_on_disk"] == sum(p.stat().st_size for p in root.rglob("*.hdf5"))
    assert summarize(root / "dataset.hdf5")["bytes_on_disk"] == s["bytes_on_disk"]
    json.dumps(s)
