"""Texture randomization: procedural patterns (checker, noise, gradient) and images, by default the project's
shipped textures (``assets/textures/*.png``: wood, tiles, fabric, metal, marble, checker).

A sampled texture is plain data recorded with the episode: ``{kind, rgb1, rgb2, repeat}`` plus ``image`` (the
asset path, e.g. ``textures/wood.png``) for the ``image`` kind. The image is drawn from the visual stream
after the other values, so configs without the ``image`` kind sample exactly what they sampled before it existed.
Both engines paint it (``sim.mujoco_textures``, ``sim.pybullet_textures``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from randomization.distributions import Distribution
from sim.assets import ASSETS_DIR

SHIPPED_TEXTURES: tuple[str, ...] = tuple(f"textures/{p.name}" for p in sorted((ASSETS_DIR / "textures").glob("*.png")))
TextureKind = Literal["checker", "noise", "gradient", "image"]


class TextureRandomization(BaseModel):
    """A texture: procedural (colours ``rgb1``/``rgb2``, nominal = the target's colour) or one of ``images``
    (asset paths under ``assets/`` or ``pybullet_data``; default: the shipped textures). ``repeat``: tiles per
    face on objects, per metre on the floor."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    kinds: tuple[TextureKind, ...] = Field(("checker",), min_length=1)
    rgb1: Distribution | None = None
    rgb2: Distribution | None = None
    repeat: Distribution | None = None
    images: tuple[str, ...] = Field(SHIPPED_TEXTURES, min_length=1, description="image assets the image kind uses")


def clip01(v: Any) -> list[float]:
    """Return the values of ``v`` clipped to [0, 1] (colours)."""
    return [min(1.0, max(0.0, float(x))) for x in v]


def sample_texture(t: TextureRandomization, rng: np.random.Generator, nominal_rgb: list[float]) -> dict[str, Any]:
    """Return one sampled texture (plain JSON data) for a target whose nominal colour is ``nominal_rgb``."""
    kind = t.kinds[int(rng.integers(len(t.kinds)))]
    out: dict[str, Any] = {
        "kind": kind,
        "rgb1": clip01(nominal_rgb if t.rgb1 is None else t.rgb1.sample_vector(rng, nominal_rgb)),
        "rgb2": clip01(nominal_rgb if t.rgb2 is None else t.rgb2.sample_vector(rng, nominal_rgb)),
        "repeat": 1.0 if t.repeat is None else t.repeat.sample_float(rng, 1.0),
    }
    if kind == "image":
        out["image"] = t.images[int(rng.integers(len(t.images)))]
    return out


def image_problem(path: str) -> str | None:
    """Return why ``path`` cannot be a texture image, or None."""
    from sim.assets import resolve_asset
    from sim.errors import AssetError

    try:
        resolve_asset(path)
    except AssetError as exc:
        return str(exc)
    return None if path.lower().endswith((".png", ".jpg", ".jpeg")) else f"'{path}' is not a PNG or JPEG image"
