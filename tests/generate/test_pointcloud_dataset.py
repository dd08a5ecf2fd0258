"""``generate --pointcloud N``: per step a fused world-frame cloud of exactly N points, each back-projecting a
recorded depth pixel through the recorded camera, with the recorded colour and instance id; verify passes;
episodes regenerate identically."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.camera import project
from robosynth.cli import invoke
from robosynth.dataset import episode_checksum, iter_episodes, verify_path
from robosynth.generate import GenerateRequest, generate

N = 200


def request(backend: str, **kw) -> GenerateRequest:
    """A small two-camera request with point clouds."""
    base = dict(scene="pick_place", backend=backend, episodes=2, seed=1, cameras=("agentview", "wrist"),
                resolution=(40, 32), max_steps=6, keep_failed=True, pointcloud=N)
    return GenerateRequest(**{**base, **kw})


@pytest.fixture(scope="module", params=["mujoco", "pybullet"])
def dataset(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"pc_{request.param}") / "ds"
    assert generate(globals()["request"](request.param), out).written == 2
    return request.param, out


def test_points_come_from_recorded_depth_pixels(dataset):
    _, out = dataset
    assert verify_path(out) == []
    for ep in iter_episodes(out):
        cloud, ids, rgb = ep.obs["pointcloud"], ep.obs["pointcloud_seg"][..., 0], ep.obs["pointcloud_rgb"]
        T = len(ep.actions)
        assert cloud.shape == (T, N, 3) and ids.shape == (T, N) and rgb.shape == (T, N, 3)
        assert ep.final_images["pointcloud"].shape == (1, N, 3)
        for t in range(T):
            matched = np.zeros(N, bool)
            for cam, rec in ep.cameras.items():
                uv, z = project(cloud[t].astype(np.float64), rec.K, rec.T_world_cam[t])
                ok = np.isfinite(uv).all(axis=1)
                u, v = np.round(uv[:, 0]), np.round(uv[:, 1])
                ok &= (np.abs(uv[:, 0] - u) < 1e-2) & (np.abs(uv[:, 1] - v) < 1e-2)
                ok &= (u >= 0) & (u < rec.width) & (v >= 0) & (v < rec.height)
                ui, vi = u.astype(int).clip(0, rec.width - 1), v.astype(int).clip(0, rec.height - 1)
                depth = ep.obs[f"{cam}_depth"][t, vi, ui, 0]
                ok &= np.abs(depth - z) < 1e-4
                ok &= ids[t] == ep.obs[f"{cam}_segmentation"][t, vi, ui, 0]
                ok &= (rgb[t] == ep.obs[f"{cam}_image"][t, vi, ui]).all(axis=1)
                matched |= ok
            assert matched.all(), f"step {t}: {int((~matched).sum())} points match no recorded pixel"


def test_an_episode_regenerates_identically(dataset, tmp_path):
    backend, out = dataset
    again = tmp_path / "again"
    generate(request(backend, indices=(1,)), again)
    a = {e.index: episode_checksum(e) for e in iter_episodes(out)}
    b = {e.index: episode_checksum(e) for e in iter_episodes(again)}
    assert b == {1: a[1]}


@pytest.mark.parametrize(("extra", "message"), [
    (["--cameras", "none"], "--pointcloud needs at least one recorded camera"),
    (["--pointcloud", "0"], "--pointcloud must be in 1..1000000"),
])
def test_bad_pointcloud_requests_are_one_line_errors(capsys, tmp_path, extra, message):
    args = ["generate", "pick_place", "--episodes", "1", "--pointcloud", "64", "--out", str(tmp_path / "ds"), *extra]
    rc = invoke(args)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "ds").exists()


def test_dataset_preview_shows_the_cloud(dataset):
    from robosynth.viz.preview import _cloud_row, dataset_sheet

    _, out = dataset
    ep = next(iter_episodes(out))
    row = _cloud_row(ep)
    assert row.ndim == 3 and row.any()
    sheet = dataset_sheet(out, episodes=1, frames=2)
    assert sheet.shape[0] > row.shape[0] and sheet.shape[1] >= row.shape[1]
