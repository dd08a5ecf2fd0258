"""Single-link URDF objects (e.g. pybullet_data/random_urdfs) as plain mesh lists for engines without a
URDF object loader path of their own (MuJoCo): visual and collision meshes with their origins and scale."""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from sim.errors import AssetError


@dataclass(frozen=True)
class UrdfMesh:
    """One mesh element of a URDF link."""

    path: str
    scale: tuple[float, float, float]
    xyz: tuple[float, float, float]
    rpy: tuple[float, float, float]
    collision: bool


@dataclass(frozen=True)
class UrdfObject:
    """The meshes and mass of a single-link URDF."""

    meshes: tuple[UrdfMesh, ...]
    mass: float


def _floats(text: str | None, n: int, default: float) -> tuple[float, ...]:
    if not text:
        return (default,) * n
    vals = tuple(float(v) for v in text.split())
    return vals if len(vals) == n else (vals[0],) * n


@functools.lru_cache(maxsize=256)
def parse_single_link_urdf(path: str) -> UrdfObject:
    """Return the meshes of a one-link URDF; AssetError for articulated or mesh-less files."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise AssetError(f"cannot read URDF '{path}': {exc}") from None
    links = root.findall("link")
    if len(links) != 1 or root.findall("joint"):
        raise AssetError(f"URDF '{path}': only single-link URDF objects are supported on mujoco")
    link = links[0]
    base = Path(path).parent
    meshes = []
    for kind in ("visual", "collision"):
        for el in link.findall(kind):
            mesh = el.find("geometry/mesh")
            if mesh is None:
                raise AssetError(f"URDF '{path}': only mesh geometry is supported on mujoco")
            origin = el.find("origin")
            meshes.append(UrdfMesh(
                path=str((base / mesh.get("filename", "").replace("package://", "")).resolve()),
                scale=_floats(mesh.get("scale"), 3, 1.0),  # type: ignore[arg-type]
                xyz=_floats(origin.get("xyz") if origin is not None else None, 3, 0.0),  # type: ignore[arg-type]
                rpy=_floats(origin.get("rpy") if origin is not None else None, 3, 0.0),  # type: ignore[arg-type]
                collision=kind == "collision",
            ))
    if not meshes:
        raise AssetError(f"URDF '{path}' has no meshes")
    mass_el = link.find("inertial/mass")
    mass = float(mass_el.get("value", "0.1")) if mass_el is not None else 0.1
    return UrdfObject(tuple(meshes), mass)
