"""End-to-end tests of ``generate`` on real engine data (MuJoCo and PyBullet): round trip, verify, robomimic-style
reading, image next_obs, regeneration with ``--indices``, 1 vs 2 workers, normalized depth, failed episodes."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from randomization.load import load_randomization
from robosynth.dataset import (
    EpisodeRecord,
    canonical_record,
    episode_path,
    read_episode,
    record_datasets,
    verify_path,
    write_episode_file,
)
from robosynth.generate import (
    GenerateRequest,
    check_output_dir,
    dataset_info,
    generate,
    output_dir_kind,
    parse_indices,
    selected_indices,
)
from robosynth.generate.buffer import metric_from_normalized
from robosynth.generate.recording import EpisodeRunner, RecordingOptions
from scenes.loader import load_scene
from sim.backend import BACKEND_NAMES as BACKENDS
from sim.errors import InputError

SEED = 7
N_EPISODES = 3
RES = (48, 48)
CAMS = ("agentview", "wrist")
MAX_STEPS = 12  # far below the ~37 steps the expert needs: every episode fails (kept with keep_failed)


def small_request(backend: str, **kw) -> GenerateRequest:
    """Return the small two-camera request most tests use (failures kept so that files exist)."""
    base = dict(scene="pick_place", backend=backend, episodes=N_EPISODES, seed=SEED, cameras=CAMS, resolution=RES,
                max_steps=MAX_STEPS, keep_failed=True)
    return GenerateRequest(**{**base, **kw})


@pytest.fixture(scope="module", params=BACKENDS)
def dataset(request, tmp_path_factory) -> tuple[str, Path]:
    """Generate the small dataset once per backend; return (backend, directory)."""
    backend = request.param
    out = tmp_path_factory.mktemp(f"ds_{backend}") / "ds"
    summary = generate(small_request(backend), out)
    assert summary.written == N_EPISODES and summary.failed == N_EPISODES
    return backend, out


@pytest.fixture(scope="module")
def mujoco_dataset(tmp_path_factory) -> Path:
    """The MuJoCo small dataset (for tests that need one backend only)."""
    out = tmp_path_factory.mktemp("ds_mj1") / "ds"
    generate(small_request("mujoco"), out)
    return out


def runner_for(backend: str, max_steps: int = MAX_STEPS) -> EpisodeRunner:
    """Build an EpisodeRunner by hand (not through generate) with the settings of ``small_request``."""
    spec = load_scene("pick_place")
    cams = tuple(c.model_copy(update={"width": RES[0], "height": RES[1]}) for c in spec.cameras)
    spec = spec.model_copy(update={"cameras": cams})
    cfg = load_randomization(None, spec)  # the scene's own randomization section, as generate uses it
    return EpisodeRunner(spec, RecordingOptions(backend=backend, cameras=CAMS, max_steps=max_steps, randomization=cfg))


def assert_records_equal(got: EpisodeRecord, want: EpisodeRecord) -> None:
    """Assert two records hold identical arrays (dtype, shape, bytes) and identical metadata."""
    for name in ("index", "seed", "backend", "engine_version", "scene_name", "success", "failure_reason",
                 "model_file", "quality", "segmentation_ids"):
        assert getattr(got, name) == getattr(want, name), name
    assert got.ep_meta == json.loads(json.dumps(want.ep_meta)), "ep_meta"
    a, b = record_datasets(got), record_datasets(want)
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
        assert a[key].tobytes() == b[key].tobytes(), f"{key} differs"
    assert set(got.cameras) == set(want.cameras)
    for cam, rec in want.cameras.items():
        other = got.cameras[cam]
        np.testing.assert_array_equal(other.K, rec.K)
        np.testing.assert_array_equal(other.distortion, rec.distortion)
        assert (other.width, other.height, other.near, other.far, other.depth_units, other.depth_kind) == \
            (rec.width, rec.height, rec.near, rec.far, rec.depth_units, rec.depth_kind)


def demo_arrays(path: Path) -> dict[str, np.ndarray]:
    """Return every dataset of a one-demo file (virtual next_obs included, read through) by relative path."""
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        (name,) = list(f["data"])
        f["data"][name].visititems(lambda k, v: out.__setitem__(k, v[()]) if isinstance(v, h5py.Dataset) else None)
    return out


def demo_attrs(path: Path) -> dict[str, object]:
    """Return the demo attrs of a one-demo file."""
    with h5py.File(path, "r") as f:
        (name,) = list(f["data"])
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f["data"][name].attrs.items()}


def assert_files_equal(a: Path, b: Path) -> None:
    """Assert two episode files hold bit-identical datasets and identical demo attrs."""
    x, y = demo_arrays(a), demo_arrays(b)
    assert sorted(x) == sorted(y)
    for key in x:
        assert x[key].dtype == y[key].dtype and x[key].shape == y[key].shape, key
        assert x[key].tobytes() == y[key].tobytes(), f"{a.name}: {key} differs"
    assert demo_attrs(a) == demo_attrs(b)


# ------------------------------------------------------------------------------------------- round trip


def test_generated_episode_equals_runner_record_and_roundtrips(dataset, tmp_path):
    """An episode written by generate reads back exactly as the record a hand-built EpisodeRunner produces."""
    backend, out = dataset
    runner = runner_for(backend)
    try:
        rec = runner.run(SEED, 1).record
    finally:
        runner.close()
    assert rec is not None and rec.num_steps == MAX_STEPS
    want = canonical_record(rec)
    assert_records_equal(read_episode(episode_path(out, 1)), want)
    # and a plain write -> read of the in-memory record
    path = write_episode_file(tmp_path / "one.hdf5", dataset_info(small_request(backend)), rec)
    assert_records_equal(read_episode(path), want)


def test_verify_passes_on_fresh_data(dataset):
    _, out = dataset
    assert verify_path(out) == []
    assert verify_path(out / "dataset.hdf5") == []


def test_episodes_differ_across_indices(dataset):
    """Sanity: the comparison helpers are not vacuous (two indices give different episodes)."""
    _, out = dataset
    with pytest.raises(AssertionError):
        assert_files_equal(episode_path(out, 0), episode_path(out, 1))


# ------------------------------------------------------------------------------------ robomimic reading


def test_dataset_loads_robomimic_style(dataset):
    """Open dataset.hdf5 the way robomimic's SequenceDataset does and read every demo."""
    backend, out = dataset
    with h5py.File(out / "dataset.hdf5", "r", swmr=True, libver="latest") as f:
        demos = sorted(f["data"].keys(), key=lambda x: int(x[5:]))
        assert demos == [f"demo_{i}" for i in range(N_EPISODES)]
        env_args = json.loads(f["data"].attrs["env_args"])
        assert env_args["type"] == 2 and env_args["env_name"] == "robosynth/PickPlace-v0"
        assert env_args["env_kwargs"]["backend"] == backend
        train = [e.decode() for e in f["mask/train"][()]]
        valid = [e.decode() for e in f["mask/valid"][()]]
        assert sorted(train + valid, key=lambda x: int(x[5:])) == demos and train
        key_sets = set()
        for name in demos:
            g = f[f"data/{name}"]
            T = int(g.attrs["num_samples"])
            actions = g["actions"][()]
            assert actions.shape == (T, 5) and actions.dtype == np.float32
            obs = {k: g[f"obs/{k}"][()] for k in g["obs"]}
            next_obs = {k: g[f"next_obs/{k}"][()] for k in g["next_obs"]}
            key_sets.add((tuple(sorted(obs)), tuple(sorted(next_obs))))
            for k, v in obs.items():
                assert v.shape[0] == T and next_obs[k].shape == v.shape and next_obs[k].dtype == v.dtype
                if not k.endswith(("_image", "_depth", "_segmentation")):
                    assert v.ndim == 2 and v.dtype == np.float32, k
                assert np.all(np.isfinite(v)) if v.dtype.kind == "f" else True
            assert obs["agentview_image"].shape == (T, RES[1], RES[0], 3)
            assert obs["wrist_depth"].shape == (T, RES[1], RES[0], 1)
            assert g["rewards"].shape == (T,) and g["dones"][-1] == 1
        assert len(key_sets) == 1, "every demo must have the same keys"


