"""Low-level MuJoCo rendering: one reusable mujoco.Renderer per resolution, RGB / z-depth / geom ids.

Rendering never changes physics: only ``Renderer.update_scene`` (mjv_updateScene) reads ``data``; no
mj_step / mj_forward is called. The caller must have run mj_forward (or mj_step / mj_kinematics)
after changing qpos, so that ``data.xpos`` / ``data.cam_xpos`` are current.

Near/far: MuJoCo has one pair of clip planes per model, ``model.vis.map.znear/zfar * model.stat.extent``.
Pass ``clip=(intr.near, intr.far)`` to ``render`` (or call ``engine_cameras.set_mujoco_clip``) so the depth
range matches the camera's Intrinsics; the depth returned is metric z-depth from the renderer.
"""

from __future__ import annotations

import concurrent.futures
import functools
import importlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

import mujoco
import numpy as np

from renderers.camera import validate_resolution
from renderers.engine_cameras import clip_differs, set_mujoco_clip
from sim.errors import InputError

if TYPE_CHECKING:
    from renderers.gl_thread import GLThread

T = TypeVar("T")

MODALITIES = ("rgb", "depth", "seg_geom")
"""Modalities MujocoCameraRenderer.render can return."""

QUALITY_PRESETS: dict[str, dict[str, int]] = {
    "fast": {"shadowsize": 512, "offsamples": 0},
    "default": {"shadowsize": 1024, "offsamples": 0},
    "high": {"shadowsize": 4096, "offsamples": 4},
}
"""Visual quality presets: shadow map size and MSAA samples (model.vis.quality fields)."""

SHADOWS: dict[str, bool] = {"fast": False, "default": True, "high": True}
"""Whether a preset draws shadows. On llvmpipe the shadow pass is about 3/4 of an RGB frame's cost with the
full Panda meshes (128x128: ~100 frames/s without shadows, ~25-30 with a 512-1024 shadow map)."""


def apply_quality(spec_or_model: Any, preset: str) -> None:
    """Set shadow map size and multisampling of an MjSpec or MjModel from a QUALITY_PRESETS name."""
    if preset not in QUALITY_PRESETS:
        raise InputError(f"unknown render quality {preset!r}; expected one of {sorted(QUALITY_PRESETS)}")
    vis = spec_or_model.visual if hasattr(spec_or_model, "visual") else spec_or_model.vis
    for key, value in QUALITY_PRESETS[preset].items():
        setattr(vis.quality, key, value)


