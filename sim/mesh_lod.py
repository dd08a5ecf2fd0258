"""Level of detail for visual meshes: quadric decimation of OBJ meshes, computed once and cached by content.

On a software rasteriser (Mesa llvmpipe, TinyRenderer) geometry, not pixels, bounds the frame rate: the Panda's
visual meshes are 105k triangles. The render presets draw them decimated to a fraction of their faces
(``renderers.sensors.VISUAL_DETAIL``: 10 % for ``fast``, 25 % for ``default``, all of them for ``high``);
collision geometry, inertia and therefore physics are unchanged.

Decimated meshes are cached under ``$ROBOSYNTH_CACHE_DIR`` (default ``~/.cache/robosynth``) in ``lod/``, named by
the SHA-256 of the source bytes and the settings, so a changed source never reuses a stale result. An unwritable
cache only costs the decimation again (about 0.2 s for the whole Panda).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sim.files import write_bytes_atomic

REDUCED_FRACTION = 0.1  # the default fraction of faces a decimated mesh keeps
MIN_FACES = 2000  # meshes with fewer faces are drawn as they are (the fingers: 624 faces, close to the wrist camera)
LOD_VERSION = "1"  # part of the cache key: bump when the algorithm changes


def cache_dir() -> Path:
    """Return the folder decimated meshes are cached in."""
    root = os.environ.get("ROBOSYNTH_CACHE_DIR") or str(Path.home() / ".cache" / "robosynth")
    return Path(root) / "lod"


def parse_obj(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Return (vertices (N, 3) float64, triangles (M, 3) int64, 0-based) of OBJ bytes; polygons become fans."""
    verts: list[list[float]] = []
    faces: list[tuple[int, int, int]] = []
    for raw in data.splitlines():
        parts = raw.split()
        if not parts:
            continue
        if parts[0] == b"v":
            verts.append([float(v) for v in parts[1:4]])
        elif parts[0] == b"f":
            idx = [int(p.split(b"/")[0]) for p in parts[1:]]
            idx = [i - 1 if i > 0 else len(verts) + i for i in idx]  # OBJ is 1-based; negatives are relative
            faces += [(idx[0], idx[k], idx[k + 1]) for k in range(1, len(idx) - 1)]
    return np.asarray(verts, np.float64).reshape(-1, 3), np.asarray(faces, np.int64).reshape(-1, 3)


def write_obj(vertices: np.ndarray, faces: np.ndarray) -> bytes:
    """Return OBJ bytes of a triangle mesh (positions and faces only)."""
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    return ("\n".join(lines) + "\n").encode()


def decimate_obj(data: bytes, fraction: float = REDUCED_FRACTION) -> bytes:
    """Return the OBJ mesh of ``data`` decimated to about ``fraction`` of its faces (quadric error metric)."""
    vertices, faces = parse_obj(data)
    if len(faces) < MIN_FACES:
        return data
    points, tris = decimate_arrays(vertices, faces, fraction)
    return data if tris is faces else write_obj(points, tris)


def decimate_arrays(vertices: np.ndarray, faces: np.ndarray, fraction: float,
                    preserve_border: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return (vertices, triangles) of a mesh decimated to about ``fraction`` of its faces (quadric error metric;
    ``preserve_border`` keeps the vertices of open edges in place); the input itself when nothing would be left."""
    import fast_simplification

    border = {"preserve_border": True} if preserve_border else {}  # fast-simplification >= 0.2.0
    points, tris = fast_simplification.simplify(vertices.astype(np.float32), faces.astype(np.int32),
                                                target_reduction=1.0 - fraction, **border)
    if len(tris) == 0:
        return vertices, faces
    return np.asarray(points, np.float64), np.asarray(tris, np.int64)


@functools.lru_cache(maxsize=64)
def reduced_obj(data: bytes, fraction: float = REDUCED_FRACTION,
                prepare: Callable[[bytes], bytes] | None = None) -> bytes:
    """Return :func:`decimate_obj` of ``data``, from the on-disk cache when it holds it (written atomically).

    With ``prepare``, the mesh decimated is ``prepare(data)`` (e.g. a file's bytes with its object lines stripped),
    still cached under the SHA-256 of ``data`` (and ``prepare``'s name): a cache hit does not run ``prepare``.
    """
    tag = "" if prepare is None else f"|{prepare.__module__}.{prepare.__qualname__}"
    digest = hashlib.sha256(data)  # fed in two parts: the same key as hashing their concatenation, without a copy
    digest.update(f"|{fraction!r}|{MIN_FACES}|{LOD_VERSION}{tag}".encode())
    key = digest.hexdigest()
    path = cache_dir() / f"{key}.obj"

    def source() -> bytes:
        return data if prepare is None else prepare(data)

    try:
        cached = path.read_bytes()
        # A decimated mesh (write_obj: "v " first) or the source itself (too few faces to decimate: cached as it
        # is, so that the next run neither parses it again nor rewrites it); anything else is recomputed.
        if cached.startswith(b"v ") or cached == source():
            return cached
    except OSError:
        pass
    out = decimate_obj(source(), fraction)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, out)
    except OSError:
        pass  # an unwritable cache: decimate again next time
    return out
