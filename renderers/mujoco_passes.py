"""The GL side of a MuJoCo frame: draw passes of one ``MjvScene`` into a live ``mujoco.Renderer``'s context and
decode what they leave in the framebuffer (RGB, metric z-depth, geom ids).

Each function reproduces ``mujoco.Renderer.render`` bit for bit (its flags, its read-back, its depth conversion,
its vertical flip), but draws a scene the caller owns, so that several scenes can be queued on a GL thread while
the caller fills the next one (renderers/mujoco_render.py). Must run on the thread where the context is current.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

ID_FLAGS = (mujoco.mjtRndFlag.mjRND_SEGMENT, mujoco.mjtRndFlag.mjRND_IDCOLOR)
"""Scene flags of mujoco.Renderer's depth and segmentation passes: flat id colours, no lighting or textures."""


def depth_planes(model: mujoco.MjModel) -> tuple[np.float32, np.float32]:
    """Return (znear, zfar) in metres as float32, computed from the model's clip planes as mujoco.Renderer does."""
    extent = model.stat.extent
    return np.float32(model.vis.map.znear * extent), np.float32(model.vis.map.zfar * extent)


def metric_depth(buf: np.ndarray, planes: tuple[np.float32, np.float32]) -> np.ndarray:
    """Return metric z-depth (H, W) float32, row 0 at the top, from a reversed-Z depth buffer read back from GL.

    mujoco.Renderer's own conversion (float32 planes, float64 division); pixels with no geometry read ``far``.
    """
    znear, zfar = planes
    c_coef = -(zfar + znear) / (zfar - znear)
    d_coef = -(np.float32(2) * zfar * znear) / (zfar - znear)
    c_coef = np.float32(-0.5) * c_coef - np.float32(0.5)
    d_coef = np.float32(-0.5) * d_coef
    return np.flipud((d_coef / (buf.astype(np.float64) + c_coef)).astype(np.float32))


def geom_ids(colours: np.ndarray, scene: mujoco.MjvScene) -> np.ndarray:
    """Return geom ids (H, W) int32, -1 = background or not a geom, from an id-colour pass's RGB read-back."""
    img = colours.astype(np.uint32)
    segid = img[..., 0] + (img[..., 1] << 8) + (img[..., 2] << 16)
    lut = np.full(scene.ngeom + 1, -1, dtype=np.int32)
    geom_type = int(mujoco.mjtObj.mjOBJ_GEOM)
    for g in scene.geoms[: scene.ngeom]:
        if g.segid != -1 and g.objtype == geom_type:
            lut[g.segid + 1] = g.objid
    return np.flipud(lut[np.minimum(segid, scene.ngeom)]).astype(np.int32)


def draw(r: Any, scene: mujoco.MjvScene, mods: tuple[str, ...], planes: tuple[np.float32, np.float32],
         depth_from_colour_pass: bool) -> dict[str, np.ndarray]:
    """Draw ``scene`` with renderer ``r``'s context; return the ``mods`` of rgb / depth / seg_geom it asked for.

    RGB is one lit pass; depth is read from that pass's depth buffer when ``depth_from_colour_pass`` (no
    multisampling), else from the id-colour pass, which also gives the geom ids (at most two draws a frame).
    """
    if r._gl_context:
        r._gl_context.make_current()
    h, w = r.height, r.width
    out: dict[str, np.ndarray] = {}
    want_depth = "depth" in mods
    if "rgb" in mods:
        rgb = np.empty((h, w, 3), dtype=np.uint8)
        buf = np.empty((h, w), dtype=np.float32) if want_depth and depth_from_colour_pass else None
        mujoco.mjr_render(r._rect, scene, r._mjr_context)
        mujoco.mjr_readPixels(rgb, buf, r._rect, r._mjr_context)
        out["rgb"] = np.ascontiguousarray(np.flipud(rgb))
        if buf is not None:
            out["depth"] = metric_depth(buf, planes)
    if "seg_geom" in mods or (want_depth and "depth" not in out):
        colours = np.empty((h, w, 3), dtype=np.uint8) if "seg_geom" in mods else None
        buf = np.empty((h, w), dtype=np.float32) if want_depth and "depth" not in out else None
        saved = [scene.flags[f] for f in ID_FLAGS]
        try:
            for f in ID_FLAGS:
                scene.flags[f] = True
            mujoco.mjr_render(r._rect, scene, r._mjr_context)
            mujoco.mjr_readPixels(colours, buf, r._rect, r._mjr_context)
        finally:
            for f, v in zip(ID_FLAGS, saved, strict=True):
                scene.flags[f] = v
        if buf is not None:
            out["depth"] = metric_depth(buf, planes)
        if colours is not None:
            out["seg_geom"] = geom_ids(colours, scene)
    return out
