"""Reading and checking users' mesh files (OBJ, STL, GLB/glTF) before any engine sees them.

A scene's ``shape: mesh`` object is refused at validation, with one line naming the field, when its file is
unreadable, not a mesh, empty, holds NaN/inf coordinates, is absurdly small or large once scaled, or has more
vertices than the engines handle comfortably (each engine builds a convex hull of it for collision).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from scenes.spec import ObjectSpec
from sim.errors import AssetError
from sim.mesh_formats import GLTF_SUFFIXES, read_gltf
from sim.mesh_lod import parse_obj

MESH_SUFFIXES = (".obj", ".stl", *GLTF_SUFFIXES)
MAX_VERTICES = 200_000
MIN_EXTENT, MAX_EXTENT = 1e-3, 5.0  # metres, the largest side of the scaled bounding box


def _read_stl(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Return (vertices, triangles) of binary or ASCII STL bytes (vertices not merged)."""
    if data[:5].lower() == b"solid" and b"facet" in data[:2048]:
        verts = [[float(x) for x in line.split()[1:4]] for line in data.splitlines() if line.strip()
                 .startswith(b"vertex")]
        v = np.asarray(verts, np.float64).reshape(-1, 3)
    else:
        if len(data) < 84:
            raise ValueError("truncated binary STL")
        (n,) = struct.unpack_from("<I", data, 80)
        if len(data) < 84 + 50 * n:
            raise ValueError(f"binary STL says {n} triangles but holds {(len(data) - 84) // 50}")
        rec = np.frombuffer(data, dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")]),
                            count=n, offset=84)
        v = rec["v"].reshape(-1, 3).astype(np.float64)
    return v, np.arange(len(v)).reshape(-1, 3)


def mesh_from_bytes(data: bytes, suffix: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (vertices (V, 3), triangles (F, 3)) of OBJ or STL bytes (``suffix`` ".obj" or ".stl");
    ValueError if they are not one."""
    if b"\x00" in data[:4096] and suffix == ".obj":
        raise ValueError("binary data, not an OBJ text file")
    try:
        return _read_stl(data) if suffix == ".stl" else parse_obj(data)
    except (ValueError, IndexError, struct.error) as exc:
        raise ValueError(f"not a readable {suffix[1:].upper()} mesh ({exc})") from None


def read_mesh(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return (vertices (V, 3), triangles (F, 3)) of an OBJ, STL or glTF file; ValueError if it is not one."""
    if path.suffix.lower() in GLTF_SUFFIXES:
        return read_gltf(path)
    return mesh_from_bytes(path.read_bytes(), path.suffix.lower())


def mesh_problem(path: Path, scale: float = 1.0) -> str | None:
    """Return why the mesh file at ``path`` cannot be a scene object (scaled by ``scale``), or None."""
    if path.suffix.lower() not in MESH_SUFFIXES:
        return f"'{path.name}': mesh files must be {', '.join(MESH_SUFFIXES)}"
    try:
        vertices, faces = read_mesh(path)
    except OSError as exc:
        return f"'{path.name}': cannot read ({exc.strerror})"
    except (ValueError, AssetError) as exc:
        return f"'{path.name}': {exc}"
    if len(vertices) < 4 or len(faces) < 4:
        return f"'{path.name}': empty mesh ({len(vertices)} vertices, {len(faces)} triangles; a solid needs >= 4)"
    if len(vertices) > MAX_VERTICES:
        return f"'{path.name}': {len(vertices)} vertices, more than the {MAX_VERTICES} allowed (decimate it)"
    if not np.isfinite(vertices).all():
        return f"'{path.name}': vertex coordinates include NaN or inf"
    if faces.max() >= len(vertices) or faces.min() < 0:
        return f"'{path.name}': a face refers to a vertex that does not exist"
    extent = float((vertices.max(axis=0) - vertices.min(axis=0)).max()) * scale
    if not MIN_EXTENT <= extent <= MAX_EXTENT:
        return (f"'{path.name}': its size after scale {scale:g} is {extent:.3g} m; expected {MIN_EXTENT:g}.."
                f"{MAX_EXTENT:g} m (is the file in millimetres? set scale: 0.001)")
    return None


def object_volume(o: ObjectSpec, mesh_path: Path | None = None) -> float | None:
    """Return the volume (m^3) of object ``o``: analytic for primitives, the enclosed volume of its (scaled)
    mesh at ``mesh_path`` for meshes; None when that mesh is not closed or the shape has no volume here."""
    import math

    s = o.size
    if o.shape == "box":
        return s[0] * s[1] * s[2]
    if o.shape == "sphere":
        return 4 / 3 * math.pi * s[0] ** 3
    if o.shape == "cylinder":
        return math.pi * s[0] ** 2 * s[1]
    if o.shape == "capsule":
        return math.pi * s[0] ** 2 * s[1] + 4 / 3 * math.pi * s[0] ** 3
    if o.shape == "mesh" and mesh_path is not None:
        vertices, faces = read_mesh(mesh_path)
        vol = closed_mesh_volume(vertices, faces)
        return None if vol is None else vol * o.scale**3
    return None


def closed_mesh_volume(vertices: np.ndarray, faces: np.ndarray) -> float | None:
    """Return the volume (m^3) enclosed by a closed triangle mesh, or None if it is not closed (an edge not
    shared by exactly two triangles)."""
    v = np.asarray(vertices, float)
    _, first, inverse = np.unique(np.round(v, 9), axis=0, return_index=True, return_inverse=True)
    f = first[inverse.reshape(-1)][np.asarray(faces, np.int64)]  # welded: STL and UV seams repeat positions
    edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    if len(f) < 4 or not np.all(counts == 2):
        return None
    signed = np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])).sum() / 6.0
    return abs(float(signed))
