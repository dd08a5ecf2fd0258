"""The scene format: typed, frozen, validated models.

A scene is plain data. Backends compile it; nothing here imports an engine.

Units and conventions (documented in docs/scene_format.md):
- lengths in metres, angles in radians, masses in kg;
- quaternions are (w, x, y, z);
- ``size`` of a primitive is its *full* extent: box ``[x, y, z]``, sphere ``[radius]``,
  cylinder / capsule ``[radius, length]`` (length of the cylindrical part); of a mesh, its scaled bounding box
  (the loader fills it in from the file when not given);
- colours are RGBA in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Vec3 = tuple[float, float, float]
MAX_COORD = 1000.0  # metres: a scene position farther from the origin is a typo (and overflows engine maths)
Coord = Annotated[float, Field(ge=-MAX_COORD, le=MAX_COORD)]
Point3 = tuple[Coord, Coord, Coord]  # a position in the world (m)
Quat = tuple[float, float, float, float]
RGBA = tuple[
    Annotated[float, Field(ge=0, le=1)],
    Annotated[float, Field(ge=0, le=1)],
    Annotated[float, Field(ge=0, le=1)],
    Annotated[float, Field(ge=0, le=1)],
]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")]


class Frozen(BaseModel):
    """Base for all spec models: immutable, unknown fields rejected, numbers finite (NaN/inf rejected:
    they would not survive the JSON round trip a scene makes to the generate workers)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Pose(Frozen):
    """A rigid pose: position (m) and unit quaternion (w, x, y, z)."""

    pos: Point3 = (0.0, 0.0, 0.0)
    quat: Quat = (1.0, 0.0, 0.0, 0.0)

    @field_validator("pos")
    @classmethod
    def _finite_pos(cls, v: Point3) -> Point3:
        if not all(math.isfinite(x) for x in v):
            raise ValueError("must be finite")
        return v

    @field_validator("quat")
    @classmethod
    def _unit_quat(cls, v: Quat) -> Quat:
        n = math.sqrt(sum(x * x for x in v))
        if not math.isfinite(n) or n < 1e-9:
            raise ValueError("must be a non-zero quaternion (w, x, y, z)")
        return tuple(float(x) / n for x in v)  # type: ignore[return-value]


class ControllerSpec(Frozen):
    """How actions map to joint targets (identical on every backend)."""

    mode: Literal["ee_delta", "joint_pos"] = "ee_delta"
    max_pos_delta: float = Field(0.02, gt=0, le=0.2, description="metres per control step at |a|=1")
    max_yaw_delta: float = Field(0.1, gt=0, le=1.0, description="radians per control step at |a|=1")
    workspace_low: Point3 = (0.2, -0.5, 0.0)
    workspace_high: Point3 = (0.8, 0.5, 0.7)
    arm_kp: float = Field(4500.0, gt=0, description="MuJoCo arm position gain (N m / rad)")
    arm_kv: float = Field(120.0, ge=0, description="MuJoCo arm damping gain (N m s / rad)")
    gripper_kp: float = Field(400.0, gt=0)
    gripper_force: float = Field(20.0, gt=0, description="finger force limit (N), both engines")


class RobotSpec(Frozen):
    """The robot: model name, base pose, initial joints and controller."""

    model: Literal["panda"] = "panda"
    base: Pose = Pose()
    init_qpos: tuple[float, float, float, float, float, float, float] = (
        0.0, -0.3, 0.0, -2.2, 0.0, 1.9, 0.785398,
    )
    init_gripper: float = Field(0.04, ge=0.0, le=0.04, description="finger opening (m, each finger)")
    controller: ControllerSpec = ControllerSpec()


