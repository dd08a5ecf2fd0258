"""Generate the shipped cabinet: a carcass with a drawer (prismatic) above a hinged door (revolute), as a URDF.

    python assets/make_cabinet.py       # rewrites assets/cabinet/cabinet.urdf

The cabinet's frame is the centre of its bottom face; its front faces -x (towards a robot placed on the -x side).
Every link is built from boxes, cylinders and spheres with an explicit inertial (a box of the link's mass and
bounding size), so MuJoCo and PyBullet load the same masses and inertias. The drawer handle is a rod with a knob,
pointing out of the drawer front, so a top-down gripper closing across it pulls against the knob; its grasp point is
the frame of the link ``handle`` (fixed to the drawer). CC0 (made by the project; see LICENSES.md).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

DEPTH, WIDTH, HEIGHT, WALL = 0.25, 0.36, 0.26, 0.012  # carcass outer size (x, y, z) and board thickness
DIVIDER_Z = 0.13  # the shelf between the door compartment (below) and the drawer (above)
DRAWER_TRAVEL, DOOR_TRAVEL = 0.20, 1.57
DRAWER_DAMPING, DRAWER_FRICTION = 2.0, 0.5  # N s / m, N
DOOR_DAMPING, DOOR_FRICTION = 0.2, 0.05  # N m s / rad, N m
HANDLE_OUT, KNOB_OUT, ROD_RADIUS, KNOB_RADIUS = 0.055, 0.08, 0.008, 0.018  # from the drawer front face
FRONT = 0.015  # drawer front and door panel thickness

WOOD = "0.72 0.55 0.38 1"
PANEL = "0.86 0.80 0.70 1"
METAL = "0.55 0.57 0.60 1"

Part = tuple[str, str, tuple[float, float, float], str]  # (geometry xml, rgba, xyz, rpy)


def box(size: tuple[float, float, float], xyz: tuple[float, float, float], rgba: str = WOOD) -> Part:
    """Return a box part (full extents) centred at ``xyz``."""
    return f'<box size="{size[0]:.4f} {size[1]:.4f} {size[2]:.4f}"/>', rgba, xyz, "0 0 0"


def rod_x(radius: float, length: float, xyz: tuple[float, float, float]) -> Part:
    """Return a cylinder along x centred at ``xyz``."""
    return f'<cylinder radius="{radius}" length="{length:.4f}"/>', METAL, xyz, "0 1.5707963 0"


def sphere(radius: float, xyz: tuple[float, float, float]) -> Part:
    """Return a sphere part."""
    return f'<sphere radius="{radius}"/>', METAL, xyz, "0 0 0"


def link(name: str, mass: float, extent: tuple[float, float, float], com: tuple[float, float, float],
         parts: list[Part]) -> str:
    """Return a <link> with visual and collision elements for each part and a box inertial of ``extent``."""
    ex, ey, ez = extent
    ixx, iyy, izz = (mass / 12 * (ey**2 + ez**2), mass / 12 * (ex**2 + ez**2), mass / 12 * (ex**2 + ey**2))
    out = [f'  <link name="{name}">',
           f'    <inertial><origin xyz="{com[0]:.4f} {com[1]:.4f} {com[2]:.4f}"/><mass value="{mass}"/>'
           f'<inertia ixx="{ixx:.6g}" iyy="{iyy:.6g}" izz="{izz:.6g}" ixy="0" ixz="0" iyz="0"/></inertial>']
    for geometry, rgba, xyz, rpy in parts:
        origin = f'<origin xyz="{xyz[0]:.4f} {xyz[1]:.4f} {xyz[2]:.4f}" rpy="{rpy}"/>'
        out.append(f'    <visual>{origin}<geometry>{geometry}</geometry>'
                   f'<material name=""><color rgba="{rgba}"/></material></visual>')
        out.append(f"    <collision>{origin}<geometry>{geometry}</geometry></collision>")
    out.append("  </link>")
    return "\n".join(out)


def carcass() -> str:
    """Return the fixed body: bottom, top, sides, back and the divider shelf."""
    d, w, h, t = DEPTH, WIDTH, HEIGHT, WALL
    parts = [
        box((d, w, t), (0, 0, t / 2)), box((d, w, t), (0, 0, h - t / 2)),
        box((d, t, h - 2 * t), (0, -(w - t) / 2, h / 2)), box((d, t, h - 2 * t), (0, (w - t) / 2, h / 2)),
        box((t, w - 2 * t, h - 2 * t), ((d - t) / 2, 0, h / 2)),
        box((d - t, w - 2 * t, t), (-t / 2, 0, DIVIDER_Z)),
    ]
    return link("carcass", 8.0, (d, w, h), (0, 0, h / 2), parts)


def drawer() -> tuple[str, float]:
    """Return the drawer link (its frame on the carcass front; the front panel in front of it, the box behind it,
    the handle rod out of the panel) and its inner height."""
    t, gap = WALL, 0.004
    inner_w = WIDTH - 2 * WALL - 2 * gap
    height = HEIGHT - WALL - (DIVIDER_Z + WALL / 2) - 2 * gap
    depth = DEPTH - 2 * WALL - 0.01
    parts = [
        box((FRONT, WIDTH - 0.004, height + 2 * gap), (-FRONT / 2, 0, 0), PANEL),
        box((depth, inner_w, t), (depth / 2, 0, -height / 2 + t / 2)),
        box((depth, t, height * 0.8), (depth / 2, -(inner_w - t) / 2, -height * 0.1)),
        box((depth, t, height * 0.8), (depth / 2, (inner_w - t) / 2, -height * 0.1)),
        box((t, inner_w, height * 0.8), (depth - t / 2, 0, -height * 0.1)),
        rod_x(ROD_RADIUS, KNOB_OUT, (-FRONT - KNOB_OUT / 2, 0, 0)),
        sphere(KNOB_RADIUS, (-FRONT - KNOB_OUT, 0, 0)),
    ]
    return link("drawer", 0.6, (depth, inner_w, height), (depth / 2, 0, 0), parts), height


def door() -> str:
    """Return the door link: a panel hinged at its frame (the left front edge) and a vertical bar handle."""
    height = DIVIDER_Z - WALL / 2 - WALL - 0.008
    width = WIDTH - 0.008
    parts = [
        box((0.015, width, height), (-0.0075, width / 2, 0), PANEL),
        box((0.012, 0.012, height * 0.5), (-0.032, width - 0.04, 0), METAL),
        box((0.02, 0.01, 0.01), (-0.021, width - 0.04, height * 0.2), METAL),
        box((0.02, 0.01, 0.01), (-0.021, width - 0.04, -height * 0.2), METAL),
    ]
    return link("door", 0.5, (0.015, width, height), (-0.0075, width / 2, 0), parts)


def handle() -> str:
    """Return the drawer handle's grasp frame: a small link (10 g, no geometry) fixed to the drawer."""
    return link("handle", 0.01, (0.01, 0.01, 0.01), (0, 0, 0), [])


