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
from randomization.distributions import DIST_NAMES, Choice, Distribution, Scale
from scenes.spec import CameraSpec, SceneSpec
from sim.errors import SceneError

Dist = Distribution
XY = tuple[float, float]
Region = tuple[XY, XY]
WILDCARD = "*"


class Strict(BaseModel):
    """Base of the config models: frozen, unknown parameters rejected, finite numbers only."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class TextureRandomization(Strict):
    """Procedural texture (MuJoCo builtin textures; ignored by engines without them)."""

    kinds: tuple[Literal["checker", "noise", "gradient"], ...] = Field(("checker",), min_length=1)
    rgb1: Dist
    rgb2: Dist
    repeat: Dist | None = None


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


class PhysicalConfig(Strict):
    """Physical group: per-object dynamics, robot joint-damping factor, additive gravity offset (m/s^2)."""

    objects: dict[str, ObjectPhysics] = Field(default_factory=dict)
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


# ------------------------------------------------------------------------------- semantic checks

def _bounds(path: str, dist: Any, nominal: Any, lo: float | None, hi: float | None,
            open_lo: bool = False) -> None:
    if dist is None:
        return
    if isinstance(dist, Scale) and (nominal is None or nominal == 0):
        raise SceneError(f"{path}: 'scale' needs a nominal value and this parameter has none; give the value")
    sup = dist.support(nominal)
    if sup is None:
        raise SceneError(f"{path}: must be numeric")
    below = lo is not None and (sup[0] < lo or (open_lo and sup[0] <= lo))
    if below or (hi is not None and sup[1] > hi):
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise SceneError(f"{path}: values range over [{sup[0]:g}, {sup[1]:g}], outside the allowed "
                         f"{'(' if open_lo else '['}{lo_s}, {hi_s}]")


def _dims(path: str, dist: Any, allowed: tuple[int | None, ...]) -> None:
    if isinstance(dist, Choice) and isinstance(dist.values[0], str):
        raise SceneError(f"{path}: values must be numbers, not strings")
    if dist is not None and dist.dim not in allowed:
        want = " or ".join("a scalar" if a is None else f"{a} components" for a in allowed)
        raise SceneError(f"{path}: expected {want}, got {dist.dim} components")


def _targets(path: str, entries: dict[str, Any], known: list[str], kind: str, extra: tuple[str, ...] = ()) -> None:
    for name in entries:
        if name != WILDCARD and name not in known and name not in extra:
            names = ", ".join([*known, *extra]) or "none"
            raise SceneError(f"{path}.{name}: unknown {kind} '{name}' (scene {kind}s: {names})")


def _check_visual(cfg: VisualConfig, spec: SceneSpec, p: str) -> None:
    _targets(f"{p}.objects", cfg.objects, [o.name for o in spec.objects], "object", ("floor",))
    for name, ov in cfg.objects.items():
        _dims(f"{p}.objects.{name}.rgba", ov.rgba, (None, 3, 4))
        if ov.texture is not None:
            for f in ("rgb1", "rgb2"):
                _dims(f"{p}.objects.{name}.texture.{f}", getattr(ov.texture, f), (None, 3))
            _dims(f"{p}.objects.{name}.texture.repeat", ov.texture.repeat, (None,))
            _bounds(f"{p}.objects.{name}.texture.repeat", ov.texture.repeat, 1.0, 0.0, 100.0, open_lo=True)
    _targets(f"{p}.lights", cfg.lights, [li.name for li in spec.lights], "light")
    for name, lr in cfg.lights.items():
        for f in ("pos_jitter", "dir_jitter", "diffuse", "ambient"):
            _dims(f"{p}.lights.{name}.{f}", getattr(lr, f), (None, 3))
        for f in ("pos_jitter", "dir_jitter"):
            _bounds(f"{p}.lights.{name}.{f}", getattr(lr, f), None, None, None)


def _check_camera(cfg: CameraConfig, spec: SceneSpec, p: str) -> None:
    _targets(f"{p}.cameras", cfg.cameras, [c.name for c in spec.cameras], "camera")
    for name, cr in cfg.cameras.items():
        q = f"{p}.cameras.{name}"
        _dims(f"{q}.pos_jitter", cr.pos_jitter, (None, 3))
        _dims(f"{q}.look_at_jitter", cr.look_at_jitter, (None, 3))
        _dims(f"{q}.fovy_jitter", cr.fovy_jitter, (None,))
        for f in ("pos_jitter", "look_at_jitter", "fovy_jitter"):
            _bounds(f"{q}.{f}", getattr(cr, f), None, None, None)
        if name != WILDCARD and cr.look_at_jitter is not None and spec.camera(name).look_at is None:
            raise SceneError(f"{q}.look_at_jitter: camera '{name}' has no look_at (it uses quat)")
        cams = spec.cameras if name == WILDCARD else (spec.camera(name),)
        for cam in cams:
            if cr.fovy_jitter is not None:
                fov = nominal_fovy(cam)
                _bounds(f"{q}.fovy_jitter", cr.fovy_jitter, None, -fov + 1.0, 179.0 - fov)
            K = nominal_K(cam)
            for f, (i, j) in (("fx", (0, 0)), ("fy", (1, 1)), ("cx", (0, 2)), ("cy", (1, 2))):
                d = None if cr.intrinsics is None else getattr(cr.intrinsics, f)
                _dims(f"{q}.intrinsics.{f}", d, (None,))
                _bounds(f"{q}.intrinsics.{f}", d, None, -0.5 * K[i][j], 0.5 * K[i][j])


def _check_physical(cfg: PhysicalConfig, spec: SceneSpec, p: str) -> None:
    _targets(f"{p}.objects", cfg.objects, [o.name for o in spec.objects], "object")
    for name in cfg.objects:
        objs = spec.objects if name == WILDCARD else (spec.object(name),)
        op = cfg.objects[name]
        for f in ("mass", "friction", "restitution"):
            _dims(f"{p}.objects.{name}.{f}", getattr(op, f), (None,))
        for o in objs:
            _bounds(f"{p}.objects.{name}.mass", op.mass, o.mass, 0.0, 1000.0, open_lo=True)
            _bounds(f"{p}.objects.{name}.friction", op.friction, o.friction, 0.0, 10.0)
        _bounds(f"{p}.objects.{name}.restitution", op.restitution, None, 0.0, 1.0)
    _dims(f"{p}.joint_damping", cfg.joint_damping, (None,))
    _bounds(f"{p}.joint_damping", cfg.joint_damping, 1.0, 0.0, 100.0)
    _dims(f"{p}.gravity_jitter", cfg.gravity_jitter, (None, 3))
    _bounds(f"{p}.gravity_jitter", cfg.gravity_jitter, None, -20.0, 20.0)


def _check_placement(cfg: PlacementConfig, spec: SceneSpec, p: str) -> None:
    if WILDCARD in cfg.objects:
        raise SceneError(f"{p}.objects.*: placement needs a region per named object")
    _targets(f"{p}.objects", cfg.objects, [o.name for o in spec.objects], "object")
    for name, op in cfg.objects.items():
        _dims(f"{p}.objects.{name}.yaw", op.yaw, (None,))
        _bounds(f"{p}.objects.{name}.yaw", op.yaw, None, None, None)
    d = cfg.distractors
    if d is not None:
        q = f"{p}.distractors"
        _dims(f"{q}.count", d.count, (None,))
        _bounds(f"{q}.count", d.count, None, 0.0, 50.0)
        _dims(f"{q}.size", d.size, (None,))
        _bounds(f"{q}.size", d.size, 1.0, 0.0, 10.0, open_lo=True)


def _check_robot_action(cfg: RandomizationConfig, p: str) -> None:
    # (group, field, allowed dims, nominal, low, high, open low)
    for grp, f, dims, nom, lo, hi, open_lo in (
        ("robot", "init_qpos_noise", (None, 7), None, -3.2, 3.2, False),
        ("robot", "gain_scale", (None,), 1.0, 0.0, 10.0, True),
        ("action", "noise_std", (None,), None, 0.0, 1.0, False),
        ("action", "latency", (None,), None, 0.0, 10.0, False),
    ):
        d = getattr(getattr(cfg, grp), f)
        _dims(f"{p}.{grp}.{f}", d, dims)
        _bounds(f"{p}.{grp}.{f}", d, nom, lo, hi, open_lo)


SENSOR_NOMINAL = {"depth_noise_scale": 1.0, "subpixel": 0.08, "baseline": 0.05, "edge_dropout": 0.0,
                  "rgb_noise_std": 0.0, "blur_sigma": 0.0, "exposure_gain": 1.0}
SENSOR_BOUNDS = {"depth_noise_scale": (0.0, 100.0, False), "subpixel": (0.0, 1.0, False), "baseline": (0.0, 1.0, True),
                 "edge_dropout": (0.0, 1.0, False), "rgb_noise_std": (0.0, 255.0, False),
                 "blur_sigma": (0.0, 50.0, False), "exposure_gain": (0.0, 100.0, True)}  # (low, high, open low)


def _check_sensor(cfg: SensorConfig, spec: SceneSpec, p: str) -> None:
    _targets(f"{p}.cameras", cfg.cameras, [c.name for c in spec.cameras], "camera")
    for name, sr in cfg.cameras.items():
        for f, (lo, hi, open_lo) in SENSOR_BOUNDS.items():
            _dims(f"{p}.cameras.{name}.{f}", getattr(sr, f), (None,))
            _bounds(f"{p}.cameras.{name}.{f}", getattr(sr, f), SENSOR_NOMINAL[f] or None, lo, hi, open_lo)


def check_against_scene(cfg: RandomizationConfig, spec: SceneSpec, prefix: str = "randomization") -> None:
    """Raise SceneError if a target name is not in the scene or a parameter's range/shape is invalid."""
    _check_visual(cfg.visual, spec, f"{prefix}.visual")
    _check_camera(cfg.camera, spec, f"{prefix}.camera")
    _check_physical(cfg.physical, spec, f"{prefix}.physical")
    _check_placement(cfg.placement, spec, f"{prefix}.placement")
    _check_robot_action(cfg, prefix)
    _check_sensor(cfg.sensor, spec, f"{prefix}.sensor")
