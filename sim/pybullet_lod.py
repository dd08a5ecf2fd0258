"""Level of detail for the Panda's visual meshes on PyBullet: colour-baked, decimated OBJs behind a generated URDF.

TinyRenderer is a software rasteriser whose frame time the Panda's 105k visual triangles dominate. Its OBJ
materials all texture-map one palette atlas (``colors.png``), so a plain decimation (``sim.mesh_lod``) would lose
the texture coordinates and with them the colours. Here each visual OBJ is

1. baked: every face gets the mean of ``colors.png`` sampled (nearest texel, as TinyRenderer does) at its corners'
   and centroid's texture coordinates;
2. split into colour groups: one per OBJ material, and a material whose faces vary in colour (link5's dark shell)
   split further by brightness, so decimation cannot blend colours across a seam;
3. decimated group by group (``sim.mesh_lod.decimate_arrays`` with the group's open seams kept in place, so no
   crack opens and no colour crosses a seam; the hand keeps 3x the fraction), each new corner taking the original
   OBJ's own normal at the nearest original vertex (the one closest to the new face's normal), and written as one
   OBJ whose faces all sample a tiny palette PNG (one full-height stripe per group).

At the ``fast`` preset's 10 % the eight visual OBJs drop from 101,735 to 15,337 triangles and a 128x128
TinyRenderer frame of the pick_place scene from about 18 ms to 7 ms.

:func:`panda_urdf` returns a copy of ``panda.urdf`` whose ``<visual>`` meshes point at those OBJs; every other
element, ``<collision>`` and ``<inertial>`` included, is byte-identical except that mesh paths become absolute
paths to the same pybullet_data files, so physics is unchanged. Everything is cached under
``sim.mesh_lod.cache_dir()`` / ``pybullet/<SHA-256 of the sources and settings>/`` and written atomically, the URDF
last; an unwritable cache falls back to the full meshes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.files import write_bytes_atomic
from sim.mesh_lod import MIN_FACES, cache_dir, decimate_arrays

LOD_VERSION = "3"  # part of the cache key: bump when the algorithm changes
MAX_DETAIL = 0.1
"""PyBullet draws decimated visuals only at this ``visual_detail`` or below (the ``fast`` preset); ``default`` and
``high`` keep the full meshes, so PyBullet datasets recorded at the default quality keep their images."""
MIN_GROUP_FACES = 48  # a colour group is never decimated below this many faces (small parts keep their shape)
SPLIT_SPREAD = 16.0  # a material whose faces differ from its mean colour by more (95th percentile) is split
CREASE_DEG = 40.0  # corners of faces meeting at a sharper angle keep separate normals
GRIPPER_MESHES = {"hand": 3.0}  # meshes kept at this multiple of the fraction: the hand's curved top, seen by the
# wrist camera and from above, shades visibly flatter at 10 % (the fingers, 624 faces, are never decimated)
STRIPE = 4  # pixels per palette stripe (width) and the palette's height


def _texture(path: Path) -> np.ndarray:
    """Return an (H, W, 3) uint8 RGB image."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f"could not read texture {path}")
    return np.ascontiguousarray(img[..., ::-1])


@dataclass
class TexturedMesh:
    """A triangulated OBJ: positions, texture coordinates and normals with their per-corner indices."""

    vertices: np.ndarray  # (N, 3)
    uvs: np.ndarray  # (K + 1, 2): the last row, (0, 0), serves corners without texture coordinates
    normals: np.ndarray  # (L + 1, 3): the last row, zero, serves corners without a normal
    faces: np.ndarray  # (M, 3) vertex indices
    face_uv: np.ndarray  # (M, 3) rows of uvs
    face_normal: np.ndarray  # (M, 3) rows of normals
    material: np.ndarray  # (M,) index into names
    names: list[str]


