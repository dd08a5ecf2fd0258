"""The ``randomization:`` section of a scene (or a ``--randomization FILE|preset``): typed and validated.

Targets are named: object, light and camera names of the scene, ``"floor"`` for the floor colour, and
``"*"`` for every target of that kind. An explicit entry overrides the wildcard field by field.
Field conventions (docs/randomization.md):

- ``*_jitter`` fields are additive offsets to the nominal value (their distribution ignores the nominal);
- other numeric fields give the value itself; use ``{dist: scale, ...}`` to multiply the nominal value;
- ``*_scale`` / ``gain_scale`` / ``joint_damping`` / ``size`` fields are factors whose nominal is 1.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from randomization.adaptive_settings import AdaptiveSettings
from randomization.distributions import DIST_NAMES, Distribution
from randomization.textures import TextureRandomization
from scenes.spec import CameraSpec

Dist = Distribution
XY = tuple[float, float]
Region = tuple[XY, XY]
WILDCARD = "*"


class Strict(BaseModel):
    """Base of the config models: frozen, unknown parameters rejected, finite numbers only."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ObjectVisual(Strict):
    """Colour (3 = rgb with alpha kept, or 4 components; clipped to [0, 1]) and texture."""

    rgba: Dist | None = None
    texture: TextureRandomization | None = None


class LightRandomization(Strict):
    """Light jitter: additive position/direction offsets; diffuse/ambient values clipped to [0, 1]."""

    pos_jitter: Dist | None = None
    dir_jitter: Dist | None = None
    diffuse: Dist | None = None
    ambient: Dist | None = None


class VisualConfig(Strict):
    """Visual group: ``objects`` by object name, ``floor`` or ``*``; ``lights`` by light name or ``*``."""

    objects: dict[str, ObjectVisual] = Field(default_factory=dict)
    lights: dict[str, LightRandomization] = Field(default_factory=dict)


class IntrinsicsJitter(Strict):
    """Additive pixel offsets to K entries (K derived from fovy when the camera has none)."""

    fx: Dist | None = None
    fy: Dist | None = None
    cx: Dist | None = None
    cy: Dist | None = None


class CameraRandomization(Strict):
    """Camera jitter: position and look-at offsets (m), fovy offset (degrees), intrinsics offsets (px)."""

    pos_jitter: Dist | None = None
    look_at_jitter: Dist | None = None
    fovy_jitter: Dist | None = None
    intrinsics: IntrinsicsJitter | None = None


class CameraConfig(Strict):
    """Camera group: ``cameras`` keyed by camera name or ``*``."""

    cameras: dict[str, CameraRandomization] = Field(default_factory=dict)


class ObjectPhysics(Strict):
    """Per-object dynamics: mass (kg), friction, restitution (no nominal: absolute values only)."""

    mass: Dist | None = None
    friction: Dist | None = None
    restitution: Dist | None = None


class ObjectJointPhysics(Strict):
    """An articulated object's joint dynamics, as factors on its URDF's damping and friction (all its joints)."""

    damping: Dist | None = None
    friction: Dist | None = None


class PhysicalConfig(Strict):
    """Physical group: per-object dynamics, articulated objects' joint damping and friction factors, robot
    joint-damping factor, additive gravity offset (m/s^2)."""

    objects: dict[str, ObjectPhysics] = Field(default_factory=dict)
    object_joints: dict[str, ObjectJointPhysics] = Field(default_factory=dict)
    joint_damping: Dist | None = None
    gravity_jitter: Dist | None = None


class ObjectPlacement(Strict):
    """Initial pose: the object's centre is drawn in ``region`` [[x_lo, y_lo], [x_hi, y_hi]]; z is kept."""

    region: Region
    yaw: Dist | None = None

    @model_validator(mode="after")
    def _check(self) -> ObjectPlacement:
        (xl, yl), (xh, yh) = self.region
        if xl > xh or yl > yh:
            raise ValueError("region: low > high")
        return self


class DistractorConfig(Strict):
    """Distractors from pybullet_data ``random_urdfs/NNN/NNN.urdf`` (structural: the world is rebuilt)."""

    count: Dist
    meshes: tuple[int, ...] = Field(tuple(range(1000)), min_length=1)
    size: Dist | None = None
    region: Region
    z: float = Field(0.5, description="spawn height of the distractor origin (m)")
    footprint_radius: float = Field(0.1, gt=0, le=1.0, description="xy radius at size 1 (m)")

    @model_validator(mode="after")
    def _check(self) -> DistractorConfig:
        bad = [m for m in self.meshes if not 0 <= m <= 999]
        if bad:
            raise ValueError(f"meshes: indices must be in 0..999, got {bad[0]}")
        (xl, yl), (xh, yh) = self.region
        if xl > xh or yl > yh:
            raise ValueError("region: low > high")
        return self


