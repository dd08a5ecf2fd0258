"""MuJoCo backend: compiles a SceneSpec through ``mujoco.MjSpec`` and runs it.

The Panda comes from pybullet_data's URDF (the same file PyBullet loads) with ``package://`` resolved,
visual meshes kept and fixed links not fused, so link names match PyBullet's. Position actuators are
added for the 7 arm joints and both fingers; arm links get gravity compensation.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scenes.spec import ObjectSpec, SceneSpec
from sim.assets import panda_urdf_text, resolve_asset
from sim.errors import BackendError, PhysicsError
from sim.mesh_objects import add_mujoco_mesh
from sim.mujoco_articulated import add_articulated
from sim.mujoco_contacts import TouchIndex, contact_list, geom_body_names
from sim.mujoco_joints import MujocoJointsMixin
from sim.mujoco_meshes import merge_obj_objects, single_object_obj
from sim.mujoco_params import MujocoParamsMixin
from sim.mujoco_textures import add_procedural_textures
from sim.object_joints import load_urdf
from sim.segmentation import Instance, instance_table
from sim.types import ARM_JOINTS, FINGER_JOINTS, Contact, Vector, WorldInfo

if TYPE_CHECKING:
    from sim.backend import Backend

VISUAL_GROUP = 1
COLLISION_GROUP = 3  # hidden by the default renderer geomgroup mask
FLOOR_GRID = 0.05  # the floor plane's render tessellation (m): 40,000 quads
FLOOR_GRID_LOD = 0.25  # below LOD_DETAIL (the `fast` preset): 1,600 quads, half a 128x128 `fast` frame's cost less;
LOD_DETAIL = 0.25  # floor pixels near a camera differ by a few levels of 255 (lighting interpolation; tests/renderers)


def _import_mujoco() -> Any:
    import mujoco

    return mujoco


def _load_panda_spec(mujoco: Any, spec: SceneSpec, visual_detail: float = 1.0) -> Any:
    text, _ = panda_urdf_text()
    compiler = '<mujoco><compiler discardvisual="false" fusestatic="false" strippath="false"/></mujoco>'
    start = text.index("<robot")
    end = text.index(">", start) + 1
    text = text[:end] + compiler + text[end:]
    ms = mujoco.MjSpec.from_string(text)
    ms.modelname = spec.name
    visual_meshes = {g.meshname for g in ms.geoms if g.contype == 0 and g.conaffinity == 0 and g.meshname}
    merge_obj_objects(ms, visual_meshes if visual_detail < 1.0 else frozenset(), visual_detail)
    base = ms.body("panda_link0")
    base.pos = list(spec.robot.base.pos)
    base.quat = list(spec.robot.base.quat)
    for g in ms.geoms:
        if g.contype == 0 and g.conaffinity == 0:
            g.group = VISUAL_GROUP
            g.rgba = [0.95, 0.95, 0.95, 1.0]
        else:
            g.group = COLLISION_GROUP
    for b in ms.bodies:
        if b.name.startswith("panda_link") or b.name == "panda_hand":
            b.gravcomp = 1.0
    return ms


def _add_actuators(mujoco: Any, ms: Any, spec: SceneSpec) -> None:
    ctrl = spec.robot.controller
    for jn in ARM_JOINTS:
        j = ms.joint(jn)
        j.armature = 0.1
        j.damping = [1.0, 0.0, 0.0]
        a = ms.add_actuator(name=f"act_{jn}", target=jn, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        a.set_to_position(kp=ctrl.arm_kp, kv=ctrl.arm_kv)
        effort = 87.0 if jn in ARM_JOINTS[:4] else 12.0
        a.forcelimited = 1
        a.forcerange = [-effort, effort]
        a.ctrlrange = list(j.range)
        a.ctrllimited = 1
    ms.add_equality(type=mujoco.mjtEq.mjEQ_JOINT, name1=FINGER_JOINTS[0], name2=FINGER_JOINTS[1],
                    data=[0, 1, 0, 0, 0] + [0] * 7)  # fingers move together, like the real gripper
    for jn in FINGER_JOINTS:
        a = ms.add_actuator(name=f"act_{jn}", target=jn, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        a.set_to_position(kp=ctrl.gripper_kp, kv=0.1 * ctrl.gripper_kp**0.5 * 2)
        a.forcelimited = 1
        a.forcerange = [-ctrl.gripper_force, ctrl.gripper_force]


def _geom_size(o: ObjectSpec) -> list[float]:
    s = list(o.size)
    if o.shape == "box":
        return [v / 2 for v in s]
    if o.shape == "sphere":
        return [s[0], 0, 0]
    return [s[0], s[1] / 2, 0]  # cylinder / capsule: radius, half-length


def _add_object(mujoco: Any, ms: Any, o: ObjectSpec, scene_dir: Path | None) -> None:
    if o.shape == "articulated":  # a tree of bodies and joints (sim.mujoco_articulated)
        add_articulated(mujoco, ms, o.name, load_urdf(o, scene_dir), list(o.pose.pos), list(o.pose.quat), o.fixed,
                        o.friction, (VISUAL_GROUP, COLLISION_GROUP))
        return
    body = ms.worldbody.add_body(name=o.name, pos=list(o.pose.pos), quat=list(o.pose.quat))
    if not o.fixed:
        body.add_freejoint(name=f"{o.name}_free")
    types = {
        "box": mujoco.mjtGeom.mjGEOM_BOX,
        "sphere": mujoco.mjtGeom.mjGEOM_SPHERE,
        "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
        "capsule": mujoco.mjtGeom.mjGEOM_CAPSULE,
    }
    if o.shape == "urdf":  # a single-link URDF becomes mesh geoms of this body
        _add_urdf_geoms(mujoco, ms, body, o, scene_dir)
        return
    if o.shape == "mesh":  # a visual geom plus one convex geom per part (sim.mesh_objects)
        add_mujoco_mesh(mujoco, ms, body, o, scene_dir, (VISUAL_GROUP, COLLISION_GROUP))
        return
    g = body.add_geom(name=o.name, rgba=list(o.rgba), friction=[o.friction, 0.005, 0.0001])
    if o.shape in types:
        g.type = types[o.shape]
        g.size = _geom_size(o)
    else:
        raise BackendError(f"objects '{o.name}': shape '{o.shape}' is not supported on mujoco")
    g.mass = o.mass
    if not o.collide:
        g.contype = 0
        g.conaffinity = 0


def _add_urdf_geoms(mujoco: Any, ms: Any, body: Any, o: ObjectSpec, scene_dir: Path | None) -> None:
    """Add the visual (group 1, no contacts) and collision (group 3) meshes of a one-link URDF object."""
    from sim.transforms import matrix_from_rpy, quat_from_matrix
    from sim.urdf_objects import parse_single_link_urdf

    urdf = parse_single_link_urdf(str(resolve_asset(o.asset or "", scene_dir)))
    n_col = sum(m.collision for m in urdf.meshes) or 1
    assets = dict(ms.assets)
    for k, m in enumerate(urdf.meshes):
        name = f"{o.name}_mesh{k}"
        assets[name + ".obj"] = single_object_obj(m.path)
        ms.add_mesh(name=name, file=name + ".obj", scale=[s * o.scale for s in m.scale])
        g = body.add_geom(name=f"{o.name}_{'col' if m.collision else 'vis'}{k}", type=mujoco.mjtGeom.mjGEOM_MESH,
                          meshname=name, rgba=list(o.rgba), friction=[o.friction, 0.005, 0.0001],
                          pos=[v * o.scale for v in m.xyz], quat=list(quat_from_matrix(matrix_from_rpy(*m.rpy))))
        if m.collision:
            g.group = COLLISION_GROUP
            g.mass = o.mass / n_col
            if not o.collide:
                g.contype = g.conaffinity = 0
        else:
            g.group = VISUAL_GROUP
            g.contype = g.conaffinity = 0
            g.mass = 0.0
            g.density = 0.0
    ms.assets = assets


def _add_cameras(ms: Any, spec: SceneSpec) -> None:
    from renderers.scene_cameras import add_mujoco_cameras

    add_mujoco_cameras(ms, spec)


def compile_spec(spec: SceneSpec, scene_dir: Path | None = None, visual_detail: float = 1.0) -> tuple[Any, Any]:
    """Return (MjSpec, MjModel) for a scene (``visual_detail`` < 1: robot visual meshes decimated to that fraction)."""
    mujoco = _import_mujoco()
    ms = _load_panda_spec(mujoco, spec, visual_detail)
    _add_actuators(mujoco, ms, spec)
    ms.option.timestep = spec.physics.timestep
    ms.option.gravity = list(spec.physics.gravity)
    ms.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    # The headlight contributes only a global ambient term: MuJoCo's shadowed regions keep nothing of the
    # shadow-casting light (not even its ambient), so without it shadows render pure black.
    ms.visual.headlight.ambient = list(spec.ambient)
    ms.visual.headlight.active = int(any(v > 0 for v in spec.ambient))
    ms.visual.headlight.diffuse = [0.0, 0.0, 0.0]
    ms.visual.headlight.specular = [0.0, 0.0, 0.0]
    if spec.floor:
        ms.worldbody.add_geom(
            name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, rgba=list(spec.floor_rgba),
            size=[5, 5, FLOOR_GRID_LOD if visual_detail < LOD_DETAIL else FLOOR_GRID]
        )
    for o in spec.objects:
        _add_object(mujoco, ms, o, scene_dir)
    # Procedural-texture slots (white texture + material of the geom's colour: the look is unchanged).
    add_procedural_textures(mujoco, ms, spec)
    for light in spec.lights:
        ms.worldbody.add_light(
            name=light.name,
            pos=list(light.pos),
            dir=list(light.dir),
            diffuse=list(light.diffuse),
            ambient=list(light.ambient),
            specular=list(light.specular),
            castshadow=light.cast_shadow,
            type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL if light.directional else mujoco.mjtLightType.mjLIGHT_SPOT,
        )
    _add_cameras(ms, spec)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*obj_decoder.*")
            model = ms.compile()
    except ValueError as exc:
        raise BackendError(f"mujoco could not compile scene '{spec.name}': {exc}") from None
    return ms, model


class MujocoBackend(MujocoJointsMixin, MujocoParamsMixin):
    """A live MuJoCo world (one MjModel/MjData per instance)."""

    name = "mujoco"
    spec: SceneSpec  # set by build()

    def __init__(self) -> None:
        self.mjspec: Any = None  # mujoco.MjSpec (the engine ships no type information)
        self.model: Any = None  # mujoco.MjModel
        self.data: Any = None  # mujoco.MjData
        self._mj: Any = None  # the mujoco module

    # -- build -----------------------------------------------------------------------------------
    def build(self, spec: SceneSpec, scene_dir: Path | None = None, visual_detail: float = 1.0) -> None:
        """Compile ``spec`` into a fresh MjModel/MjData."""
        self._mj = _import_mujoco()
        self.spec = spec
        self.mjspec, self.model = compile_spec(spec, scene_dir, visual_detail or 1.0)  # NOTHING_RENDERED: as at 1
        self.data = self._mj.MjData(self.model)
        m = self.model
        mj = self._mj
        self._arm_qadr = np.array([m.jnt_qposadr[mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT, j)] for j in ARM_JOINTS])
        self._arm_dadr = np.array([m.jnt_dofadr[mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT, j)] for j in ARM_JOINTS])
        self._fin_qadr = np.array(
            [m.jnt_qposadr[mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT, j)] for j in FINGER_JOINTS]
        )
        self._fin_dadr = np.array([m.jnt_dofadr[mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT, j)] for j in FINGER_JOINTS])
        body_names = [mj.mj_id2name(m, mj.mjtObj.mjOBJ_BODY, i) for i in range(m.nbody)]
        self._body_ids = {n: i for i, n in enumerate(body_names) if n}
        bad = sorted(int(w) for w in (mj.mjtWarning.mjWARN_BADQACC, mj.mjtWarning.mjWARN_BADQVEL,
                                      mj.mjtWarning.mjWARN_BADQPOS, mj.mjtWarning.mjWARN_BADCTRL))
        # a slice when the four kinds are contiguous (they are in MuJoCo's enum): no fancy indexing per step
        self._bad_warnings: slice | np.ndarray = (slice(bad[0], bad[-1] + 1) if bad == list(range(bad[0], bad[-1] + 1))
                                                  else np.array(bad))
        self._geom_body_names = geom_body_names(mj, m)
        self._touch = TouchIndex(self._geom_body_names)
        self._state_kind = mj.mjtState.mjSTATE_INTEGRATION
        self._state_size = mj.mj_stateSize(m, self._state_kind)
        self._free_qadr: dict[str, tuple[int, int]] = {}
        for o in spec.objects:
            if not o.fixed:
                jid = mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT, f"{o.name}_free")
                self._free_qadr[o.name] = (int(m.jnt_qposadr[jid]), int(m.jnt_dofadr[jid]))
        self._instances = instance_table(spec)
        self._index_object_joints(spec, scene_dir)
        self._save_nominal()
        self.reset()

    def reset(self) -> None:
        """Reset to the spec's initial state at time 0."""
        mj = self._mj
        mj.mj_resetData(self.model, self.data)
        self._reset_object_joints()
        q = np.concatenate([self.spec.robot.init_qpos, [self.spec.robot.init_gripper] * 2])
        self.set_joint_positions(q)
        mj.mj_forward(self.model, self.data)

    # -- stepping and state --------------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        """Advance ``n`` timesteps; raise PhysicsError on NaN/inf or a MuJoCo instability warning."""
        mj, m, d, kinds = self._mj, self.model, self.data, self._bad_warnings
        before = int(d.warning.number[kinds].sum())
        mj.mj_step(m, d, nstep=n)  # one call into C for all substeps (same result as a loop of single steps)
        bad = int(d.warning.number[kinds].sum()) > before
        if bad or not (np.isfinite(d.qpos).all() and np.isfinite(d.qvel).all()):
            raise PhysicsError("mujoco: simulation became unstable (NaN/inf or huge position, velocity, "
                               "acceleration or control)")

    def get_state(self, exact: bool = True) -> np.ndarray:
        """Return the mjSTATE_INTEGRATION state vector (time, qpos, qvel, act, warmstart, ctrl, ...).

        MuJoCo's integration state is always exact; ``exact`` exists for protocol symmetry.
        """
        out = np.empty(self._state_size, dtype=np.float64)
        self._mj.mj_getState(self.model, self.data, out, self._state_kind)
        return out

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state from ``get_state`` exactly (then recompute derived quantities)."""
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (self._state_size,):
            raise ValueError(f"mujoco state has size {self._state_size}, got {state.shape}")
        self._mj.mj_setState(self.model, self.data, state, self._state_kind)
        self._mj.mj_forward(self.model, self.data)

    # -- queries -----------------------------------------------------------------------------------
    def body_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (pos, quat wxyz) of a body in the world frame."""
        i = self._body_ids[name]
        return self.data.xpos[i].copy(), self.data.xquat[i].copy()

    def set_body_pose(self, name: str, pos: Vector, quat: Vector) -> None:
        """Teleport a free object (or move a fixed one's body frame) with zero velocity."""
        if name in self._free_qadr:
            qa, da = self._free_qadr[name]
            self.data.qpos[qa : qa + 3] = pos
            self.data.qpos[qa + 3 : qa + 7] = quat
            self.data.qvel[da : da + 6] = 0.0
        else:
            i = self._body_ids[name]
            self.model.body_pos[i] = pos
            self.model.body_quat[i] = quat
        self._mj.mj_forward(self.model, self.data)

    def joint_positions(self) -> np.ndarray:
        """Return the 9 robot joint positions."""
        return np.concatenate([self.data.qpos[self._arm_qadr], self.data.qpos[self._fin_qadr]])

    def joint_velocities(self) -> np.ndarray:
        """Return the 9 robot joint velocities."""
        return np.concatenate([self.data.qvel[self._arm_dadr], self.data.qvel[self._fin_dadr]])

    def set_joint_positions(self, q: Vector) -> None:
        """Teleport the robot joints (zero velocity) and hold them there."""
        q = np.asarray(q, float)
        self.data.qpos[self._arm_qadr] = q[:7]
        self.data.qpos[self._fin_qadr] = q[7:9]
        self.data.qvel[self._arm_dadr] = 0.0
        self.data.qvel[self._fin_dadr] = 0.0
        self.set_joint_targets(q[:7], float(q[7]))
        self._mj.mj_forward(self.model, self.data)

    def set_joint_targets(self, q_arm: Vector, finger: float) -> None:
        """Set the position targets of the arm and both fingers."""
        self.data.ctrl[:7] = q_arm
        self.data.ctrl[7:9] = finger

    def contacts(self) -> list[Contact]:
        """Return active contacts between named bodies (normal force as ``mj_contactForce`` gives it)."""
        return contact_list(self._mj, self.model, self.data, self._geom_body_names)

    def touching(self, body: str) -> set[str]:
        """Return the names of the bodies in contact with ``body`` (see ``Backend.touching``)."""
        return self._touch.touching(self.data, body)

    def instance_of_geom(self) -> np.ndarray:
        """Return an array mapping MuJoCo geom id -> instance id (0 for geoms outside the table)."""
        mj, m = self._mj, self.model
        by_body = {i.body: i.id for i in self._instances}
        out = np.zeros(m.ngeom + 1, dtype=np.int32)
        for g in range(m.ngeom):
            gname = mj.mj_id2name(m, mj.mjtObj.mjOBJ_GEOM, g)
            bname = mj.mj_id2name(m, mj.mjtObj.mjOBJ_BODY, int(m.geom_bodyid[g]))
            key = "floor" if gname == "floor" else (bname or "").split("/")[0]  # an articulated object's links
            out[g] = by_body.get(key, 0)
        return out

    def instances(self) -> list[Instance]:
        """Return the instance table of this world."""
        return list(self._instances)

    def model_xml(self) -> str:
        """Return the compiled scene as MJCF text."""
        return self.mjspec.to_xml()

    def info(self) -> WorldInfo:
        """Describe the compiled world."""
        mj, m = self._mj, self.model

        def names(kind: Any, n: int) -> tuple[str, ...]:
            return tuple(mj.mj_id2name(m, kind, i) or f"<{i}>" for i in range(n))

        return WorldInfo(
            backend=self.name,
            engine_version=mj.__version__,
            bodies=names(mj.mjtObj.mjOBJ_BODY, m.nbody)[1:],
            joints=names(mj.mjtObj.mjOBJ_JOINT, m.njnt),
            actuators=names(mj.mjtObj.mjOBJ_ACTUATOR, m.nu),
            cameras=names(mj.mjtObj.mjOBJ_CAMERA, m.ncam),
            extra={"nq": str(m.nq), "nv": str(m.nv), "ngeom": str(m.ngeom)},
        )

    @property
    def engine_version(self) -> str:
        """Return the MuJoCo version string."""
        return _import_mujoco().__version__

    def close(self) -> None:
        """Drop the model and data."""
        self.model = None
        self.data = None


if TYPE_CHECKING:

    def _conforms(backend: MujocoBackend) -> Backend:  # mypy checks the engine against the whole protocol
        return backend