def joint(name: str, kind: str, parent: str, child: str, xyz: tuple[float, float, float], axis: str,
          limits: tuple[float, float] | None = None, dynamics: tuple[float, float] | None = None) -> str:
    """Return a <joint> element."""
    out = [f'  <joint name="{name}" type="{kind}">', f'    <parent link="{parent}"/><child link="{child}"/>',
           f'    <origin xyz="{xyz[0]:.4f} {xyz[1]:.4f} {xyz[2]:.4f}" rpy="0 0 0"/><axis xyz="{axis}"/>']
    if limits is not None:
        out.append(f'    <limit lower="{limits[0]}" upper="{limits[1]}" effort="100" velocity="2"/>')
    if dynamics is not None:
        out.append(f'    <dynamics damping="{dynamics[0]}" friction="{dynamics[1]}"/>')
    out.append("  </joint>")
    return "\n".join(out)


def cabinet_urdf() -> str:
    """Return the whole cabinet URDF text."""
    drawer_link, drawer_height = drawer()
    drawer_z = DIVIDER_Z + WALL / 2 + 0.004 + drawer_height / 2
    door_z = WALL + 0.004 + (DIVIDER_Z - WALL / 2 - WALL - 0.008) / 2
    return "\n".join([
        '<?xml version="1.0"?>',
        "<!-- Generated by assets/make_cabinet.py: edit that script, not this file. -->",
        '<robot name="cabinet">',
        carcass(), drawer_link, handle(), door(),
        joint("drawer_slide", "prismatic", "carcass", "drawer", (-DEPTH / 2, 0, drawer_z), "-1 0 0",
              (0.0, DRAWER_TRAVEL), (DRAWER_DAMPING, DRAWER_FRICTION)),
        joint("handle_mount", "fixed", "drawer", "handle", (-FRONT - HANDLE_OUT, 0, 0), "1 0 0"),
        joint("door_hinge", "revolute", "carcass", "door", (-DEPTH / 2, -WIDTH / 2 + 0.004, door_z), "0 0 1",
              (0.0, DOOR_TRAVEL), (DOOR_DAMPING, DOOR_FRICTION)),
        "</robot>",
        "",
    ])


def main() -> None:
    """Write assets/cabinet/cabinet.urdf."""
    out = HERE / "cabinet" / "cabinet.urdf"
    out.parent.mkdir(exist_ok=True)
    out.write_text(cabinet_urdf())


if __name__ == "__main__":
    main()
