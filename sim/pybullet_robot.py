"""The Panda URDF as PyBullet loads it: frame-only links folded into their parents.

The URDF has two links that carry nothing but a frame: ``panda_link8`` (the flange, fixed 0.107 m above
``panda_link7``) and ``panda_grasptarget`` (the tool point, fixed 0.105 m beyond ``panda_hand``). Both are
massless with a nominal isotropic inertia (0.1 kg m^2, the URDF's value for every link). Bullet still
integrates each as a link of the articulated body, which costs 13 % of a ``stepSimulation`` of the arm.
Folding them is exact: a massless rigid attachment adds no mass and no parallel-axis term, and an isotropic
inertia ``c I`` adds ``c`` to the parent's diagonal in any frame; the children of a folded link hang from its
parent through the composed fixed origin. Trajectories then differ only by floating-point rounding (1e-17 rad
after one step, growing only where the motion itself is chaotic). The folded frames stay queryable
(:class:`FoldedFrame`), and the robot's joint list keeps its URDF layout in recorded states
(:data:`URDF_JOINTS`), so datasets read the same as before.
"""

from __future__ import annotations

import functools
import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.files import write_bytes_atomic
from sim.mesh_lod import cache_dir
from sim.transforms import matrix_from_rpy, quat_from_matrix

# The Panda's joints in the order PyBullet numbers the unfolded URDF (tests/sim check it against PyBullet); the
# robot's part of a PyBullet state vector lists q and qd in this order (a folded joint's q and qd are 0).
URDF_JOINTS = (*(f"panda_joint{i}" for i in range(1, 8)), "panda_joint8", "panda_hand_joint",
               "panda_finger_joint1", "panda_finger_joint2", "panda_grasptarget_hand")
FOLD_VERSION = "1"


@dataclass(frozen=True)
class FoldedFrame:
    """A folded link: the link it is rigidly attached to and its pose in that link's frame (xyzw quaternion)."""

    parent: str
    pos: tuple[float, float, float]
    quat_xyzw: tuple[float, float, float, float]


def _origin_matrix(joint: ET.Element) -> np.ndarray:
    el = joint.find("origin")
    T = np.eye(4)
    if el is not None:
        T[:3, :3] = matrix_from_rpy(*[float(v) for v in el.get("rpy", "0 0 0").split()])
        T[:3, 3] = [float(v) for v in el.get("xyz", "0 0 0").split()]
    return T


def _set_origin(joint: ET.Element, T: np.ndarray) -> None:
    el = joint.find("origin")
    if el is None:
        el = ET.SubElement(joint, "origin")
    R = T[:3, :3]  # back to roll-pitch-yaw (URDF's fixed-axis XYZ convention, as matrix_from_rpy builds it)
    pitch = float(np.arcsin(-np.clip(R[2, 0], -1.0, 1.0)))
    roll, yaw = float(np.arctan2(R[2, 1], R[2, 2])), float(np.arctan2(R[1, 0], R[0, 0]))
    el.set("rpy", f"{roll!r} {pitch!r} {yaw!r}")
    el.set("xyz", " ".join(repr(float(v)) for v in T[:3, 3]))


def _isotropic_massless(link: ET.Element) -> float | None:
    """Return c if the link is massless with inertia c I and no geometry (foldable), else None."""
    if link.find("visual") is not None or link.find("collision") is not None:
        return None
    inertial = link.find("inertial")
    if inertial is None:
        return 0.0
    mass, inertia = inertial.find("mass"), inertial.find("inertia")
    if mass is None or float(mass.get("value", "0")) != 0.0 or inertia is None:
        return None
    v = {k: float(inertia.get(k, "0")) for k in ("ixx", "iyy", "izz", "ixy", "ixz", "iyz")}
    if v["ixy"] or v["ixz"] or v["iyz"] or not v["ixx"] == v["iyy"] == v["izz"]:
        return None
    return v["ixx"]


def _add_isotropic(link: ET.Element, c: float) -> None:
    inertia = link.find("inertial/inertia")
    if inertia is None or not c:
        return
    for k in ("ixx", "iyy", "izz"):
        inertia.set(k, repr(float(inertia.get(k, "0")) + c))


