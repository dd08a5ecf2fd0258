"""Articulated URDF objects (cabinets, drawers, doors) parsed once into engine-independent data.

PyBullet loads the URDF file itself; MuJoCo builds the same tree of bodies, joints and geoms from this
parse (``sim.mujoco_articulated``), so both engines see the same links, joint names, axes, limits, damping
and friction. Supported: links with box / cylinder / sphere / mesh geometry and explicit inertials; joints
``revolute``, ``continuous``, ``prismatic`` and ``fixed`` (a tree rooted at one link). Anything else is an
``AssetError`` with one line naming the file and the element.
"""

from __future__ import annotations

import functools
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from sim.errors import AssetError

MOVABLE_JOINT_TYPES = ("revolute", "continuous", "prismatic")
JOINT_TYPES = (*MOVABLE_JOINT_TYPES, "fixed")
MAX_LINKS = 64


@dataclass(frozen=True)
class UrdfGeom:
    """One visual or collision element: ``kind`` box (size = full extents), cylinder (radius, length),
    sphere (radius) or mesh (``mesh`` path resolved, ``size`` = scale)."""

    kind: str
    size: tuple[float, ...]
    xyz: tuple[float, float, float]
    rpy: tuple[float, float, float]
    rgba: tuple[float, float, float, float]
    mesh: str | None = None


@dataclass(frozen=True)
class UrdfLink:
    """A link: inertial (mass, COM origin, inertia ixx, iyy, izz, ixy, ixz, iyz) and its geometry."""

    name: str
    mass: float
    com_xyz: tuple[float, float, float]
    com_rpy: tuple[float, float, float]
    inertia: tuple[float, float, float, float, float, float]
    visuals: tuple[UrdfGeom, ...]
    collisions: tuple[UrdfGeom, ...]


@dataclass(frozen=True)
class UrdfJoint:
    """A joint from ``parent`` to ``child``; origin in the parent link frame, axis in the child frame."""

    name: str
    type: str
    parent: str
    child: str
    xyz: tuple[float, float, float]
    rpy: tuple[float, float, float]
    axis: tuple[float, float, float]
    lower: float
    upper: float
    damping: float
    friction: float

    @property
    def movable(self) -> bool:
        """Return whether the joint has a degree of freedom."""
        return self.type in MOVABLE_JOINT_TYPES

    @property
    def limited(self) -> bool:
        """Return whether the joint has position limits (continuous joints have none)."""
        return self.type in ("revolute", "prismatic")


@dataclass(frozen=True)
class ArticulatedUrdf:
    """A whole articulated object: root link name, links by name, joints in depth-first order."""

    path: str
    root: str
    links: dict[str, UrdfLink]
    joints: tuple[UrdfJoint, ...]

    @property
    def movable_joints(self) -> tuple[UrdfJoint, ...]:
        """Return the joints with a degree of freedom, in file order (the order of every joint vector)."""
        return tuple(j for j in self.joints if j.movable)


def _floats(path: str, where: str, text: str | None, n: int, default: tuple[float, ...]) -> tuple[float, ...]:
    if text is None:
        return default
    try:
        vals = tuple(float(v) for v in text.split())
    except ValueError:
        raise AssetError(f"{path}: {where}: expected {n} numbers, got {text!r}") from None
    if len(vals) != n or not all(math.isfinite(v) for v in vals):
        raise AssetError(f"{path}: {where}: expected {n} finite numbers, got {text!r}")
    return vals


