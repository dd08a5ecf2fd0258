"""Collision geometry of ``shape: mesh`` objects: convex decomposition, computed once and cached by content.

Both engines collide convex shapes only (MuJoCo hulls every mesh geom; Bullet hulls a GEOM_MESH of a moving
body), so a mug collides as a solid lump unless its mesh is first split into convex parts. This module splits
a mesh with CoACD (``pip install robosynth[meshes]``): MuJoCo then gets one convex geom per part and PyBullet a
compound of the parts (``sim.mesh_objects``).

Parts are cached under ``$ROBOSYNTH_CACHE_DIR`` (default ``~/.cache/robosynth``) in ``convex/``, as one OBJ
file per mesh with an ``o part_<k>`` object per convex part, in scaled metres. The file name is the SHA-256
of the mesh bytes, the scale, the decomposition parameters, the method and the library version, so a changed
input never reuses a stale result; it is written atomically (temporary name + rename), so concurrent workers
at worst compute the same parts twice and one of the identical files wins. An unwritable cache only costs
the decomposition again.

Without CoACD installed the method is ``hull``: one part, the whole mesh, which each engine hulls (the
behaviour before decomposition existed); the cache key differs, so installing CoACD later takes effect.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.files import write_bytes_atomic
from sim.mesh_files import mesh_from_bytes
from sim.mesh_lod import cache_dir as _lod_cache_dir

CONVEX_VERSION = "1"  # part of the cache key: bump when this module's output changes
# CoACD settings: concavity threshold 0.08 with a small tree search decomposes each shipped object in < 1.5 s
# (one core) into 1-4 parts that keep handles, rims and cavities (see benchmarks/bench_meshes.py).
COACD_PARAMS: dict[str, float | int | str] = {
    "threshold": 0.08, "max_convex_hull": 12, "preprocess_resolution": 30, "resolution": 1000,
    "mcts_nodes": 10, "mcts_iterations": 60, "mcts_max_depth": 2, "seed": 0,
}
MAX_PARTS = 64

decompositions_run = 0  # how many decompositions this process computed (cache misses); tests read it


@dataclass(frozen=True)
class ConvexParts:
    """The convex parts of a mesh (each (vertices (V, 3), triangles (F, 3)), scaled, in the mesh's frame)."""

    parts: tuple[tuple[np.ndarray, np.ndarray], ...]
    method: str  # "coacd" or "hull"
    path: Path  # the cache file holding them (one ``o part_<k>`` per part)


def cache_dir() -> Path:
    """Return the folder convex decompositions are cached in."""
    return _lod_cache_dir().parent / "convex"


def method() -> tuple[str, str]:
    """Return (decomposition method, its library version): ("coacd", "1.0.14") or ("hull", "")."""
    try:
        return "coacd", importlib.metadata.version("coacd")
    except importlib.metadata.PackageNotFoundError:
        return "hull", ""


def cache_key(data: bytes, scale: float) -> str:
    """Return the cache key of a mesh's decomposition: its bytes, scale, parameters, method and version."""
    name, version = method()
    settings = json.dumps({"scale": repr(float(scale)), "params": COACD_PARAMS if name == "coacd" else {},
                           "method": name, "version": version, "format": CONVEX_VERSION}, sort_keys=True)
    return hashlib.sha256(data + b"|" + settings.encode()).hexdigest()


def decompose(vertices: np.ndarray, faces: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return the convex parts of a triangle mesh (CoACD, or the whole mesh as one part without it)."""
    global decompositions_run
    decompositions_run += 1
    if method()[0] == "hull":
        return [(np.asarray(vertices, float), np.asarray(faces, np.int64))]
    import coacd

    coacd.set_log_level("error")
    mesh = coacd.Mesh(np.asarray(vertices, float), np.asarray(faces, np.int64))
    parts = coacd.run_coacd(mesh, **COACD_PARAMS)
    return [(np.asarray(v, float), np.asarray(f, np.int64)) for v, f in parts[:MAX_PARTS]]


def parts_obj(parts: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """Return a multi-object OBJ holding each part as ``o part_<k>``."""
    lines, base = [], 1
    for k, (v, f) in enumerate(parts):
        lines.append(f"o part_{k}")
        lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v]
        lines += [f"f {a + base} {b + base} {c + base}" for a, b, c in f]
        base += len(v)
    return ("\n".join(lines) + "\n").encode()


def read_parts_obj(data: bytes) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return the parts of a :func:`parts_obj` file (ValueError if it is not one)."""
    parts: list[tuple[list[list[float]], list[list[int]]]] = []
    base = 1
    for raw in data.splitlines():
        tok = raw.split()
        if not tok:
            continue
        if tok[0] == b"o":
            if parts:
                base += len(parts[-1][0])
            parts.append(([], []))
        elif tok[0] == b"v" and parts:
            parts[-1][0].append([float(x) for x in tok[1:4]])
        elif tok[0] == b"f" and parts:
            parts[-1][1].append([int(x) - base for x in tok[1:4]])
    if not parts or any(len(v) < 4 or len(f) < 4 for v, f in parts):
        raise ValueError("not a convex-parts file")
    return [(np.asarray(v, float), np.asarray(f, np.int64)) for v, f in parts]


@functools.lru_cache(maxsize=128)
def convex_parts(data: bytes, scale: float, suffix: str = ".obj") -> ConvexParts:
    """Return the convex parts of the mesh file bytes ``data`` (``suffix`` says its format) scaled by ``scale``,
    from the on-disk cache when it holds them (else decomposed now and written atomically)."""
    name = method()[0]
    path = cache_dir() / f"{cache_key(data, scale)}.obj"
    try:
        return ConvexParts(tuple(read_parts_obj(path.read_bytes())), name, path)
    except (OSError, ValueError):
        pass  # not cached yet, or a damaged file: decompose again
    vertices, faces = mesh_from_bytes(data, suffix)
    parts = decompose(vertices * float(scale), faces)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, parts_obj(parts))
    except OSError:
        pass  # an unwritable cache: decompose again next time
    return ConvexParts(tuple(parts), name, path)


def convex_parts_of_file(path: Path, scale: float) -> ConvexParts:
    """Return :func:`convex_parts` of the mesh file at ``path``."""
    return convex_parts(Path(path).read_bytes(), float(scale), Path(path).suffix.lower())
