"""``shape: mesh`` objects on both engines: the visual mesh (with its texture) plus convex collision parts.

One object is one body on each engine, whatever its number of parts, so segmentation, contacts and the HDF5
names stay the object's name: MuJoCo gets a visual geom named after the object (group 1, no contacts, no mass;
textured when a glTF file carries a base-colour texture) and one convex geom ``<name>_part<k>`` per part
(group 3, hidden by default) holding a share of the mass proportional to its volume; PyBullet gets one
multibody whose collision shape is the compound of the parts (one multi-object OBJ file, which Bullet turns
into a compound of convex hulls) and whose centre of mass and inertia are the parts' (as MuJoCo computes them).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scenes.spec import ObjectSpec
from sim.assets import resolve_asset
from sim.mesh_convex import ConvexParts, convex_parts, convex_parts_of_file
from sim.mesh_files import closed_mesh_volume
from sim.mesh_formats import GLTF_SUFFIXES, _convert_cached, convert_gltf
from sim.mesh_lod import write_obj
from sim.mesh_uv import with_texcoords
from sim.transforms import quat_from_matrix, quat_wxyz_to_xyzw


@dataclass(frozen=True)
class MeshObject:
    """Everything an engine needs to build a mesh object."""

    visual: Path  # an OBJ with texture coordinates (or an STL) in the object's units (scaled by ``ObjectSpec.scale``)
    texture: Path | None  # base-colour texture (PNG) of a textured glTF file
    parts: ConvexParts  # collision parts, already scaled
    weights: np.ndarray  # each part's share of the mass (sums to 1)
    com: np.ndarray  # centre of mass of the parts (scaled object frame)
    inertia: np.ndarray  # (3, 3) inertia tensor about the centre of mass per kg of mass (object frame axes)


def _volume_and_centroid(v: np.ndarray, f: np.ndarray) -> tuple[float, np.ndarray]:
    """Return a part's volume and volume centroid (an open part: its bounding box's)."""
    if closed_mesh_volume(v, f):
        a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
        signed = np.einsum("ij,ij->i", a, np.cross(b, c)) / 6.0  # tetrahedra with the origin
        return abs(float(signed.sum())), (signed[:, None] * (a + b + c) / 4.0).sum(axis=0) / signed.sum()
    lo, hi = v.min(axis=0), v.max(axis=0)
    return max(float(np.prod(hi - lo)), 1e-12), (lo + hi) / 2


def mesh_object(o: ObjectSpec, scene_dir: Path | None) -> MeshObject:
    """Resolve, convert (glTF) and decompose (cached) the mesh of object ``o``."""
    m = _mesh_object(o.asset or "", float(o.scale), scene_dir)
    if not (m.parts.path.is_file() and m.visual.is_file()):  # the cache folder was emptied while this ran
        for memo in (_mesh_object, convex_parts, with_texcoords, _convert_cached):
            memo.cache_clear()
        m = _mesh_object(o.asset or "", float(o.scale), scene_dir)
    return m


@functools.lru_cache(maxsize=256)
def _mesh_object(asset: str, scale: float, scene_dir: Path | None) -> MeshObject:
    """Return :func:`mesh_object` of an asset at a scale (memoized: PyBullet rebuilds its world on every reset)."""
    path = resolve_asset(asset, scene_dir)
    texture = None
    if path.suffix.lower() in GLTF_SUFFIXES:
        converted = convert_gltf(path)
        path, texture = converted.obj, converted.texture
    parts = convex_parts_of_file(path, scale)
    path = path if texture is not None else with_texcoords(str(path))  # randomized textures need coordinates
    props = [_volume_and_centroid(v, f) for v, f in parts.parts]
    vols = np.array([vol for vol, _ in props])
    weights = vols / vols.sum()
    com = weights @ np.array([c for _, c in props])
    return MeshObject(path, texture, parts, weights, com, _unit_inertia(parts, weights, com))


def _second_moment(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Return the second moment sum(x x^T dV) about the origin of a closed mesh of unit density."""
    canonical = (np.ones((3, 3)) + np.eye(3)) / 120.0  # of the unit tetrahedron (0, e1, e2, e3)
    A = np.stack([v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]], axis=2)  # (F, 3, 3): columns are the triangle's corners
    det = np.linalg.det(A)
    return np.einsum("f,fij,jk,flk->il", det, A, canonical, A)


