"""A scene camera configured from a real calibration file (ROS camera_info / OpenCV YAML)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from renderers.sensors import SceneRenderer
from scenes.loader import BUILTIN_DIR, load_scene
from scenes.runtime import Simulation

ROS_INFO = """image_width: 96
image_height: 72
camera_name: realsense
camera_matrix: {rows: 3, cols: 3, data: [80.0, 0.0, 50.5, 0.0, 82.0, 34.0, 0.0, 0.0, 1.0]}
distortion_model: plumb_bob
distortion_coefficients: {rows: 1, cols: 5, data: [-0.05, 0.01, 0.0, 0.0, 0.0]}
"""


def _scene_with_calibration(tmp_path, calib_name: str):
    data = yaml.safe_load((BUILTIN_DIR / "pick_place.yaml").read_text())
    data["cameras"] = [{"name": "realsense", "pos": [1.0, 0.0, 0.9], "look_at": [0.45, 0.0, 0.45],
                        "calibration": calib_name}]
    path = tmp_path / "scene.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_calibrated_camera_sets_K_distortion_and_size(tmp_path):
    (tmp_path / "cam.yaml").write_text(ROS_INFO)
    spec = load_scene(_scene_with_calibration(tmp_path, "cam.yaml"))
    cam = spec.camera("realsense")
    assert (cam.width, cam.height) == (96, 72)
    assert np.allclose(cam.K, [[80, 0, 50.5], [0, 82, 34], [0, 0, 1]])
    assert np.allclose(cam.distortion, [-0.05, 0.01, 0, 0, 0])
    for backend in ("mujoco", "pybullet"):
        sim = Simulation(spec, backend)
        sim.reset(np.random.default_rng(0))
        frame = SceneRenderer(sim.backend, spec, "fast").render()["realsense"]
        sim.close()
        assert frame.rgb.shape == (72, 96, 3)
        assert np.allclose(frame.K, cam.K)
        # barrel distortion leaves a no-return border (depth 0) in the corners
        assert frame.depth[0, 0] == 0.0 and frame.depth[36, 48] > 0


@pytest.mark.parametrize("bad", ["missing.yaml", "../cam.yaml"])
def test_bad_calibration_path_is_a_scene_error(tmp_path, bad, run_cli):
    path = _scene_with_calibration(tmp_path, bad)
    r = run_cli("validate", str(path), "--backend", "mujoco")
    assert r.rc == 2 and len(r.stderr_lines) == 1
    assert "cameras[0]" in r.stderr or "calibration" in r.stderr or bad in r.stderr
