"""Generate the project's shipped assets: household-style objects (OBJ) and textures (PNG), deterministically.

    python assets/make_assets.py        # rewrites assets/objects/*.obj and assets/textures/*.png

Objects are closed, outward-facing triangle meshes in metres, resting on z = 0 and centred on the z axis, built from
surfaces of revolution and boxes, so both engines compute sound inertia and a convex-hull collision shape from
them. Textures are 256x256 procedural images (numpy + OpenCV, fixed seeds). Everything here is CC0 (made by the
project; see LICENSES.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
SEGMENTS = 24

Mesh = tuple[np.ndarray, np.ndarray]  # (vertices (V, 3), triangles (F, 3), 0-based)


def revolve(profile: list[tuple[float, float]], segments: int = SEGMENTS) -> Mesh:
    """Return the closed surface of revolution of ``profile`` [(radius, z), ...] from bottom to top, where the
    first and last points lie on the axis (radius 0)."""
    assert profile[0][0] == 0 and profile[-1][0] == 0, "the profile must start and end on the axis"
    ring = profile[1:-1]
    angles = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    verts = [(0.0, 0.0, profile[0][1])]
    for r, z in ring:
        verts += [(r * math.cos(a), r * math.sin(a), z) for a in angles]
    verts.append((0.0, 0.0, profile[-1][1]))
    top = len(verts) - 1
    faces = []
    for j in range(segments):  # bottom fan, facing down
        faces.append((0, 1 + (j + 1) % segments, 1 + j))
    for i in range(len(ring) - 1):
        a0, b0 = 1 + i * segments, 1 + (i + 1) * segments
        for j in range(segments):
            j1 = (j + 1) % segments
            faces += [(a0 + j, a0 + j1, b0 + j1), (a0 + j, b0 + j1, b0 + j)]
    last = 1 + (len(ring) - 1) * segments
    for j in range(segments):  # top fan, facing up
        faces.append((top, last + j, last + (j + 1) % segments))
    return np.array(verts, float), np.array(faces, int)


def box(size: tuple[float, float, float], centre: tuple[float, float, float] = (0, 0, 0)) -> Mesh:
    """Return a closed axis-aligned box mesh of full extent ``size`` around ``centre``."""
    sx, sy, sz = (s / 2 for s in size)
    v = np.array([(x, y, z) for z in (-sz, sz) for y in (-sy, sy) for x in (-sx, sx)], float) + centre
    f = [(0, 2, 3), (0, 3, 1), (4, 5, 7), (4, 7, 6), (0, 1, 5), (0, 5, 4), (2, 6, 7), (2, 7, 3),
         (0, 4, 6), (0, 6, 2), (1, 3, 7), (1, 7, 5)]
    return v, np.array(f, int)


def merge(*parts: Mesh) -> Mesh:
    """Return one mesh holding every part (each stays closed)."""
    verts, faces, offset = [], [], 0
    for v, f in parts:
        verts.append(v)
        faces.append(f + offset)
        offset += len(v)
    return np.vstack(verts), np.vstack(faces)


def lift(mesh: Mesh) -> Mesh:
    """Return the mesh moved so it rests on z = 0."""
    v, f = mesh
    return v - (0, 0, v[:, 2].min()), f


def cylinder(radius: float, height: float) -> Mesh:
    """Return a closed cylinder standing on z = 0."""
    return revolve([(0, 0), (radius, 0), (radius, height), (0, height)])


OBJECTS: dict[str, Mesh] = {
    "mug": merge(cylinder(0.04, 0.095), box((0.012, 0.014, 0.06), (0.052, 0, 0.05)),
                 box((0.02, 0.014, 0.012), (0.044, 0, 0.074)), box((0.02, 0.014, 0.012), (0.044, 0, 0.026))),
    "bowl": revolve([(0, 0), (0.04, 0), (0.07, 0.03), (0.075, 0.055), (0, 0.045)]),
    "bottle": revolve([(0, 0), (0.033, 0), (0.035, 0.15), (0.014, 0.19), (0.014, 0.22), (0, 0.22)]),
    "can": revolve([(0, 0), (0.028, 0), (0.033, 0.008), (0.033, 0.115), (0.028, 0.123), (0, 0.123)]),
    "cereal_box": lift(box((0.07, 0.19, 0.26))),
    "cup": revolve([(0, 0), (0.03, 0), (0.042, 0.1), (0, 0.1)]),
    "plate": revolve([(0, 0), (0.06, 0), (0.11, 0.018), (0.11, 0.022), (0, 0.012)]),
    "jar": revolve([(0, 0), (0.045, 0), (0.048, 0.09), (0.038, 0.1), (0.038, 0.12), (0, 0.12)]),
    "vase": revolve([(0, 0), (0.04, 0), (0.06, 0.08), (0.03, 0.18), (0.04, 0.22), (0, 0.22)]),
    "wine_glass": revolve([(0, 0), (0.035, 0), (0.035, 0.004), (0.006, 0.01), (0.006, 0.09), (0.04, 0.13),
                           (0.042, 0.19), (0, 0.19)]),
    "hammer": lift(merge(box((0.3, 0.028, 0.022), (0, 0, 0.011)), box((0.03, 0.11, 0.03), (0.14, 0, 0.015)))),
    "screwdriver": lift(merge(box((0.11, 0.03, 0.03), (-0.05, 0, 0.015)), box((0.12, 0.008, 0.008),
                                                                              (0.065, 0, 0.015)))),
}


BIN_SIZE = (0.30, 0.22, 0.10)  # inside length, width, wall height (m)
BIN_WALL = 0.01


def bin_parts() -> dict[str, Mesh]:
    """Return the bin's five closed boxes (floor and four walls) in the bin frame (floor bottom at z = 0)."""
    lx, ly, h = BIN_SIZE
    t = BIN_WALL
    return {
        "floor": box((lx + 2 * t, ly + 2 * t, t), (0, 0, t / 2)),
        "wall_x_neg": box((t, ly + 2 * t, h), (-(lx + t) / 2, 0, t + h / 2)),
        "wall_x_pos": box((t, ly + 2 * t, h), ((lx + t) / 2, 0, t + h / 2)),
        "wall_y_neg": box((lx, t, h), (0, -(ly + t) / 2, t + h / 2)),
        "wall_y_pos": box((lx, t, h), (0, (ly + t) / 2, t + h / 2)),
    }


