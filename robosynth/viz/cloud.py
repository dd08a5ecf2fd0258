"""Point-cloud previews: a fused cloud drawn top-down (x right, y up) and from the side (x right, z up)."""

from __future__ import annotations

import numpy as np

from renderers.pointcloud import PointCloud

SIDE = 256  # pixels of each square projection


def project_points(xyz: np.ndarray, rgb: np.ndarray, axes: tuple[int, int], depth_axis: int,
                   side: int = SIDE) -> np.ndarray:
    """Return a (side, side, 3) RGB image of points on the plane of ``axes`` (equal scale, 5 % margin); nearer
    points along ``depth_axis`` (larger values) are drawn last, so they cover the ones behind them."""
    img = np.zeros((side, side, 3), np.uint8)
    if len(xyz) == 0:
        return img
    p = xyz[:, axes].astype(np.float64)
    lo, hi = p.min(axis=0), p.max(axis=0)
    span = float(max((hi - lo).max(), 1e-6)) * 1.1
    centre = (lo + hi) / 2
    cols = ((p[:, 0] - centre[0]) / span + 0.5) * (side - 1)
    rows = (0.5 - (p[:, 1] - centre[1]) / span) * (side - 1)  # image rows grow downward
    order = np.argsort(xyz[:, depth_axis], kind="stable")
    r = np.round(rows[order]).astype(int)
    c = np.round(cols[order]).astype(int)
    for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1)):  # 2x2 dots, drawn in depth order
        img[np.clip(r + dr, 0, side - 1), np.clip(c + dc, 0, side - 1)] = rgb[order]
    return img


def cloud_views(cloud: PointCloud) -> tuple[np.ndarray, np.ndarray]:
    """Return the (top-down, side) RGB projections of the valid points of a cloud."""
    xyz, rgb = cloud.xyz[cloud.valid], cloud.rgb[cloud.valid]
    return project_points(xyz, rgb, (0, 1), 2), project_points(xyz, rgb, (0, 2), 1)
