"""Articulated URDF objects on MuJoCo: the parsed tree (``sim.urdf_articulated``) as bodies, joints and geoms.

Bodies are named ``<object>`` (the root link) and ``<object>/<link>``; joints ``<object>/<joint>``; the joints keep
the URDF's axes, limits, damping (``damping``) and friction (``frictionloss``), and every link its explicit
inertial, so MuJoCo integrates the model PyBullet loads from the same file. Visual geoms go to the visual group
(no contacts), collision geoms to the collision group. Links of one object do not collide with each other (an
exclude for every pair of its bodies; PyBullet loads without self-collision), so a drawer is held by its joint limits.
"""

from __future__ import annotations

from typing import Any

from sim.transforms import matrix_from_rpy, quat_from_matrix
from sim.urdf_articulated import ArticulatedUrdf, UrdfGeom, UrdfLink


def _quat(rpy: tuple[float, float, float]) -> list[float]:
    return [float(v) for v in quat_from_matrix(matrix_from_rpy(*rpy))]


def _add_geom(mujoco: Any, ms: Any, body: Any, name: str, g: UrdfGeom) -> Any:
    types = {"box": mujoco.mjtGeom.mjGEOM_BOX, "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
             "sphere": mujoco.mjtGeom.mjGEOM_SPHERE, "mesh": mujoco.mjtGeom.mjGEOM_MESH}
    geom = body.add_geom(name=name, type=types[g.kind], pos=list(g.xyz), quat=_quat(g.rpy), rgba=list(g.rgba))
    if g.kind == "box":
        geom.size = [v / 2 for v in g.size]
    elif g.kind == "cylinder":
        geom.size = [g.size[0], g.size[1] / 2, 0.0]
    elif g.kind == "sphere":
        geom.size = [g.size[0], 0.0, 0.0]
    else:
        mesh = ms.add_mesh(name=f"{name}_mesh", file=g.mesh, scale=list(g.size))
        geom.meshname = mesh.name
    geom.mass = 0.0
    geom.density = 0.0
    return geom


def _set_damping(joint: Any, damping: float) -> None:
    """Set a joint's linear damping (MuJoCo >= 4 takes polynomial coefficients, earlier versions a scalar)."""
    try:
        joint.damping = [damping, 0.0, 0.0]
    except TypeError:
        joint.damping = damping


def _fill_link(mujoco: Any, ms: Any, body: Any, prefix: str, link: UrdfLink, friction: float,
               groups: tuple[int, int]) -> None:
    """Give ``body`` the link's inertial and geoms (visual group, then collision group)."""
    body.explicitinertial = True
    body.mass = link.mass
    body.ipos = list(link.com_xyz)
    body.iquat = _quat(link.com_rpy)
    body.fullinertia = list(link.inertia)
    visual_group, collision_group = groups
    for k, g in enumerate(link.visuals):
        geom = _add_geom(mujoco, ms, body, f"{prefix}_vis{k}", g)
        geom.group = visual_group
        geom.contype = geom.conaffinity = 0
    for k, g in enumerate(link.collisions):
        geom = _add_geom(mujoco, ms, body, f"{prefix}_col{k}", g)
        geom.group = collision_group
        geom.friction = [friction, 0.005, 0.0001]
        geom.rgba = [0.5, 0.5, 0.5, 0.0]


def add_articulated(mujoco: Any, ms: Any, name: str, urdf: ArticulatedUrdf, base_pos: list[float],
                    base_quat: list[float], fixed: bool, friction: float, groups: tuple[int, int]) -> None:
    """Add the object ``name`` built from ``urdf`` to the MjSpec ``ms`` (its root link at the given pose)."""
    base = ms.worldbody.add_body(name=name, pos=base_pos, quat=base_quat)
    if not fixed:
        base.add_freejoint(name=f"{name}_free")
    _fill_link(mujoco, ms, base, name, urdf.links[urdf.root], friction, groups)
    bodies = {urdf.root: base}
    pending = list(urdf.joints)
    while pending:  # parents before children, whatever the file order
        joint = next(j for j in pending if j.parent in bodies)
        pending.remove(joint)
        child = bodies[joint.parent].add_body(name=f"{name}/{joint.child}", pos=list(joint.xyz),
                                              quat=_quat(joint.rpy))
        if joint.movable:
            kind = mujoco.mjtJoint.mjJNT_SLIDE if joint.type == "prismatic" else mujoco.mjtJoint.mjJNT_HINGE
            j = child.add_joint(name=f"{name}/{joint.name}", type=kind, axis=list(joint.axis))
            _set_damping(j, joint.damping)
            j.frictionloss = joint.friction
            if joint.limited:
                j.range = [joint.lower, joint.upper]
                j.limited = mujoco.mjtLimited.mjLIMITED_TRUE
        _fill_link(mujoco, ms, child, f"{name}/{joint.child}", urdf.links[joint.child], friction, groups)
        bodies[joint.child] = child
    names = [b.name for b in bodies.values()]
    for i, a in enumerate(names):  # no contacts inside the object (PyBullet loads it without self-collision)
        for b in names[i + 1:]:
            ms.add_exclude(bodyname1=a, bodyname2=b)
