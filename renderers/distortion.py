"""Apply OpenCV lens distortion (k1 k2 p1 p2 k3) to ideal pinhole renders.

For every pixel of the distorted output image, cv2.undistortPoints gives the ideal (pinhole) pixel it
sees; the pinhole render is then sampled there (inverse mapping, like cv2.initUndistortRectifyMap used
backwards): bilinear for RGB, nearest-neighbour for depth and segmentation so no value is invented.
Depth stays z-depth: a surface point keeps its z whichever pixel it lands on.

Render the pinhole source with ``source_intrinsics(intr)`` (same focal lengths, larger canvas) to avoid
empty borders where barrel distortion looks outside the undistorted frame.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from renderers.camera import MAX_RESOLUTION, Intrinsics

_CRITERIA_MAX_ITER, _CRITERIA_EPS = 100, 1e-12  # cv2.undistortPoints' stop criteria
_FILL_DEPTH = 0.0  # depth where the source has no data: 0 = invalid, as real sensors report holes


@lru_cache(maxsize=32)
def _ideal_coords(key: tuple) -> np.ndarray:
    import cv2  # imported on first use: it costs ~15 ms of start-up and most cameras have no distortion

    w, h, K, dist = key
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    pts = np.stack([u.ravel(), v.ravel()], axis=1).reshape(-1, 1, 2)
    Km = np.array(K, dtype=np.float64).reshape(3, 3)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, _CRITERIA_MAX_ITER, _CRITERIA_EPS)
    ideal = cv2.undistortPoints(pts, Km, np.array(dist), P=Km, criteria=criteria).reshape(h, w, 2)
    ideal.setflags(write=False)
    return ideal


def ideal_pixel_coords(intr: Intrinsics) -> np.ndarray:
    """Return (H, W, 2) ideal pinhole (u, v) seen by each pixel of the distorted image of intr."""
    key = (intr.width, intr.height, tuple(intr.K.ravel()), tuple(intr.distortion))
    return _ideal_coords(key)


def source_intrinsics(intr: Intrinsics, margin: int = 2, max_scale: float = 2.0) -> Intrinsics:
    """Return pinhole intrinsics (same fx, fy, no distortion) whose canvas covers every pixel intr needs."""
    if not intr.has_distortion:
        return intr
    ideal = ideal_pixel_coords(intr)
    finite = ideal[np.all(np.isfinite(ideal), axis=2)]
    lo = np.floor(finite.min(axis=0)) - margin
    hi = np.ceil(finite.max(axis=0)) + margin
    size = np.array([intr.width, intr.height], dtype=np.float64)
    cap_lo = -0.5 * (max_scale - 1.0) * size
    cap_hi = size - 1 + 0.5 * (max_scale - 1.0) * size
    lo = np.maximum(np.minimum(lo, 0), np.floor(cap_lo))
    hi = np.minimum(np.maximum(hi, size - 1), np.ceil(cap_hi))
    w, h = (int(min(MAX_RESOLUTION, math.ceil(x))) for x in hi - lo + 1)
    K = intr.K.copy()
    K[0, 2] -= lo[0]
    K[1, 2] -= lo[1]
    return Intrinsics(w, h, K, np.zeros(5), intr.near, intr.far)


def distortion_maps(intr: Intrinsics, source: Intrinsics | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return float32 (map_x, map_y): where each distorted pixel of intr samples the pinhole source image."""
    src = intr if source is None else source
    ideal = ideal_pixel_coords(intr)
    map_x = (ideal[..., 0] - intr.cx) * (src.fx / intr.fx) + src.cx
    map_y = (ideal[..., 1] - intr.cy) * (src.fy / intr.fy) + src.cy
    return map_x.astype(np.float32), map_y.astype(np.float32)


def _remap_nearest(img: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, fill: Any) -> np.ndarray:
    h, w = img.shape[:2]
    with np.errstate(invalid="ignore"):
        iu = np.rint(map_x)
        iv = np.rint(map_y)
    valid = np.isfinite(iu) & np.isfinite(iv) & (iu >= 0) & (iu < w) & (iv >= 0) & (iv < h)
    out = np.full(map_x.shape + img.shape[2:], fill, dtype=img.dtype)
    out[valid] = img[iv[valid].astype(np.intp), iu[valid].astype(np.intp)]
    return out


def distort_image(
    img: Any, intr: Intrinsics, source: Intrinsics | None = None, nearest: bool = False, fill: Any = 0
) -> np.ndarray:
    """Return the distorted (H, W[, C]) image of intr sampled from an ideal pinhole render of source."""
    img = np.asarray(img)
    src = intr if source is None else source
    if img.shape[:2] != (src.height, src.width):
        raise ValueError(f"image shape {img.shape[:2]} does not match source {(src.height, src.width)}")
    if not intr.has_distortion and (source is None or source == intr):
        return img.copy()
    map_x, map_y = distortion_maps(intr, source)
    if nearest:
        return _remap_nearest(img, map_x, map_y, fill)
    import cv2

    return cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def distort_images(
    images: dict[str, np.ndarray], intr: Intrinsics, source: Intrinsics | None = None
) -> dict[str, np.ndarray]:
    """Return a dict of distorted images: "rgb" bilinear, everything else (depth, seg_*) nearest-neighbour.

    Pixels outside the source read 0 for rgb and depth (depth 0 = no data) and -1 for signed integers.
    """
    out: dict[str, np.ndarray] = {}
    for key, img in images.items():
        img = np.asarray(img)
        if key == "rgb":
            out[key] = distort_image(img, intr, source, nearest=False, fill=0)
        elif np.issubdtype(img.dtype, np.floating):
            out[key] = distort_image(img, intr, source, nearest=True, fill=_FILL_DEPTH)
        else:
            fill = -1 if np.issubdtype(img.dtype, np.signedinteger) else 0
            out[key] = distort_image(img, intr, source, nearest=True, fill=fill)
    return out
