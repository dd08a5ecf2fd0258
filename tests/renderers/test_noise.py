"""Sensor noise models: formulas checked empirically, holes kept, dropout only at edges, identity exact."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from randomization.load import preset
from randomization.params import sample_episode_params
from renderers.noise import (
    SensorModel,
    add_depth_noise,
    depth_edges,
    edge_dropout,
    exposure,
    gaussian_blur,
    kinect_sigma,
    realsense_rms,
    rgb_noise,
)
from scenes.loader import load_scene


def step_depth() -> np.ndarray:
    d = np.full((64, 64), 1.5, np.float32)
    d[16:48, 16:48] = 0.8  # a box in front of a wall: a 0.7 m discontinuity on its border
    return d


def test_kinect_formula_and_empirical_std():
    assert kinect_sigma(0.4) == pytest.approx(0.0012)
    assert kinect_sigma(1.4) == pytest.approx(0.0012 + 0.0019)
    depth = np.ones((256, 256), np.float32)
    noisy = add_depth_noise(depth, np.random.default_rng(0), "kinect")
    expected = 0.0012 + 0.0019 * 0.6**2
    assert noisy.dtype == np.float32
    assert abs(float(np.std(noisy.astype(np.float64) - 1.0)) / expected - 1) < 0.05
    assert abs(float(np.mean(noisy.astype(np.float64) - 1.0))) < 3 * expected / 256
    half = add_depth_noise(depth, np.random.default_rng(0), "kinect", scale=0.5)
    assert np.std(half.astype(np.float64) - 1.0) == pytest.approx(expected / 2, rel=0.05)


def test_realsense_formula_and_empirical_rms():
    assert realsense_rms(2.0, focal_px=100.0) == pytest.approx(4 * 0.08 / (100 * 0.05))
    assert realsense_rms(1.0, 200.0, subpixel=0.1, baseline=0.1) == pytest.approx(0.005)
    depth = np.full((256, 256), 2.0)
    noisy = add_depth_noise(depth, np.random.default_rng(1), "realsense", focal_px=100.0)
    rms = float(np.sqrt(np.mean((noisy - 2.0) ** 2)))
    assert rms == pytest.approx(0.064, rel=0.05)
    with pytest.raises(ValueError, match="focal_px"):
        add_depth_noise(depth, np.random.default_rng(1), "realsense")


def test_depth_holes_stay_zero():
    depth = step_depth()
    depth[::7, ::5] = 0.0
    for model in ("kinect", "realsense"):
        noisy = add_depth_noise(depth, np.random.default_rng(2), model, focal_px=50.0, scale=5.0)
        assert np.all((noisy == 0) == (depth == 0))
        assert np.all(noisy[depth > 0] > 0)


def test_edges_and_dropout_only_at_edges():
    depth = step_depth()
    edges = depth_edges(depth, 0.02)
    ring = np.zeros_like(edges)
    ring[15:49, 15:49] = True
    ring[17:47, 17:47] = False  # the two pixel rows on each side of the step
    assert edges.any() and np.array_equal(edges, ring)
    all_drop = edge_dropout(depth, np.random.default_rng(0), 1.0)
    assert np.array_equal(all_drop == 0, edges)
    assert np.array_equal(all_drop[~edges], depth[~edges])
    some = edge_dropout(depth, np.random.default_rng(0), 0.5)
    dropped = some == 0
    assert not np.any(dropped & ~edges)
    assert 0.35 < dropped[edges].mean() < 0.65
    plane = np.tile(np.linspace(1.0, 1.2, 64, dtype=np.float32), (64, 1))  # a smooth slope: no edges
    assert not depth_edges(plane).any()
    assert edge_dropout(depth, np.random.default_rng(0), 0.0) is depth


def test_rgb_operations():
    rgb = np.full((32, 32, 3), 100, np.uint8)
    assert np.all(exposure(rgb, 1.5) == 150) and np.all(exposure(rgb, 3.0) == 255)
    img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert np.array_equal(gaussian_blur(img, 1.2), cv2.GaussianBlur(img, (0, 0), 1.2, sigmaY=1.2,
                                                                   borderType=cv2.BORDER_REFLECT_101))
    assert gaussian_blur(img, 0.0) is img
    noisy = rgb_noise(np.full((128, 128, 3), 128, np.uint8), np.random.default_rng(1), 5.0)
    assert noisy.dtype == np.uint8
    assert np.std(noisy.astype(float)) == pytest.approx(5.0, rel=0.05)
    assert rgb_noise(np.full((8, 8, 3), 254, np.uint8), np.random.default_rng(1), 50.0).max() == 255


def test_identity_model_is_bit_identical():
    rgb = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    depth = step_depth()[:16, :16, None].copy()
    for model in (SensorModel(), SensorModel.from_params(None), SensorModel.from_params({})):
        assert model.is_identity
        r, d = model.apply(rgb, depth, np.random.default_rng(0))
        assert r is rgb and d is depth
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    SensorModel().apply(rgb, depth, rng)
    assert rng.bit_generator.state == state  # the identity draws nothing


def test_full_model_on_frames_is_deterministic():
    spec = load_scene("pick_place")
    params = sample_episode_params(preset("full", spec), spec, 0, 0).sensor["agentview"]
    model = SensorModel.from_params(params)
    assert not model.is_identity
    rgb = np.full((32, 32, 3), 120, np.uint8)
    depth = step_depth()[:32, :32, None].copy()
    depth[0, 0, 0] = 0.0
    a = model.apply(rgb, depth, np.random.default_rng(9))
    b = model.apply(rgb, depth, np.random.default_rng(9))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[0].dtype == np.uint8 and a[0].shape == rgb.shape
    assert a[1].dtype == np.float32 and a[1].shape == depth.shape and a[1][0, 0, 0] == 0
    assert model.apply(None, depth, np.random.default_rng(9))[0] is None
    assert rgb[0, 0, 0] == 120 and depth[1, 1, 0] == np.float32(1.5)  # inputs untouched


def test_sensor_model_validation():
    with pytest.raises(ValueError, match="depth_model"):
        SensorModel(depth_model="lidar")
    with pytest.raises(ValueError, match="edge_dropout"):
        SensorModel(edge_dropout=1.5)
    with pytest.raises(ValueError, match="focal_px"):
        SensorModel(depth_model="realsense")
    with pytest.raises(ValueError, match="exposure_gain"):
        SensorModel(exposure_gain=0.0)
    with pytest.raises(ValueError, match="unknown keys"):
        SensorModel.from_params({"gain": 1.0})
