"""A user's own mesh file (OBJ, STL or GLB, next to the scene) works end to end on both engines; each kind of bad mesh
is refused at validation with exit 2 and one line naming the field."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from robosynth.dataset.reader import iter_episodes
from sim.assets import ASSETS_DIR

SCENE = """
name: my_mesh
cameras:
  - {{name: agentview, pos: [1.0, 0.0, 0.9], look_at: [0.5, 0.0, 0.4]}}
objects:
  - {{name: table, shape: box, size: [0.8, 1.2, 0.4], pose: {{pos: [0.5, 0.0, 0.2]}}, fixed: true}}
  - {{name: widget, shape: mesh, asset: {asset}, scale: {scale}, mass: 0.2, pose: {{pos: [0.5, -0.35, 0.41]}}}}
task: {{name: reach, horizon: 6, params: {{target: marker}}}}
"""
MARKER = "  - {name: marker, shape: sphere, size: [0.01], fixed: true, collide: false}\n"


def write_scene(folder: Path, asset: str, scale: float = 1.0) -> Path:
    """Write a scene using mesh ``asset`` (relative to the scene folder) and return its path."""
    path = folder / "scene.yaml"
    text = SCENE.format(asset=asset, scale=scale)
    path.write_text(text.replace("task:", MARKER + "task:"))
    return path


def stl_bytes(vertices: np.ndarray, faces: np.ndarray) -> bytes:
    """Return a binary STL of a triangle mesh."""
    out = bytearray(80) + struct.pack("<I", len(faces))
    for f in faces:
        out += struct.pack("<3f", 0, 0, 0) + vertices[f].astype("<f4").tobytes() + b"\0\0"
    return bytes(out)


@pytest.mark.parametrize("fmt", ["obj", "stl", "glb"])
def test_user_mesh_end_to_end(run_cli, tmp_path, fmt):
    from sim.mesh_lod import parse_obj

    src = (ASSETS_DIR / "objects" / "mug.obj").read_bytes()
    if fmt == "obj":
        (tmp_path / "widget.obj").write_bytes(src)
    elif fmt == "stl":
        (tmp_path / "widget.stl").write_bytes(stl_bytes(*parse_obj(src)))
    else:
        trimesh = pytest.importorskip("trimesh")
        trimesh.Trimesh(*parse_obj(src)).export(str(tmp_path / "widget.glb"))
    scene = write_scene(tmp_path, f"widget.{fmt}")
    env = {"ROBOSYNTH_CACHE_DIR": str(tmp_path / "cache")}  # an empty cache: the first run decomposes
    assert run_cli("validate", scene, env=env).rc == 0
    first: dict[Path, int] = {}
    for backend in ("mujoco", "pybullet"):
        out = tmp_path / f"data-{backend}"
        res = run_cli("generate", scene, "--backend", backend, "--episodes", "1", "--cameras", "agentview",
                      "--resolution", "32x32", "--keep-failed", "--out", out, env=env)
        assert res.rc == 0, res.stderr
        assert run_cli("verify", out).rc == 0
        ep = next(iter_episodes(out / "dataset.hdf5"))  # the object keeps its name in the HDF5 id map
        widget = [v for v in ep.segmentation_ids.values() if v["name"] == "widget"]
        assert widget == [{"name": "widget", "class": "object", "body": "widget"}], ep.segmentation_ids
        cached = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache" / "convex").glob("*.obj")}
        assert len(cached) == 1, cached  # one decomposition ...
        first = first or cached
        assert cached == first  # ... the second engine's run reused it (same file, not rewritten)


def _write(path: Path, data: bytes | str) -> str:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path.name


BAD = {
    "garbage": (lambda d: _write(d / "w.obj", b"\x00\x01\x02binary junk\x00" * 40), 1.0, "binary data"),
    "not_numbers": (lambda d: _write(d / "w.obj", "v a b c\nf 1 2 3\n"), 1.0, "not a readable OBJ"),
    "empty": (lambda d: _write(d / "w.obj", "# nothing\n"), 1.0, "empty mesh"),
    "nan": (lambda d: _write(d / "w.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 nan\nf 1 2 3\nf 1 3 4\nf 1 4 2\n"
                                          "f 2 4 3\n"), 1.0, "NaN or inf"),
    "bad_index": (lambda d: _write(d / "w.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 3 4\nf 1 4 2\n"
                                                "f 2 4 9\n"), 1.0, "does not exist"),
    "millimetres": (lambda d: _write(d / "w.obj", (ASSETS_DIR / "objects" / "mug.obj").read_bytes()), 1000.0,
                    "set scale: 0.001"),
    "tiny": (lambda d: _write(d / "w.obj", (ASSETS_DIR / "objects" / "mug.obj").read_bytes()), 0.001,
             "expected 0.001..5 m"),
    "truncated_stl": (lambda d: _write(d / "w.stl", b"\0" * 80 + struct.pack("<I", 100) + b"\0" * 50), 1.0,
                      "binary STL says 100 triangles"),
    "glb": (lambda d: _write(d / "w.glb", b"glTF"), 1.0, "not a readable GLB file"),
    "gltf_json": (lambda d: _write(d / "w.gltf", "{not json"), 1.0, "not a readable GLTF file"),
    "ply": (lambda d: _write(d / "w.ply", "ply\n"), 1.0, "mesh files must be .obj, .stl, .glb, .gltf"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_meshes_are_refused_at_validation(run_cli, tmp_path, case):
    make, scale, message = BAD[case]
    scene = write_scene(tmp_path, make(tmp_path), scale)
    res = run_cli("validate", scene)
    assert res.rc == 2 and len(res.stderr_lines) == 1, res.stderr
    assert "objects[1].asset:" in res.stderr and message in res.stderr and "internal error" not in res.stderr


def test_too_many_vertices_is_refused(run_cli, tmp_path):
    from sim.mesh_files import MAX_VERTICES

    n = MAX_VERTICES + 1
    rng = np.random.default_rng(0)
    v = "\n".join(f"v {x:.4f} {y:.4f} {z:.4f}" for x, y, z in rng.uniform(0, 0.1, (n, 3)))
    (tmp_path / "w.obj").write_text(v + "\nf 1 2 3\nf 1 3 4\nf 1 4 2\nf 2 4 3\n")
    res = run_cli("validate", write_scene(tmp_path, "w.obj"))
    assert res.rc == 2 and "more than the 200000 allowed" in res.stderr
