"""Low-level MuJoCo rendering: one reusable GL context per resolution (``renderers.mujoco_context``), RGB /
z-depth / geom ids.

Rendering never changes physics: only ``mjv_updateScene`` reads ``data``; no
mj_step / mj_forward is called. The caller must have run mj_forward (or mj_step / mj_kinematics)
after changing qpos, so that ``data.xpos`` / ``data.cam_xpos`` are current.

Near/far: MuJoCo has one pair of clip planes per model, ``model.vis.map.znear/zfar * model.stat.extent``.
Pass ``clip=(intr.near, intr.far)`` to ``render`` (or call ``engine_cameras.set_mujoco_clip``) so the depth
range matches the camera's Intrinsics; the depth returned is metric z-depth from the renderer.
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

import mujoco
import numpy as np

from renderers.camera import validate_resolution
from renderers.engine_cameras import set_mujoco_clip
from renderers.mujoco_context import OffscreenContext, ensure_gl_backend
from renderers.mujoco_passes import RawFrame, decode, depth_planes, draw, forget_current_context
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


def _check_modalities(modalities: Iterable[str]) -> tuple[str, ...]:
    mods = tuple(modalities)
    unknown = [m for m in mods if m not in MODALITIES]
    if unknown or not mods:
        raise InputError(f"unknown or empty render modalities {unknown or mods}; expected from {MODALITIES}")
    return mods


MAX_GEOM = 10000
"""Geoms a scene holds at most (mujoco.Renderer's default); scenes start at ``scene_capacity(model)``."""


def scene_capacity(model: mujoco.MjModel) -> int:
    """Return the geoms a new scene of ``model`` holds: twice its geoms and sites, at least 200 (an MjvScene
    of MAX_GEOM costs 8-15 ms to allocate). A scene that fills up is replaced by one of MAX_GEOM and redrawn."""
    return min(MAX_GEOM, max(200, 2 * (model.ngeom + model.nsite) + 100))

MAX_IN_FLIGHT = 3
"""Frames a renderer with a GL thread may have queued: the caller runs ahead of the draws by up to this many."""
MAX_IN_FLIGHT_UNTIL_READY = 32
"""... and by up to this many while its GL context is still being created (about 0.1 s on llvmpipe)."""


class MujocoCameraRenderer:
    """Renders named cameras of one MjModel at one resolution; its GL context is created on the first frame.

    :meth:`begin` copies what a camera sees from ``data`` into a scene of this renderer's own (``mjv_updateScene``,
    on the caller's thread) and draws it (``renderers.mujoco_passes``). With a ``GLThread`` (``gl``) every GL call
    runs on that thread: ``begin`` returns before the draw, and up to ``MAX_IN_FLIGHT`` frames can be queued while
    the caller steps the world (docs/performance.md, "Pipelined rendering"). Without one, it draws at once.
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
        self._context: Future[OffscreenContext] | None = None  # the GL context, once created
        self._free: list[mujoco.MjvScene] = []
        self._in_flight: deque[tuple[Future[RawFrame], mujoco.MjvScene]] = deque()
        self._option = mujoco.MjvOption()
        if not show_sites:
            self._option.sitegroup[:] = 0
        self._capacity = scene_capacity(model)
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._camera_ids: dict[str, int] = {}
        self._clips: dict[tuple[float, float], tuple[float, float, tuple[np.float32, np.float32]]] = {}

    def _ensure_context(self) -> Future[OffscreenContext]:
        """Start creating the GL context (on the GL thread, without waiting for it) unless it exists."""
        if self._context is None:
            ensure_gl_backend()
            m = self.model
            apply_quality(m, self.quality)
            m.vis.global_.offwidth = max(int(m.vis.global_.offwidth), self.width)
            m.vis.global_.offheight = max(int(m.vis.global_.offheight), self.height)
            spares = None if self._gl is None else self._gl.spare_contexts
            make = functools.partial(_new_context, m, self.height, self.width, spares)
            self._context = self._gl.submit(make) if self._gl is not None else _done(make)
        return self._context

    def run_gl(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` where this renderer's GL context lives, after the draws already queued (``fn`` may
        make any context current there)."""
        return fn(*args) if self._gl is None else self._gl.call(_then_forget_context, fn, *args)

    def upload_textures(self, tex_ids: Iterable[int]) -> None:
        """Re-upload textures ``tex_ids`` from the model to this renderer's GL context, if it has one (after the
        queued draws: collect them first when the new textures must not show in them)."""
        context = self._context
        if context is not None:
            from sim.mujoco_textures import upload_textures

            ids = [int(t) for t in tex_ids]
            self.run_gl(lambda: upload_textures(self.model, [context.result()], ids))

    def wait(self) -> None:
        """Block until every queued draw has finished (their errors are raised by their futures)."""
        while self._in_flight:
            fut, scene = self._in_flight.popleft()
            concurrent.futures.wait([fut])
            self._free.append(scene)

    def _take_scene(self) -> mujoco.MjvScene:
        """Return a scene no queued draw uses (waiting for the oldest draw when MAX_IN_FLIGHT are queued)."""
        ready = self._context is not None and self._context.done()
        limit = MAX_IN_FLIGHT if ready else MAX_IN_FLIGHT_UNTIL_READY
        while self._in_flight and (self._in_flight[0][0].done() or len(self._in_flight) >= limit):
            fut, scene = self._in_flight.popleft()
            concurrent.futures.wait([fut])
            self._free.append(scene)
        return self._free.pop() if self._free else mujoco.MjvScene(self.model, maxgeom=self._capacity)

    def render(
        self,
        data: mujoco.MjData,
        camera_name: str,
        modalities: Iterable[str] = MODALITIES,
        clip: tuple[float, float] | None = None,
    ) -> dict[str, np.ndarray]:
        """Return {rgb (H,W,3) uint8, depth (H,W) float32 metres z, seg_geom (H,W) int32, -1 = background}."""
        return decode(self.begin(data, camera_name, modalities, clip).result())

    def begin(
        self,
        data: mujoco.MjData,
        camera_name: str,
        modalities: Iterable[str] = MODALITIES,
        clip: tuple[float, float] | None = None,
    ) -> Future[RawFrame]:
        """Copy the scene seen by ``camera_name`` from ``data`` now; return the future of what the draw reads back
        (``mujoco_passes.decode`` of it is :meth:`render`'s dict).

        ``data`` may change as soon as this returns. Without a GL thread the future is already done.
        """
        mods = _check_modalities(modalities)
        cam_id = self._camera_id(camera_name)
        rw, rh = self.model.cam_resolution[cam_id]
        if self.model.cam_sensorsize[cam_id][1] > 0 and (rw != self.width or rh != self.height):
            raise InputError(
                f"camera {camera_name!r} was configured for {rw}x{rh} but is rendered at "
                f"{self.width}x{self.height}; its K would not hold"
            )
        # The clip planes are read by mjv_updateScene below; queued draws keep their own depth planes.
        planes = self._apply_clip(clip) if clip is not None else depth_planes(self.model)
        context = self._ensure_context()
        scene = self._take_scene()
        camera = self._camera
        camera.fixedcamid = cam_id
        mujoco.mjv_updateScene(self.model, data, self._option, None, camera, mujoco.mjtCatBit.mjCAT_ALL.value, scene)
        if scene.ngeom >= scene.maxgeom and self._capacity < MAX_GEOM:  # full: some geoms were left out
            self._capacity = MAX_GEOM
            scene = mujoco.MjvScene(self.model, maxgeom=MAX_GEOM)
            mujoco.mjv_updateScene(self.model, data, self._option, None, camera, mujoco.mjtCatBit.mjCAT_ALL.value,
                                   scene)
        scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = SHADOWS[self.quality]
        args = (context, scene, mods, planes, self.model.vis.quality.offsamples == 0, self._gl is not None)
        if self._gl is None:
            self._free.append(scene)
            return _done(functools.partial(_draw_with, *args))
        fut = self._gl.submit(_draw_with, *args)
        self._in_flight.append((fut, scene))
        return fut

    def _camera_id(self, name: str) -> int:
        """Return the model's id of camera ``name`` (InputError if it has none)."""
        cam_id = self._camera_ids.get(name)
        if cam_id is None:
            cam_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, name)
            if cam_id < 0:
                raise InputError(f"MuJoCo model has no camera named {name!r}")
            self._camera_ids[name] = cam_id
        return cam_id

    def _apply_clip(self, clip: tuple[float, float]) -> tuple[np.float32, np.float32]:
        """Set the model's clip planes to ``clip`` (near, far metres); return the depth planes they give."""
        known = self._clips.get(clip)
        vis = self.model.vis.map
        if known is None:
            set_mujoco_clip(self.model, *clip)
            known = self._clips[clip] = (vis.znear, vis.zfar, depth_planes(self.model))
        elif vis.znear != known[0] or vis.zfar != known[1]:  # another camera's clip was set in between
            vis.znear, vis.zfar = known[0], known[1]
        return known[2]

    def close(self) -> None:
        """Free the GL context and renderer (after the queued draws); a later render creates a new one."""
        self.wait()
        self._free.clear()
        context, self._context = self._context, None
        if context is not None and not (context.done() and context.exception() is not None):
            spares = None if self._gl is None else self._gl.spare_contexts
            self.run_gl(_close_context, context, spares)

    def __enter__(self) -> MujocoCameraRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _draw_with(context: Future[OffscreenContext], scene: mujoco.MjvScene, mods: tuple[str, ...],
               planes: tuple[np.float32, np.float32], depth_from_colour_pass: bool, owns_thread: bool) -> RawFrame:
    """Draw ``scene`` in the (created) context: :func:`renderers.mujoco_passes.draw`."""
    return draw(context.result(), scene, mods, planes, depth_from_colour_pass, owns_thread)


def _new_context(model: mujoco.MjModel, height: int, width: int, spares: list[Any] | None) -> OffscreenContext:
    """Return the model's context (current on this thread), in a spare platform context when ``spares`` has one."""
    forget_current_context()
    return OffscreenContext(model, width, height, spares.pop() if spares else None)


def _close_context(context: Future[OffscreenContext], spares: list[Any] | None) -> None:
    """Free a renderer's context; keep its platform context in ``spares`` (a GL thread's) for the next model."""
    if spares is None:
        context.result().close()
    else:
        spares.append(context.result().release())


def _then_forget_context(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)``, then say that the thread's current context may have changed."""
    try:
        return fn(*args)
    finally:
        forget_current_context()


def _done(fn: Callable[[], T]) -> Future[T]:
    """Return a finished Future holding ``fn()``'s result or its exception."""
    fut: Future[T] = Future()
    try:
        fut.set_result(fn())
    except Exception as exc:  # noqa: BLE001 - raised again by fut.result()
        fut.set_exception(exc)
    return fut


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
