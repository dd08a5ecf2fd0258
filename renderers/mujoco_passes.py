"""The GL side of a MuJoCo frame: draw passes of one ``MjvScene`` into a live ``mujoco.Renderer``'s context and
decode what they leave in the framebuffer (RGB, metric z-depth, geom ids).

Together, :func:`draw` and :func:`decode` reproduce ``mujoco.Renderer.render`` bit for bit (its flags, its
read-back, its depth conversion, its vertical flip), but draw a scene the caller owns, so that several scenes can be
queued on a GL thread while the caller fills the next one (renderers/mujoco_render.py). ``draw`` runs where the
context lives and only draws and reads back; ``decode`` (depth conversion, id decoding, flips) runs on whichever
thread collects the frame, off the GL thread's critical path.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
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
    z = buf.astype(np.float64)
    z += c_coef
    np.divide(d_coef, z, out=z)
    return np.flipud(z.astype(np.float32))


def geom_lut(scene: mujoco.MjvScene) -> np.ndarray:
    """Return segid + 1 -> geom id (-1: background or not a geom) for the scene as drawn (read before it is reused)."""
    lut = np.full(scene.ngeom + 1, -1, dtype=np.int32)
    geom_type = int(mujoco.mjtObj.mjOBJ_GEOM)
    for g in scene.geoms[: scene.ngeom]:
        if g.segid != -1 and g.objtype == geom_type:
            lut[g.segid + 1] = g.objid
    return lut


def geom_ids(colours: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Return geom ids (H, W) int32, -1 = background or not a geom, from an id-colour pass's RGB read-back."""
    img = colours.astype(np.uint32)
    segid = img[..., 0] + (img[..., 1] << 8) + (img[..., 2] << 16)
    return np.flipud(lut[np.minimum(segid, len(lut) - 1)]).astype(np.int32)


@dataclass(frozen=True, eq=False)
class RawFrame:
    """What the GL passes read back, bottom row first; :func:`decode` turns it into images (any thread)."""

    rgb: np.ndarray | None
    depth_buffer: np.ndarray | None
    id_colours: np.ndarray | None
    lut: np.ndarray | None
    planes: tuple[np.float32, np.float32]


def decode(raw: RawFrame) -> dict[str, np.ndarray]:
    """Return {rgb (H,W,3) uint8, depth (H,W) float32 metres z, seg_geom (H,W) int32} for what ``raw`` holds."""
    out: dict[str, np.ndarray] = {}
    if raw.rgb is not None:
        out["rgb"] = np.ascontiguousarray(np.flipud(raw.rgb))
    if raw.depth_buffer is not None:
        out["depth"] = metric_depth(raw.depth_buffer, raw.planes)
    if raw.id_colours is not None and raw.lut is not None:
        out["seg_geom"] = geom_ids(raw.id_colours, raw.lut)
    return out


_current = threading.local()  # the renderer whose context a GL thread last made current (see draw)


def forget_current_context() -> None:
    """Say that this thread's current GL context may have changed (context created, freed or switched)."""
    _current.renderer = None


def draw(r: Any, scene: mujoco.MjvScene, mods: tuple[str, ...], planes: tuple[np.float32, np.float32],
         depth_from_colour_pass: bool, owns_thread: bool = False) -> RawFrame:
    """Draw ``scene`` with renderer ``r``'s context and read back what ``mods`` (rgb / depth / seg_geom) need.

    RGB is one lit pass; depth is read from that pass's depth buffer when ``depth_from_colour_pass`` (no
    multisampling), else from the id-colour pass, which also gives the geom ids (at most two draws a frame).
    ``owns_thread``: this thread runs only robosynth's GL calls, so the context made current by the last draw of
    ``r`` is still current (every other GL call there calls :func:`forget_current_context`).
    """
    if r._gl_context and not (owns_thread and getattr(_current, "renderer", None) is r):
        r._gl_context.make_current()
        _current.renderer = r if owns_thread else None
    h, w = r.height, r.width
    want_depth = "depth" in mods
    rgb = colours = depth = lut = None
    if "rgb" in mods:
        rgb = np.empty((h, w, 3), dtype=np.uint8)
        depth = np.empty((h, w), dtype=np.float32) if want_depth and depth_from_colour_pass else None
        mujoco.mjr_render(r._rect, scene, r._mjr_context)
        mujoco.mjr_readPixels(rgb, depth, r._rect, r._mjr_context)
    depth_from_ids = want_depth and depth is None
    if "seg_geom" in mods or depth_from_ids:
        colours = np.empty((h, w, 3), dtype=np.uint8) if "seg_geom" in mods else None
        id_depth = np.empty((h, w), dtype=np.float32) if depth_from_ids else None
        saved = [scene.flags[f] for f in ID_FLAGS]
        try:
            for f in ID_FLAGS:
                scene.flags[f] = True
            mujoco.mjr_render(r._rect, scene, r._mjr_context)
            mujoco.mjr_readPixels(colours, id_depth, r._rect, r._mjr_context)
        finally:
            for f, v in zip(ID_FLAGS, saved, strict=True):
                scene.flags[f] = v
        depth = id_depth if depth_from_ids else depth
        lut = geom_lut(scene) if colours is not None else None
    return RawFrame(rgb, depth, colours, lut, planes)
