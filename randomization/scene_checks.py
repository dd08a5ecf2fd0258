"""Semantic checks of a randomization config against its scene: targets exist, values stay in physical bounds,
vectors have the right number of components (the models in ``randomization.config`` check the types)."""

from __future__ import annotations

from typing import Any

from randomization.config import (
    WILDCARD,
    CameraConfig,
    PhysicalConfig,
    PlacementConfig,
    RandomizationConfig,
    SensorConfig,
    VisualConfig,
    nominal_fovy,
    nominal_K,
)
from randomization.distributions import Choice, Scale
from randomization.textures import image_problem
from scenes.spec import SceneSpec
from sim.errors import SceneError


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
            for i, image in enumerate(ov.texture.images):
                if (problem := image_problem(image)) is not None:
                    raise SceneError(f"{p}.objects.{name}.texture.images[{i}]: {problem}")
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
