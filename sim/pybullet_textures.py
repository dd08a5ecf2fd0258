"""Randomized textures on PyBullet: the pattern MuJoCo paints (``sim.mujoco_textures.texture_pattern``) written as
a PNG, loaded into the client once and set on the target's visual shapes (TinyRenderer samples it).

TinyRenderer has no texture-repeat setting, so ``repeat`` is baked into the image as tiles: on the floor (a quad
whose texture coordinates are metres) ``repeat`` tiles per metre, as on MuJoCo; on other targets ``repeat`` tiles
per image (times 4 on boxes, whose built-in faces each sample a quarter of the image). PNGs are cached under
``$ROBOSYNTH_CACHE_DIR`` (default ``~/.cache/robosynth``) in ``textures/``, named by the SHA-256 of the texture's
parameters, and written atomically.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sim.files import write_bytes_atomic
from sim.mesh_lod import cache_dir as _lod_cache_dir
from sim.mujoco_textures import texture_pattern

MAX_TILES = 16
TILE_PIXELS = {"image": 128}  # pixels per tile side by kind (procedural patterns: 64)


def cache_dir() -> Path:
    """Return the folder texture images for PyBullet are cached in."""
    return _lod_cache_dir().parent / "textures"


def tiles_for(tex: Mapping[str, Any], shape: str) -> int:
    """Return how many tiles per side the image of ``tex`` holds for a target of ``shape`` ("floor", "box", ...)."""
    n = int(np.clip(round(float(tex.get("repeat", 1.0))), 1, MAX_TILES))
    return min(MAX_TILES, 4 * n) if shape == "box" else n


def texture_png(tex: Mapping[str, Any], tiles: int) -> Path:
    """Return the cached PNG of texture ``tex`` tiled ``tiles`` x ``tiles`` (written on first use)."""
    import cv2

    key = json.dumps({**{k: tex[k] for k in tex}, "tiles": tiles}, sort_keys=True)
    path = cache_dir() / (hashlib.sha256(key.encode()).hexdigest() + ".png")
    if path.is_file():
        return path
    tile = texture_pattern(tex, TILE_PIXELS.get(str(tex["kind"]), 64))
    ok, png = cv2.imencode(".png", np.ascontiguousarray(np.tile(tile, (tiles, tiles, 1))[..., ::-1]))
    if not ok:
        raise OSError("could not encode a texture PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, png.tobytes())
    return path


def floor_visual(c: Any, pb: Any, rgba: list[float]) -> int:
    """Create the floor's visual shape: a 10 x 10 m quad at z = 0 whose texture coordinates are metres."""
    corners = [[-5.0, -5.0, 0.0], [5.0, -5.0, 0.0], [5.0, 5.0, 0.0], [-5.0, 5.0, 0.0]]
    return int(c.createVisualShape(pb.GEOM_MESH, vertices=corners, indices=[0, 1, 2, 0, 2, 3],
                                   uvs=[v[:2] for v in corners], normals=[[0.0, 0.0, 1.0]] * 4, rgbaColor=rgba))