def _unit_inertia(parts: ConvexParts, weights: np.ndarray, com: np.ndarray) -> np.ndarray:
    """Return the inertia tensor (per kg) about ``com`` of the parts, each solid with its share of the mass."""
    C = np.zeros((3, 3))
    for (v, f), w in zip(parts.parts, weights, strict=True):
        vol, centre = _volume_and_centroid(v, f)
        if closed_mesh_volume(v, f):
            C += w / vol * _second_moment(v - centre, f) + w * np.outer(centre, centre)
        else:  # an open part: a solid box of its extent
            half = (v.max(axis=0) - v.min(axis=0)) / 2
            C += w * (np.diag(half**2 / 3) + np.outer(centre, centre))
    C -= np.outer(com, com)
    return np.trace(C) * np.eye(3) - C


def add_mujoco_mesh(mujoco: Any, ms: Any, body: Any, o: ObjectSpec, scene_dir: Path | None,
                    groups: tuple[int, int]) -> None:
    """Add object ``o``'s visual geom (group ``groups[0]``) and convex part geoms (``groups[1]``) to ``body``."""
    from sim.mujoco_meshes import single_object_obj

    m = mesh_object(o, scene_dir)
    assets = dict(ms.assets)
    vis_name = f"{o.name}_visual"
    if m.visual.suffix.lower() == ".obj":
        assets[vis_name + ".obj"] = single_object_obj(str(m.visual))
        ms.add_mesh(name=vis_name, file=vis_name + ".obj", scale=[o.scale] * 3)
    else:
        ms.add_mesh(name=vis_name, file=str(m.visual), scale=[o.scale] * 3)
    rgba = [1.0, 1.0, 1.0, o.rgba[3]] if m.texture is not None else list(o.rgba)
    g = body.add_geom(name=o.name, type=mujoco.mjtGeom.mjGEOM_MESH, meshname=vis_name, rgba=rgba,
                      group=groups[0], contype=0, conaffinity=0, mass=0.0, density=0.0)
    if m.texture is not None:
        tex = ms.add_texture(name=f"{o.name}_texture", type=mujoco.mjtTexture.mjTEXTURE_2D, file=str(m.texture))
        mat = ms.add_material(name=f"{o.name}_material", rgba=rgba)
        mat.textures[int(mujoco.mjtTextureRole.mjTEXROLE_RGB)] = tex.name
        g.material = mat.name
    for k, (v, f) in enumerate(m.parts.parts):
        name = f"{o.name}_part{k}"
        assets[name + ".obj"] = write_obj(v, f)
        ms.add_mesh(name=name, file=name + ".obj")
        part = body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_MESH, meshname=name, rgba=list(o.rgba),
                             group=groups[1], friction=[o.friction, 0.005, 0.0001], mass=o.mass * float(m.weights[k]))
        if not o.collide:
            part.contype = part.conaffinity = 0
    ms.assets = assets


def add_pybullet_mesh(c: Any, pb: Any, o: ObjectSpec, scene_dir: Path | None, mass: float,
                      pos: list[float], orn: list[float]) -> int:
    """Create object ``o`` as one PyBullet multibody (compound convex collision, textured visual); return its id."""
    m = mesh_object(o, scene_dir)
    col = c.createCollisionShape(pb.GEOM_MESH, fileName=str(m.parts.path)) if o.collide else -1
    rgba = [1.0, 1.0, 1.0, o.rgba[3]] if m.texture is not None else list(o.rgba)
    vis = c.createVisualShape(pb.GEOM_MESH, fileName=str(m.visual), meshScale=[o.scale] * 3, rgbaColor=rgba)
    diag, axes = np.linalg.eigh(m.inertia)
    if np.linalg.det(axes) < 0:
        axes[:, 0] = -axes[:, 0]
    uid = int(c.createMultiBody(mass, col, vis, pos, orn, baseInertialFramePosition=[float(x) for x in m.com],
                                baseInertialFrameOrientation=quat_wxyz_to_xyzw(quat_from_matrix(axes))))
    if mass > 0:  # Bullet's own estimate for a compound is its bounding box's: use the parts' (as MuJoCo does)
        c.changeDynamics(uid, -1, localInertiaDiagonal=[float(x) * mass for x in np.maximum(diag, 1e-9)])
    if m.texture is not None:
        c.changeVisualShape(uid, -1, textureUniqueId=c.loadTexture(str(m.texture)))
    return uid