def test_next_obs_images_are_obs_shifted_with_true_final_frame(dataset):
    """next_obs[t] = obs[t+1]; the last one is the observation after the last action (what a longer run sees)."""
    backend, out = dataset
    ep = read_episode(episode_path(out, 2))
    T = ep.num_steps
    longer = runner_for(backend, max_steps=T + 1)
    try:
        ref = longer.run(SEED, 2).record
    finally:
        longer.close()
    assert ref is not None and ref.num_steps == T + 1
    with h5py.File(out / "dataset.hdf5", "r", swmr=True, libver="latest") as f:
        g = f["data/demo_2"]
        moved = 0
        for key in ep.obs:
            obs, nxt = g[f"obs/{key}"][()], g[f"next_obs/{key}"][()]
            np.testing.assert_array_equal(nxt[:-1], obs[1:], err_msg=key)
            np.testing.assert_array_equal(nxt[-1], ref.obs[key][T], err_msg=f"{key}: final next_obs")
            moved += int(not np.array_equal(nxt[-1], obs[-1]))
        assert moved >= 3, "the final next frame must be new, not a repeat of obs[-1]"


# ----------------------------------------------------------------------------------------- determinism


def test_regenerate_episode_from_recorded_seed_and_index(dataset, run_cli, tmp_path):
    """`generate --seed <seed> --indices <episode_index>` with the settings read from the episode file alone
    reproduces it bit-identically (and --episodes need only exceed the index)."""
    backend, out = dataset
    src = episode_path(out, 2)
    attrs = demo_attrs(src)
    seed, index = int(attrs["seed"]), int(attrs["episode_index"])
    meta = json.loads(attrs["ep_meta"])
    with h5py.File(src, "r") as f:
        kwargs = json.loads(f["data"].attrs["env_args"])["env_kwargs"]
        cams = list(f[f"data/demo_{index}/cameras"])
        size = {(int(g.attrs["width"]), int(g.attrs["height"])) for g in f[f"data/demo_{index}/cameras"].values()}
    assert kwargs["backend"] == backend and sorted(cams) == sorted(CAMS) and size == {RES}
    assert meta["max_steps"] == MAX_STEPS and meta["depth_format"] == "metric"
    (w, h), = size
    new = tmp_path / "regen"
    res = run_cli("generate", kwargs["scene"], "--backend", kwargs["backend"], "--seed", seed,
                  "--episodes", index + 1, "--indices", index, "--cameras", ",".join(kwargs["cameras"]),
                  "--resolution", f"{w}x{h}", "--quality", kwargs["quality"], "--max-steps", meta["max_steps"],
                  "--keep-failed", "--out", new)
    assert res.rc == 0, res.stderr
    files = sorted(p.name for p in (new / "episodes").iterdir())
    assert files == [src.name]
    assert_files_equal(episode_path(new, index), src)
    assert demo_attrs(episode_path(new, index))["checksum"] == attrs["checksum"]
    assert verify_path(new) == []