def parse_textured_obj(data: bytes) -> TexturedMesh:
    """Return the triangulated mesh of OBJ bytes (polygons become fans)."""
    verts: list[list[float]] = []
    uvs: list[list[float]] = []
    vns: list[list[float]] = []
    faces: list[list[int]] = []
    face_uv: list[list[int]] = []
    face_vn: list[list[int]] = []
    mats: list[int] = []
    names: list[str] = []
    current = -1
    for raw in data.splitlines():
        parts = raw.split()
        if not parts:
            continue
        key = parts[0]
        if key == b"v":
            verts.append([float(x) for x in parts[1:4]])
        elif key == b"vt":
            uvs.append([float(x) for x in parts[1:3]])
        elif key == b"vn":
            vns.append([float(x) for x in parts[1:4]])
        elif key == b"usemtl":
            name = parts[1].decode() if len(parts) > 1 else ""
            current = names.index(name) if name in names else len(names)
            if current == len(names):
                names.append(name)
        elif key == b"f":
            corners = [p.split(b"/") for p in parts[1:]]
            vi = [_index(c[0], len(verts)) for c in corners]
            ti = [_index(c[1], len(uvs)) if len(c) > 1 and c[1] else -1 for c in corners]
            ni = [_index(c[2], len(vns)) if len(c) > 2 and c[2] else -1 for c in corners]
            for k in range(1, len(vi) - 1):
                faces.append([vi[0], vi[k], vi[k + 1]])
                face_uv.append([ti[0], ti[k], ti[k + 1]])
                face_vn.append([ni[0], ni[k], ni[k + 1]])
                mats.append(current)
    return TexturedMesh(np.asarray(verts, np.float64).reshape(-1, 3),
                        np.asarray(uvs + [[0.0, 0.0]], np.float64).reshape(-1, 2),
                        np.asarray(vns + [[0.0, 0.0, 0.0]], np.float64).reshape(-1, 3),
                        np.asarray(faces, np.int64).reshape(-1, 3), _rows(face_uv), _rows(face_vn),
                        np.maximum(np.asarray(mats, np.int64).reshape(-1), 0), names or [""])


def _rows(index: list[list[int]]) -> np.ndarray:
    """Return (M, 3) int64 indices; -1 (absent) selects the trailing default row of uvs / normals."""
    return np.asarray(index, np.int64).reshape(-1, 3)


def _index(token: bytes, count: int) -> int:
    """Return the 0-based index of an OBJ index token (1-based, or negative = relative to the end)."""
    i = int(token)
    return i - 1 if i > 0 else count + i


