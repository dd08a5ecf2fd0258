"""Fused world-frame point clouds from depth cameras: each point back-projects one depth pixel.

A pixel contributes when its z-depth is a return (finite, > 0 and nearer than the far plane: ``0`` and ``far``
both mean "no return") and, with a crop box, when its world point lies inside it. A fixed number of points is
drawn from all cameras' pixels with the caller's generator (without replacement when there are enough, with
replacement otherwise), so a seeded episode always gives the same cloud. Pinhole cameras only: a camera with
lens distortion is refused (its images are distorted; back-projecting them needs the inverse mapping).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from renderers.sensors import Frame
from sim.errors import InputError

FAR_EPS = 1e-5  # relative slack under the far plane: a pixel at the far plane is background


@dataclass(frozen=True, eq=False)
class PointCloud:
    """``n`` points: world xyz (float32), colour (uint8), instance id (int32, 0 = background) and where each came
    from (camera index into ``cameras``, pixel row, pixel column); ``valid`` is False for padding when no pixel had
    a return."""

    xyz: np.ndarray  # (n, 3) float32, metres, world frame
    rgb: np.ndarray  # (n, 3) uint8
    ids: np.ndarray  # (n,) int32
    source: np.ndarray  # (n, 3) int32: camera index, v, u
    valid: np.ndarray  # (n,) bool
    cameras: tuple[str, ...]


def _camera_points(f: Frame, crop: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, ...]:
    if f.depth is None:
        raise InputError(f"camera '{f.camera}' records no depth; a point cloud needs it")
    if f.intrinsics.has_distortion:
        raise InputError(f"camera '{f.camera}' has lens distortion; point clouds need pinhole cameras")
    depth = np.asarray(f.depth, np.float64)
    far = f.intrinsics.far * (1.0 - FAR_EPS)
    v, u = np.nonzero(np.isfinite(depth) & (depth > 0) & (depth < far))
    z = depth[v, u]
    K, T = f.intrinsics.K, np.asarray(f.T_world_cam, np.float64)
    y = (v - K[1, 2]) / K[1, 1]
    x = (u - K[0, 2] - K[0, 1] * y) / K[0, 0]
    world = np.column_stack([x * z, y * z, z]) @ T[:3, :3].T + T[:3, 3]
    if crop is not None:
        inside = np.all((world >= crop[0]) & (world <= crop[1]), axis=1)
        world, v, u = world[inside], v[inside], u[inside]
    return world, v, u


def fuse_pointcloud(frames: Mapping[str, Frame], n: int, rng: np.random.Generator,
                    crop: tuple[Sequence[float], Sequence[float]] | None = None) -> PointCloud:
    """Return ``n`` points drawn from the returns of every frame (cameras in sorted order), cropped to the box
    ``crop = (low xyz, high xyz)`` if given."""
    if n < 1:
        raise InputError(f"a point cloud needs at least 1 point, got {n}")
    box = None if crop is None else (np.asarray(crop[0], np.float64), np.asarray(crop[1], np.float64))
    names = tuple(sorted(frames))
    parts = [_camera_points(frames[c], box) for c in names]
    counts = [len(p[0]) for p in parts]
    total = sum(counts)
    if total == 0:
        z = np.zeros((n, 3))
        return PointCloud(z.astype(np.float32), z.astype(np.uint8), np.zeros(n, np.int32),
                          np.zeros((n, 3), np.int32), np.zeros(n, bool), names)
    pick = np.sort(rng.choice(total, size=n, replace=total < n))
    cam = np.searchsorted(np.cumsum(counts), pick, side="right")
    xyz, rgb, ids, source = np.empty((n, 3)), np.zeros((n, 3), np.uint8), np.zeros(n, np.int32), np.empty((n, 3))
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for k, c in enumerate(names):
        sel = cam == k
        if not sel.any():
            continue
        world, v, u = parts[k]
        i = pick[sel] - start[k]
        f = frames[c]
        xyz[sel] = world[i]
        if f.rgb is not None:
            rgb[sel] = f.rgb[v[i], u[i]]
        if f.segmentation is not None:
            ids[sel] = f.segmentation[v[i], u[i]]
        source[sel] = np.column_stack([np.full(len(i), k), v[i], u[i]])
    return PointCloud(xyz.astype(np.float32), rgb, ids, source.astype(np.int32), np.ones(n, bool), names)
