"""`robosynth report`: statistics (Wilson CI, parameters, images, cross-engine), files written, bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest

from robosynth.dataset import DatasetError, iter_episodes
from robosynth.generate import GenerateRequest, generate
from robosynth.report import flatten_params, wilson_interval, write_report


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Return {backend: dataset dir} of 3 short pick_place episodes (full randomization, failures kept)."""
    root = tmp_path_factory.mktemp("report_data")
    out = {}
    for backend in ("mujoco", "pybullet"):
        out[backend] = root / backend
        generate(GenerateRequest(scene="pick_place", backend=backend, episodes=3, seed=0, cameras=("agentview",),
                                 resolution=(32, 32), randomization="full", max_steps=15, keep_failed=True),
                 out[backend])
    return out


def _img_sources(index: Path) -> list[str]:
    """Return the src attributes of index.html's <img> tags."""
    return re.findall(r'<img src="([^"]+)"', index.read_text(encoding="utf-8"))


def _check_files(out: Path, report: dict) -> None:
    """Assert index.html names only existing, readable PNGs and no temporary files remain."""
    srcs = _img_sources(out / "index.html")
    assert srcs and "sample_grid.png" in srcs
    for src in srcs:
        img = cv2.imread(str(out / src))
        assert img is not None and img.ndim == 3 and img.shape[0] > 20, src
    assert set(srcs) <= set(report["files"])
    assert json.loads((out / "report.json").read_text()) == report
    assert not [p for p in out.iterdir() if ".tmp-" in p.name or p.name.startswith(".")]


def test_wilson_interval_known_values() -> None:
    assert wilson_interval(0, 0) is None
    assert wilson_interval(0, 3) == (0.0, pytest.approx(0.5614970317550454))
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.2365931, abs=1e-6), pytest.approx(0.7634069, abs=1e-6))
    lo, hi = wilson_interval(95, 100)
    assert lo == pytest.approx(0.8882, abs=1e-4) and hi == pytest.approx(0.9785, abs=1e-4)
    assert wilson_interval(7, 7)[1] == 1.0


def test_flatten_params_paths() -> None:
    flat = flatten_params({"dataset_seed": 0, "episode_index": 4, "version": 1,
                           "physical": {"mass": {"cube": 0.05}}, "visual": {"rgba": {"cube": [0.1, 0.2]}},
                           "sensor": {"cam": {"depth_model": "kinect"}}, "distractors": [{"mesh": 3}]})
    assert flat == {"physical.mass.cube": 0.05, "visual.rgba.cube[0]": 0.1, "visual.rgba.cube[1]": 0.2,
                    "sensor.cam.depth_model": "kinect", "distractors.count": 1.0, "distractors[0].mesh": 3.0}


def test_report_single_backend(datasets: dict[str, Path], tmp_path: Path) -> None:
    eps = list(iter_episodes(datasets["mujoco"]))
    out = tmp_path / "rep"
    report = write_report([datasets["mujoco"]], out)
    _check_files(out, report)
    assert report["episodes"] == 3 and report["backends"] == {"mujoco": 3}
    s = report["success"]["overall"]
    assert s["successes"] == sum(e.success for e in eps) and s["episodes"] == 3
    assert s["ci95"][0] <= s["rate"] <= s["ci95"][1] and s["ci95"][1] > s["ci95"][0]
    assert report["lengths"]["max"] == max(e.num_steps for e in eps)
    assert sum(v["total"] for v in report["failure_reasons"].values()) == 3 - s["successes"]
    # every sampled value of a parameter path is what the episodes recorded
    params = report["parameters"]["paths"]
    masses = [e.ep_meta["randomization"]["physical"]["mass"]["cube"] for e in eps]
    mass = params["physical.mass.cube"]
    assert (mass["n"], mass["min"], mass["max"]) == (3, min(masses), max(masses))
    assert mass["mean"] == pytest.approx(np.mean(masses)) and not mass["constant"]
    assert (out / mass["plot"]).is_file()
    fovy = [e.ep_meta["randomization"]["camera"]["wrist"]["fovy"] for e in eps]
    assert params["camera.wrist.fovy"]["max"] == max(fovy)
    assert "visual.rgba.cube[0]" in params and "action.latency" in params
    assert not any(p.startswith(("dataset_seed", "episode_index", "version")) for p in params)
    assert report["parameters"]["plotted"] <= 40
    # coverage: initial object positions are obs/object[0][:3]
    xs = [float(e.obs["object"][0, 0]) for e in eps]
    assert report["coverage"]["object_initial"]["x"]["min"] == pytest.approx(min(xs))
    # image statistics
    cam = report["image_stats"]["agentview"]
    assert cam["frames_sampled"] == 3 * 15 and cam["resolutions"] == ["32x32"]
    rgb_all = np.concatenate([e.obs["agentview_image"].reshape(-1, 3) for e in eps]).astype(np.float64)
    assert cam["rgb"]["mean"] == pytest.approx(rgb_all.mean(axis=0).tolist())
    assert cam["rgb"]["std"] == pytest.approx(rgb_all.std(axis=0).tolist())
    d = cam["depth"]
    depth = np.concatenate([e.obs["agentview_depth"].ravel() for e in eps])
    assert d["zero_fraction"] == pytest.approx(np.mean(depth == 0))
    assert d["min"] == pytest.approx(depth[depth > 0].min()) and d["max"] == pytest.approx(depth.max())
    assert abs(d["median"] - np.median(depth[depth > 0])) <= 2 * d["median_resolution"]
    classes = cam["segmentation_class_fraction"]
    assert {"cube", "table", "robot"} <= set(classes) and sum(classes.values()) == pytest.approx(1.0)
    assert report["cross_engine"]["status"] == "single backend"
    assert len(report["sample_grid"]["episodes"]) == 3


