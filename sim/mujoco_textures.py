"""Procedural textures (checker, noise) for MuJoCo, written in place into a compiled model.

At compile time the floor and every primitive object get a white 2D texture and a material whose colour is
the geom's own, so the default look is unchanged. ``set_texture`` (sim.mujoco_params) writes a pattern into
``model.tex_data`` and ``mat_texrepeat``; live GL contexts then need ``upload_textures`` (the scene
renderer calls it when the backend's ``texture_version`` changes).

Patterns are pure functions of the texture parameters ``{kind, rgb1, rgb2, repeat}`` (plus ``image``, an asset
path, for the image kind): the noise pattern's generator is seeded from those values, so recorded parameters
reproduce the same pixels. Mesh objects get texture coordinates from ``sim.mesh_uv`` when their file has none.

Repeat: on the floor (a plane) ``repeat`` is texture tiles per metre (``texuniform``); on objects it is
tiles per face. A tile holds 2 x 2 checker cells, or one noise patch.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from scenes.spec import SceneSpec
from sim.assets import resolve_asset
from sim.errors import AssetError

TEX_SIZE = 64  # pixels per side of every procedural texture
KINDS = ("checker", "noise", "gradient", "image")
TEXTURABLE_SHAPES = ("box", "sphere", "cylinder", "capsule", "mesh")
NOISE_OCTAVES = (4, 8, 16, 64)  # grid cells per side of each value-noise octave (equal weights)


def texture_name(target: str) -> str:
    """Return the MuJoCo texture name used for a texturable target."""
    return f"rs_tex_{target}"


def material_name(target: str) -> str:
    """Return the MuJoCo material name used for a texturable target."""
    return f"rs_mat_{target}"


def texturable_targets(spec: SceneSpec) -> list[str]:
    """Return the targets that get a procedural texture on MuJoCo: the floor, primitive and mesh objects."""
    out = ["floor"] if spec.floor else []
    return out + [o.name for o in spec.objects if o.shape in TEXTURABLE_SHAPES]


def add_procedural_textures(mujoco: Any, ms: Any, spec: SceneSpec) -> None:
    """Give each texturable geom of an MjSpec a white 2D texture and a material of its own colour."""
    for target in texturable_targets(spec):
        geom = ms.geom(target)
        if geom is None or geom.material:  # a textured glTF mesh keeps its own texture
            continue
        tex = ms.add_texture(name=texture_name(target), type=mujoco.mjtTexture.mjTEXTURE_2D,
                             builtin=mujoco.mjtBuiltin.mjBUILTIN_FLAT, rgb1=[1.0, 1.0, 1.0],
                             rgb2=[1.0, 1.0, 1.0], width=TEX_SIZE, height=TEX_SIZE, nchannel=3)
        mat = ms.add_material(name=material_name(target), rgba=list(geom.rgba), texrepeat=[1.0, 1.0],
                              texuniform=target == "floor")
        mat.textures[int(mujoco.mjtTextureRole.mjTEXROLE_RGB)] = tex.name
        geom.material = mat.name


def noise_seed(tex: Mapping[str, Any]) -> int:
    """Return the 128-bit seed of a noise texture, derived from its canonical parameter values."""
    text = json.dumps({k: tex[k] for k in ("kind", "rgb1", "rgb2", "repeat")}, sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "little")


def _periodic_upsample(grid: np.ndarray, size: int) -> np.ndarray:
    """Return a (size, size) bilinear upsampling of a periodic (n, n) grid (tiles seamlessly)."""
    n = grid.shape[0]
    u = (np.arange(size) + 0.5) * n / size - 0.5
    i0 = np.floor(u).astype(int)
    f = u - i0
    i0, i1 = i0 % n, (i0 + 1) % n
    rows = grid[i0] * (1 - f)[:, None] + grid[i1] * f[:, None]
    return rows[:, i0] * (1 - f)[None, :] + rows[:, i1] * f[None, :]


def texture_pattern(tex: Mapping[str, Any], size: int = TEX_SIZE) -> np.ndarray:
    """Return the (size, size, 3) uint8 image of a procedural texture (checker: 2 x 2 cells)."""
    kind = tex["kind"]
    c1 = np.asarray(tex["rgb1"], float)[:3]
    c2 = np.asarray(tex["rgb2"], float)[:3]
    if kind == "checker":
        idx = np.arange(size) // max(1, size // 2)
        t = ((idx[:, None] + idx[None, :]) % 2).astype(float)
    elif kind == "noise":
        rng = np.random.default_rng(noise_seed(tex))
        t = np.zeros((size, size))  # equal-weight sum of the octaves (0 + x == x: same bits as sum())
        for n in NOISE_OCTAVES:
            t = t + _periodic_upsample(rng.random((n, n)), size)
        lo, hi = float(t.min()), float(t.max())
        t = (t - lo) / (hi - lo) if hi > lo else np.zeros_like(t)
    elif kind == "gradient":
        t = np.broadcast_to(np.linspace(0.0, 1.0, size)[None, :], (size, size))
    elif kind == "image":
        return texture_image(str(tex["image"]), size).copy()
    else:
        raise ValueError(f"unknown texture kind {kind!r} (one of {', '.join(KINDS)})")
    img = c1[None, None, :] * (1.0 - t[..., None]) + c2[None, None, :] * t[..., None]
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=32)
def texture_image(path: str, size: int) -> np.ndarray:
    """Return the (size, size, 3) uint8 RGB image of a texture asset (``assets/`` or ``pybullet_data``)."""
    import cv2

    bgr = cv2.imread(str(resolve_asset(path)), cv2.IMREAD_COLOR)
    if bgr is None:
        raise AssetError(f"texture image '{path}' is not a readable image")
    return np.ascontiguousarray(cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)[..., ::-1])


def upload_textures(model: Any, renderers: Iterable[Any], tex_ids: Iterable[int]) -> int:
    """Re-upload textures to the GL context of each live ``mujoco.Renderer``; return how many contexts."""
    import mujoco

    ids = [int(t) for t in tex_ids]
    n = 0
    for r in renderers:
        ctx = getattr(r, "_mjr_context", None)
        if ctx is None:  # closed, or never rendered
            continue
        gl = getattr(r, "_gl_context", None)
        if gl is not None:
            gl.make_current()
        for t in ids:
            mujoco.mjr_uploadTexture(model, ctx, t)
        n += 1
    return n
