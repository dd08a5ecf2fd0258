"""Low-level PyBullet rendering with TinyRenderer: RGB, metric z-depth and (body uid, link index) masks.

All convention handling (OpenCV extrinsics, K with off-centre principal point, TinyRenderer's half-pixel
offset, depth-buffer linearisation) lives in renderers.camera; this module only calls the engine.
Rendering reads the world; it never steps or changes body states.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pybullet

from renderers.camera import PYBULLET_TINY_PIXEL_OFFSET, Intrinsics, validate_resolution
from renderers.engine_cameras import opengl_depth_to_metric, pybullet_projection_matrix, pybullet_view_matrix
from sim.errors import InputError

MODALITIES = ("rgb", "depth", "seg")
"""Modalities render_pybullet can return ("seg" gives seg_body and seg_link)."""

_UID_MASK = (1 << 24) - 1


def decode_segmentation(raw: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return (body_uid, link_index) int32 arrays from an OBJECT_AND_LINKINDEX mask; background is -1 in both.

    The base link is -1 too: tell it from background by body_uid >= 0.
    """
    v = np.asarray(raw, dtype=np.int64)
    background = v < 0
    uid = np.where(background, -1, v & _UID_MASK).astype(np.int32)
    link = np.where(background, -1, (v >> 24) - 1).astype(np.int32)
    return uid, link


def render_pybullet(
    client: Any,
    intr: Intrinsics,
    T_world_cam: Any,
    modalities: Iterable[str] = MODALITIES,
    *,
    light_direction: Sequence[float] | None = None,
    shadow: bool = False,
    light_color: Sequence[float] | None = None,
    light_ambient: float | None = None,
    light_diffuse: float | None = None,
    pixel_offset: tuple[float, float] = PYBULLET_TINY_PIXEL_OFFSET,
) -> dict[str, np.ndarray]:
    """Return {rgb (H,W,3) uint8, depth (H,W) float32 metres z, seg_body / seg_link (H,W) int32}.

    ``client`` is a pybullet_utils.bullet_client.BulletClient. Pixels that see nothing read depth = far.
    """
    mods = tuple(modalities)
    unknown = [m for m in mods if m not in MODALITIES]
    if unknown or not mods:
        raise InputError(f"unknown or empty render modalities {unknown or mods}; expected from {MODALITIES}")
    w, h = validate_resolution(intr.width, intr.height)
    flags = pybullet.ER_NO_SEGMENTATION_MASK
    if "seg" in mods:
        flags = pybullet.ER_SEGMENTATION_MASK_OBJECT_AND_LINKINDEX
    kwargs: dict[str, Any] = {"shadow": int(bool(shadow))}
    if light_direction is not None:
        kwargs["lightDirection"] = [float(x) for x in light_direction]
    if light_color is not None:
        kwargs["lightColor"] = [float(x) for x in light_color]
    if light_ambient is not None:
        kwargs["lightAmbientCoeff"] = float(light_ambient)
    if light_diffuse is not None:
        kwargs["lightDiffuseCoeff"] = float(light_diffuse)
    _, _, rgba, depth_buf, seg = client.getCameraImage(
        w,
        h,
        viewMatrix=pybullet_view_matrix(T_world_cam),
        projectionMatrix=pybullet_projection_matrix(intr, pixel_offset),
        renderer=pybullet.ER_TINY_RENDERER,
        flags=flags,
        **kwargs,
    )
    out: dict[str, np.ndarray] = {}
    if "rgb" in mods:
        out["rgb"] = np.ascontiguousarray(np.reshape(np.asarray(rgba, dtype=np.uint8), (h, w, 4))[..., :3])
    if "depth" in mods:
        buf = np.reshape(np.asarray(depth_buf, dtype=np.float64), (h, w))
        out["depth"] = opengl_depth_to_metric(buf, intr.near, intr.far)
    if "seg" in mods:
        out["seg_body"], out["seg_link"] = decode_segmentation(np.reshape(np.asarray(seg), (h, w)))
    return out
