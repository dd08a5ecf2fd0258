"""sim.mujoco_meshes: multi-object OBJ files become one object, byte for byte what a line filter keeps."""

from __future__ import annotations

import functools
import io

import pytest

from sim import mesh_lod, mujoco_meshes
from sim.assets import pybullet_data_dir
from sim.mujoco_meshes import reduced_single_object_obj, single_object_obj, strip_object_lines

_DROPPED = (b"o ", b"g ", b"usemtl", b"mtllib")


def _line_filter(data: bytes) -> bytes:
    """The reference: keep every b"\\n"-terminated line that does not start with an object/group/material tag."""
    return b"".join(line for line in io.BytesIO(data) if not line.startswith(_DROPPED))  # as reading the file


@pytest.mark.parametrize("data", [
    b"",
    b"o only",
    b"o first\nv 1 2 3\n",
    b"v 1 2 3\r\ng part\r\nv 4 5 6",
    b"g\nv 1\ng  b\n\no \nusemtlfoo\nmtllib x.mtl\n  o indented\nvo x\nf 1 2 3\n",
    b"\n\no a\n",
    b"o a\no b\ng c",
    b"v 1 2 3\nusemtl last",
    b"v 1\ro lone carriage return\ng g\n",
    b"mtllib a.mtl\no a\nv 0 0 0\nusemtl m\nf 1 1 1\no b\nv 1 1 1\nusemtl n\nf 2 2 2\n",
])
def test_strip_object_lines_matches_a_line_filter(data: bytes) -> None:
    assert strip_object_lines(data) == _line_filter(data)


def test_panda_meshes_match_a_line_filter() -> None:
    meshes = sorted((pybullet_data_dir() / "franka_panda" / "meshes").rglob("*.obj"))
    assert meshes, "pybullet_data's Panda meshes are missing"
    for path in meshes:
        merged = single_object_obj(str(path))
        assert merged == _line_filter(path.read_bytes()), path.name
        assert b"\no " not in merged and not merged.startswith(b"o ")


def test_a_reduced_visual_mesh_is_the_decimated_merged_mesh_and_a_cache_hit_skips_the_merge(
        tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ROBOSYNTH_CACHE_DIR", str(tmp_path))
    path = str(pybullet_data_dir() / "franka_panda" / "meshes" / "visual" / "hand.obj")
    expected = mesh_lod.decimate_obj(single_object_obj(path), 0.1)
    merges = []

    @functools.wraps(strip_object_lines)  # the same name, so the same cache key
    def counting_strip(data: bytes) -> bytes:
        merges.append(len(data))
        return strip_object_lines(data)

    monkeypatch.setattr(mujoco_meshes, "strip_object_lines", counting_strip)
    for _ in range(2):  # computed and cached, then read back from the cache
        mesh_lod.reduced_obj.cache_clear()
        assert reduced_single_object_obj.__wrapped__(path, 0.1) == expected
    assert len(merges) == 1
