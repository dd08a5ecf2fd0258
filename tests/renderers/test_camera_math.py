"""Pure camera math: intrinsics, extrinsics, projection, engine conventions, distortion, calibration files."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from renderers import camera as C
from renderers import engine_cameras as E
from renderers.calibration import load_calibration
from renderers.distortion import distort_images, distortion_maps, ideal_pixel_coords, source_intrinsics
from sim.errors import InputError

OFF_K = np.array([[250.0, 0.0, 150.3], [0.0, 230.0, 90.7], [0.0, 0.0, 1.0]])


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    return C.matrix_from_quat_wxyz(q / np.linalg.norm(q))


# ------------------------------------------------------------------------------------------- resolution


@pytest.mark.parametrize(
    ("width", "height", "word"),
    [(0, 10, "width"), (10, -3, "height"), (1.5, 10, "width"), ("64", 64, "width"), (True, 8, "width"),
     (64, 4097, "height"), (None, 8, "width")],
)
def test_validate_resolution_rejects_bad_values(width, height, word):
    with pytest.raises(InputError, match=word) as err:
        C.validate_resolution(width, height)
    assert "\n" not in str(err.value)


def test_validate_resolution_accepts_numpy_ints_and_limit():
    assert C.validate_resolution(np.int64(4096), 1) == (4096, 1)
    with pytest.raises(InputError, match="4096"):
        C.Intrinsics.from_fovy(45, 5000, 10)


# ------------------------------------------------------------------------------------------- intrinsics


def test_from_fovy_square_pixels_and_centre():
    intr = C.Intrinsics.from_fovy(60.0, 320, 200, near=0.05, far=4.0)
    assert intr.fx == intr.fy == pytest.approx(100.0 / math.tan(math.radians(30.0)))
    assert (intr.cx, intr.cy) == (159.5, 99.5)
    assert intr.fovy_deg == pytest.approx(60.0)
    assert intr.fovx_deg == pytest.approx(math.degrees(2 * math.atan(1.6 * math.tan(math.radians(30)))))
    assert (intr.near, intr.far) == (0.05, 4.0)
    assert not intr.K.flags.writeable


def test_from_K_keeps_values_and_validates():
    intr = C.Intrinsics.from_K(OFF_K, 320, 200, distortion=[0.1, -0.02, 0.001, 0.0])
    assert (intr.fx, intr.fy, intr.cx, intr.cy) == (250.0, 230.0, 150.3, 90.7)
    assert intr.distortion.tolist() == [0.1, -0.02, 0.001, 0.0, 0.0]
    assert intr == C.Intrinsics.from_K(OFF_K, 320, 200, distortion=[0.1, -0.02, 0.001, 0.0, 0.0])
    assert intr != intr.replace(near=0.02)
    with pytest.raises(InputError, match="3x3"):
        C.Intrinsics.from_K(np.eye(2), 10, 10)
    with pytest.raises(InputError, match="fx, fy > 0"):
        C.Intrinsics.from_K([[-1, 0, 1], [0, 1, 1], [0, 0, 1]], 10, 10)
    with pytest.raises(InputError, match="near"):
        C.Intrinsics.from_fovy(45, 10, 10, near=1.0, far=0.5)
    with pytest.raises(InputError, match="fovy"):
        C.Intrinsics.from_fovy(180, 10, 10)


# ------------------------------------------------------------------------------------------- extrinsics


def test_quaternion_round_trip_and_pose_helpers():
    rng = np.random.default_rng(0)
    for _ in range(50):
        R = random_rotation(rng)
        q = C.quat_wxyz_from_matrix(R)
        assert q[0] >= 0 and np.linalg.norm(q) == pytest.approx(1.0)
        np.testing.assert_allclose(C.matrix_from_quat_wxyz(q), R, atol=1e-12)
        T = C.pose_matrix(rng.normal(size=3), q)
        np.testing.assert_allclose(C.invert_pose(T) @ T, np.eye(4), atol=1e-12)
        pos, q2 = C.pose_from_matrix(T)
        np.testing.assert_allclose(C.pose_matrix(pos, q2), T, atol=1e-12)
    qa, qb = C.quat_normalize([1, 2, 3, 4]), C.quat_normalize([0.3, -1, 0.2, 0.5])
    np.testing.assert_allclose(
        C.matrix_from_quat_wxyz(C.quat_multiply(qa, qb)),
        C.matrix_from_quat_wxyz(qa) @ C.matrix_from_quat_wxyz(qb),
        atol=1e-12,
    )


def test_look_at_orthonormal_and_points_at_target():
    eye, target = np.array([0.8, -0.5, 1.2]), np.array([0.1, 0.2, 0.0])
    T = C.look_at(eye, target)
    R = T[:3, :3]
    np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    np.testing.assert_allclose(R[:, 2], (target - eye) / np.linalg.norm(target - eye), atol=1e-12)
    assert R[2, 1] < 0  # image y (down) points towards world -z: the horizon is level, world up is up
    assert abs(R[2, 0]) < 1e-12  # image x is horizontal
    uv, z = C.project(target[None], np.array([[100, 0, 50], [0, 100, 40], [0, 0, 1.0]]), T)
    np.testing.assert_allclose(uv[0], [50, 40], atol=1e-9)


def test_look_at_straight_down_falls_back_to_world_y_up():
    T = C.look_at([0, 0, 1], [0, 0, 0])
    np.testing.assert_allclose(T[:3, :3], np.diag([1.0, -1.0, -1.0]), atol=1e-12)
    with pytest.raises(InputError):
        C.look_at([0, 0, 1], [0, 0, 1])


# ------------------------------------------------------------------------------------------- projection


@pytest.mark.parametrize(
    "intr", [C.Intrinsics.from_fovy(50, 64, 48), C.Intrinsics.from_K(OFF_K, 320, 200)], ids=["fovy", "offK"]
)
def test_project_backproject_round_trip(intr):
    T = C.look_at([0.5, -0.4, 0.9], [0.0, 0.05, 0.0])
    # depth image of the plane world z = 0 seen by this camera
    v, u = np.mgrid[0 : intr.height, 0 : intr.width].astype(np.float64)
    rays_cam = np.stack([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones_like(u)], -1)
    rays_w = rays_cam @ T[:3, :3].T
    depth = -T[2, 3] / rays_w[..., 2]  # z-depth because rays_cam has unit z
    pts = C.backproject(depth, intr.K, T)
    np.testing.assert_allclose(pts[:, 2], 0.0, atol=1e-9)
    uv, z = C.project(pts, intr.K, T)
    np.testing.assert_allclose(uv, np.stack([u.ravel(), v.ravel()], 1), atol=1e-6)
    np.testing.assert_allclose(z, depth.ravel(), rtol=1e-9)
    mask = np.zeros_like(depth, dtype=bool)
    mask[3, 5] = True
    np.testing.assert_allclose(C.backproject(depth, intr.K, T, mask), pts[[3 * intr.width + 5]], atol=1e-12)


def test_project_optical_axis_and_behind_camera():
    intr = C.Intrinsics.from_K(OFF_K, 320, 200)
    T = C.look_at([0, 0, 1], [0, 0, 0])
    uv, z = C.project([[0, 0, 0], [0, 0, 2]], intr.K, T)
    np.testing.assert_allclose(uv[0], [intr.cx, intr.cy])
    assert z.tolist() == [1.0, -1.0] and np.all(np.isnan(uv[1]))


# ------------------------------------------------------------------------------------------- engine conventions


def test_mujoco_pose_conversion_round_trip():
    T = C.look_at([0.3, 0.2, 1.0], [0.0, 0.0, 0.0])
    pos, quat = E.mujoco_camera_pose(T)
    R_mj = C.matrix_from_quat_wxyz(quat)
    np.testing.assert_allclose(-R_mj[:, 2], T[:3, 2], atol=1e-12)  # MuJoCo looks along -z
    np.testing.assert_allclose(R_mj[:, 1], -T[:3, 1], atol=1e-12)  # and its y is up
    np.testing.assert_allclose(E.T_world_cam_from_mujoco(pos, R_mj.ravel()), T, atol=1e-12)


def test_mujoco_intrinsics_principal_offset():
    centred = E.mujoco_camera_intrinsics(C.Intrinsics.from_fovy(45, 64, 48))
    np.testing.assert_allclose(centred["principal_pixel"], [0.0, 0.0])
    mj = E.mujoco_camera_intrinsics(C.Intrinsics.from_K(OFF_K, 320, 200))
    np.testing.assert_allclose(mj["principal_pixel"], [160 - 150.8, 100 - 91.2])
    np.testing.assert_allclose(mj["focal_pixel"], [250, 230])
    np.testing.assert_allclose(mj["focal_pixel"] / mj["resolution"], mj["focal_length"] / mj["sensor_size"])


def test_pybullet_matrices_follow_opengl_and_k():
    intr = C.Intrinsics.from_K(OFF_K, 320, 200, near=0.1, far=5.0)
    T = C.look_at([0.4, -0.3, 0.8], [0.0, 0.0, 0.0])
    V = np.array(E.pybullet_view_matrix(T)).reshape(4, 4, order="F")
    P = np.array(E.pybullet_projection_matrix(intr, (0.0, 0.0))).reshape(4, 4, order="F")
    pts = np.array([[0.0, 0.0, 0.0], [0.1, -0.05, 0.02], [-0.2, 0.1, 0.1]])
    uv, z = C.project(pts, intr.K, T)
    clip = (P @ V @ np.c_[pts, np.ones(3)].T).T
    ndc = clip[:, :3] / clip[:, 3:]
    u_edge = (ndc[:, 0] + 1) / 2 * intr.width  # OpenGL window x, 0 at the left edge
    v_edge = (1 - ndc[:, 1]) / 2 * intr.height  # image rows grow downwards
    np.testing.assert_allclose(u_edge - 0.5, uv[:, 0], atol=1e-9)
    np.testing.assert_allclose(v_edge - 0.5, uv[:, 1], atol=1e-9)
    depth_buf = (ndc[:, 2] + 1) / 2
    np.testing.assert_allclose(E.opengl_depth_to_metric(depth_buf, intr.near, intr.far), z, rtol=1e-6)
    shifted = np.array(E.pybullet_projection_matrix(intr)).reshape(4, 4, order="F")
    assert shifted[0, 2] - P[0, 2] == pytest.approx(-2 * C.PYBULLET_TINY_PIXEL_OFFSET[0] / intr.width)


def test_depth_buffer_conversion():
    near, far = 0.02, 8.0
    assert E.opengl_depth_to_metric(0.0, near, far) == pytest.approx(near)
    assert E.opengl_depth_to_metric(1.0, near, far) == pytest.approx(far)
    z = np.array([0.05, 0.9, 3.3])
    np.testing.assert_allclose(E.opengl_depth_to_metric(E.metric_to_opengl_depth(z, near, far), near, far), z)
    assert E.mujoco_clip_planes(0.05, 4.0, 2.0) == (0.025, 2.0)


# ------------------------------------------------------------------------------------------- distortion


def test_zero_distortion_is_identity():
    intr = C.Intrinsics.from_K(OFF_K, 64, 48)
    rng = np.random.default_rng(1)
    images = {
        "rgb": rng.integers(0, 255, (48, 64, 3), dtype=np.uint8),
        "depth": rng.random((48, 64), dtype=np.float32),
        "seg_geom": rng.integers(-1, 5, (48, 64), dtype=np.int32),
    }
    out = distort_images(images, intr)
    for key, img in images.items():
        assert out[key].dtype == img.dtype and np.array_equal(out[key], img)
    mx, my = distortion_maps(intr)
    np.testing.assert_allclose(mx, np.arange(64)[None].repeat(48, 0), atol=1e-4)
    np.testing.assert_allclose(my, np.arange(48)[:, None].repeat(64, 1), atol=1e-4)


def test_distortion_matches_opencv_projection():
    dist = [-0.25, 0.08, 0.001, -0.0015, -0.01]
    intr = C.Intrinsics.from_K([[80.0, 0, 40.3], [0, 78.0, 29.6], [0, 0, 1]], 80, 60, distortion=dist)
    ideal = ideal_pixel_coords(intr)
    # projecting the ideal ray with OpenCV's distortion model lands back on the distorted pixel
    rays = np.c_[(ideal.reshape(-1, 2) - [intr.cx, intr.cy]) / [intr.fx, intr.fy], np.ones(80 * 60)]
    uv, _ = cv2.projectPoints(rays, np.zeros(3), np.zeros(3), intr.K, intr.distortion)
    v, u = np.mgrid[0:60, 0:80]
    np.testing.assert_allclose(uv.reshape(60, 80, 2), np.stack([u, v], -1), atol=1e-3)
    src = source_intrinsics(intr)
    assert src.width > intr.width and src.height > intr.height and not src.has_distortion
    seg = np.zeros((src.height, src.width), np.int32)
    seg[:, : int(src.cx)] = 7  # left half of the ideal image: object 7
    out = distort_images({"seg": seg, "depth": np.ones(seg.shape, np.float32)}, intr, src)
    assert set(np.unique(out["seg"])) <= {0, 7}  # nearest-neighbour invents no ids
    assert np.all(out["seg"][:, :39] == 7) and np.all(out["seg"][:, 42:] == 0)
    assert np.all(out["depth"] == 1.0)  # the enlarged source covers every distorted pixel


# ------------------------------------------------------------------------------------------- calibration

OPENCV_YAML = """%YAML:1.0
---
image_width: 640
image_height: 480
camera_name: wrist
camera_matrix: !!opencv-matrix
   rows: 3
   cols: 3
   dt: d
   data: [ 615.2, 0., 322.1, 0., 614.8, 241.7, 0., 0., 1. ]
