"""Per-episode sampled parameters: a pure function of (config, scene, dataset seed, episode index).

Each group draws from its own named seed stream (randomization/seeding.py), so enabling one group never
changes the values of another. ``apply_to_spec`` bakes every value the scene format has a field for into
a new SceneSpec (including the noisy initial joints); the rest (textures, restitution, damping, gains,
action noise and latency, sensor models) stays in ``EpisodeParams`` for the engine-side apply.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from randomization.config import RandomizationConfig, nominal_fovy, nominal_K, resolve
from randomization.scene_checks import SENSOR_NOMINAL
from randomization.seeding import stream
from randomization.textures import clip01, sample_texture
from scenes.spec import CameraSpec, LightSpec, ObjectSpec, Pose, SceneSpec
from sim.errors import SceneError

PARAMS_VERSION = 1
MAX_RESTARTS = 20


@dataclass(frozen=True)
class EpisodeParams:
    """Every sampled value of one episode, as plain JSON data keyed by scene names (see docs)."""

    dataset_seed: int
    episode_index: int
    visual: dict[str, Any] = field(default_factory=dict)
    camera: dict[str, Any] = field(default_factory=dict)
    physical: dict[str, Any] = field(default_factory=dict)
    placement: dict[str, Any] = field(default_factory=dict)
    distractors: list[dict[str, Any]] = field(default_factory=list)
    robot: dict[str, Any] = field(default_factory=dict)
    action: dict[str, Any] = field(default_factory=dict)
    sensor: dict[str, Any] = field(default_factory=dict)
    version: int = PARAMS_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Return a deep copy as plain dicts/lists."""
        return json.loads(self.to_json())

    def to_json(self) -> str:
        """Return canonical JSON (sorted keys; floats round-trip exactly)."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpisodeParams:
        """Return the params stored in ``data`` (ValueError on unknown keys or a newer version)."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"episode params: unknown keys {sorted(unknown)}")
        if int(data.get("version", PARAMS_VERSION)) > PARAMS_VERSION:
            raise ValueError(f"episode params version {data['version']} is newer than {PARAMS_VERSION}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> EpisodeParams:
        """Return the params encoded by ``to_json``."""
        return cls.from_dict(json.loads(text))

    def structural_key(self) -> tuple[tuple[int, float], ...]:
        """Return what forces a world rebuild: the (mesh index, size) of every distractor, in order."""
        return tuple((int(d["mesh"]), float(d["size"])) for d in self.distractors)


# --------------------------------------------------------------------------------------- helpers

def _add(a: Any, b: Any) -> list[float]:
    return [float(x) + float(y) for x, y in zip(a, b, strict=True)]


def quat_mul(q: Any, r: Any) -> list[float]:
    """Return the Hamilton product q * r of (w, x, y, z) quaternions."""
    w1, x1, y1, z1 = q
    w2, x2, y2, z2 = r
    return [w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2]


def yaw_quat(yaw: float) -> list[float]:
    """Return the (w, x, y, z) quaternion of a rotation by ``yaw`` about world z."""
    return [math.cos(yaw / 2.0), 0.0, 0.0, math.sin(yaw / 2.0)]


def footprint_radius(obj: ObjectSpec) -> float:
    """Return the radius of a circle (xy, about the origin) that contains the object at its nominal tilt."""
    s = [x * obj.scale for x in obj.size]
    if obj.shape == "sphere":
        return s[0]
    half = {"box": (s[0] / 2, s[1] / 2, s[2] / 2) if len(s) == 3 else None,
            "cylinder": (s[0], s[0], s[1] / 2) if len(s) == 2 else None,
            "capsule": (s[0], s[0], s[1] / 2 + s[0]) if len(s) == 2 else None}.get(obj.shape)
    if half is None:  # mesh / urdf: size is taken as the bounding box (or one radius-like extent)
        half = (s[0] / 2, s[1] / 2, s[2] / 2) if len(s) == 3 else (max(s), max(s), max(s))
    w, x, y, z = obj.pose.quat
    R = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                  [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                  [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])
    corners = np.array([[sx * half[0], sy * half[1], sz * half[2]]
                        for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) @ R.T
    return float(np.max(np.hypot(corners[:, 0], corners[:, 1])))


def _draw_xy(rng: np.random.Generator, region: Any) -> tuple[float, float]:
    (xl, yl), (xh, yh) = region
    u = rng.random(2)
    return xl + (xh - xl) * float(u[0]), yl + (yh - yl) * float(u[1])


def _free(xy: tuple[float, float], r: float, taken: list[tuple[float, float, float]], gap: float) -> bool:
    return all(math.hypot(xy[0] - x, xy[1] - y) >= r + rr + gap for x, y, rr in taken)


# ---------------------------------------------------------------------------------------- groups

def _sample_visual(cfg: RandomizationConfig, spec: SceneSpec, rng: np.random.Generator) -> dict[str, Any]:
    out: dict[str, Any] = {"rgba": {}, "textures": {}, "lights": {}}
    targets = [(o.name, list(o.rgba), True) for o in spec.objects]
    if spec.floor:
        targets.append(("floor", list(spec.floor_rgba), False))
    for name, nominal, wild in targets:
        ent = resolve(cfg.visual.objects, name) if wild else cfg.visual.objects.get(name)
        if ent is None:
            continue
        if ent.rgba is not None:
            if ent.rgba.dim == 4:
                out["rgba"][name] = clip01(ent.rgba.sample_vector(rng, nominal))
            else:
                out["rgba"][name] = clip01(ent.rgba.sample_vector(rng, nominal[:3])) + [nominal[3]]
        if ent.texture is not None:
            out["textures"][name] = sample_texture(ent.texture, rng, nominal[:3])
    for light in spec.lights:
        ent = resolve(cfg.visual.lights, light.name)
        if ent is not None:
            out["lights"][light.name] = _sample_light(ent, light, rng)
    return {k: v for k, v in out.items() if v}


def _sample_light(ent: Any, light: LightSpec, rng: np.random.Generator) -> dict[str, Any]:
    pos, d = list(light.pos), list(light.dir)
    if ent.pos_jitter is not None:
        pos = _add(pos, ent.pos_jitter.sample(rng, [0.0] * 3))
    if ent.dir_jitter is not None:
        cand = np.asarray(_add(d, ent.dir_jitter.sample(rng, [0.0] * 3)))
        n = float(np.linalg.norm(cand))
        d = [float(x) / n for x in cand] if n > 1e-6 else d
    colours = {}
    for key in ("diffuse", "ambient"):
        dist, nominal = getattr(ent, key), [float(x) for x in getattr(light, key)]
        colours[key] = nominal if dist is None else clip01(dist.sample(rng, nominal))
    return {"pos": [float(x) for x in pos], "dir": [float(x) for x in d], **colours}


def _sample_camera(ent: Any, cam: CameraSpec, rng: np.random.Generator) -> dict[str, Any]:
    out: dict[str, Any] = {"pos": [float(x) for x in cam.pos]}
    if ent.pos_jitter is not None:
        out["pos"] = _add(cam.pos, ent.pos_jitter.sample(rng, [0.0] * 3))
    if cam.look_at is not None:
        out["look_at"] = [float(x) for x in cam.look_at]
        if ent.look_at_jitter is not None:
            out["look_at"] = _add(cam.look_at, ent.look_at_jitter.sample(rng, [0.0] * 3))
    fov0 = nominal_fovy(cam)
    fov = fov0 if ent.fovy_jitter is None else fov0 + float(ent.fovy_jitter.sample(rng))
    out["fovy"] = fov
    if cam.K is not None or ent.intrinsics is not None:
        K = nominal_K(cam)
        ratio = math.tan(math.radians(fov0) / 2) / math.tan(math.radians(fov) / 2)
        K[0][0] *= ratio
        K[1][1] *= ratio
        for f, (i, j) in (("fx", (0, 0)), ("fy", (1, 1)), ("cx", (0, 2)), ("cy", (1, 2))):
            d = None if ent.intrinsics is None else getattr(ent.intrinsics, f)
            if d is not None:
                K[i][j] += float(d.sample(rng))
        out["K"] = K
        out["fovy"] = math.degrees(2.0 * math.atan(cam.height / (2.0 * K[1][1])))
    return out


def _sample_physical(cfg: RandomizationConfig, spec: SceneSpec, rng: np.random.Generator) -> dict[str, Any]:
    pc = cfg.physical
    out: dict[str, Any] = {"mass": {}, "friction": {}, "restitution": {}}
    for o in spec.objects:
        ent = resolve(pc.objects, o.name)
        if ent is None:
            continue
        own = pc.objects.get(o.name)
        mass_d = ent.mass if (not o.fixed or (own is not None and own.mass is not None)) else None
        if mass_d is not None:
            out["mass"][o.name] = mass_d.sample_float(rng, o.mass)
        if ent.friction is not None:
            out["friction"][o.name] = ent.friction.sample_float(rng, o.friction)
        if ent.restitution is not None:
            out["restitution"][o.name] = ent.restitution.sample_float(rng)
    if pc.joint_damping is not None:
        out["joint_damping_scale"] = pc.joint_damping.sample_float(rng, 1.0)
    if pc.gravity_jitter is not None:
        out["gravity"] = _add(spec.physics.gravity, pc.gravity_jitter.sample(rng, [0.0] * 3))
    out["joint_dynamics_scale"] = _sample_joint_dynamics(pc, spec, rng)
    return {k: v for k, v in out.items() if v != {}}


def _sample_joint_dynamics(pc: Any, spec: SceneSpec, rng: np.random.Generator) -> dict[str, dict[str, float]]:
    """Return {articulated object: {"damping": factor, "friction": factor}} (drawn after every other physical
    value, so scenes without articulated objects draw exactly what they drew before)."""
    out: dict[str, dict[str, float]] = {}
    for o in spec.objects:
        ent = resolve(pc.object_joints, o.name) if o.shape == "articulated" else None
        if ent is None:
            continue
        factors = {key: dist.sample_float(rng, 1.0) for key, dist in (("damping", ent.damping),
                                                                       ("friction", ent.friction))
                   if dist is not None}
        if factors:
            out[o.name] = factors
    return out


def _sample_placement(cfg: RandomizationConfig, spec: SceneSpec, rng: np.random.Generator) -> dict[str, Any]:
    pl = cfg.placement
    placed = [o for o in spec.objects if o.name in pl.objects]
    fixed_obstacles = [(o.pose.pos[0], o.pose.pos[1], footprint_radius(o)) for o in spec.objects
                       if o.name not in pl.objects and not o.fixed and o.collide]
    for _restart in range(MAX_RESTARTS):
        taken = list(fixed_obstacles)
        out: dict[str, Any] = {}
        for o in placed:
            ent, r = pl.objects[o.name], footprint_radius(o)
            for _ in range(pl.max_attempts):
                xy = _draw_xy(rng, ent.region)
                if _free(xy, r, taken, pl.min_separation):
                    break
            else:
                break
            taken.append((xy[0], xy[1], r))
            quat = list(o.pose.quat)
            if ent.yaw is not None:
                quat = quat_mul(yaw_quat(ent.yaw.sample_float(rng)), quat)
            out[o.name] = {"pos": [xy[0], xy[1], float(o.pose.pos[2])], "quat": [float(q) for q in quat]}
        else:
            return out
    raise SceneError(f"randomization.placement: could not place {[o.name for o in placed]} without overlap "
                     f"in {MAX_RESTARTS} x {pl.max_attempts} attempts; enlarge the regions or lower "
                     f"min_separation")


def _sample_distractors(cfg: RandomizationConfig, spec: SceneSpec, placement: dict[str, Any],
                        rng: np.random.Generator) -> list[dict[str, Any]]:
    dc, pl = cfg.placement.distractors, cfg.placement
    if dc is None:
        return []
    taken = []
    for o in spec.objects:
        if o.fixed or not o.collide:
            continue
        pos = placement.get(o.name, {}).get("pos", o.pose.pos)
        taken.append((float(pos[0]), float(pos[1]), footprint_radius(o)))
    n = max(0, min(50, int(round(dc.count.sample_float(rng)))))
    out: list[dict[str, Any]] = []
    for i in range(n):
        mesh = int(dc.meshes[int(rng.integers(len(dc.meshes)))])
        size = 1.0 if dc.size is None else dc.size.sample_float(rng, 1.0)
        yaw = float(rng.uniform(-math.pi, math.pi))
        rgba = [float(x) for x in rng.uniform(0.05, 0.95, 3)] + [1.0]
        r = dc.footprint_radius * size
        for _ in range(pl.max_attempts):
            xy = _draw_xy(rng, dc.region)
            if _free(xy, r, taken, pl.min_separation):
                taken.append((xy[0], xy[1], r))
                out.append({"name": f"distractor_{i}", "mesh": mesh,
                            "asset": f"random_urdfs/{mesh:03d}/{mesh:03d}.urdf", "size": size,
                            "pos": [xy[0], xy[1], float(dc.z)], "quat": yaw_quat(yaw), "rgba": rgba,
                            "footprint_radius": r})
                break
    return out  # distractors that found no free spot are dropped (deterministically)


def _sample_robot(cfg: RandomizationConfig, spec: SceneSpec, rng: np.random.Generator) -> dict[str, Any]:
    rc = cfg.robot
    out: dict[str, Any] = {}
    if rc.init_qpos_noise is not None:
        noise = [float(x) for x in rc.init_qpos_noise.sample_vector(rng, [0.0] * 7)]
        out["joint_noise"] = noise
        out["init_qpos"] = _add(spec.robot.init_qpos, noise)
    if rc.gain_scale is not None:
        out["gain_scale"] = rc.gain_scale.sample_float(rng, 1.0)
    return out


def _sample_action(cfg: RandomizationConfig, rng: np.random.Generator) -> dict[str, Any]:
    ac = cfg.action
    out: dict[str, Any] = {}
    if ac.noise_std is not None:
        out["noise_std"] = ac.noise_std.sample_float(rng)
    if ac.latency is not None:
        out["latency"] = max(0, int(round(ac.latency.sample_float(rng))))
    return out


def _sample_sensor(ent: Any, fy: float, rng: np.random.Generator) -> dict[str, Any]:
    out: dict[str, Any] = {"depth_model": ent.depth_model, "edge_threshold": float(ent.edge_threshold),
                           "focal_px": float(fy)}
    for f, nominal in SENSOR_NOMINAL.items():
        d = getattr(ent, f)
        out[f] = float(nominal) if d is None else float(d.sample(rng, nominal or None))
    return out


def _focal_px(cam: CameraSpec, sampled: dict[str, Any] | None) -> float:
    if sampled is None:
        return nominal_K(cam)[1][1]
    if "K" in sampled:
        return float(sampled["K"][1][1])
    return cam.height / (2.0 * math.tan(math.radians(sampled["fovy"]) / 2.0))


def sample_episode_params(config: RandomizationConfig, spec: SceneSpec, dataset_seed: int,
                          episode_index: int) -> EpisodeParams:
    """Return the parameters of one episode: a pure function of its arguments (one stream per group)."""
    def rng(purpose: str) -> np.random.Generator:
        return stream(dataset_seed, episode_index, purpose)

    cam_rng = rng("camera")
    cameras = {c.name: _sample_camera(e, c, cam_rng) for c in spec.cameras
               if (e := resolve(config.camera.cameras, c.name)) is not None}
    sens_rng = rng("sensor")
    sensor = {c.name: _sample_sensor(e, _focal_px(c, cameras.get(c.name)), sens_rng) for c in spec.cameras
              if (e := resolve(config.sensor.cameras, c.name)) is not None}
    placement = _sample_placement(config, spec, rng("placement"))
    return EpisodeParams(
        dataset_seed=int(dataset_seed), episode_index=int(episode_index),
        visual=_sample_visual(config, spec, rng("visual")), camera=cameras,
        physical=_sample_physical(config, spec, rng("physics")), placement=placement,
        distractors=_sample_distractors(config, spec, placement, rng("distractors")),
        robot=_sample_robot(config, spec, rng("robot")), action=_sample_action(config, rng("action")),
        sensor=sensor,
    )


# ----------------------------------------------------------------------------------------- apply

def _apply_object(o: ObjectSpec, p: EpisodeParams) -> ObjectSpec:
    upd: dict[str, Any] = {}
    if o.name in p.visual.get("rgba", {}):
        upd["rgba"] = tuple(p.visual["rgba"][o.name])
    for key in ("mass", "friction"):
        if o.name in p.physical.get(key, {}):
            upd[key] = p.physical[key][o.name]
    if o.name in p.placement:
        pose = p.placement[o.name]
        upd["pose"] = Pose(pos=tuple(pose["pos"]), quat=tuple(pose["quat"]))
    return o.model_copy(update=upd) if upd else o


def _apply_camera(c: CameraSpec, p: EpisodeParams) -> CameraSpec:
    cp = p.camera.get(c.name)
    if cp is None:
        return c
    upd: dict[str, Any] = {"pos": tuple(cp["pos"]), "fovy": cp["fovy"]}
    if "look_at" in cp:
        upd["look_at"] = tuple(cp["look_at"])
    if "K" in cp:
        upd["K"] = tuple(tuple(row) for row in cp["K"])
    return c.model_copy(update=upd)


def apply_to_spec(spec: SceneSpec, params: EpisodeParams) -> SceneSpec:
    """Return a new, validated SceneSpec with every sampled value that has a scene field baked in."""
    lights = tuple(li.model_copy(update={k: tuple(v) for k, v in params.visual["lights"][li.name].items()})
                   if li.name in params.visual.get("lights", {}) else li for li in spec.lights)
    objects = [_apply_object(o, params) for o in spec.objects]
    names = {d["name"] for d in params.distractors}
    objects = [o for o in objects if o.name not in names] + [
        ObjectSpec(name=d["name"], shape="urdf", asset=d["asset"], scale=d["size"],
                   pose=Pose(pos=tuple(d["pos"]), quat=tuple(d["quat"])), rgba=tuple(d["rgba"]),
                   semantic_class="distractor")
        for d in params.distractors
    ]
    upd: dict[str, Any] = {"objects": tuple(objects), "lights": lights,
                           "cameras": tuple(_apply_camera(c, params) for c in spec.cameras)}
    if "floor" in params.visual.get("rgba", {}):
        upd["floor_rgba"] = tuple(params.visual["rgba"]["floor"])
    if "init_qpos" in params.robot:
        upd["robot"] = spec.robot.model_copy(update={"init_qpos": tuple(params.robot["init_qpos"])})
    if "gravity" in params.physical:
        upd["physics"] = spec.physics.model_copy(update={"gravity": tuple(params.physical["gravity"])})
    return SceneSpec.model_validate(spec.model_copy(update=upd).model_dump())


__all__ = ["EpisodeParams", "apply_to_spec", "footprint_radius", "sample_episode_params"]
