"""MuJoCo's GL contexts for offscreen frames, created so that they hold the GIL as little as possible.

An :class:`OffscreenContext` is what ``mujoco.Renderer`` keeps for drawing: a platform GL context (EGL, OSMesa
or GLFW, as ``MUJOCO_GL`` says), an ``MjrContext`` of the model drawing into MuJoCo's offscreen buffer, depth
read back as ``mjDEPTH_ZEROFAR``. It has the attributes :func:`renderers.mujoco_passes.draw` and
``sim.mujoco_textures.upload_textures`` read from a ``mujoco.Renderer`` (``_gl_context``, ``_mjr_context``,
``_rect``, ``width``, ``height``), without the renderer's own scene, which robosynth never draws.

Why not ``mujoco.Renderer`` itself: on Mesa's llvmpipe, the first mipmap generation in a GL context compiles its
shaders (45-90 ms on this project's 2-core machines), and ``MjrContext(model)`` does it while holding the GIL,
so every other thread of the process stops for it. :func:`new_platform_context` makes those first calls itself
through PyOpenGL, whose calls release the GIL, so the compile overlaps the caller's Python (a world build, the
first steps). ``MjrContext`` then takes about 10 ms. A platform context can also outlive the ``MjrContext`` of
one model and serve the next one (``OffscreenContext.release``), which skips the compile altogether.
"""

from __future__ import annotations

import importlib
import os
import threading
from typing import TYPE_CHECKING, Any

import mujoco

if TYPE_CHECKING:
    from renderers.gl_thread import GLThread

WARMED_TEXTURE_KINDS = "robosynth_warmed_texture_kinds"
"""Attribute of a platform context: the (cube map?, channels) texture kinds already warmed up in it."""


_GL_BACKEND_LOCK = threading.Lock()


def ensure_gl_backend() -> None:
    """Select headless EGL unless MUJOCO_GL is set; called before the first GL context is created (any thread)."""
    with _GL_BACKEND_LOCK:  # a reload running in another thread has set _MUJOCO_GL before GLContext
        os.environ.setdefault("MUJOCO_GL", "egl")
        from mujoco.rendering.classic import gl_context

        # mujoco reads MUJOCO_GL once at import time; if it was imported before the variable was set,
        # reload its small gl_context module so a context is created on the requested platform.
        if getattr(gl_context, "_MUJOCO_GL", None) != os.environ["MUJOCO_GL"].lower().strip():
            importlib.reload(gl_context)


def model_texture_kinds(model: mujoco.MjModel) -> set[tuple[bool, int]]:
    """Return the (cube map?, channels) kinds of the textures ``model`` uploads (2D, or cube and skybox)."""
    two_d = int(mujoco.mjtTexture.mjTEXTURE_2D)
    return {(int(t) != two_d, int(c)) for t, c in zip(model.tex_type, model.tex_nchannel, strict=True)}


def warm_up_textures(platform: Any, kinds: set[tuple[bool, int]]) -> None:
    """Upload and mipmap a 4x4 texture of each kind not yet warmed in ``platform`` (current on this thread)."""
    done: set[tuple[bool, int]] = getattr(platform, WARMED_TEXTURE_KINDS, set())
    todo = {k for k in kinds if k not in done and k[1] in (1, 3, 4)}
    if not todo:
        return
    import numpy as np
    from OpenGL import GL

    formats = {1: GL.GL_RED, 3: GL.GL_RGB, 4: GL.GL_RGBA}
    for cube, channels in sorted(todo):
        target = GL.GL_TEXTURE_CUBE_MAP if cube else GL.GL_TEXTURE_2D
        faces = [GL.GL_TEXTURE_CUBE_MAP_POSITIVE_X + f for f in range(6)] if cube else [target]
        pixels = np.zeros((4, 4, channels), dtype=np.uint8)
        tex = GL.glGenTextures(1)
        GL.glBindTexture(target, tex)
        for face in faces:
            GL.glTexImage2D(face, 0, formats[channels], 4, 4, 0, formats[channels], GL.GL_UNSIGNED_BYTE, pixels)
        GL.glGenerateMipmap(target)
        GL.glBindTexture(target, 0)
        GL.glDeleteTextures([tex])
    GL.glFinish()
    setattr(platform, WARMED_TEXTURE_KINDS, done | todo)


def new_platform_context(width: int, height: int, kinds: set[tuple[bool, int]] | None = None) -> Any:
    """Return a new platform GL context, current on this thread, with texture ``kinds`` (default: RGB 2D, what
    MuJoCo's built-in and most file textures are) warmed up."""
    ensure_gl_backend()
    from mujoco.rendering.classic import gl_context

    if gl_context.GLContext is None:
        raise RuntimeError(f"MuJoCo has no GL platform for rendering: {gl_context._import_error}")  # noqa: SLF001
    platform = gl_context.GLContext(width, height)
    platform.make_current()
    warm_up_textures(platform, {(False, 3)} if kinds is None else kinds)
    return platform


class OffscreenContext:
    """A model's MuJoCo render context in a platform GL context, current on the thread that created it."""

    def __init__(self, model: mujoco.MjModel, width: int, height: int, platform: Any | None = None) -> None:
        """Create the ``MjrContext`` of ``model`` in ``platform`` (a new one when None) for width x height frames
        (``model.vis.global_`` offwidth / offheight must hold them)."""
        g = model.vis.global_
        if width > g.offwidth or height > g.offheight:
            raise ValueError(f"frame {width}x{height} exceeds the model's offscreen buffer {g.offwidth}x{g.offheight}")
        self.width, self.height = width, height
        self._rect = mujoco.MjrRect(0, 0, width, height)
        self._mjr_context: mujoco.MjrContext | None = None
        kinds = model_texture_kinds(model)
        if platform is None:
            platform = new_platform_context(width, height, kinds)
        else:
            platform.make_current()
            warm_up_textures(platform, kinds)
        self._gl_context: Any = platform
        try:
            self._mjr_context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150.value)
        except BaseException:
            self.close()
            raise
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self._mjr_context)
        self._mjr_context.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR

    def release(self) -> Any:
        """Free the ``MjrContext`` (on this context's thread); return the platform context, for another model."""
        platform, self._gl_context = self._gl_context, None
        if self._mjr_context is not None and platform is not None:
            platform.make_current()
            self._mjr_context.free()
        self._mjr_context = None
        return platform

    def close(self) -> None:
        """Free the ``MjrContext`` and the platform context (idempotent)."""
        platform = self.release()
        if platform is not None:
            platform.free()


def prepare_context(gl: GLThread, width: int, height: int) -> None:
    """Start creating a platform context on ``gl``'s thread now, before any model exists: its shader compile runs
    while the caller builds the world, and the first renderer on ``gl`` takes it from ``gl.spare_contexts``.

    An error here is dropped: that renderer then creates its own context, and raises what goes wrong then."""
    from renderers.mujoco_passes import forget_current_context

    def make() -> None:
        try:
            gl.spare_contexts.append(new_platform_context(width, height))
        finally:
            forget_current_context()

    gl.submit(make)