def bin_urdf(parts: list[str]) -> str:
    """Return a single-link URDF of the bin: each part a visual and a collision mesh (exact boxes)."""
    shapes = "".join(f"""
    <visual><geometry><mesh filename="{p}.obj"/></geometry><material name="grey"><color rgba="0.45 0.45 0.5 1"/>
      </material></visual>
    <collision><geometry><mesh filename="{p}.obj"/></geometry></collision>""" for p in parts)
    return f"""<?xml version="1.0"?>
<!-- robosynth bin (CC0, generated by assets/make_assets.py): {BIN_SIZE[0]} x {BIN_SIZE[1]} m inside, \
{BIN_SIZE[2]} m walls -->
<robot name="bin">
  <link name="bin">
    <inertial><mass value="1.0"/><inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>{shapes}
  </link>
</robot>
"""


def write_obj(path: Path, mesh: Mesh) -> None:
    """Write a mesh as an OBJ file (6 decimals: micrometres)."""
    v, f = mesh
    lines = [f"# robosynth asset {path.stem} (CC0, generated by assets/make_assets.py)"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in f]
    path.write_text("\n".join(lines) + "\n")


def _noise(rng: np.random.Generator, size: int, scale: int) -> np.ndarray:
    small = rng.random((size // scale, size // scale))
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)


def textures(size: int = 256) -> dict[str, np.ndarray]:
    """Return the procedural textures as BGR uint8 images."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size] / size
    out: dict[str, np.ndarray] = {}
    grain = np.sin((y * 40 + 3 * _noise(rng, size, 16)) * math.pi) * 0.5 + 0.5
    out["wood"] = np.dstack([40 + 40 * grain, 80 + 50 * grain, 120 + 70 * grain])
    tiles = ((np.floor(x * 4) + np.floor(y * 4)) % 2) * 30 + 190
    grout = (np.minimum(x * 4 % 1, y * 4 % 1) < 0.04) * -120
    out["tiles"] = np.dstack([tiles + grout] * 3) + _noise(rng, size, 32)[..., None] * 12
    weave = (np.sin(x * 2 * math.pi * 48) * np.sin(y * 2 * math.pi * 48)) * 25
    out["fabric"] = np.dstack([150 + weave, 60 + weave, 50 + weave]) + _noise(rng, size, 4)[..., None] * 20
    brushed = cv2.blur(rng.random((size, size)), (31, 1)) * 70
    out["metal"] = np.dstack([130 + brushed, 135 + brushed, 140 + brushed])
    veins = np.abs(np.sin((x * 6 + y * 3 + 2 * _noise(rng, size, 8)) * math.pi)) ** 0.2
    out["marble"] = np.dstack([200 + 50 * veins, 200 + 50 * veins, 205 + 50 * veins]) - 40
    out["checker"] = np.dstack([((np.floor(x * 8) + np.floor(y * 8)) % 2) * 200 + 30] * 3)
    return {k: np.clip(v, 0, 255).astype(np.uint8) for k, v in out.items()}


def main() -> None:
    """Write every object and texture."""
    for name, mesh in OBJECTS.items():
        write_obj(HERE / "objects" / f"{name}.obj", mesh)
    (HERE / "bin").mkdir(exist_ok=True)
    for name, mesh in bin_parts().items():
        write_obj(HERE / "bin" / f"{name}.obj", mesh)
    (HERE / "bin" / "bin.urdf").write_text(bin_urdf(list(bin_parts())))
    for name, img in textures().items():
        cv2.imwrite(str(HERE / "textures" / f"{name}.png"), img)
    print(f"wrote {len(OBJECTS)} objects and {len(textures())} textures under {HERE}")


if __name__ == "__main__":
    main()