class ObjectSpec(Frozen):
    """One scene object: a primitive, a mesh, a single-link URDF or an articulated URDF (joints)."""

    name: Name
    shape: Literal["box", "sphere", "cylinder", "capsule", "mesh", "urdf", "articulated"] = "box"
    size: tuple[float, ...] = (0.04, 0.04, 0.04)
    asset: str | None = Field(None, description="path for mesh/urdf shapes (scene dir, assets/, pybullet_data)")
    scale: float = Field(1.0, gt=0)
    pose: Pose = Pose()
    mass: float = Field(0.1, gt=0, le=1000)
    density: float | None = Field(
        None, gt=0, le=30_000, description="kg/m^3: mass = density x volume (a mesh's enclosed volume, which "
        "needs a closed mesh); give mass or density, not both. The loader turns it into mass",
    )
    friction: float = Field(1.0, ge=0, le=10)
    rgba: RGBA = (0.8, 0.2, 0.2, 1.0)
    semantic_class: Name = "object"
    fixed: bool = False
    collide: bool = True
    joint_positions: dict[str, float] = Field(
        default_factory=dict, description="articulated: initial position of named joints (m or rad; default 0 "
        "clipped into the joint's limits)",
    )

    @field_validator("size")
    @classmethod
    def _positive_size(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any((not math.isfinite(x)) or x <= 0 for x in v):
            raise ValueError("must be > 0")
        return v

    @model_validator(mode="after")
    def _shape_fields(self) -> ObjectSpec:
        need = {"box": 3, "sphere": 1, "cylinder": 2, "capsule": 2}
        if self.shape in need and len(self.size) != need[self.shape]:
            raise ValueError(f"size: {self.shape} needs {need[self.shape]} values, got {len(self.size)}")
        if self.shape in ("mesh", "urdf", "articulated") and not self.asset:
            raise ValueError(f"asset: required for shape '{self.shape}'")
        if self.density is not None and "mass" in self.model_fields_set:
            raise ValueError("density: give mass or density, not both")
        if self.density is not None and self.shape in ("urdf", "articulated"):
            raise ValueError(f"density: not supported for {self.shape} objects (their URDF gives the mass)")
        if self.shape == "articulated" and self.scale != 1.0:
            raise ValueError("scale: articulated objects keep their URDF's size (scale must be 1)")
        if self.joint_positions and self.shape != "articulated":
            raise ValueError("joint_positions: only articulated objects have joints")
        if not all(math.isfinite(v) for v in self.joint_positions.values()):
            raise ValueError("joint_positions: values must be finite")
        return self


class LightSpec(Frozen):
    """A light: directional (sun-like) or spot/point at a position."""

    name: Name
    pos: Point3 = (0.0, 0.0, 2.0)
    dir: Vec3 = (0.0, 0.0, -1.0)
    directional: bool = True
    diffuse: Vec3 = (0.7, 0.7, 0.7)
    ambient: Vec3 = (0.3, 0.3, 0.3)
    specular: Vec3 = (0.2, 0.2, 0.2)
    cast_shadow: bool = True


class CameraSpec(Frozen):
    """A camera: pose (or look-at), intrinsics (fovy or full K), resolution, modalities.

    ``attach_to`` names a robot link (for a wrist camera); the pose is then relative to that link.
    """

    name: Name
    pos: Point3 = (1.0, 0.0, 1.0)
    look_at: Point3 | None = (0.5, 0.0, 0.4)
    up: Vec3 = (0.0, 0.0, 1.0)
    quat: Quat | None = Field(None, description="camera orientation (OpenCV frame) if look_at is null")
    fovy: float | None = Field(45.0, gt=0, lt=180, description="vertical field of view in degrees")
    K: tuple[Vec3, Vec3, Vec3] | None = None
    distortion: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0)
    width: int = Field(128, ge=1, le=4096)
    height: int = Field(128, ge=1, le=4096)
    near: float = Field(0.01, gt=0)
    far: float = Field(10.0, gt=0)
    modalities: tuple[Literal["rgb", "depth", "segmentation"], ...] = ("rgb", "depth", "segmentation")
    attach_to: str | None = None
    calibration: str | None = Field(
        None, description="OpenCV or ROS camera_info calibration file (scene folder / assets/): sets K, "
        "distortion, width and height",
    )

    @model_validator(mode="after")
    def _check(self) -> CameraSpec:
        if self.far <= self.near:
            raise ValueError("far: must be > near")
        if self.look_at is None and self.quat is None:
            raise ValueError("look_at: either look_at or quat is required")
        return self