distortion_coefficients: !!opencv-matrix
   rows: 1
   cols: 5
   dt: d
   data: [ 0.11, -0.23, 0.001, -0.002, 0.05 ]
"""

ROS_YAML = """image_width: 320
image_height: 240
camera_name: head
camera_matrix:
  rows: 3
  cols: 3
  data: [300.5, 0, 161.2, 0, 301.5, 118.9, 0, 0, 1]
distortion_model: plumb_bob
distortion_coefficients:
  rows: 1
  cols: 5
  data: [-0.1, 0.02, 0, 0, 0]
rectification_matrix: {rows: 3, cols: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1]}
"""


def test_load_opencv_yaml_and_json(tmp_path):
    p = tmp_path / "cam.yaml"
    p.write_text(OPENCV_YAML)
    intr = load_calibration(p, near=0.05, far=3.0)
    assert (intr.width, intr.height, intr.fx, intr.cy) == (640, 480, 615.2, 241.7)
    np.testing.assert_allclose(intr.distortion, [0.11, -0.23, 0.001, -0.002, 0.05])
    assert (intr.near, intr.far) == (0.05, 3.0)
    j = tmp_path / "cam.json"
    j.write_text(json.dumps({"image_width": 64, "image_height": 48, "camera_matrix": OFF_K.tolist(),
                             "distortion_coefficients": [0.1, 0, 0, 0]}))
    intr = load_calibration(j)
    assert intr.K.tolist() == OFF_K.tolist() and intr.distortion[0] == 0.1


def test_load_ros_camera_info(tmp_path):
    p = tmp_path / "head.yaml"
    p.write_text(ROS_YAML)
    intr = load_calibration(p)
    assert (intr.width, intr.height, intr.fx, intr.fy, intr.cx) == (320, 240, 300.5, 301.5, 161.2)
    np.testing.assert_allclose(intr.distortion, [-0.1, 0.02, 0, 0, 0])
    msg = tmp_path / "info.yaml"
    msg.write_text("height: 48\nwidth: 64\ndistortion_model: plumb_bob\nD: [0.0, 0.0, 0.0, 0.0, 0.0]\n"
                   "K: [50.0, 0.0, 31.5, 0.0, 50.0, 23.5, 0.0, 0.0, 1.0]\n")
    assert load_calibration(msg).cx == 31.5


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("image_width: 64\nimage_height: 48\n", "missing camera_matrix"),
        ("image_width: 64\ncamera_matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1]\n", "missing image_height"),
        (ROS_YAML.replace("plumb_bob", "equidistant"), "equidistant"),
        (ROS_YAML.replace("rows: 3\n  cols: 3\n  data: [300.5", "rows: 2\n  cols: 3\n  data: [300.5"), "rows x cols"),
        ("camera_matrix: !!python/object/apply:os.system ['echo hi']\n", "not valid"),
        ("image_width: [\n", "not valid"),
        ("- 1\n- 2\n", "mapping"),
    ],
)
def test_bad_calibrations_raise_one_line(tmp_path, text, match):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        load_calibration(p)
    assert "\n" not in str(err.value)


def test_missing_calibration_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_calibration(tmp_path / "nope.yaml")
