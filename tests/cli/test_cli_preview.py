"""`robosynth preview` as a user runs it: scene cameras and datasets to PNG / MP4, bad input -> exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest

from renderers.camera import parse_resolution
from robosynth.viz.preview import GAP, colorize_depth, colorize_segmentation, instance_colours
from sim.errors import InputError

CAMERAS = 2  # pick_place has agentview and wrist


def sheet_shape(rows: int, width: int, height: int, tiles_per_row: int = 3) -> tuple[int, int, int]:
    """Return the (H, W, 3) of a sheet with ``rows`` rows of ``tiles_per_row`` width x height tiles."""
    return rows * height + GAP * (rows - 1), tiles_per_row * width + GAP * (tiles_per_row - 1), 3


def assert_one_error_line(res, *fragments: str) -> None:
    assert res.rc == 2, (res.rc, res.stdout, res.stderr)
    assert len(res.stderr_lines) == 1, res.stderr
    assert res.stderr_lines[0].startswith("robosynth: error: ")
    for f in fragments:
        assert f in res.stderr_lines[0], res.stderr_lines[0]
    assert "Traceback" not in res.stderr


def no_leftovers(directory: Path) -> None:
    assert not [p.name for p in directory.iterdir() if p.name.startswith(".")], list(directory.iterdir())


# ---------------------------------------------------------------------------------------- scene mode


def test_preview_scene_writes_one_png_row_per_camera(run_cli, tmp_path: Path, backend: str) -> None:
    out = tmp_path / "cams.png"
    res = run_cli("preview", "--scene", "pick_place", "--backend", backend, "--out", out)
    assert res.rc == 0, res.stderr
    img = cv2.imread(str(out))
    assert img is not None and img.shape == sheet_shape(CAMERAS, 128, 128)
    rgb = img[:128, :128]
    assert rgb.std() > 10  # a real render, not a blank tile
    seg = img[:128, 2 * (128 + GAP) :]
    assert (seg.reshape(-1, 3) != 0).any(axis=1).mean() > 0.5  # instances are coloured
    no_leftovers(tmp_path)


def test_preview_scene_resolution_quality_seed_and_both_backends(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "both.png"
    res = run_cli("preview", "--scene", "pick_place", "--backend", "all", "--out", out, "--resolution", "96x64",
                  "--quality", "fast", "--seed", "5")
    assert res.rc == 0, res.stderr
    img = cv2.imread(str(out))
    assert img.shape == sheet_shape(2 * CAMERAS, 96, 64)


@pytest.mark.parametrize("value", ["0x64", "64x0", "-5x64", "64x-1", "5000x64", "64x4097", "abc", "64", "1.5x3"])
def test_bad_resolution_exits_2_before_anything_starts(run_cli, tmp_path: Path, value: str) -> None:
    out = tmp_path / "x.png"
    # the scene does not exist either: the flag is checked first, so nothing is loaded or started
    res = run_cli("preview", "--scene", "no_such_scene", "--out", out, f"--resolution={value}")
    assert_one_error_line(res, "--resolution")
    assert not out.exists()
    no_leftovers(tmp_path)


def test_unwritable_output_exits_2(run_cli, tmp_path: Path) -> None:
    res = run_cli("preview", "--scene", "pick_place", "--out", tmp_path / "missing" / "cams.png")
    assert_one_error_line(res, "output directory", "missing", "does not exist")
    (tmp_path / "afile").write_text("x")
    res = run_cli("preview", "--scene", "pick_place", "--out", tmp_path / "afile" / "cams.png")
    assert_one_error_line(res, "output directory", "afile")
    res = run_cli("preview", "--scene", "pick_place", "--out", tmp_path)
    assert_one_error_line(res, "--out")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_output_directory_exits_2(run_cli, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        res = run_cli("preview", "--scene", "pick_place", "--out", ro / "cams.png")
        assert_one_error_line(res, "not writable")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--scene", "no_such_scene"], "unknown scene 'no_such_scene'"),
        (["--scene", "pick_place", "--backend", "ode"], "unknown backend 'ode'"),
        (["--scene", "pick_place", "--quality", "ultra"], "unknown quality 'ultra'"),
        (["--scene", "pick_place", "--out-suffix", ".gif"], "expected a file ending in"),
        (["--scene", "pick_place", "--out-suffix", ".mp4"], "videos need a dataset PATH"),
        ([], "either a dataset PATH or --scene"),
    ],
)
def test_bad_scene_flags_exit_2(run_cli, tmp_path: Path, args: list[str], fragment: str) -> None:
    suffix = ".png"
    if "--out-suffix" in args:
        suffix = args[args.index("--out-suffix") + 1]
        args = args[: args.index("--out-suffix")]
    res = run_cli("preview", *args, "--out", tmp_path / f"cams{suffix}")
    assert_one_error_line(res, fragment)
    assert not list(tmp_path.iterdir())


# -------------------------------------------------------------------------------------- dataset mode


def test_preview_dataset_sheet_video_and_single_file(run_cli, tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    res = run_cli("generate", "pick_place", "--backend", "pybullet", "--episodes", "2", "--out", ds, "--seed", "1",
                  "--max-steps", "6", "--keep-failed", "--resolution", "64x48", "--quality", "fast")
    assert res.rc in (0, 1), res.stderr  # 6 steps are too few to succeed; failed episodes are kept
    files = sorted((ds / "episodes").glob("ep_*.hdf5"))
    assert len(files) == 2
    with h5py.File(files[0], "r") as f:
        steps = [int(f["data"][d].attrs["num_samples"]) for d in f["data"] if d.startswith("demo_")]
    T = steps[0]

    sheet = tmp_path / "sheet.png"
    res = run_cli("preview", ds, "--out", sheet, "--frames", "3")
    assert res.rc == 0, res.stderr
    img = cv2.imread(str(sheet))
    assert img.shape == sheet_shape(2 * CAMERAS, 64, 48, tiles_per_row=3 * 3)  # 2 episodes x 2 cameras

    res = run_cli("preview", files[1], "--out", tmp_path / "one.png", "--frames", "2", "--episodes", "5")
    assert res.rc == 0, res.stderr
    assert cv2.imread(str(tmp_path / "one.png")).shape == sheet_shape(CAMERAS, 64, 48, tiles_per_row=2 * 3)

    video = tmp_path / "preview.mp4"
    res = run_cli("preview", ds, "--out", video, "--episodes", "1")
    assert res.rc == 0, res.stderr
    cap = cv2.VideoCapture(str(video))
    try:
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == T
        ok, frame = cap.read()
        assert ok and frame.shape[0] >= sheet_shape(CAMERAS, 64, 48)[0]
    finally:
        cap.release()
    no_leftovers(tmp_path)


def test_preview_bad_dataset_paths_exit_2(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    res = run_cli("preview", tmp_path / "nope.hdf5", "--out", out)
    assert_one_error_line(res, "does not exist")
    foreign = tmp_path / "foreign.hdf5"
    with h5py.File(foreign, "w") as f:
        f["data/whatever"] = np.arange(3)
    res = run_cli("preview", foreign, "--out", out)
    assert_one_error_line(res, "foreign")
    corrupt = tmp_path / "corrupt.hdf5"
    corrupt.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    res = run_cli("preview", corrupt, "--out", out)
    assert_one_error_line(res, "corrupt.hdf5")
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    res = run_cli("preview", empty, "--out", out)
    assert_one_error_line(res, "empty_dir")
    assert not out.exists()


# ------------------------------------------------------------------------------------ library pieces


def test_parse_resolution_and_colour_maps() -> None:
    assert parse_resolution("640x480") == (640, 480)
    assert parse_resolution(" 64 X 32 ") == (64, 32)
    for bad in ("0x1", "1x0", "-1x5", "4097x1", "x", ""):
        with pytest.raises(InputError):
            parse_resolution(bad)
    depth = np.array([[0.0, np.nan, 0.5], [1.0, 2.0, 10.0]], np.float32)
    img = colorize_depth(depth, far=10.0)
    assert img.shape == (2, 3, 3) and img.dtype == np.uint8
    assert not img[0, 0].any() and not img[0, 1].any() and not img[1, 2].any()  # no return / NaN / far: black
    assert img[0, 2].any() and not np.array_equal(img[0, 2], img[1, 1])  # near and far get different colours
    seg = np.array([[0, 1, 2], [2, 14, -1]], np.int32)
    col = colorize_segmentation(seg)
    assert not col[0, 0].any() and not col[1, 2].any()
    assert np.array_equal(col[0, 2], col[1, 0]) and not np.array_equal(col[0, 1], col[0, 2])
    table = instance_colours(64)
    assert np.array_equal(table[14], col[1, 1])  # stable: the colour of id 14 does not depend on the image
    assert len({tuple(c) for c in table[1:]}) == 63


def test_scene_preview_with_a_point_cloud(run_cli, tmp_path: Path) -> None:
    plain, cloud = tmp_path / "plain.png", tmp_path / "cloud.png"
    assert run_cli("preview", "--scene", "pick_place", "--resolution", "32x32", "--out", plain).rc == 0
    res = run_cli("preview", "--scene", "pick_place", "--resolution", "32x32", "--pointcloud", "500", "--out", cloud)
    assert res.rc == 0, res.stderr
    a, b = cv2.imread(str(plain)), cv2.imread(str(cloud))
    assert b.shape[0] > a.shape[0]  # one more row: the cloud seen from the top and the side
    extra = b[a.shape[0]:]
    assert (extra > 0).any()
    bad = run_cli("preview", "--scene", "pick_place", "--pointcloud", "0", "--out", tmp_path / "x.png")
    assert bad.rc == 2 and "--pointcloud" in bad.stderr and len(bad.stderr_lines) == 1


def test_projection_draws_nearer_points_last() -> None:
    from robosynth.viz.cloud import project_points

    xyz = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.5]])
    rgb = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    img = project_points(xyz, rgb, (0, 1), 2, side=64)
    assert img.shape == (64, 64, 3)
    colours = {tuple(c) for c in img.reshape(-1, 3) if c.any()}
    assert (0, 255, 0) in colours and (255, 0, 0) not in colours  # the higher point covers the lower one