def test_report_both_backends_and_rewrite(datasets: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "rep"
    report = write_report([datasets["mujoco"], datasets["pybullet"]], out)
    _check_files(out, report)
    assert report["backends"] == {"mujoco": 3, "pybullet": 3}
    assert set(report["success"]["by_backend"]) == {"mujoco", "pybullet"}
    cross = report["cross_engine"]
    assert cross["status"] == "compared" and cross["pairs"] == 3
    assert cross["params_identical_fraction"] == 1.0  # randomization never depends on the engine
    assert cross["object_initial_distance_m"]["max"] == pytest.approx(0.0, abs=1e-6)
    assert 0.0 < cross["eef_max_distance_m"]["max"] < 0.1  # same actions, two engines: close, not identical
    assert cross["success_agreement"]["agree"] == sum(p["success_agree"] for p in cross["pair_list"])
    assert (out / cross["plot"]).is_file()
    # the same datasets as a directory of datasets, plus a duplicate PATH: same pairs, nothing counted twice
    parent = tmp_path / "both"
    parent.mkdir()
    for b, d in datasets.items():
        shutil.copytree(d, parent / b)
    again = write_report([parent, parent / "mujoco" / "dataset.hdf5"], tmp_path / "rep2")
    assert again["episodes"] == 6 and again["cross_engine"]["pairs"] == 3
    # rewriting a report directory drops the plots the new report no longer has
    single = write_report([datasets["pybullet"] / "episodes" / "ep_000001.hdf5"], out)
    assert single["episodes"] == 1 and not (out / "cross_engine_eef.png").exists()
    _check_files(out, single)


def test_truncated_episode_is_a_dataset_error(datasets: dict[str, Path], tmp_path: Path) -> None:
    src = datasets["mujoco"] / "episodes" / "ep_000000.hdf5"
    bad = tmp_path / "trunc.hdf5"
    bad.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(DatasetError):
        write_report([bad], tmp_path / "rep")
    assert not (tmp_path / "rep").exists()


def test_cli_report(datasets: dict[str, Path], tmp_path: Path, run_cli) -> None:
    out = tmp_path / "cli"
    res = run_cli("report", datasets["mujoco"], datasets["pybullet"], "--out", out)
    assert res.rc == 0, res.stderr
    assert "6 episodes" in res.stdout and "cross-engine 3 pairs" in res.stdout
    assert (out / "index.html").is_file() and json.loads((out / "report.json").read_text())["episodes"] == 6


def test_cli_report_bad_input(datasets: dict[str, Path], tmp_path: Path, run_cli) -> None:
    foreign = tmp_path / "foreign.hdf5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    not_dir = tmp_path / "file.txt"
    not_dir.write_text("x")
    cases = [((tmp_path / "missing", "--out", tmp_path / "o1"), "does not exist"),
             ((foreign, "--out", tmp_path / "o2"), "foreign HDF5"),
             ((datasets["mujoco"], "--out", not_dir), "not a directory"),
             ((datasets["mujoco"], "--out", not_dir / "sub"), "not a directory")]
    for args, needle in cases:
        res = run_cli("report", *args)
        assert res.rc == 2, (args, res.stderr)
        assert len(res.stderr_lines) == 1 and needle in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_plots_are_deterministic_images_and_density_counts_paths_once() -> None:
    from robosynth.report import plots

    # a path that goes and comes back counts once per cell; a second path crossing it makes that cell 2
    there_and_back = np.array([[0.05, 0.55], [0.95, 0.55], [0.05, 0.55]])
    vertical = np.array([[0.55, 0.05], [0.55, 0.95]])
    acc = plots.path_density([there_and_back, vertical], (0.0, 1.0), (0.0, 1.0), (10, 10))
    assert acc.max() == 2 and acc[4, 5] == 2  # row 4 from the top holds y in [0.5, 0.6), column 5 x in [0.5, 0.6)
    assert acc.sum() == 10 + 10 and (acc[4] > 0).all() and (acc[:, 5] > 0).all()  # 10 cells per path, each once
    drawn = [lambda: plots.histogram([0.5, 1.5, 2.5], {"mujoco": [1, 2], "pybullet": [0, 3]}, "len", "steps"),
             lambda: plots.bars(["table", "cube"], [0.7, 0.3], "classes", "fraction"),
             lambda: plots.xy_map({"start": np.array([[0.5, 0.0]])}, "map", [there_and_back]),
             lambda: plots.lines([np.linspace(0, 0.01, 20)], "dist", "step", "m")]
    for draw in drawn:
        img = draw()
        assert img.dtype == np.uint8 and img.shape == (plots.SIZE[1], plots.SIZE[0], 3)
        assert (img < 128).any() and np.array_equal(img, draw())  # something drawn; same data, same pixels
