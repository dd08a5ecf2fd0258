"""GLB / glTF mesh files: read with trimesh and converted once to an OBJ (+ its base-colour texture as a PNG).

Both engines read OBJ (with texture coordinates) but neither reads glTF, so a ``shape: mesh`` object whose
asset is a ``.glb`` or ``.gltf`` file is converted on first use: every mesh of the file's scene graph, placed
by its node transforms and concatenated into one triangle mesh (trimesh packs several textures into one
atlas), written as ``<key>.obj`` with ``vt`` coordinates and ``<key>.png``. The files are cached under
``$ROBOSYNTH_CACHE_DIR`` (default ``~/.cache/robosynth``) in ``gltf/``, named by the SHA-256 of the file's bytes
(for ``.gltf``, also of the buffers and images it references), and written atomically.

trimesh is part of the ``meshes`` extra (``pip install robosynth[meshes]``); without it a glTF asset is refused
at validation with one line saying so.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import AssetError
from sim.files import atomic_path, write_bytes_atomic
from sim.mesh_lod import cache_dir as _lod_cache_dir

GLTF_SUFFIXES = (".glb", ".gltf")
GLTF_VERSION = "1"  # part of the cache key: bump when the conversion changes
MAX_TEXTURE_SIDE = 2048  # larger base-colour textures are downsampled (TinyRenderer and llvmpipe sample slowly)


@dataclass(frozen=True)
class ConvertedMesh:
    """A glTF file converted to an OBJ (scaled as in the file) and its texture (None: the file has none)."""

    obj: Path
    texture: Path | None


def cache_dir() -> Path:
    """Return the folder converted glTF files are cached in."""
    return _lod_cache_dir().parent / "gltf"


def _trimesh() -> Any:
    try:
        import trimesh
    except ImportError:
        raise AssetError("glTF/GLB meshes need trimesh: pip install 'robosynth[meshes]'") from None
    return trimesh


def _source_bytes(path: Path) -> bytes:
    """Return the bytes that identify a glTF asset: the file, plus for .gltf every relative URI it names."""
    data = path.read_bytes()
    if path.suffix.lower() != ".gltf":
        return data
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return data
    extra = b""
    for item in [*doc.get("buffers", []), *doc.get("images", [])] if isinstance(doc, dict) else []:
        uri = item.get("uri") if isinstance(item, dict) else None
        if isinstance(uri, str) and not uri.startswith("data:") and (path.parent / uri).is_file():
            extra += (path.parent / uri).read_bytes()
    return data + extra


def load_gltf(path: Path) -> Any:
    """Return the glTF file's meshes as one ``trimesh.Trimesh`` (ValueError if it is not a readable glTF)."""
    trimesh = _trimesh()
    try:
        scene = trimesh.load(str(path), force="scene")
        mesh = scene.to_geometry() if hasattr(scene, "to_geometry") else scene.dump(concatenate=True)
    except Exception as exc:  # trimesh raises many kinds for broken files
        raise ValueError(f"not a readable {path.suffix[1:].upper()} file ({type(exc).__name__}: {exc})"[:300]) from None
    if not isinstance(mesh, trimesh.Trimesh):
        raise ValueError("holds no triangle mesh")
    return mesh


def read_gltf(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return (vertices (V, 3), triangles (F, 3)) of a glTF/GLB file; ValueError if it is not one."""
    mesh = load_gltf(path)
    return np.asarray(mesh.vertices, np.float64).reshape(-1, 3), np.asarray(mesh.faces, np.int64).reshape(-1, 3)


def _texture_of(mesh: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Return (uv (V, 2), RGB image (H, W, 3) uint8) of a trimesh mesh's base-colour texture, or (None, None)."""
    visual = mesh.visual
    uv = getattr(visual, "uv", None)
    material = getattr(visual, "material", None)
    image = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
    if uv is None or image is None or len(uv) != len(mesh.vertices):
        return None, None
    image = image.convert("RGB")
    if max(image.size) > MAX_TEXTURE_SIDE:
        image.thumbnail((MAX_TEXTURE_SIDE, MAX_TEXTURE_SIDE))
    return np.asarray(uv, np.float64), np.asarray(image, np.uint8)


def obj_with_uv(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray | None) -> bytes:
    """Return OBJ bytes of a triangle mesh with per-vertex texture coordinates (``vt``) when given."""
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    if uv is None:
        lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    else:
        lines += [f"vt {u:.6f} {v:.6f}" for u, v in uv]
        lines += [f"f {a + 1}/{a + 1} {b + 1}/{b + 1} {c + 1}/{c + 1}" for a, b, c in faces]
    return ("\n".join(lines) + "\n").encode()


def _write_png(path: Path, rgb: np.ndarray) -> None:
    from PIL import Image  # a dependency of trimesh's texture support (and of matplotlib)

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


@functools.lru_cache(maxsize=64)
def _convert_cached(path_str: str, key: str) -> ConvertedMesh:
    obj, png = cache_dir() / f"{key}.obj", cache_dir() / f"{key}.png"
    if obj.is_file():
        return ConvertedMesh(obj, png if png.is_file() else None)
    mesh = load_gltf(Path(path_str))
    uv, image = _texture_of(mesh)
    cache_dir().mkdir(parents=True, exist_ok=True)
    if image is not None:
        _write_png(png, image)  # the texture first: an OBJ in the cache means its PNG is there too
    write_bytes_atomic(obj, obj_with_uv(np.asarray(mesh.vertices), np.asarray(mesh.faces), uv))
    return ConvertedMesh(obj, png if image is not None else None)


def convert_gltf(path: Path) -> ConvertedMesh:
    """Return the cached OBJ (+ PNG texture) conversion of a glTF/GLB file, converting it on first use."""
    key = hashlib.sha256(_source_bytes(path) + f"|gltf|{GLTF_VERSION}".encode()).hexdigest()
    try:
        return _convert_cached(str(path), key)
    except OSError as exc:
        raise AssetError(f"cannot cache the conversion of '{path.name}' in {cache_dir()}: {exc.strerror}") from None
