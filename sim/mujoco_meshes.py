"""OBJ mesh assets for MuJoCo: multi-object files merged into one object, robot visuals at a level of detail."""

from __future__ import annotations

import functools
import os
from typing import Any

from sim.mesh_lod import reduced_obj


@functools.lru_cache(maxsize=64)
def single_object_obj(path: str) -> bytes:
    """Return an OBJ file's bytes with its object/group/material lines removed (one merged object)."""
    keep = []
    with open(path, "rb") as fh:
        for line in fh:
            if not line.startswith((b"o ", b"g ", b"usemtl", b"mtllib")):
                keep.append(line)
    return b"".join(keep)


def merge_obj_objects(ms: Any, reduce: set[str] | frozenset[str] = frozenset(), fraction: float = 1.0) -> None:
    """Feed multi-object OBJ meshes to MuJoCo as one object each; meshes named in ``reduce`` decimated to
    ``fraction`` of their faces.

    MuJoCo's OBJ decoder keeps only the first ``o`` object of a file (pybullet_data's hand.obj compiles to
    42 of 7078 faces), while PyBullet loads them all. Merging keeps both engines' visuals identical.
    """
    assets = dict(ms.assets)
    for i, mesh in enumerate(ms.meshes):
        path = str(mesh.file)
        if path.lower().endswith(".obj") and os.path.isfile(path):
            name = f"robosynth_mesh_{i}_{os.path.basename(path)}"
            data = single_object_obj(path)
            assets[name] = reduced_obj(data, fraction) if mesh.name in reduce else data
            mesh.file = name
    ms.assets = assets