class TaskSpec(Frozen):
    """The task: a registered name (or ``module:TaskClass`` of your own) plus its parameters."""

    name: str = Field(
        "pick_place", min_length=1, max_length=200,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?$",
        description="a registered task (built-in: pick_place, reach, push, stack, clutter, pick_mesh, open_drawer; "
        "none for no task) or 'module:TaskClass' / 'module:registered_name' of your own (the module is imported from "
        "the scene's folder or sys.path; see docs/tasks.md)",
    )
    horizon: int = Field(200, ge=1, le=100_000)
    params: dict[str, Any] = Field(default_factory=dict)


class PhysicsSpec(Frozen):
    """Timestep, substeps per control step, gravity, and PyBullet's constraint-solver iterations."""

    timestep: float = Field(0.002, gt=0, le=0.05)
    substeps: int = Field(25, ge=1, le=1000)
    gravity: Vec3 = (0.0, 0.0, -9.81)
    pybullet_solver_iterations: int = Field(
        20, ge=1, le=1000, description="PyBullet's numSolverIterations per physics step (Bullet's default is 50; 20 "
        "keeps the cross-engine conformance and every expert's success, docs/engines.md, at ~1.4x the speed)",
    )

    @property
    def control_dt(self) -> float:
        """Seconds per control step."""
        return self.timestep * self.substeps


class SceneSpec(Frozen):
    """A whole scene. ``source_dir`` (not part of the file) confines asset paths."""

    name: Name
    description: str = ""
    robot: RobotSpec = RobotSpec()
    objects: tuple[ObjectSpec, ...] = ()
    lights: tuple[LightSpec, ...] = (LightSpec(name="sun"),)
    cameras: tuple[CameraSpec, ...] = ()
    task: TaskSpec = TaskSpec()
    physics: PhysicsSpec = PhysicsSpec()
    ambient: Vec3 = Field(
        (0.25, 0.25, 0.25),
        description="global ambient light (MuJoCo headlight ambient; added to PyBullet's ambient coefficient)",
    )
    floor: bool = True
    floor_rgba: RGBA = (0.55, 0.55, 0.55, 1.0)
    randomization: dict[str, Any] | None = Field(
        None, description="domain randomization section (validated by randomization.config)"
    )

    @model_validator(mode="after")
    def _unique_names(self) -> SceneSpec:
        named: tuple[tuple[str, Sequence[ObjectSpec | LightSpec | CameraSpec]], ...] = (
            ("objects", self.objects), ("lights", self.lights), ("cameras", self.cameras)
        )
        for kind, items in named:
            seen: set[str] = set()
            for i, it in enumerate(items):
                if it.name in seen:
                    raise ValueError(f"{kind}[{i}].name: duplicate name '{it.name}'")
                seen.add(it.name)
        reserved = {"floor", "world"} | {f"panda_link{i}" for i in range(9)}
        for i, o in enumerate(self.objects):
            if o.name in reserved:
                raise ValueError(f"objects[{i}].name: '{o.name}' is reserved")
        return self

    def object(self, name: str) -> ObjectSpec:
        """Return the object called ``name`` (KeyError if absent)."""
        for o in self.objects:
            if o.name == name:
                return o
        raise KeyError(name)

    def camera(self, name: str) -> CameraSpec:
        """Return the camera called ``name`` (KeyError if absent)."""
        for c in self.cameras:
            if c.name == name:
                return c
        raise KeyError(name)
