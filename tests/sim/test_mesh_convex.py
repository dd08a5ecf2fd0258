"""Convex decomposition of mesh objects: computed once and cached by content, one convex geom per part on MuJoCo,
a compound on PyBullet, the same mass and centre of mass on both, every geom in the object's segmentation id."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import sim.mesh_convex as mc
from scenes.loader import scene_from_dict
from sim.assets import ASSETS_DIR
from sim.backend import make_backend
from sim.errors import InputError
from sim.mesh_files import closed_mesh_volume, read_mesh

OBJECTS = sorted(p.stem for p in (ASSETS_DIR / "objects").glob("*.obj"))
TABLE = {"name": "table", "shape": "box", "size": [0.8, 1.2, 0.4], "pose": {"pos": [0.5, 0, 0.2]}, "fixed": True}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, with the in-process memo cleared before and after."""
    from sim.mesh_objects import _mesh_object

    monkeypatch.setenv("ROBOSYNTH_CACHE_DIR", str(tmp_path / "cache"))
    mc.convex_parts.cache_clear()
    _mesh_object.cache_clear()
    yield tmp_path / "cache" / "convex"
    mc.convex_parts.cache_clear()
    _mesh_object.cache_clear()


def test_decomposition_is_cached_by_content(cache):
    mug = ASSETS_DIR / "objects" / "mug.obj"
    before = mc.decompositions_run
    first = mc.convex_parts_of_file(mug, 1.0)
    assert mc.decompositions_run == before + 1
    assert first.path.parent == cache and first.path.is_file()
    mtime = os.stat(first.path).st_mtime_ns
    mc.convex_parts.cache_clear()  # a new process: only the disk cache is left
    second = mc.convex_parts_of_file(mug, 1.0)
    assert mc.decompositions_run == before + 1  # not decomposed again
    assert os.stat(second.path).st_mtime_ns == mtime and second.path == first.path
    assert len(second.parts) == len(first.parts)
    for (v1, f1), (v2, f2) in zip(first.parts, second.parts, strict=True):
        assert np.allclose(v1, v2, atol=1e-6) and np.array_equal(f1, f2)
    other = mc.convex_parts_of_file(mug, 0.5)  # another scale is another entry
    assert mc.decompositions_run == before + 2 and other.path != first.path
    assert np.allclose(np.ptp(np.vstack([p[0] for p in other.parts]), axis=0),
                       0.5 * np.ptp(np.vstack([p[0] for p in first.parts]), axis=0), atol=2e-3)


def test_a_damaged_cache_file_is_recomputed(cache):
    mug = ASSETS_DIR / "objects" / "mug.obj"
    path = mc.convex_parts_of_file(mug, 1.0).path
    path.write_bytes(b"o part_0\nv 0 0 0\n")  # truncated by someone
    mc.convex_parts.cache_clear()
    before = mc.decompositions_run
    parts = mc.convex_parts_of_file(mug, 1.0)
    assert mc.decompositions_run == before + 1 and len(parts.parts) >= 1
    assert mc.read_parts_obj(path.read_bytes())  # rewritten whole


@pytest.mark.parametrize("name", OBJECTS)
def test_each_shipped_object_decomposes_into_closed_parts_inside_it(cache, name):
    v, f = read_mesh(ASSETS_DIR / "objects" / f"{name}.obj")
    parts = mc.convex_parts_of_file(ASSETS_DIR / "objects" / f"{name}.obj", 1.0)
    assert parts.method == mc.method()[0] and 1 <= len(parts.parts) <= mc.MAX_PARTS
    lo, hi = v.min(axis=0), v.max(axis=0)
    total = 0.0
    for pv, pf in parts.parts:
        vol = closed_mesh_volume(pv, pf)
        assert vol is not None and vol > 0  # each part a closed solid
        total += vol
        assert (pv >= lo - 4e-3).all() and (pv <= hi + 4e-3).all()  # inside the object's box (CoACD: +-3 mm)
    mesh_vol = closed_mesh_volume(v, f)
    assert mesh_vol is not None and 0.8 * mesh_vol < total < 2.0 * mesh_vol  # hulls cover it, without a lump


