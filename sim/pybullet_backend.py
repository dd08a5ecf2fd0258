"""PyBullet backend: compiles a SceneSpec into its own ``BulletClient`` (DIRECT, no GUI).

The Panda is pybullet_data's ``franka_panda/panda.urdf`` (as on MuJoCo; sim.pybullet_robot folds its frame-only
links), inertia from the URDF, body damping removed: both engines integrate the same model.
"""

from __future__ import annotations

import importlib.metadata
import math
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scenes.spec import ObjectSpec, SceneSpec
from sim.assets import pybullet_data_dir, resolve_asset
from sim.errors import BackendError, PhysicsError
from sim.mesh_objects import add_pybullet_mesh
from sim.pybullet_client import new_client
from sim.pybullet_contacts import contact_list, touching
from sim.pybullet_joints import PybulletJointsMixin
from sim.pybullet_lod import panda_urdf
from sim.pybullet_params import PybulletParamsMixin
from sim.pybullet_robot import URDF_JOINTS, folded_robot_urdf, robot_joint_vectors, state_slots, without_visuals
from sim.pybullet_textures import floor_visual
from sim.segmentation import Instance, instance_table
from sim.transforms import quat_wxyz_to_xyzw, quat_xyzw_to_wxyz
from sim.types import ARM_JOINTS, FINGER_JOINTS, NOTHING_RENDERED, Contact, Vector, WorldInfo

if TYPE_CHECKING:
    from sim.backend import Backend

ARM_FORCES = [87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0]  # the URDF's efforts, N m (a list: what the call takes)
ARM_POSITION_GAIN = 0.1  # PyBullet's default motor position gain
SNAPSHOT_CACHE = 64  # exact in-memory snapshots kept for set_state (see get_state)