def fold_frame_links(text: str) -> tuple[str, dict[str, FoldedFrame]]:
    """Return the URDF ``text`` with every fixed-joint leaf-or-relay link that is only a frame folded into its
    parent, and the folded frames by name."""
    root = ET.fromstring(text)
    links = {el.get("name", ""): el for el in root.findall("link")}
    folded: dict[str, FoldedFrame] = {}
    changed = True
    while changed:
        changed = False
        joints = root.findall("joint")
        for joint in joints:
            parent_el, child_el = joint.find("parent"), joint.find("child")
            if joint.get("type") != "fixed" or parent_el is None or child_el is None:
                continue
            parent, child = parent_el.get("link", ""), child_el.get("link", "")
            c = _isotropic_massless(links[child]) if child in links else None
            if c is None:
                continue
            T = _origin_matrix(joint)
            for sub in joints:  # re-hang the folded link's children from its parent
                sub_parent = sub.find("parent")
                if sub is not joint and sub_parent is not None and sub_parent.get("link") == child:
                    sub_parent.set("link", parent)
                    _set_origin(sub, T @ _origin_matrix(sub))
            for name, frame in list(folded.items()):  # frames folded into this one earlier
                if frame.parent == child:
                    inner = np.eye(4)
                    inner[:3, :3] = _quat_matrix(frame.quat_xyzw)
                    inner[:3, 3] = frame.pos
                    folded[name] = _frame(parent, T @ inner)
            folded[child] = _frame(parent, T)
            _add_isotropic(links[parent], c)
            root.remove(joint)
            root.remove(links.pop(child))
            changed = True
            break
    return ET.tostring(root, encoding="unicode"), folded


def _frame(parent: str, T: np.ndarray) -> FoldedFrame:
    w, x, y, z = (float(v) for v in quat_from_matrix(T[:3, :3]))
    return FoldedFrame(parent, (float(T[0, 3]), float(T[1, 3]), float(T[2, 3])), (x, y, z, w))


def _quat_matrix(q_xyzw: tuple[float, float, float, float]) -> np.ndarray:
    x, y, z, w = q_xyzw
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def without_visuals(text: str) -> str:
    """Return URDF ``text`` without its ``<visual>`` elements (for a world no camera draws: PyBullet parses the
    Panda's visual meshes on every load, 38 -> 7 ms)."""
    return re.sub(r"<visual\b.*?</visual>", "", text, flags=re.S)


def folded_robot_urdf(text: str) -> tuple[Path | None, dict[str, FoldedFrame]]:
    """Return (path of the folded URDF in the cache, folded frames); (None, {}) when the cache can't be written
    (the caller then loads the original file). The fold is computed once per process and URDF text (a PyBullet
    world reloads the robot on every reset)."""
    out, frames = _fold_once(text)
    key = hashlib.sha256(f"{FOLD_VERSION}|{out}".encode()).hexdigest()[:24]
    path = cache_dir().parent / "urdf" / f"panda_folded_{key}.urdf"
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, out.encode())
    except OSError:
        return None, {}
    return path, dict(frames)


@functools.lru_cache(maxsize=8)
def _fold_once(text: str) -> tuple[str, tuple[tuple[str, FoldedFrame], ...]]:
    out, frames = fold_frame_links(text)
    return out, tuple(frames.items())


def state_slots(joint_index: dict[str, int]) -> list[tuple[int, int]]:
    """Return (slot in :data:`URDF_JOINTS`, PyBullet joint index) for every joint of the loaded robot; ValueError
    if it has a joint the layout does not know."""
    unknown = sorted(set(joint_index) - set(URDF_JOINTS))
    if unknown:
        raise ValueError(f"robot joints {unknown} are not in the recorded state layout")
    return [(slot, joint_index[name]) for slot, name in enumerate(URDF_JOINTS) if name in joint_index]


def robot_joint_vectors(client: object, robot: int, slots: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Return (q, qd) of the robot in :data:`URDF_JOINTS` order, 0 for folded joints."""
    q, qd = np.zeros(len(URDF_JOINTS)), np.zeros(len(URDF_JOINTS))
    states = client.getJointStates(robot, [j for _, j in slots])  # type: ignore[attr-defined]
    for (slot, _), s in zip(slots, states, strict=True):
        q[slot], qd[slot] = s[0], s[1]
    return q, qd
