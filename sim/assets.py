"""Asset resolution: where meshes and URDFs may come from.

Asset paths are confined to three roots: the scene file's directory, the project's ``assets/`` folder
and ``pybullet_data``. A path is looked up in that order; absolute paths and ``..`` that leave a root
are rejected.
"""

from __future__ import annotations

import functools
from pathlib import Path

from sim.errors import AssetError

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


@functools.lru_cache(maxsize=1)
def pybullet_data_dir() -> Path:
    """Return the directory of the installed ``pybullet_data`` package."""
    import pybullet_data  # plain data package: importing it has no side effects

    return Path(pybullet_data.getDataPath()).resolve()


def asset_roots(scene_dir: Path | None) -> list[Path]:
    """Return the allowed roots, most specific first."""
    roots = [] if scene_dir is None else [Path(scene_dir).resolve()]
    return roots + [ASSETS_DIR.resolve(), pybullet_data_dir()]


def resolve_asset(rel: str, scene_dir: Path | None = None) -> Path:
    """Return the absolute path of asset ``rel``; raise AssetError if missing or outside the roots."""
    if not rel or "\x00" in rel:
        raise AssetError(f"asset path {rel!r} is empty or invalid")
    p = Path(rel)
    if p.is_absolute():
        raise AssetError(f"asset path '{rel}' must be relative to the scene folder, assets/ or pybullet_data")
    if ".." in p.parts:
        raise AssetError(f"asset path '{rel}' escapes the allowed folders ('..' is not allowed)")
    for root in asset_roots(scene_dir):
        cand = (root / p).resolve()
        if not cand.is_relative_to(root):
            raise AssetError(f"asset path '{rel}' escapes the allowed folders (symlink)")
        if cand.is_file():
            return cand
    raise AssetError(f"asset '{rel}' not found in the scene folder, assets/ or pybullet_data")


def panda_urdf_text() -> tuple[str, Path]:
    """Return the Panda URDF text with ``package://`` resolved, and its directory."""
    root = pybullet_data_dir() / "franka_panda"
    text = (root / "panda.urdf").read_text()
    return text.replace("package://", str(root) + "/"), root