def test_workers_1_and_2_give_identical_episodes(mujoco_dataset, tmp_path):
    out2 = tmp_path / "w2"
    summary = generate(small_request("mujoco"), out2, workers=2)
    assert summary.written == N_EPISODES
    for i in range(N_EPISODES):
        assert_files_equal(episode_path(out2, i), episode_path(mujoco_dataset, i))


def test_indices_select_and_validate(tmp_path):
    assert parse_indices("3,5-7") == (3, 5, 6, 7)
    assert parse_indices(" 7 , 1-2,2") == (1, 2, 7)
    for bad in ("", "a", "3-", "-1", "5-3", "1,,2"):
        with pytest.raises(InputError):
            parse_indices(bad)
    req = small_request("mujoco", episodes=8, indices=(3, 5, 6, 7))
    assert selected_indices(req) == [3, 5, 6, 7]
    with pytest.raises(InputError, match="out of range"):
        generate(small_request("mujoco", episodes=3, indices=(3,)), tmp_path / "x")
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------------------- depth, failures


def test_normalized_depth_recovers_metres(mujoco_dataset, tmp_path):
    out = tmp_path / "norm"
    generate(small_request("mujoco", depth_format="normalized", indices=(0,)), out)
    assert verify_path(out) == []
    norm, metric = read_episode(episode_path(out, 0)), read_episode(episode_path(mujoco_dataset, 0))
    for cam in CAMS:
        rec = norm.cameras[cam]
        assert rec.depth_units == "normalized" and metric.cameras[cam].depth_units == "m"
        d, z = norm.obs[f"{cam}_depth"], metric.obs[f"{cam}_depth"]
        assert d.dtype == np.float32 and d.min() >= 0.0 and d.max() <= 1.0
        assert d.max() > d.min(), "depth must not be constant"
        np.testing.assert_allclose(metric_from_normalized(d, rec.near, rec.far), z, rtol=2e-4)
        np.testing.assert_allclose(metric_from_normalized(norm.final_images[f"{cam}_depth"], rec.near, rec.far),
                                   metric.final_images[f"{cam}_depth"], rtol=2e-4)
        np.testing.assert_array_equal(norm.obs[f"{cam}_image"], metric.obs[f"{cam}_image"])
        np.testing.assert_array_equal(norm.obs[f"{cam}_segmentation"], metric.obs[f"{cam}_segmentation"])