def _origin(path: str, where: str, el: ET.Element | None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    o = el.find("origin") if el is not None else None
    if o is None:
        return (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)
    return (_floats(path, f"{where} origin xyz", o.get("xyz"), 3, (0.0, 0.0, 0.0)),
            _floats(path, f"{where} origin rpy", o.get("rpy"), 3, (0.0, 0.0, 0.0)))


def _materials(root: ET.Element, path: str) -> dict[str, tuple[float, ...]]:
    out: dict[str, tuple[float, ...]] = {}
    for m in root.findall("material"):
        c = m.find("color")
        if m.get("name") and c is not None:
            out[m.get("name", "")] = _floats(path, f"material {m.get('name')}", c.get("rgba"), 4, (0.7,) * 3 + (1,))
    return out


def _geom(path: str, where: str, el: ET.Element, materials: dict[str, tuple[float, ...]]) -> UrdfGeom:
    g = el.find("geometry")
    shape = list(g)[0] if g is not None and len(g) else None
    if shape is None:
        raise AssetError(f"{path}: {where}: has no geometry")
    xyz, rpy = _origin(path, where, el)
    rgba: tuple[float, ...] = (0.7, 0.7, 0.7, 1.0)
    mat = el.find("material")
    if mat is not None:
        color = mat.find("color")
        rgba = (_floats(path, f"{where} material", color.get("rgba"), 4, rgba) if color is not None
                else materials.get(mat.get("name", ""), rgba))
    mesh = None
    if shape.tag == "box":
        size = _floats(path, f"{where} box size", shape.get("size"), 3, (0.0,))
    elif shape.tag == "cylinder":
        size = (_floats(path, f"{where} cylinder radius", shape.get("radius"), 1, (0.0,))[0],
                _floats(path, f"{where} cylinder length", shape.get("length"), 1, (0.0,))[0])
    elif shape.tag == "sphere":
        size = _floats(path, f"{where} sphere radius", shape.get("radius"), 1, (0.0,))
    elif shape.tag == "mesh" and shape.get("filename"):
        mesh = str((Path(path).parent / shape.get("filename", "")).resolve())
        if not Path(mesh).is_file():
            raise AssetError(f"{path}: {where}: mesh file not found: {shape.get('filename')}")
        size = _floats(path, f"{where} mesh scale", shape.get("scale"), 3, (1.0, 1.0, 1.0))
    else:
        raise AssetError(f"{path}: {where}: unsupported geometry <{shape.tag}> (box, cylinder, sphere, mesh)")
    if not all(v > 0 for v in size):
        raise AssetError(f"{path}: {where}: {shape.tag} dimensions must be > 0, got {size}")
    return UrdfGeom(shape.tag, size, xyz, rpy, rgba, mesh)  # type: ignore[arg-type]


def _link(path: str, el: ET.Element, materials: dict[str, tuple[float, ...]]) -> UrdfLink:
    name = el.get("name") or ""
    inertial = el.find("inertial")
    mass_el = inertial.find("mass") if inertial is not None else None
    inertia_el = inertial.find("inertia") if inertial is not None else None
    if mass_el is None or inertia_el is None:
        raise AssetError(f"{path}: link '{name}': needs an <inertial> with <mass> and <inertia> (both engines "
                         "must use the same inertia)")
    mass = _floats(path, f"link '{name}' mass", mass_el.get("value"), 1, (0.0,))[0]
    inertia = tuple(_floats(path, f"link '{name}' inertia {k}", inertia_el.get(k), 1, (0.0,))[0]
                    for k in ("ixx", "iyy", "izz", "ixy", "ixz", "iyz"))
    if mass <= 0 or min(inertia[:3]) <= 0:
        raise AssetError(f"{path}: link '{name}': mass and diagonal inertia must be > 0")
    xyz, rpy = _origin(path, f"link '{name}' inertial", inertial)
    vis = tuple(_geom(path, f"link '{name}' visual", v, materials) for v in el.findall("visual"))
    col = tuple(_geom(path, f"link '{name}' collision", v, materials) for v in el.findall("collision"))
    return UrdfLink(name, mass, xyz, rpy, inertia, vis, col)  # type: ignore[arg-type]


def _joint(path: str, el: ET.Element, links: dict[str, UrdfLink]) -> UrdfJoint:
    name, kind = el.get("name") or "", el.get("type") or ""
    if kind not in JOINT_TYPES:
        raise AssetError(f"{path}: joint '{name}': type '{kind}' is not supported ({', '.join(JOINT_TYPES)})")
    parent, child = el.find("parent"), el.find("child")
    pname = parent.get("link", "") if parent is not None else ""
    cname = child.get("link", "") if child is not None else ""
    for role, link in (("parent", pname), ("child", cname)):
        if link not in links:
            raise AssetError(f"{path}: joint '{name}': {role} link '{link}' is not defined")
    xyz, rpy = _origin(path, f"joint '{name}'", el)
    axis_el = el.find("axis")
    axis = _floats(path, f"joint '{name}' axis", axis_el.get("xyz") if axis_el is not None else None, 3,
                   (1.0, 0.0, 0.0))
    norm = math.sqrt(sum(v * v for v in axis))
    if kind in MOVABLE_JOINT_TYPES and norm < 1e-9:
        raise AssetError(f"{path}: joint '{name}': axis must not be zero")
    limit, dyn = el.find("limit"), el.find("dynamics")
    lower = upper = 0.0
    if kind in ("revolute", "prismatic"):
        if limit is None:
            raise AssetError(f"{path}: joint '{name}': a {kind} joint needs <limit lower upper>")
        lower = _floats(path, f"joint '{name}' limit lower", limit.get("lower"), 1, (0.0,))[0]
        upper = _floats(path, f"joint '{name}' limit upper", limit.get("upper"), 1, (0.0,))[0]
        if not lower < upper:
            raise AssetError(f"{path}: joint '{name}': limit lower ({lower}) must be < upper ({upper})")
    damping = _floats(path, f"joint '{name}' damping", dyn.get("damping") if dyn is not None else None, 1, (0.0,))[0]
    friction = _floats(path, f"joint '{name}' friction", dyn.get("friction") if dyn is not None else None, 1,
                       (0.0,))[0]
    if damping < 0 or friction < 0:
        raise AssetError(f"{path}: joint '{name}': damping and friction must be >= 0")
    unit = tuple(v / norm for v in axis) if norm > 0 else axis
    return UrdfJoint(name, kind, pname, cname, xyz, rpy, unit, lower, upper, damping, friction)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=64)
def parse_articulated_urdf(path: str) -> ArticulatedUrdf:
    """Parse an articulated URDF (cached per path); raise AssetError with one line for anything unsupported."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise AssetError(f"{path}: not a readable URDF ({exc})") from None
    if root.tag != "robot":
        raise AssetError(f"{path}: not a URDF (root element <{root.tag}>, expected <robot>)")
    materials = _materials(root, path)
    link_els = root.findall("link")
    if not link_els or len(link_els) > MAX_LINKS:
        raise AssetError(f"{path}: needs 1 to {MAX_LINKS} links, has {len(link_els)}")
    links = {el.get("name") or "": _link(path, el, materials) for el in link_els}
    joints = [_joint(path, el, links) for el in root.findall("joint")]
    children = [j.child for j in joints]
    if len(set(children)) != len(children):
        raise AssetError(f"{path}: a link has two parent joints (URDF objects must be trees)")
    roots = [n for n in links if n not in children]
    if len(roots) != 1:
        raise AssetError(f"{path}: needs exactly one root link, found {len(roots)}: {', '.join(roots) or 'none'}")
    order: list[UrdfJoint] = []
    stack = [roots[0]]
    while stack:  # depth-first from the root, children in file order (the order PyBullet numbers links)
        parent = stack.pop()
        kids = [j for j in joints if j.parent == parent]
        order += kids
        stack += [j.child for j in reversed(kids)]
    if len(order) != len(joints):
        raise AssetError(f"{path}: joints form a cycle")
    return ArticulatedUrdf(path, roots[0], links, tuple(joints))