def bake_face_colours(uv: np.ndarray, face_uv: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """Return each face's colour (M, 3) float: the mean of the nearest texels at its corners and centroid."""
    h, w = texture.shape[:2]

    def sample(st: np.ndarray) -> np.ndarray:
        x = np.clip((st[..., 0] % 1.0 * w).astype(np.int64), 0, w - 1)
        y = np.clip(((1.0 - st[..., 1] % 1.0) * h).astype(np.int64), 0, h - 1)
        return texture[y, x].astype(np.float64)

    st = uv[face_uv]  # (M, 3, 2)
    return (sample(st).sum(axis=1) + sample(st.mean(axis=1))) / 4.0


def colour_groups(materials: np.ndarray, colours: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Return a group index per face: one per material, a varied material split in up to 4 brightness bands."""
    group = np.zeros(len(materials), np.int64)
    n = 0
    for m in np.unique(materials):
        sel = np.flatnonzero(materials == m)
        mean = np.average(colours[sel], axis=0, weights=area[sel] + 1e-15)
        spread = np.percentile(np.abs(colours[sel] - mean).max(axis=1), 95)
        if spread <= SPLIT_SPREAD:
            group[sel] = n
            n += 1
            continue
        lum = colours[sel].mean(axis=1)
        edges = np.unique(np.percentile(lum, [25, 50, 75]))
        band = np.searchsorted(edges, lum, side="right")
        for b in np.unique(band):
            group[sel[band == b]] = n
            n += 1
    return group


def crease_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Return per-corner unit normals (M, 3, 3): area-weighted over the faces sharing the corner's vertex whose
    normal is within ``CREASE_DEG`` of the corner's own face."""
    cross = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    length = np.linalg.norm(cross, axis=1, keepdims=True)
    unit = cross / np.maximum(length, 1e-300)
    corner_vertex = faces.reshape(-1)
    corner_face = np.repeat(np.arange(len(faces)), 3)
    order = np.argsort(corner_vertex, kind="stable")
    sorted_v = corner_vertex[order]
    starts = np.flatnonzero(np.r_[True, sorted_v[1:] != sorted_v[:-1]])
    counts = np.diff(np.r_[starts, len(sorted_v)])
    # every ordered pair (corner a, corner b) at the same vertex
    group_of = np.repeat(np.arange(len(starts)), counts)
    pair_count = counts[group_of]
    a = np.repeat(order, pair_count)
    offset = np.arange(len(a)) - np.repeat(np.cumsum(pair_count) - pair_count, pair_count)
    b = order[np.repeat(starts[group_of], pair_count) + offset]
    fa, fb = corner_face[a], corner_face[b]
    keep = np.einsum("ij,ij->i", unit[fa], unit[fb]) >= np.cos(np.radians(CREASE_DEG))
    out = np.zeros((len(corner_vertex), 3))
    np.add.at(out, a[keep], cross[fb[keep]])
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    out = np.where(norm > 1e-300, out / np.maximum(norm, 1e-300), unit[corner_face])
    return out.reshape(-1, 3, 3)


def transfer_normals(mesh: TexturedMesh, sel: np.ndarray, pts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Return per-corner normals (T, 3, 3) of a decimated group taken from the original mesh's own normals: at
    the original vertex nearest each corner, the normal (of the faces there) closest to the new face's normal.
    So shading keeps the original's smooth surfaces and creases."""
    faces = mesh.faces[sel]
    used, local = np.unique(faces, return_inverse=True)
    local = local.reshape(-1)
    corner_normal = mesh.normals[mesh.face_normal[sel]].reshape(-1, 3)
    order = np.argsort(local, kind="stable")
    counts = np.bincount(local, minlength=len(used))
    starts = np.cumsum(counts) - counts
    table = np.zeros((len(used), int(counts.max()), 3))
    slot = np.arange(len(order)) - np.repeat(starts, counts)
    table[local[order], slot] = corner_normal[order]
    nearest = _nearest(mesh.vertices[used], pts)
    cross = np.cross(pts[tris[:, 1]] - pts[tris[:, 0]], pts[tris[:, 2]] - pts[tris[:, 0]])
    unit = cross / np.maximum(np.linalg.norm(cross, axis=1, keepdims=True), 1e-300)
    cand = table[nearest[tris]]  # (T, 3, K, 3)
    best = np.argmax(np.einsum("tckx,tx->tck", cand, unit), axis=2)
    out = np.take_along_axis(cand, best[..., None, None], axis=2)[:, :, 0]
    return np.where(np.linalg.norm(out, axis=2, keepdims=True) > 0.5, out, unit[:, None, :])


def _nearest(reference: np.ndarray, query: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Return the index of the nearest ``reference`` point for each ``query`` point (brute force, chunked)."""
    out = np.empty(len(query), np.int64)
    ref2 = (reference**2).sum(axis=1)
    for k in range(0, len(query), chunk):
        q = query[k:k + chunk]
        out[k:k + chunk] = np.argmin(ref2[None, :] - 2.0 * q @ reference.T, axis=1)
    return out


def lod_obj(data: bytes, texture: np.ndarray, fraction: float, stem: str) -> tuple[bytes, bytes, np.ndarray]:
    """Return (OBJ bytes, MTL bytes, palette (G, 3) uint8) of a decimated, colour-baked copy of OBJ ``data``.

    The OBJ names ``{stem}.mtl``, whose material maps ``{stem}.png`` (the palette, see :func:`palette_png`).
    """
    mesh = parse_textured_obj(data)
    v, faces = mesh.vertices, mesh.faces
    area = 0.5 * np.linalg.norm(np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]]), axis=1)
    colours = bake_face_colours(mesh.uvs, mesh.face_uv, texture)
    group = colour_groups(mesh.material, colours, area)
    groups = np.unique(group)
    lines = [f"mtllib {stem}.mtl", "usemtl palette"]
    palette: list[np.ndarray] = []
    n_v = n_vn = 0
    for t, g in enumerate(groups, start=1):
        sel = group == g
        palette.append(np.clip(np.round(np.average(colours[sel], axis=0, weights=area[sel] + 1e-15)), 0, 255))
        pts, tris = _group_mesh(v, faces[sel], fraction, decimate=len(faces) >= MIN_FACES)
        has_normals = bool((mesh.face_normal[sel] >= 0).all())
        normals = transfer_normals(mesh, sel, pts, tris) if has_normals else crease_normals(pts, tris)
        lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in pts]
        lines.append(f"vt {(t - 0.5) / len(groups):.6f} 0.500000")
        lines += [f"vn {x:.5f} {y:.5f} {z:.5f}" for x, y, z in normals.reshape(-1, 3)]
        vi = tris + n_v + 1
        ni = np.arange(3 * len(tris)).reshape(-1, 3) + n_vn + 1
        lines += [f"f {a}/{t}/{na} {b}/{t}/{nb} {c}/{t}/{nc}" for (a, b, c), (na, nb, nc) in zip(vi, ni, strict=True)]
        n_v += len(pts)
        n_vn += 3 * len(tris)
    obj = ("\n".join(lines) + "\n").encode()
    mtl = f"newmtl palette\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nd 1\nillum 1\nmap_Kd {stem}.png\n".encode()
    return obj, mtl, np.asarray(palette, np.uint8)


def _group_mesh(vertices: np.ndarray, faces: np.ndarray, fraction: float, decimate: bool) -> tuple[np.ndarray,
                                                                                                   np.ndarray]:
    """Return (vertices, faces) of one colour group, re-indexed and (if ``decimate``) decimated."""
    used, inverse = np.unique(faces, return_inverse=True)
    pts, tris = vertices[used], inverse.reshape(-1, 3)
    if decimate:
        keep = max(fraction, MIN_GROUP_FACES / len(tris))
        if keep < 1.0:  # the group's open seams stay in place: no cracks, no colour crossing them
            pts, tris = decimate_arrays(pts, tris, keep, preserve_border=True)
    return pts, tris


def palette_png(palette: np.ndarray) -> bytes:
    """Return PNG bytes of a palette: one ``STRIPE``-pixel-wide, full-height stripe per colour."""
    import cv2

    img = np.repeat(np.repeat(palette[None, :, ::-1], STRIPE, axis=1), STRIPE, axis=0)
    ok, png = cv2.imencode(".png", np.ascontiguousarray(img))
    if not ok:
        raise OSError("could not encode a palette PNG")
    return bytes(png.tobytes())


_MESH = re.compile(rb'filename="package://(meshes/[^"]+)"')
_VISUAL = re.compile(rb"<visual>.*?</visual>", re.S)


def panda_urdf(visual_detail: float) -> Path:
    """Return the Panda URDF to load: pybullet_data's own, or for ``visual_detail`` <= ``MAX_DETAIL`` the cached
    copy whose visual meshes are decimated to that fraction (built on first use, about 1 s; pybullet_data's own
    when the cache cannot be written)."""
    from sim.assets import pybullet_data_dir

    root = pybullet_data_dir() / "franka_panda"
    source = root / "panda.urdf"
    if visual_detail > MAX_DETAIL:
        return source
    try:
        return _cached_urdf(root, source.read_bytes(), visual_detail)
    except OSError:
        return source


def _cached_urdf(root: Path, urdf: bytes, fraction: float) -> Path:
    """Return the decimated-visuals URDF of ``root``'s Panda from the cache, writing it first when missing."""
    visual_dir = root / "meshes" / "visual"
    meshes = sorted({m.decode() for v in _VISUAL.findall(urdf) for m in _MESH.findall(v)
                     if m.startswith(b"meshes/visual/") and m.endswith(b".obj")})
    digest = hashlib.sha256(urdf)
    for rel in meshes:
        digest.update((root / rel).read_bytes())
    digest.update((visual_dir / "colors.png").read_bytes())
    digest.update(f"|{fraction!r}|{MIN_FACES}|{MIN_GROUP_FACES}|{GRIPPER_MESHES}|{LOD_VERSION}".encode())
    folder = cache_dir() / "pybullet" / digest.hexdigest()
    target = folder / "panda.urdf"
    files = [folder / f"{Path(rel).stem}{ext}" for rel in meshes for ext in (".obj", ".mtl", ".png")]
    if target.is_file() and all(f.is_file() for f in files):  # the URDF is written last; a deleted mesh rebuilds
        return target
    folder.mkdir(parents=True, exist_ok=True)
    texture = _texture(visual_dir / "colors.png")
    for rel in meshes:
        stem = Path(rel).stem
        keep = min(1.0, fraction * GRIPPER_MESHES.get(stem, 1.0))
        obj, mtl, palette = lod_obj((root / rel).read_bytes(), texture, keep, stem)
        write_bytes_atomic(folder / f"{stem}.png", palette_png(palette))
        write_bytes_atomic(folder / f"{stem}.mtl", mtl)
        write_bytes_atomic(folder / f"{stem}.obj", obj)
    write_bytes_atomic(target, _rewrite_urdf(urdf, root, folder, set(meshes)))
    return target


def _rewrite_urdf(urdf: bytes, root: Path, folder: Path, decimated: set[str]) -> bytes:
    """Return ``urdf`` with mesh paths made absolute: decimated visual meshes point into ``folder``, every other
    mesh (collision ones included) at its original file."""

    def visual(match: re.Match[bytes]) -> bytes:
        return _MESH.sub(lambda m: _path(m, folder, decimated), match.group(0))

    def absolute(m: re.Match[bytes]) -> bytes:
        return b'filename="' + str(root / m.group(1).decode()).encode() + b'"'

    out = _VISUAL.sub(visual, urdf)
    return _MESH.sub(absolute, out)


def _path(m: re.Match[bytes], folder: Path, decimated: set[str]) -> bytes:
    """Return a visual mesh's filename attribute pointing into ``folder`` when that mesh was decimated."""
    rel = m.group(1).decode()
    if rel in decimated:
        return b'filename="' + str(folder / Path(rel).name).encode() + b'"'
    return m.group(0)