def test_failed_episodes_counted_not_written_without_keep_failed(tmp_path):
    out = tmp_path / "drop"
    summary = generate(small_request("mujoco", cameras=(), keep_failed=False, max_steps=5), out)
    assert (summary.requested, summary.written, summary.failed) == (N_EPISODES, 0, N_EPISODES)
    assert set(summary.failures) == set(range(N_EPISODES))
    assert all("no success within 5 steps" in r for r in summary.failures.values())
    assert not (out / "episodes").exists() and not (out / "dataset.hdf5").exists()
    assert len(list((out / "failed").glob("ep_*.json"))) == N_EPISODES
    again = generate(small_request("mujoco", cameras=(), keep_failed=False, max_steps=5), out, resume=True)
    assert (again.skipped, again.written, again.failed, again.steps) == (N_EPISODES, 0, N_EPISODES, 0)


def test_keep_failed_writes_failures_and_successes_are_marked(dataset, tmp_path):
    backend, out = dataset
    for i in range(N_EPISODES):
        ep = read_episode(episode_path(out, i))
        assert ep.success is False and ep.failure_reason == f"no success within {MAX_STEPS} steps"
    full = tmp_path / "full"
    summary = generate(small_request(backend, cameras=(), max_steps=None, episodes=2), full)
    assert (summary.written, summary.failed) == (2, 0)
    for i in range(2):
        ep = read_episode(episode_path(full, i))
        assert ep.success is True and ep.failure_reason == "" and ep.num_steps > MAX_STEPS
        assert ep.obs["object"].ndim == 2 and not any(k.endswith("_image") for k in ep.obs)
    assert verify_path(full) == []


def test_output_dir_kind_accepts_runs_killed_before_the_first_episode(tmp_path):
    """A directory holding only what generate writes before its first episode can be resumed; others not."""
    req = small_request("mujoco")
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "generate.json").write_text(req.to_json())
    (killed / "failed").mkdir()
    (killed / "failed" / "ep_000000.json.tmp-123").write_text("{")
    assert output_dir_kind(killed) == "robosynth"
    check_output_dir(killed, resume=True)
    with pytest.raises(InputError, match="--resume"):
        check_output_dir(killed, resume=False)
    torn = tmp_path / "torn"
    torn.mkdir()
    (torn / "generate.json.tmp").write_text('{"sce')
    assert output_dir_kind(torn) == "robosynth"
    for name, make in (("extra_file", lambda d: (d / "notes.txt").write_text("x")),
                       ("failed_is_file", lambda d: (d / "failed").write_text("x")),
                       ("foreign_marker", lambda d: ((d / "failed").mkdir(), (d / "failed" / "x.txt").write_text("")))):
        d = tmp_path / name
        d.mkdir()
        (d / "generate.json").write_text(req.to_json())
        make(d)
        assert output_dir_kind(d) == "foreign", name
        with pytest.raises(InputError, match="not a robosynth dataset"):
            check_output_dir(d, resume=True)
