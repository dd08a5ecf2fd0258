"""`robosynth generate / inspect / verify` as a user runs them (real subprocesses): content of a generated
dataset, problems listed on corrupted files (exit 1), and bad input (exit 2, one line, nothing lost)."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

GEN = ["generate", "pick_place", "--backend", "mujoco", "--cameras", "agentview", "--resolution", "32x32",
       "--max-steps", "10"]


def assert_one_error_line(res, *fragments: str) -> None:
    """Exit 2 with exactly one ``robosynth: error:`` line on stderr containing every fragment."""
    assert res.rc == 2, (res.rc, res.stdout, res.stderr)
    assert len(res.stderr_lines) == 1, res.stderr
    line = res.stderr_lines[0]
    assert line.startswith("robosynth: error: ") and "Traceback" not in res.stderr
    for f in fragments:
        assert f in line, line


def snapshot(root: Path) -> dict[str, str]:
    """Return {relative path: sha256} of every file under ``root`` (to prove nothing was touched)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A 2-episode dataset made by the real CLI (failed episodes kept, so the files exist)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("cli") / "ds"
    proc = subprocess.run([sys.executable, "-m", "robosynth", *GEN, "--episodes", "2", "--seed", "5",
                           "--keep-failed", "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "2 episodes" in proc.stdout and "2 written now" in proc.stdout and "2 failed" in proc.stdout
    return out


@pytest.fixture
def copy(dataset, tmp_path) -> Path:
    """A private copy of the dataset, safe to corrupt."""
    return Path(shutil.copytree(dataset, tmp_path / "copy"))


# --------------------------------------------------------------------------------------- good datasets


def test_inspect_dataset_directory(run_cli, dataset):
    res = run_cli("inspect", dataset)
    assert res.rc == 0, res.stderr
    out = res.stdout
    for needle in ("schema", "episodes", "total_steps", "20", "0.0%", "min 10, mean 10.0, max 10",
                   "mujoco (2)", "pick_place (2)", "seeds", "obs/agentview_image", "(T, 32, 32, 3)", "uint8",
                   "obs/agentview_depth", "(T, 32, 32, 1)", "float32", "obs/agentview_segmentation", "int32",
                   "next_obs/agentview_image", "obs/robot0_eef_pos", "(T, 3)", "actions", "(T, 5)"):
        assert needle in out, needle
    size = sum(p.stat().st_size for p in dataset.rglob("*.hdf5"))  # episodes + index
    assert "bytes_on_disk" in out and f"{size:,}" in out


@pytest.mark.parametrize("target", ["dataset.hdf5", "episodes/ep_000001.hdf5"])
def test_inspect_and_verify_single_files(run_cli, dataset, target):
    res = run_cli("inspect", dataset / target)
    assert res.rc == 0, res.stderr
    assert "obs/agentview_image" in res.stdout
    res = run_cli("verify", dataset / target)
    assert res.rc == 0, res.stdout + res.stderr
    assert res.stdout.startswith("OK ")


def test_verify_fresh_dataset(run_cli, dataset):
    before = snapshot(dataset)
    res = run_cli("verify", dataset)
    assert res.rc == 0, res.stdout + res.stderr
    assert "OK" in res.stdout and "schema and contents valid" in res.stdout
    assert snapshot(dataset) == before


# -------------------------------------------------------------------------------------- corrupted files


def _nan_obs(g: h5py.Group) -> None:
    g["obs/robot0_eef_pos"][3, 0] = np.nan


def _nan_depth(g: h5py.Group) -> None:
    g["obs/agentview_depth"][2, 5, 5, 0] = np.inf


def _wrong_dtype(g: h5py.Group) -> None:
    data = g["obs/robot0_joint_pos"][()]
    del g["obs/robot0_joint_pos"]
    g["obs/robot0_joint_pos"] = data.astype(np.float64)


def _missing_demo_attr(g: h5py.Group) -> None:
    del g.attrs["seed"]


def _missing_camera_attr(g: h5py.Group) -> None:
    del g["cameras/agentview"].attrs["K"]


def _unknown_segmentation_id(g: h5py.Group) -> None:
    g["obs/agentview_segmentation"][0, 0, 0, 0] = 777


CORRUPTIONS: dict[str, tuple[Callable[[h5py.Group], None], list[str]]] = {
    "nan_obs": (_nan_obs, ["obs/robot0_eef_pos: 1 NaN/inf values", "checksum mismatch"]),
    "inf_depth": (_nan_depth, ["obs/agentview_depth", "NaN/inf"]),
    "wrong_dtype": (_wrong_dtype, ["obs/robot0_joint_pos: dtype float64, expected float32"]),
    "missing_attr": (_missing_demo_attr, ["demo_1: missing attr seed"]),
    "missing_camera_attr": (_missing_camera_attr, ["cameras/agentview", "K"]),
    "unknown_seg_id": (_unknown_segmentation_id, ["777", "segmentation_ids"]),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_verify_lists_problems_of_corrupted_files(run_cli, copy, case):
    corrupt, expected = CORRUPTIONS[case]
    path = copy / "episodes" / "ep_000001.hdf5"
    with h5py.File(path, "r+") as f:
        corrupt(f["data/demo_1"])
    for target in (copy, path):
        res = run_cli("verify", target)
        assert res.rc == 1, (res.rc, res.stdout, res.stderr)
        lines = res.stdout.splitlines()
        fails = [ln for ln in lines if ln.startswith("FAIL ")]
        assert fails and lines[-1] == f"{len(fails)} problem(s) in {target}"
        for needle in expected:
            assert any(needle in ln for ln in fails), (needle, fails)
        assert all("ep_000000" not in ln and "demo_0:" not in ln for ln in fails), "only demo_1 was corrupted"


def test_verify_directory_with_a_truncated_episode_lists_it(run_cli, copy):
    """A dataset directory stays readable when one of its episode files is truncated: exit 1 naming it."""
    path = copy / "episodes" / "ep_000001.hdf5"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    res = run_cli("verify", copy)
    assert res.rc == 1, (res.rc, res.stdout, res.stderr)
    assert any("ep_000001.hdf5" in ln and "truncated" in ln for ln in res.stdout.splitlines())


# -------------------------------------------------------------------------- bad input to inspect / verify


def _foreign(tmp: Path) -> Path:
    p = tmp / "foreign.hdf5"
    with h5py.File(p, "w") as f:
        f["data/obs"] = np.zeros((3, 2))
    return p


def _truncated(tmp: Path, dataset: Path) -> Path:
    p = tmp / "truncated.hdf5"
    src = (dataset / "episodes" / "ep_000000.hdf5").read_bytes()
    p.write_bytes(src[: len(src) // 3])
    return p


def _text(tmp: Path) -> Path:
    p = tmp / "notes.hdf5"
    p.write_text("not hdf5\n")
    return p


def _plain_dir(tmp: Path) -> Path:
    d = tmp / "plain"
    d.mkdir()
    (d / "notes.txt").write_text("keep me\n")
    return d


BAD_INPUTS: dict[str, tuple[Callable[..., Path], str]] = {
    "foreign": (lambda t, d: _foreign(t), "foreign HDF5"),
    "truncated": (_truncated, "truncated HDF5"),
    "not_hdf5": (lambda t, d: _text(t), "not an HDF5 file"),
    "plain_dir": (lambda t, d: _plain_dir(t), "not a robosynth dataset"),
    "missing": (lambda t, d: t / "nope.hdf5", "no such file"),
}


@pytest.mark.parametrize("verb", ["inspect", "verify"])
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_dataset_input_is_one_line_exit_2_and_nothing_deleted(run_cli, dataset, tmp_path, verb, case):
    make, needle = BAD_INPUTS[case]
    target = make(tmp_path, dataset)
    before = snapshot(tmp_path)
    res = run_cli(verb, target)
    assert_one_error_line(res, needle, target.name)
    assert snapshot(tmp_path) == before
    assert res.stdout.strip() == ""


# ------------------------------------------------------------------------------- bad input to generate


def test_generate_unwritable_output(run_cli, tmp_path):
    if os.geteuid() == 0:  # root ignores directory permissions: use a path whose parent is a regular file
        parent = tmp_path / "a_file"
        parent.write_text("x")
        out, needle = parent / "ds", "is not a directory"
    else:
        parent = tmp_path / "locked"
        parent.mkdir()
        parent.chmod(0o500)
        out, needle = parent / "ds", "not writable"
    try:
        res = run_cli(*GEN, "--episodes", "1", "--out", out)
        assert_one_error_line(res, needle)
        assert not out.exists()
    finally:
        if parent.is_dir():
            parent.chmod(0o700)


def test_generate_into_existing_non_dataset_directory(run_cli, tmp_path):
    out = _plain_dir(tmp_path)
    before = snapshot(out)
    for extra in ([], ["--resume"]):
        res = run_cli(*GEN, "--episodes", "1", "--out", out, *extra)
        assert_one_error_line(res, "not empty and is not a robosynth dataset")
        assert snapshot(out) == before


def test_generate_output_is_a_file(run_cli, tmp_path):
    out = tmp_path / "file"
    out.write_text("x")
    res = run_cli(*GEN, "--episodes", "1", "--out", out)
    assert_one_error_line(res, "is not a directory")
    assert out.read_text() == "x"


def test_generate_into_finished_dataset_without_resume_keeps_it(run_cli, copy):
    before = snapshot(copy)
    res = run_cli(*GEN, "--episodes", "2", "--seed", "5", "--keep-failed", "--out", copy)
    assert_one_error_line(res, "already holds a dataset", "--resume")
    assert snapshot(copy) == before
    res = run_cli(*GEN, "--episodes", "2", "--seed", "5", "--keep-failed", "--out", copy, "--resume")
    assert res.rc == 0, res.stderr
    assert "0 written now, 2 already done" in res.stdout
    assert {k: v for k, v in snapshot(copy).items() if k.startswith("episodes/")} == \
        {k: v for k, v in before.items() if k.startswith("episodes/")}


def _bad_randomization_file(tmp: Path) -> str:
    p = tmp / "rand.yaml"
    p.write_text("physical:\n  objects:\n    cube:\n      mass: {dist: uniform, low: -1, high: 1}\n")
    return str(p)


BAD_FLAGS: dict[str, tuple[Callable[[Path], list[str]], list[str]]] = {
    "resolution_zero": (lambda t: ["--resolution", "0x0"], ["must be positive"]),
    "resolution_negative": (lambda t: ["--resolution", "-1x5"], ["must be positive"]),
    "resolution_huge": (lambda t: ["--resolution", "5000x5000"], ["exceeds the maximum"]),
    "resolution_syntax": (lambda t: ["--resolution", "64"], ["WIDTHxHEIGHT"]),
    "unknown_camera": (lambda t: ["--cameras", "agentview,nosuchcam"], ["unknown camera", "nosuchcam"]),
    "unknown_backend": (lambda t: ["--backend", "gazebo"], ["unknown backend 'gazebo'"]),
    "unknown_preset": (lambda t: ["--randomization", "wild"], ["unknown randomization preset 'wild'"]),
    "missing_randomization_file": (lambda t: ["--randomization", str(t / "nope.yaml")], ["does not exist"]),
    "out_of_range_randomization": (lambda t: ["--randomization", _bad_randomization_file(t)],
                                   ["randomization.physical.objects.cube.mass", "outside the allowed"]),
    "unknown_scene": (lambda t: ["--episodes", "1"], []),
    "indices_out_of_range": (lambda t: ["--episodes", "3", "--indices", "1,3"], ["--indices 3 is out of range"]),
    "indices_syntax": (lambda t: ["--indices", "2-x"], ["--indices must look like"]),
    "workers_zero": (lambda t: ["--workers", "0"], ["--workers must be >= 1"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FLAGS))
def test_generate_bad_flags_exit_2_and_create_nothing(run_cli, tmp_path, case):
    make, needles = BAD_FLAGS[case]
    out = tmp_path / "ds"
    args = list(GEN)
    if case == "unknown_scene":
        args[1] = "no_such_scene"
        needles = ["no_such_scene"]
    res = run_cli(*args, *make(tmp_path), "--out", out)
    assert_one_error_line(res, *needles)
    assert not out.exists()