class PybulletBackend(PybulletJointsMixin, PybulletParamsMixin):
    """A live PyBullet world with its own physics client."""

    name = "pybullet"
    spec: SceneSpec  # set by build()

    def __init__(self) -> None:
        self.client: Any = None  # pybullet_utils.bullet_client.BulletClient (no type information)
        self._pb: Any = None  # the pybullet module

    # -- build -----------------------------------------------------------------------------------
    def build(self, spec: SceneSpec, scene_dir: Path | None = None, visual_detail: float = 1.0) -> None:
        """Create a fresh client and load the scene into it (``visual_detail`` <= ``sim.pybullet_lod.MAX_DETAIL``:
        the robot's visual meshes decimated with their colours baked, ``sim.pybullet_lod``; physics unchanged)."""
        self.close()
        self._pb, self.client = new_client()
        self.spec = spec
        self._scene_dir = scene_dir
        self._robot_visuals = visual_detail != NOTHING_RENDERED
        self._robot_urdf = panda_urdf(visual_detail if self._robot_visuals else 1.0)
        self._populate()

    def _populate(self) -> None:
        """Load every body of the scene into the (empty) client and put it in its initial state."""
        spec, scene_dir, c = self.spec, self._scene_dir, self.client
        c.setPhysicsEngineParameter(fixedTimeStep=spec.physics.timestep, numSubSteps=0, deterministicOverlappingPairs=1,
                                    numSolverIterations=spec.physics.pybullet_solver_iterations)
        c.setGravity(*spec.physics.gravity)
        self._names: dict[tuple[int, int], str] = {}
        self._bodies: dict[str, tuple[int, int]] = {}
        self._base_inertial = {}
        self._load_robot(spec)
        if spec.floor:
            self._add_floor(spec)
        for o in spec.objects:
            self._add_object(o, scene_dir)
        for uid in range(c.getNumBodies()):
            for link in range(-1, c.getNumJoints(uid)):
                c.changeDynamics(uid, link, linearDamping=0.0, angularDamping=0.0)
        self._movable = [u for u in self._object_uids.values() if u >= 0]
        self._index_object_joints(spec, scene_dir)
        self._instances = instance_table(spec)
        self._targets = np.zeros(9)
        self._snapshots: OrderedDict[bytes, int] = OrderedDict()
        self.time = 0.0
        self._save_nominal()
        self._reset_state()

    def _load_robot(self, spec: SceneSpec) -> None:
        c, pb = self.client, self._pb
        # pybullet_data's Panda or its LOD copy (sim.pybullet_lod), then frame-only links folded (sim.pybullet_robot)
        source = self._robot_urdf
        text = source.read_text().replace("package://", f"{pybullet_data_dir() / 'franka_panda'}/")
        folded, self._frames = folded_robot_urdf(text if self._robot_visuals else without_visuals(text))
        self.robot = c.loadURDF(
            str(folded or source),
            basePosition=list(spec.robot.base.pos),
            baseOrientation=quat_wxyz_to_xyzw(spec.robot.base.quat),
            useFixedBase=True,
            flags=pb.URDF_USE_INERTIA_FROM_FILE,
        )
        self._joint_index: dict[str, int] = {}
        self._names[(self.robot, -1)] = c.getBodyInfo(self.robot)[0].decode()
        self._bodies[self._names[(self.robot, -1)]] = (self.robot, -1)
        for j in range(c.getNumJoints(self.robot)):
            ji = c.getJointInfo(self.robot, j)
            self._joint_index[ji[1].decode()] = j
            link = ji[12].decode()
            self._names[(self.robot, j)] = link
            self._bodies[link] = (self.robot, j)
            c.setJointMotorControl2(self.robot, j, pb.VELOCITY_CONTROL, force=0.0)
        self._slots = state_slots(self._joint_index)
        self._arm = [self._joint_index[n] for n in ARM_JOINTS]
        self._fingers = [self._joint_index[n] for n in FINGER_JOINTS]
        self._robot_joints = self._arm + self._fingers
        self._q_after_step: list[float] | None = None
        for f in self._fingers:
            c.changeDynamics(self.robot, f, lateralFriction=1.0)
        # Couple the fingers (as the real gripper and MuJoCo's equality constraint do) so a grasped object
        # cannot drift between two independently servoed fingers.
        gear = c.createConstraint(self.robot, self._fingers[0], self.robot, self._fingers[1],
                                  jointType=pb.JOINT_GEAR, jointAxis=[1, 0, 0], parentFramePosition=[0, 0, 0],
                                  childFramePosition=[0, 0, 0])
        c.changeConstraint(gear, gearRatio=-1, erp=0.1, maxForce=50)
        self._object_uids: dict[str, int] = {}

    def _add_floor(self, spec: SceneSpec) -> None:
        c, pb = self.client, self._pb
        col = c.createCollisionShape(pb.GEOM_PLANE)
        vis = floor_visual(c, pb, list(spec.floor_rgba))  # a quad with texture coordinates in metres
        uid = c.createMultiBody(0, col, vis, [0, 0, 0])
        c.changeDynamics(uid, -1, restitution=1.0)
        self._names[(uid, -1)] = "floor"
        self._bodies["floor"] = (uid, -1)
        self._floor = uid

    def _add_object(self, o: ObjectSpec, scene_dir: Path | None) -> None:
        c = self.client
        mass = 0.0 if o.fixed else o.mass
        pos, orn = list(o.pose.pos), quat_wxyz_to_xyzw(o.pose.quat)
        if o.shape == "articulated":
            uid = self._load_articulated(o, scene_dir)
        elif o.shape == "urdf":
            uid = c.loadURDF(str(resolve_asset(o.asset or "", scene_dir)), pos, orn, useFixedBase=o.fixed,
                             globalScaling=o.scale)
            c.changeVisualShape(uid, -1, rgbaColor=list(o.rgba))
            if not o.fixed:
                c.changeDynamics(uid, -1, mass=o.mass)
        elif o.shape == "mesh":  # compound convex collision + (textured) visual mesh (sim.mesh_objects)
            uid = add_pybullet_mesh(c, self._pb, o, scene_dir, mass, pos, orn)
            self._base_inertial[uid] = c.getDynamicsInfo(uid, -1)[3:5]  # its centre of mass is not its mesh origin
        else:
            kw_col, kw_vis = self._shape_kwargs(o, scene_dir)
            col = c.createCollisionShape(**kw_col) if o.collide else -1
            vis = c.createVisualShape(rgbaColor=list(o.rgba), **kw_vis)
            uid = c.createMultiBody(mass, col, vis, pos, orn)
        c.changeDynamics(uid, -1, lateralFriction=o.friction, restitution=1.0 if o.fixed else 0.0)
        self._names[(uid, -1)] = o.name
        self._bodies[o.name] = (uid, -1)
        self._object_uids[o.name] = uid if not o.fixed else -1

    def _shape_kwargs(self, o: ObjectSpec, scene_dir: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
        pb = self._pb
        s = o.size
        if o.shape == "box":
            kw = {"shapeType": pb.GEOM_BOX, "halfExtents": [v / 2 for v in s]}
            return kw, dict(kw)
        if o.shape == "sphere":
            kw = {"shapeType": pb.GEOM_SPHERE, "radius": s[0]}
            return kw, dict(kw)
        if o.shape in ("cylinder", "capsule"):
            t = pb.GEOM_CYLINDER if o.shape == "cylinder" else pb.GEOM_CAPSULE
            return {"shapeType": t, "radius": s[0], "height": s[1]}, {"shapeType": t, "radius": s[0], "length": s[1]}
        raise BackendError(f"objects '{o.name}': unsupported shape '{o.shape}'")

    def reset(self) -> None:
        """Reset bodies to their spec poses, the robot to its initial joints, time to 0.

        Bullet keeps history outside any state it lets us save or restore (the broadphase tree and
        persistent contact manifolds: moving a body and back changes later contacts by up to 2 mm).
        So after anything has run, reset reloads the world into the same client (resetSimulation,
        34 ms; 10 ms without robot visuals): episodes never depend on earlier ones. In-place parameters reset too.
        """
        if not self._fresh:
            self.client.resetSimulation()
            self._snapshots.clear()
            self._populate()
            return
        self._reset_state()

    def _reset_state(self) -> None:
        c = self.client
        for o in self.spec.objects:
            uid, _ = self._bodies[o.name]
            c.resetBasePositionAndOrientation(uid, *self._link_frame_to_base(uid, list(o.pose.pos),
                                                                              quat_wxyz_to_xyzw(o.pose.quat)))
            c.resetBaseVelocity(uid, [0, 0, 0], [0, 0, 0])
        self._reset_object_joints()
        q = np.concatenate([self.spec.robot.init_qpos, [self.spec.robot.init_gripper] * 2])
        self.set_joint_positions(q)
        self.time = 0.0
        self._fresh = True

    # -- stepping and state --------------------------------------------------------------------------
    def _apply_motors(self) -> None:
        # one call for arm and fingers (the fingers' position gain is PyBullet's default 0.1, unscaled)
        self.client.setJointMotorControlArray(
            self.robot, self._robot_joints, self._pb.POSITION_CONTROL, targetPositions=self._targets.tolist(),
            forces=ARM_FORCES + [self.spec.robot.controller.gripper_force] * 2,
            positionGains=[ARM_POSITION_GAIN * self.gain_scale] * 7 + [ARM_POSITION_GAIN] * 2)

    def step(self, n: int = 1) -> None:
        """Advance ``n`` timesteps; raise PhysicsError if the state becomes NaN/inf."""
        self._fresh = False
        c = self.client
        for _ in range(n):
            c.stepSimulation()
        self.time += n * self.spec.physics.timestep
        # one float sums every robot joint position and object coordinate: it is NaN/inf iff one of them is (a
        # finite sum overflows only past 1e308 m, itself a blow-up); cheaper than building arrays to test
        q = [s[0] for s in c.getJointStates(self.robot, self._robot_joints)]
        self._q_after_step = q  # joint_positions() answers from it until the robot is moved otherwise
        total = sum(q) + sum(v for u in self._movable for v in c.getBasePositionAndOrientation(u)[0])
        if not math.isfinite(total):
            raise PhysicsError("pybullet: simulation produced NaN/inf")

    def get_state(self, exact: bool = True) -> np.ndarray:
        """Return [time, targets(9), per movable object pos(3) quat wxyz(4) linvel(3) angvel(3), robot q, qd].

        With ``exact`` (default) an engine snapshot is kept so that ``set_state`` of this array restores
        contact caches too; recorders that only log states pass ``exact=False`` (about 1.5 ms cheaper).
        """
        c = self.client
        parts = [np.array([self.time]), self._targets]
        for u in self._movable:
            p, o = c.getBasePositionAndOrientation(u)
            v, w = c.getBaseVelocity(u)
            parts += [np.asarray(p), quat_xyzw_to_wxyz(o), np.asarray(v), np.asarray(w)]
        parts += [*robot_joint_vectors(c, self.robot, self._slots), *self._object_joint_vector()]
        state = np.concatenate(parts).astype(np.float64)
        if exact:
            self._remember(state)
        return state

    def _remember(self, state: np.ndarray) -> None:
        """Keep an in-memory engine snapshot for ``state`` so set_state can restore contacts exactly.

        Resetting bodies from arrays drops Bullet's contact manifolds (warm-start impulses); restoring
        the matching ``saveState`` snapshot keeps them, which makes set_state(get_state()) bit-exact.
        """
        key = state.tobytes()
        if key in self._snapshots:
            self._snapshots.move_to_end(key)
            return
        self._snapshots[key] = self.client.saveState()
        if len(self._snapshots) > SNAPSHOT_CACHE:
            _, old = self._snapshots.popitem(last=False)
            self.client.removeState(old)

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state from ``get_state`` (bodies, joints, motor targets, time)."""
        c = self.client
        self._fresh, self._q_after_step = False, None
        state = np.asarray(state, dtype=np.float64)
        nj = len(URDF_JOINTS)
        expect = 10 + 13 * len(self._movable) + 2 * nj + 2 * self._object_joint_count()
        if state.shape != (expect,):
            raise ValueError(f"pybullet state has size {expect}, got {state.shape}")
        self.time = float(state[0])
        self._targets = state[1:10].copy()
        snap = self._snapshots.get(state.tobytes())
        if snap is not None:
            c.restoreState(snap)
            self._apply_motors()
            return
        k = 10
        for u in self._movable:
            p, q, v, w = state[k : k + 3], state[k + 3 : k + 7], state[k + 7 : k + 10], state[k + 10 : k + 13]
            c.resetBasePositionAndOrientation(u, list(p), quat_wxyz_to_xyzw(q))
            c.resetBaseVelocity(u, list(v), list(w))
            k += 13
        qs, vs = state[k : k + nj], state[k + nj : k + 2 * nj]
        for slot, j in self._slots:
            c.resetJointState(self.robot, j, float(qs[slot]), float(vs[slot]))
        self._set_object_joint_vector(state[k + 2 * nj :])
        self._apply_motors()

    # -- queries -----------------------------------------------------------------------------------
    def body_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (pos, quat wxyz) of a body or robot link frame in the world."""
        c = self.client
        frame = self._frames.get(name)
        if frame is not None:  # a folded frame-only link: its parent link's frame and the fixed offset
            st = c.getLinkState(*self._bodies[frame.parent], computeForwardKinematics=True)
            p, o = c.multiplyTransforms(st[4], st[5], frame.pos, frame.quat_xyzw)
            return np.asarray(p, float), quat_xyzw_to_wxyz(o)
        uid, link = self._bodies[name]
        if link == -1:
            p, o = self._base_to_link_frame(uid, *c.getBasePositionAndOrientation(uid))
            if uid == self.robot:
                # Base COM frame -> URDF link frame.
                lp, lo = c.getDynamicsInfo(uid, -1)[3:5]
                ip, io = c.invertTransform(lp, lo)
                p, o = c.multiplyTransforms(p, o, ip, io)
        else:
            st = c.getLinkState(uid, link, computeForwardKinematics=True)
            p, o = st[4], st[5]
        return np.asarray(p, float), quat_xyzw_to_wxyz(o)

    def set_body_pose(self, name: str, pos: Vector, quat: Vector) -> None:
        """Teleport an object with zero velocity (marks the world as used: the next reset reloads it)."""
        self._fresh = False
        uid, _ = self._bodies[name]
        self.client.resetBasePositionAndOrientation(uid, *self._link_frame_to_base(uid, list(pos),
                                                                                     quat_wxyz_to_xyzw(quat)))
        self.client.resetBaseVelocity(uid, [0, 0, 0], [0, 0, 0])

    def joint_positions(self) -> np.ndarray:
        """Return the 9 robot joint positions."""
        if self._q_after_step is not None:  # read by step() and unchanged since (set_* and reset clear it)
            return np.array(self._q_after_step)
        return np.array([s[0] for s in self.client.getJointStates(self.robot, self._robot_joints)])

    def joint_velocities(self) -> np.ndarray:
        """Return the 9 robot joint velocities."""
        js = self.client.getJointStates(self.robot, self._robot_joints)
        return np.array([s[1] for s in js])

    def set_joint_positions(self, q: Vector) -> None:
        """Teleport the robot joints (zero velocity) and hold them there."""
        self._fresh, self._q_after_step = False, None
        q = np.asarray(q, float)
        for j, v in zip(self._arm + self._fingers, q, strict=True):
            self.client.resetJointState(self.robot, j, float(v), 0.0)
        self.set_joint_targets(q[:7], float(q[7]))

    def set_joint_targets(self, q_arm: Vector, finger: float) -> None:
        """Set the position targets of the arm and both fingers."""
        self._targets = np.concatenate([np.asarray(q_arm, float), [finger, finger]])
        self._apply_motors()

    def contacts(self) -> list[Contact]:
        """Return active contacts between named bodies."""
        return contact_list(self.client, self._names)

    def touching(self, body: str) -> set[str]:
        """Return the names of the bodies in contact with ``body`` (see ``Backend.touching``)."""
        return touching(self.client, self._names, self._bodies, body)

    def instance_of(self) -> dict[tuple[int, int], int]:
        """Return {(body uid, link index): instance id} for segmentation."""
        by_body = {i.body: i.id for i in self._instances}
        out: dict[tuple[int, int], int] = {}
        for key, name in self._names.items():
            if name.split("/")[0] in by_body:  # an articulated object's links are "<object>/<link>"
                out[key] = by_body[name.split("/")[0]]
        return out

    def instances(self) -> list[Instance]:
        """Return the instance table of this world."""
        return list(self._instances)

    def model_xml(self) -> str:
        """PyBullet has no single model text; return an empty string."""
        return ""

    def info(self) -> WorldInfo:
        """Describe the compiled world."""
        c = self.client
        free = tuple(f"{o.name}_free" for o in self.spec.objects if not o.fixed)
        return WorldInfo(
            backend=self.name,
            engine_version=self.engine_version,
            bodies=tuple(n for n in self._bodies if n != "floor") + tuple(self._frames),
            joints=ARM_JOINTS + FINGER_JOINTS + free,
            actuators=tuple(f"act_{n}" for n in ARM_JOINTS + FINGER_JOINTS),
            cameras=tuple(cam.name for cam in self.spec.cameras),
            extra={"bodies": str(c.getNumBodies())},
        )

    @property
    def engine_version(self) -> str:
        """Return the installed PyBullet's version."""
        return importlib.metadata.version("pybullet")

    def close(self) -> None:
        """Disconnect this instance's client."""
        if self.client is not None:
            try:
                self.client.disconnect()
            except Exception:  # already disconnected
                pass
            self.client = None
            self._snapshots = OrderedDict()


if TYPE_CHECKING:

    def _conforms(backend: PybulletBackend) -> Backend:  # mypy checks the engine against the whole protocol
        return backend
