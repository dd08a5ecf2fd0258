"""Texture coordinates for visual meshes that have none (OBJ without ``vt``, STL), so randomized textures show on
mesh objects on both engines.

The mapping is cylindrical about the mesh's vertical axis: u goes once around (the angle about the centre of the
bounding box), v runs up the height, scaled by the same length so the texture keeps its aspect ratio. The
result is an OBJ with ``vt`` per vertex, cached under ``$ROBOSYNTH_CACHE_DIR`` (default ``~/.cache/robosynth``) in
``uv/``, named by the SHA-256 of the source bytes and written atomically.
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path

import numpy as np

from sim.files import write_bytes_atomic
from sim.mesh_lod import cache_dir as _lod_cache_dir

UV_VERSION = "1"  # part of the cache key: bump when the mapping changes


def cache_dir() -> Path:
    """Return the folder meshes with generated texture coordinates are cached in."""
    return _lod_cache_dir().parent / "uv"


def has_texcoords(path: Path) -> bool:
    """Return whether a mesh file already has texture coordinates (an OBJ with ``vt`` lines)."""
    if path.suffix.lower() != ".obj":
        return False
    with open(path, "rb") as fh:
        return any(line.startswith(b"vt ") for line in fh)


def cylindrical_uv(vertices: np.ndarray) -> np.ndarray:
    """Return (V, 2) texture coordinates: u = angle about the vertical axis / 2 pi, v = height / circumference."""
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    centre = (lo + hi) / 2
    d = vertices - centre
    u = (np.arctan2(d[:, 1], d[:, 0]) / (2 * math.pi)) % 1.0
    circumference = math.pi * max(float(np.max(hi[:2] - lo[:2])), 1e-6)
    v = (vertices[:, 2] - lo[2]) / circumference
    return np.stack([u, v], axis=1)


@functools.lru_cache(maxsize=128)
def with_texcoords(path_str: str) -> Path:
    """Return an OBJ of the mesh file at ``path_str`` with generated texture coordinates (cached), or the file
    itself when it already has some."""
    from sim.mesh_files import read_mesh
    from sim.mesh_formats import obj_with_uv

    path = Path(path_str)
    if has_texcoords(path):
        return path
    data = path.read_bytes()
    out = cache_dir() / (hashlib.sha256(data + f"|{path.suffix.lower()}|uv|{UV_VERSION}".encode()).hexdigest() + ".obj")
    if out.is_file():
        return out
    vertices, faces = read_mesh(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(out, obj_with_uv(vertices, faces, cylindrical_uv(vertices)))
    except OSError:
        return path  # an unwritable cache: the mesh is drawn without texture coordinates (flat colour)
    return out