def ensure_gl_backend() -> None:
    """Select headless EGL unless MUJOCO_GL is set; called before the first mujoco.Renderer is created."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    from mujoco.rendering.classic import gl_context

    # mujoco reads MUJOCO_GL once at import time; if it was imported before the variable was set,
    # reload its small gl_context module so Renderer picks the requested platform.
    if getattr(gl_context, "_MUJOCO_GL", None) != os.environ["MUJOCO_GL"].lower().strip():
        importlib.reload(gl_context)


def _check_modalities(modalities: Iterable[str]) -> tuple[str, ...]:
    mods = tuple(modalities)
    unknown = [m for m in mods if m not in MODALITIES]
    if unknown or not mods:
        raise InputError(f"unknown or empty render modalities {unknown or mods}; expected from {MODALITIES}")
    return mods


def _segmentation_from_framebuffer(r: Any) -> np.ndarray | None:
    """Return geom ids (H, W) int32 decoded from the id colours left by a depth pass, or None if unavailable.

    mujoco.Renderer draws its depth pass with mjRND_SEGMENT | mjRND_IDCOLOR, so the colour buffer then holds
    exactly what a segmentation pass would; this reads it (uses the renderer's context, scene and rect).
    """
    ctx, scene, rect = getattr(r, "_mjr_context", None), getattr(r, "_scene", None), getattr(r, "_rect", None)
    if ctx is None or scene is None or rect is None:
        return None
    if getattr(r, "_gl_context", None):
        r._gl_context.make_current()
    rgb = np.empty((r.height, r.width, 3), dtype=np.uint8)
    mujoco.mjr_readPixels(rgb, None, rect, ctx)
    img = rgb.astype(np.uint32)
    segid = img[..., 0] + (img[..., 1] << 8) + (img[..., 2] << 16)
    lut = np.full(scene.ngeom + 1, -1, dtype=np.int32)
    geom_type = int(mujoco.mjtObj.mjOBJ_GEOM)
    for g in scene.geoms[: scene.ngeom]:
        if g.segid != -1 and g.objtype == geom_type:
            lut[g.segid + 1] = g.objid
    return np.flipud(lut[np.minimum(segid, scene.ngeom)]).astype(np.int32)


def _depth_from_framebuffer(r: Any, model: mujoco.MjModel) -> np.ndarray:
    """Return metric z-depth (H, W) float32 from the depth buffer the last pass left (no second draw).

    The conversion is mujoco.Renderer's own (reversed-Z perspective, float32 planes, float64 division), so the
    values equal a depth pass's wherever geometry was drawn; pixels with no geometry read ``far``.
    """
    if getattr(r, "_gl_context", None):
        r._gl_context.make_current()
    buf = np.empty((r.height, r.width), dtype=np.float32)
    mujoco.mjr_readPixels(None, buf, r._rect, r._mjr_context)
    extent = model.stat.extent
    zfar = np.float32(model.vis.map.zfar * extent)
    znear = np.float32(model.vis.map.znear * extent)
    c_coef = -(zfar + znear) / (zfar - znear)
    d_coef = -(np.float32(2) * zfar * znear) / (zfar - znear)
    c_coef = np.float32(-0.5) * c_coef - np.float32(0.5)
    d_coef = np.float32(-0.5) * d_coef
    depth = (d_coef / (buf.astype(np.float64) + c_coef)).astype(np.float32)
    return np.flipud(depth) if getattr(r, "_gl_context", None) else depth


class MujocoCameraRenderer:
    """Renders named cameras of one MjModel at one resolution with a lazily created mujoco.Renderer.

    With a ``GLThread`` (``gl``), every GL call of this renderer runs on that thread, and :meth:`begin` returns
    as soon as the scene is copied from ``data``: the draw and read-back then overlap whatever the caller does
    next (docs/performance.md, "Pipelined rendering"). Without one, everything runs on the caller's thread.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        width: int,
        height: int,
        quality: str = "default",
        show_sites: bool = False,
        gl: GLThread | None = None,
    ) -> None:
        self.width, self.height = validate_resolution(width, height)
        if quality not in QUALITY_PRESETS:
            raise InputError(f"unknown render quality {quality!r}; expected one of {sorted(QUALITY_PRESETS)}")
        self.model = model
        self.quality = quality
        self._gl = gl
        self._renderer: mujoco.Renderer | None = None
        self._pending: Future[dict[str, np.ndarray]] | None = None
        self._option = mujoco.MjvOption()
        if not show_sites:
            self._option.sitegroup[:] = 0

    def _get_renderer(self) -> mujoco.Renderer:
        if self._renderer is None:
            ensure_gl_backend()
            m = self.model
            apply_quality(m, self.quality)
            m.vis.global_.offwidth = max(int(m.vis.global_.offwidth), self.width)
            m.vis.global_.offheight = max(int(m.vis.global_.offheight), self.height)
            make = functools.partial(mujoco.Renderer, m, height=self.height, width=self.width)
            self._renderer = make() if self._gl is None else self._gl.call(make)
        return self._renderer

    @property
    def gl_renderer(self) -> mujoco.Renderer | None:
        """Return the live mujoco.Renderer (None before the first frame or after close); its GL calls belong on
        :meth:`run_gl`."""
        return self._renderer

    def run_gl(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` where this renderer's GL context lives, after the draws already queued."""
        return fn(*args) if self._gl is None else self._gl.call(fn, *args)

    def wait(self) -> None:
        """Block until the last :meth:`begin`'s draw has finished (its errors are raised by its future)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            concurrent.futures.wait([pending])

    def render(
        self,
        data: mujoco.MjData,
        camera_name: str,
        modalities: Iterable[str] = MODALITIES,
        clip: tuple[float, float] | None = None,
    ) -> dict[str, np.ndarray]:
        """Return {rgb (H,W,3) uint8, depth (H,W) float32 metres z, seg_geom (H,W) int32, -1 = background}."""
        return self.begin(data, camera_name, modalities, clip).result()

    def begin(
        self,
        data: mujoco.MjData,
        camera_name: str,
        modalities: Iterable[str] = MODALITIES,
        clip: tuple[float, float] | None = None,
    ) -> Future[dict[str, np.ndarray]]:
        """Copy the scene seen by ``camera_name`` from ``data`` now; return the future of :meth:`render`'s dict.

        ``data`` may change as soon as this returns. Without a GL thread the future is already done.
        """
        mods = _check_modalities(modalities)
        validate_resolution(self.width, self.height)
        cam_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, camera_name)
        if cam_id < 0:
            raise InputError(f"MuJoCo model has no camera named {camera_name!r}")
        res = tuple(int(x) for x in self.model.cam_resolution[cam_id])
        if self.model.cam_sensorsize[cam_id][1] > 0 and res != (self.width, self.height):
            raise InputError(
                f"camera {camera_name!r} was configured for {res[0]}x{res[1]} but is rendered at "
                f"{self.width}x{self.height}; its K would not hold"
            )
        self.wait()  # the scene below is this renderer's only one: its last draw must be done with it
        if clip is not None and clip_differs(self.model, *clip):
            if self._gl is not None:
                self._gl.call(_no_op)  # queued draws of other renderers read the model's clip planes
            set_mujoco_clip(self.model, *clip)
        r = self._get_renderer()
        r.update_scene(data, camera=cam_id, scene_option=self._option)
        r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = SHADOWS[self.quality]
        if self._gl is None:
            done: Future[dict[str, np.ndarray]] = Future()
            done.set_result(self._draw(r, mods))
            return done
        self._pending = self._gl.submit(self._draw, r, mods)
        return self._pending

    def _draw(self, r: mujoco.Renderer, mods: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Draw the scene ``r`` holds and read back ``mods`` (on the thread that owns the GL context)."""
        out: dict[str, np.ndarray] = {}
        if "rgb" in mods:
            out["rgb"] = r.render()
            if "depth" in mods and self.model.vis.quality.offsamples == 0:
                out["depth"] = _depth_from_framebuffer(r, self.model)  # the colour pass left the depth buffer
        if "depth" in mods and "depth" not in out:
            r.enable_depth_rendering()
            try:
                out["depth"] = r.render().astype(np.float32, copy=False)
                if "seg_geom" in mods:
                    # The depth pass already drew segment id colours: read them instead of a third pass.
                    seg = _segmentation_from_framebuffer(r)
                    if seg is not None:
                        out["seg_geom"] = seg
            finally:
                r.disable_depth_rendering()
        if "seg_geom" in mods and "seg_geom" not in out:
            r.enable_segmentation_rendering()
            try:
                seg = r.render()
            finally:
                r.disable_segmentation_rendering()
            is_geom = seg[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM)
            out["seg_geom"] = np.where(is_geom, seg[..., 0], -1).astype(np.int32)
        return out

    def close(self) -> None:
        """Free the GL context and renderer; a later render creates a new one."""
        self.wait()
        if self._renderer is not None:
            self.run_gl(self._renderer.close)
            self._renderer = None

    def __enter__(self) -> MujocoCameraRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _no_op() -> None:
    """Nothing: run on a GL thread to wait for the draws queued before it."""


class MujocoRendererPool:
    """Holds one MujocoCameraRenderer per (width, height) for one model; close() frees them all.

    With ``gl``, all its renderers run their GL calls on that one thread (see MujocoCameraRenderer).
    """

    def __init__(self, model: mujoco.MjModel, quality: str = "default", show_sites: bool = False,
                 gl: GLThread | None = None) -> None:
        if quality not in QUALITY_PRESETS:
            raise InputError(f"unknown render quality {quality!r}; expected one of {sorted(QUALITY_PRESETS)}")
        self.model, self.quality, self.show_sites, self.gl = model, quality, show_sites, gl
        self._renderers: dict[tuple[int, int], MujocoCameraRenderer] = {}

    def get(self, width: int, height: int) -> MujocoCameraRenderer:
        """Return the (cached) renderer for this resolution."""
        key = validate_resolution(width, height)
        if key not in self._renderers:
            self._renderers[key] = MujocoCameraRenderer(self.model, *key, self.quality, self.show_sites, self.gl)
        return self._renderers[key]

    @property
    def renderers(self) -> list[MujocoCameraRenderer]:
        """Return the pool's renderers (one per resolution rendered so far)."""
        return list(self._renderers.values())

    def close(self) -> None:
        """Free every renderer of the pool."""
        for r in self._renderers.values():
            r.close()
        self._renderers.clear()

    def __enter__(self) -> MujocoRendererPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