def test_coacd_is_installed_where_the_tests_run():
    assert mc.method()[0] == "coacd"  # the [meshes] extra (Makefile install); without it one hull per mesh


def _spec(name: str, **extra):
    obj = {"name": "thing", "shape": "mesh", "asset": f"objects/{name}.obj", "pose": {"pos": [0.5, -0.35, 0.41]},
           **extra}
    return scene_from_dict({"name": "m", "task": {"name": "none"}, "objects": [TABLE, obj]}, ASSETS_DIR)


def test_density_gives_the_mass_of_the_enclosed_volume():
    v, f = read_mesh(ASSETS_DIR / "objects" / "can.obj")
    spec = _spec("can", density=800.0)
    assert spec.object("thing").mass == pytest.approx(800.0 * closed_mesh_volume(v, f))
    assert spec.object("thing").density is None
    assert _spec("can", density=800.0, scale=0.5).object("thing").mass == pytest.approx(
        spec.object("thing").mass / 8)
    assert spec.object("thing").size == pytest.approx(tuple(np.ptp(v, axis=0)))  # size: the bounding box
    assert _spec("can", scale=0.5).object("thing").size == pytest.approx(tuple(0.5 * np.ptp(v, axis=0)))
    with pytest.raises(InputError, match=r"objects\[1\]\.density: give mass or density, not both"):
        _spec("can", density=800.0, mass=0.2)


def test_density_of_an_open_mesh_is_refused(tmp_path):
    (tmp_path / "open.obj").write_text("v 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nv 0 0 0.1\nf 1 3 2\nf 1 2 4\nf 1 4 3\n"
                                       "f 2 3 4\nf 1 2 3\n")  # a tetrahedron with one face twice: not closed
    scene = {"name": "m", "task": {"name": "none"}, "objects": [
        {"name": "thing", "shape": "mesh", "asset": "open.obj", "density": 500.0}]}
    with pytest.raises(InputError, match=r"objects\[0\]\.density: the mesh is not closed"):
        scene_from_dict(scene, tmp_path)


def _mass_and_com(backend: str, spec) -> tuple[float, np.ndarray, int, set[int]]:
    """Return (mass, centre of mass in the object frame, collision parts, instance ids of its geoms)."""
    world = make_backend(backend)
    world.build(spec, Path(ASSETS_DIR))
    inst = {i.name: i.id for i in world.instances()}["thing"]
    if backend == "mujoco":
        m, mj = world.model, world._mj
        b = mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY, "thing")
        geoms = np.flatnonzero(m.geom_bodyid == b)
        parts = int(sum(m.geom_contype[g] != 0 for g in geoms))
        assert m.geom_contype[mj.mj_name2id(m, mj.mjtObj.mjOBJ_GEOM, "thing")] == 0  # the visual never collides
        ids = {int(world.instance_of_geom()[g]) for g in geoms}
        out = float(m.body_mass[b]), m.body_ipos[b].copy(), parts, ids
    else:
        c = world.client
        uid, _ = world._bodies["thing"]
        info = c.getDynamicsInfo(uid, -1)
        parts = len(c.getCollisionShapeData(uid, -1))
        ids = {i for (u, _link), i in world.instance_of().items() if u == uid}
        out = float(info[0]), np.asarray(info[3]), parts, ids
    world.close()
    assert out[3] == {inst}  # every geom of the object is the object's instance
    return out


@pytest.mark.parametrize("name", ["mug", "bowl"])
def test_both_engines_get_the_parts_the_mass_and_the_centre_of_mass(name):
    spec = _spec(name, mass=0.3)
    n_parts = len(mc.convex_parts_of_file(ASSETS_DIR / "objects" / f"{name}.obj", 1.0).parts)
    mj_mass, mj_com, mj_parts, mj_ids = _mass_and_com("mujoco", spec)
    pb_mass, pb_com, pb_parts, pb_ids = _mass_and_com("pybullet", spec)
    assert n_parts > 1 and mj_parts == pb_parts == n_parts
    assert mj_mass == pytest.approx(0.3) and pb_mass == pytest.approx(0.3)
    assert np.allclose(mj_com, pb_com, atol=2e-3), (mj_com, pb_com)
    assert len(mj_ids) == 1 and mj_ids == pb_ids  # every geom of the object is the object's instance