class PlacementConfig(Strict):
    """Placement group: non-overlapping initial poses; ``min_separation``: clearance between footprints."""

    objects: dict[str, ObjectPlacement] = Field(default_factory=dict)
    min_separation: float = Field(0.0, ge=0, le=1.0)
    max_attempts: int = Field(1000, ge=1, le=100_000)
    distractors: DistractorConfig | None = None


class RobotRandomization(Strict):
    """Robot group: additive initial joint noise (rad, 7 or scalar) and a controller gain factor."""

    init_qpos_noise: Dist | None = None
    gain_scale: Dist | None = None


class ActionRandomization(Strict):
    """Action group: per-episode std of additive Gaussian action noise, and latency in control steps."""

    noise_std: Dist | None = None
    latency: Dist | None = None


class SensorRandomization(Strict):
    """Sensor model of one camera (see renderers/noise.py); absent fields mean 'off' / the default."""

    depth_model: Literal["none", "kinect", "realsense"] = "none"
    depth_noise_scale: Dist | None = None
    subpixel: Dist | None = None
    baseline: Dist | None = None
    edge_dropout: Dist | None = None
    edge_threshold: float = Field(0.02, gt=0, description="depth step (m) that marks an edge pixel")
    rgb_noise_std: Dist | None = None
    blur_sigma: Dist | None = None
    exposure_gain: Dist | None = None


class SensorConfig(Strict):
    """Sensor group: ``cameras`` keyed by camera name or ``*``."""

    cameras: dict[str, SensorRandomization] = Field(default_factory=dict)


class RandomizationConfig(Strict):
    """The whole randomization config; every group is optional (empty = off)."""

    visual: VisualConfig = VisualConfig()
    camera: CameraConfig = CameraConfig()
    physical: PhysicalConfig = PhysicalConfig()
    placement: PlacementConfig = PlacementConfig()
    robot: RobotRandomization = RobotRandomization()
    action: ActionRandomization = ActionRandomization()
    sensor: SensorConfig = SensorConfig()
    adaptive: AdaptiveSettings | None = None  # generate --adaptive / --focus-failures settings (not sampled)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain JSON-compatible data (None fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


def resolve(entries: dict[str, Any], name: str) -> Any:
    """Return the effective entry for ``name``: the wildcard entry overridden field by field."""
    wild, own = entries.get(WILDCARD), entries.get(name)
    if wild is None or own is None:
        return own if own is not None else wild
    merged = {k: getattr(own, k) for k in own.model_fields_set} | {
        k: getattr(wild, k) for k in wild.model_fields_set if k not in own.model_fields_set
    }
    return type(own).model_validate(merged)


def nominal_fovy(cam: CameraSpec) -> float:
    """Return the camera's vertical field of view in degrees (from K when it has one)."""
    if cam.K is not None:
        return math.degrees(2.0 * math.atan(cam.height / (2.0 * cam.K[1][1])))
    return float(cam.fovy if cam.fovy is not None else 45.0)


def nominal_K(cam: CameraSpec) -> list[list[float]]:
    """Return the camera's 3x3 K: its own, or pinhole from fovy (square pixels, centre ((W-1)/2, (H-1)/2))."""
    if cam.K is not None:
        return [list(map(float, row)) for row in cam.K]
    f = cam.height / (2.0 * math.tan(math.radians(nominal_fovy(cam)) / 2.0))
    return [[f, 0.0, (cam.width - 1) / 2.0], [0.0, f, (cam.height - 1) / 2.0], [0.0, 0.0, 1.0]]


# ------------------------------------------------------------------------------------------ errors

_SKIP_LOC = set(DIST_NAMES) | {"float", "int", "str", "list[float]", "bool", "none"}
_SKIP_PREFIX = ("function-", "tagged-union[", "tuple[", "list[", "literal[")


def format_error(err: ValidationError, prefix: str = "randomization") -> str:
    """Return one line naming the first bad field, e.g. ``randomization.physical.objects.cube.masss: ...``."""
    e = err.errors()[0]
    path, prev = prefix, ""
    for part in e.get("loc", ()):
        if isinstance(part, int):
            path += f"[{part}]"
        elif prev in ("objects", "lights", "cameras") or not (
                str(part) in _SKIP_LOC or str(part).startswith(_SKIP_PREFIX)):
            path += f".{part}"  # a target name is kept even if it looks like a union tag
        prev = str(part)
    kind, msg = e.get("type", ""), e.get("msg", "invalid").removeprefix("Value error, ")
    if kind == "extra_forbidden":
        msg = f"unknown parameter '{e['loc'][-1]}'"
    elif kind == "union_tag_not_found":
        msg = f"missing 'dist' (one of {', '.join(DIST_NAMES)})"
    elif kind == "union_tag_invalid":
        msg = f"unknown distribution '{e['ctx']['tag']}' (one of {', '.join(DIST_NAMES)})"
    elif kind == "missing":
        msg = "required parameter missing"
    return f"{path}: {msg}"
