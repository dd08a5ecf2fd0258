"""MuJoCo's GL contexts for offscreen frames, created so that they hold the GIL as little as possible.

An :class:`OffscreenContext` is what ``mujoco.Renderer`` keeps for drawing: a platform GL context (EGL, OSMesa
or GLFW, as ``MUJOCO_GL`` says), an ``MjrContext`` of the model drawing into MuJoCo's offscreen buffer, depth
read back as ``mjDEPTH_ZEROFAR``. It has the attributes :func:`renderers.mujoco_passes.draw` and
``sim.mujoco_textures.upload_textures`` read from a ``mujoco.Renderer`` (``_gl_context``, ``_mjr_context``,
``_rect``, ``width``, ``height``), without the renderer's own scene, which robosynth never draws.

Why not ``mujoco.Renderer`` itself: on Mesa's llvmpipe, the first mipmap generation in a GL context compiles its
shaders (45-90 ms on this project's 2-core machines), and ``MjrContext(model)`` does it while holding the GIL,
so every other thread of the process stops for it. :func:`new_platform_context` makes those first calls itself,
through ctypes on the GL library PyOpenGL loaded (each call releases the GIL), so the compile overlaps the
caller's Python (a world build, the first steps). ``MjrContext`` then takes about 10 ms. A platform context can
also outlive the ``MjrContext`` of one model and serve the next one (``OffscreenContext.release``), which skips
the compile altogether.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import threading
from types import SimpleNamespace
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
    channels = getattr(model, "tex_nchannel", [3] * model.ntex)  # MuJoCo < 3.2: RGB textures only
    return {(int(t) != two_d, int(c)) for t, c in zip(model.tex_type, channels, strict=True)}


_GL_ENUMS = {"texture_2d": 0x0DE1, "cube_map": 0x8513, "cube_map_positive_x": 0x8515, "unsigned_byte": 0x1401}
_GL_FORMATS = {1: 0x1903, 3: 0x1907, 4: 0x1908}  # GL_RED, GL_RGB, GL_RGBA
WARM_UP_PLATFORMS = ("egl", "osmesa")
"""MUJOCO_GL platforms (Mesa's software rasterizers here) whose contexts are warmed up; others are left as they are."""


def _gl_calls() -> SimpleNamespace:
    """Return the GL entry points the warm-up calls, through ctypes (each call releases the GIL).

    PyOpenGL's own ``OpenGL.GL`` costs 33 ms to import, holding the GIL; its platform object (imported with
    ``mujoco.egl`` / ``mujoco.osmesa``) already holds the loaded GL library."""
    from OpenGL.platform import PLATFORM

    lib, fn = PLATFORM.GL, ctypes.CFUNCTYPE
    u, i, p = ctypes.c_uint, ctypes.c_int, ctypes.c_void_p
    return SimpleNamespace(
        gen=fn(None, i, p)(("glGenTextures", lib)), bind=fn(None, u, u)(("glBindTexture", lib)),
        image=fn(None, u, i, i, i, i, i, u, u, p)(("glTexImage2D", lib)), mipmap=fn(None, u)(("glGenerateMipmap", lib)),
        delete=fn(None, i, p)(("glDeleteTextures", lib)), finish=fn(None)(("glFinish", lib)),
        error=fn(u)(("glGetError", lib)))


def warm_up_textures(platform: Any, kinds: set[tuple[bool, int]]) -> None:
    """Upload and mipmap a 4x4 texture of each kind not yet warmed in ``platform`` (current on this thread).

    Only on ``WARM_UP_PLATFORMS``; a GL library without these entry points is left cold (MjrContext then pays the
    compile itself, as mujoco.Renderer does)."""
    done: set[tuple[bool, int]] = getattr(platform, WARMED_TEXTURE_KINDS, set())
    todo = {k for k in kinds if k not in done and k[1] in _GL_FORMATS}
    if not todo or os.environ.get("MUJOCO_GL", "").lower().strip() not in WARM_UP_PLATFORMS:
        return
    try:
        gl = _gl_calls()
    except (ImportError, AttributeError):
        return
    tex = ctypes.c_uint(0)
    for cube, channels in sorted(todo):
        target = _GL_ENUMS["cube_map" if cube else "texture_2d"]
        faces = [_GL_ENUMS["cube_map_positive_x"] + f for f in range(6)] if cube else [target]
        pixels = ctypes.create_string_buffer(4 * 4 * channels)
        fmt = _GL_FORMATS[channels]
        gl.gen(1, ctypes.byref(tex))
        gl.bind(target, tex.value)
        for face in faces:
            gl.image(face, 0, fmt, 4, 4, 0, fmt, _GL_ENUMS["unsigned_byte"], pixels)
        gl.mipmap(target)
        gl.bind(target, 0)
        gl.delete(1, ctypes.byref(tex))
    gl.finish()
    for _ in range(8):  # leave no error behind for MjrContext to find
        if gl.error() == 0:
            break
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


def add_spare_context(gl: GLThread, width: int, height: int) -> None:
    """On ``gl``'s thread, before any model exists: create a platform context and keep it in ``gl.spare_contexts``
    for the first renderer on ``gl`` (its shader compile runs while the caller builds the world).

    An error here is dropped: that renderer then creates its own context, and raises what goes wrong then."""
    from renderers.mujoco_passes import forget_current_context

    try:
        gl.spare_contexts.append(new_platform_context(width, height))
    except Exception:  # noqa: BLE001, S110 - see the docstring
        pass
    finally:
        forget_current_context()