def test_pybullet_poses_are_the_mesh_frame_not_the_centre_of_mass():
    spec = _spec("mug", mass=0.3)
    for backend in ("mujoco", "pybullet"):
        world = make_backend(backend)
        world.build(spec, Path(ASSETS_DIR))
        pos, quat = world.body_pose("thing")
        assert np.allclose(pos, [0.5, -0.35, 0.41], atol=1e-6) and np.allclose(quat, [1, 0, 0, 0], atol=1e-6)
        world.set_body_pose("thing", [0.4, 0.1, 0.5], [0.0, 0.0, 0.0, 1.0])
        pos, quat = world.body_pose("thing")
        world.close()
        assert np.allclose(pos, [0.4, 0.1, 0.5], atol=1e-6), backend
        assert np.allclose(np.abs(quat), [0, 0, 0, 1], atol=1e-6), backend  # Bullet stores frames in float32


def test_concurrent_workers_share_one_cache_file(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from sim.mesh_convex import convex_parts_of_file; "
            "p = convex_parts_of_file(sys.argv[1], 1.0); print(p.path, len(p.parts))")
    env = {**os.environ, "ROBOSYNTH_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ASSETS_DIR.parent)}
    mug = str(ASSETS_DIR / "objects" / "mug.obj")
    procs = [subprocess.Popen([sys.executable, "-c", code, mug], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(3)]  # all start on an empty cache: each decomposes and renames its own temp file
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len({o[0] for o in outs}) == 1 and len({o[1] for o in outs}) == 1
    files = list((tmp_path / "cache" / "convex").iterdir())
    assert [f.name for f in files] == [Path(outs[0][0]).name]  # one complete file, no temp file left
    assert len(mc.read_parts_obj(files[0].read_bytes())) == int(outs[0][1])


def _mass_inertia(world) -> tuple[float, np.ndarray]:
    """Return (mass, sorted principal moments) of the object "thing" as the engine holds them."""
    if world.name == "mujoco":
        b = world._body_ids["thing"]
        return float(world.model.body_mass[b]), np.sort(world.model.body_inertia[b])
    info = world.client.getDynamicsInfo(world._bodies["thing"][0], -1)
    return float(info[0]), np.sort(info[2])


@pytest.mark.parametrize("name", ["mug", "hammer"])
def test_both_engines_get_the_same_inertia_and_randomized_mass_scales_it(name):
    spec = _spec(name, mass=0.3)
    principal = {}
    for backend in ("mujoco", "pybullet"):
        world = make_backend(backend)
        world.build(spec, Path(ASSETS_DIR))
        principal[backend] = _mass_inertia(world)[1]
        world.set_object_mass("thing", 0.6)
        world.finalize_params()
        mass, inertia = _mass_inertia(world)
        assert mass == pytest.approx(0.6) and np.allclose(inertia, 2 * principal[backend], rtol=1e-6), backend
        world.restore_nominal_params()
        assert np.allclose(_mass_inertia(world)[1], principal[backend], rtol=1e-6), backend
        world.close()
    assert np.allclose(principal["mujoco"], principal["pybullet"], rtol=0.03), principal


def test_a_cache_emptied_while_running_is_filled_again(cache):
    import shutil

    spec = _spec("mug", mass=0.3)
    world = make_backend("pybullet")
    world.build(spec, Path(ASSETS_DIR))
    shutil.rmtree(cache.parent)  # someone empties ~/.cache while a generate worker runs
    world.step(5)
    world.reset()  # PyBullet reloads its world from the files on reset
    parts = len(world.client.getCollisionShapeData(world._bodies["thing"][0], -1))
    world.close()
    assert parts == len(mc.convex_parts_of_file(ASSETS_DIR / "objects" / "mug.obj", 1.0).parts) > 1
    assert any(cache.glob("*.obj"))
