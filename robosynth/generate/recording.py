"""Run one episode of a scene's expert and turn it into an ``EpisodeRecord`` (schema "1").

An ``EpisodeRunner`` lives in one worker. It keeps its world between episodes and rebuilds it only when an
episode's structural parameters (distractor meshes) differ. Every episode is a pure function of
(dataset seed, episode index, options): the world is reset to its pristine state, the episode's sampled
parameters are applied absolutely, and all randomness comes from named seed streams.
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from randomization.config import RandomizationConfig
from randomization.params import EpisodeParams, apply_to_spec, sample_episode_params
from randomization.seeding import stream
from renderers.pointcloud import fuse_pointcloud
from renderers.sensors import VISUAL_DETAIL, Frame, PendingFrames, SceneRenderer, start_gl_thread
from robosynth.dataset import CameraRecord, EpisodeRecord
from scenes.runtime import Simulation
from scenes.spec import SceneSpec
from sim.backend import NOTHING_RENDERED
from sim.errors import InputError

if TYPE_CHECKING:
    from renderers.gl_thread import GLThread

RUN_AHEAD = 32
"""Observations an episode may run ahead of its drawn frames (while a new GL context is created, for instance)."""
LOWDIM_KEYS = ("robot0_joint_pos", "robot0_eef_pos", "robot0_eef_quat", "robot0_gripper_qpos", "object")
EXPERT_PHASE_KEY = "expert_phase"  # obs/expert_phase (T, 1) float32: index into ep_meta["expert_phases"]


def _drawn(pending: PendingFrames | None) -> bool:
    """Return True when ``pending``'s frames are ready to collect without waiting."""
    return pending is None or pending.done()


def expert_phases(expert: Any) -> tuple[str, ...]:
    """Return the phase names a scripted expert declares (``PHASES``, with its current one in ``.phase``), or ()."""
    names = getattr(expert, "PHASES", ())
    return tuple(names) if isinstance(names, tuple) and isinstance(getattr(expert, "phase", None), str) else ()


@dataclass(frozen=True)
class RecordingOptions:
    """What to record and how (fixed for a whole dataset)."""

    backend: str
    cameras: tuple[str, ...] = ()
    quality: str = "default"
    depth_format: str = "metric"  # "metric" (metres) or "normalized" (robosuite-style, in [0, 1])
    randomization: RandomizationConfig | None = None
    max_steps: int | None = None  # overrides the task horizon when set
    pointcloud: int | None = None  # record a fused N-point cloud per step from the recorded cameras


@dataclass
class EpisodeResult:
    """What a worker reports back for one episode (the record itself is written by the worker)."""

    index: int
    success: bool
    failure_reason: str
    steps: int
    record: EpisodeRecord | None = field(default=None, repr=False)


class PolicyFailure(Exception):
    """Raised by a policy's ``act`` to end the episode as failed, with the message as its failure reason."""


class Policy(Protocol):
    """What drives an episode: the task's scripted expert, or any object with ``reset()`` and ``act(obs)``."""

    def reset(self) -> None:
        """Start a new episode."""

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return the action for the low-dim observation dict."""


def normalize_depth(depth: np.ndarray, near: float, far: float) -> np.ndarray:
    """Return robosuite-style normalized depth d = (1 - near/z) / (1 - near/far) in [0, 1]; 0 stays 0."""
    z = np.asarray(depth, np.float64)
    out = np.where(z > 0, (1.0 - near / np.maximum(z, 1e-12)) / (1.0 - near / far), 0.0)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def metric_from_normalized(d: np.ndarray, near: float, far: float) -> np.ndarray:
    """Return metres from robosuite-style normalized depth (inverse of ``normalize_depth``)."""
    d = np.asarray(d, np.float64)
    return (near / (1.0 - d * (1.0 - near / far))).astype(np.float32)


def _check_pointcloud_cameras(spec: SceneSpec, options: RecordingOptions) -> None:
    """Raise InputError unless --pointcloud N can be fused from the recorded cameras (depth, pinhole)."""
    if not 1 <= int(options.pointcloud or 0) <= 1_000_000:
        raise InputError(f"--pointcloud must be in 1..1000000 points, got {options.pointcloud}")
    if not options.cameras:
        raise InputError("--pointcloud needs at least one recorded camera (not --cameras none)")
    for name in options.cameras:
        cam = spec.camera(name)
        if "depth" not in cam.modalities:
            raise InputError(f"--pointcloud: camera '{name}' records no depth (its modalities: "
                             f"{', '.join(cam.modalities)})")
        if any(cam.distortion):
            raise InputError(f"--pointcloud: camera '{name}' has lens distortion; point clouds need pinhole cameras")


class EpisodeRunner:
    """Records episodes of one scene on one backend; reuse it across episodes in a worker."""

    def __init__(self, spec: SceneSpec, options: RecordingOptions, scene_dir: Path | None = None,
                 pipelined: bool = True):
        """``pipelined``: MuJoCo draws each step's frames on a GL thread while the policy and the engine compute
        the next step (the recorded frames are the same; docs/performance.md, "Pipelined rendering")."""
        self.spec = spec
        self.pipelined = pipelined
        self.options = options
        self.scene_dir = scene_dir
        unknown = [c for c in options.cameras if c not in {cam.name for cam in spec.cameras}]
        if unknown:
            known = ", ".join(c.name for c in spec.cameras) or "none"
            raise InputError(f"unknown camera(s) {', '.join(unknown)} (scene cameras: {known})")
        if options.pointcloud is not None:
            _check_pointcloud_cameras(spec, options)
        self._sim: Simulation | None = None
        self._renderer: SceneRenderer | None = None
        self._structural_key: Any = None
        self._model_xml: str | None = None  # per world: MjSpec.to_xml costs ~60 ms, the text never changes
        self._gl: GLThread | None = None  # pipelined MuJoCo: the GL thread, kept (with its GL contexts) across worlds

    # -- world lifecycle --------------------------------------------------------------------------
    def _world_for(self, params: EpisodeParams) -> Simulation:
        key = params.structural_key()
        if self._sim is None or key != self._structural_key:
            self._close_world()
            gl = self._gl_thread()  # starts creating its GL context now, while the world below is built
            world_spec = self.spec
            if params.distractors:
                world_spec = self.spec.model_copy(
                    update={"objects": apply_to_spec(self.spec, params).objects}
                )
            detail = VISUAL_DETAIL[self.options.quality] if self.options.cameras else NOTHING_RENDERED
            self._sim = Simulation(world_spec, self.options.backend, self.scene_dir, detail)
            self._renderer = (
                SceneRenderer(self._sim.backend, world_spec, self.options.quality, self.pipelined, gl)
                if self.options.cameras else None
            )
            self._structural_key = key
            self._model_xml = None
        return self._sim

    def _current_world(self) -> Simulation:
        """Return the world of the episode being recorded (RuntimeError when none is built)."""
        if self._sim is None:
            raise RuntimeError("EpisodeRunner: no world is built (record an episode with run() first)")
        return self._sim

    def sample_params(self, dataset_seed: int, index: int) -> EpisodeParams:
        """Return the episode's sampled parameters (empty when randomization is off)."""
        if self.options.randomization is None:
            return EpisodeParams(dataset_seed=int(dataset_seed), episode_index=int(index))
        return sample_episode_params(self.options.randomization, self.spec, dataset_seed, index)

    # -- one episode ---------------------------------------------------------------------------------
    def run(self, dataset_seed: int, index: int, params: EpisodeParams | None = None,
            policy: Policy | None = None) -> EpisodeResult:
        """Record episode ``index`` of the dataset with seed ``dataset_seed``, driven by ``policy`` (default: the
        task's scripted expert); a ``PolicyFailure`` from ``policy.act`` ends the episode as failed."""
        params = params if params is not None else self.sample_params(dataset_seed, index)
        sim = self._world_for(params)
        from randomization.apply import begin_episode

        obs, perturb, sensor_rng = begin_episode(sim, self._renderer, params, dataset_seed, index)
        expert = policy if policy is not None else sim.task.expert()
        expert.reset()
        horizon = self.options.max_steps or self.spec.task.horizon
        buf = EpisodeBuffer(self.options.cameras)
        phases = expert_phases(expert) if policy is None else ()
        noise = (params, sensor_rng, stream(dataset_seed, index, "pointcloud"))
        drawing: deque[PendingFrames | None] = deque()  # frames being drawn while the episode goes on, oldest first
        drawing.append(self._begin_frames())
        buf.add_obs(obs, sim.backend.get_state(exact=False))
        buf.add_phase(expert, phases)
        success, reason = False, ""
        for _ in range(horizon):
            try:
                action = np.asarray(expert.act(obs), dtype=np.float32)
            except PolicyFailure as exc:
                reason = str(exc)
                break
            result = sim.step(perturb.effective(action))
            if result.info.get("failure_reason"):
                reason = result.info["failure_reason"]
                break
            buf.add_step(action, result.reward)
            while drawing and (len(drawing) >= RUN_AHEAD or _drawn(drawing[0])):
                self._collect_frames(buf, drawing.popleft(), *noise)
            obs = result.obs
            drawing.append(self._begin_frames())
            buf.add_obs(obs, sim.backend.get_state(exact=False))
            buf.add_phase(expert, phases)
            if result.terminated:
                success = bool(result.info["success"])
                break
        while drawing:
            self._collect_frames(buf, drawing.popleft(), *noise)
        if not success and not reason:
            reason = f"no success within {horizon} steps"
        steps = len(buf.actions)
        if steps == 0:
            return EpisodeResult(index, False, reason or "no steps recorded", 0, None)
        record = self._record(buf, dataset_seed, index, params, success, reason)
        if phases:
            record.ep_meta["expert_phases"] = list(phases)
        return EpisodeResult(index, success, reason, steps, record)

    def _begin_frames(self) -> PendingFrames | None:
        """Start rendering the recorded cameras as the world is now (None without cameras)."""
        return None if self._renderer is None else self._renderer.render_async(list(self.options.cameras))

    def _collect_frames(self, buf: EpisodeBuffer, pending: PendingFrames | None, params: EpisodeParams,
                        sensor_rng: np.random.Generator, cloud_rng: np.random.Generator) -> None:
        """Wait for ``pending``, add its frames (sensor noise applied) and their fused point cloud to ``buf``."""
        frames: dict[str, Frame] = {}
        if pending is not None:
            from randomization.apply import apply_sensor_noise

            frames = apply_sensor_noise(pending.result(), params, sensor_rng)
        buf.add_frames(frames)
        if self.options.pointcloud is not None:
            cloud = fuse_pointcloud(frames, self.options.pointcloud, cloud_rng)
            for key, value in (("pointcloud", cloud.xyz), ("pointcloud_rgb", cloud.rgb),
                               ("pointcloud_seg", cloud.ids[:, None])):
                buf.clouds.setdefault(key, []).append(value)

    def _record(self, buf: EpisodeBuffer, seed: int, index: int, params: EpisodeParams, success: bool,
                reason: str) -> EpisodeRecord:
        sim = self._current_world()
        obs, next_obs, cameras, final, dones = buf.arrays(self.options.depth_format)
        T = len(buf.actions)
        seg_ids = self._renderer.segmentation_ids if self._renderer is not None else {}
        ep_meta = {
            "scene": self.spec.model_dump(mode="json"),
            "randomization": params.to_dict(),
            "randomization_config": None if self.options.randomization is None
            else self.options.randomization.to_dict(),
            "quality": self.options.quality,
            "depth_format": self.options.depth_format,
            "max_steps": self.options.max_steps,  # --max-steps (None = the task horizon): needed to regenerate
            "pointcloud": self.options.pointcloud,  # --pointcloud N (None: no point clouds)
            "versions": versions(self.options.backend),
            "final_frames_in": "next_obs_last",
        }
        return EpisodeRecord(
            index=int(index), seed=int(seed), backend=self.options.backend,
            engine_version=sim.backend.engine_version, scene_name=self.spec.name, success=bool(success),
            failure_reason="" if success else reason, model_file=self._model_text(), ep_meta=ep_meta,
            actions=np.stack(buf.actions).astype(np.float32), rewards=np.asarray(buf.rewards, np.float32),
            dones=dones, states=np.stack(buf.states[:T]), obs=obs, next_obs_lowdim=next_obs, cameras=cameras,
            segmentation_ids=seg_ids, quality=self.options.quality, final_images=final,
        )

    def _model_text(self) -> str:
        """Return the compiled model text of the current world (computed once per world)."""
        if self._model_xml is None:
            self._model_xml = self._current_world().backend.model_xml()
        return self._model_xml

    def _gl_thread(self) -> GLThread | None:
        """Return the GL thread pipelined MuJoCo cameras draw on (started on first use), else None."""
        if not (self.pipelined and self.options.cameras and self.options.backend == "mujoco"):
            return None
        if self._gl is None:
            cams = [self.spec.camera(name) for name in self.options.cameras]
            self._gl = start_gl_thread(max(c.width for c in cams), max(c.height for c in cams))
        return self._gl

    def close(self) -> None:
        """Release the world, its renderer and the GL thread."""
        self._close_world()
        if self._gl is not None:
            self._gl.close()
            self._gl = None

    def _close_world(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if self._sim is not None:
            self._sim.close()
            self._sim = None


class EpisodeBuffer:
    """Per-step accumulation of one episode, turned into schema arrays by ``arrays``."""

    def __init__(self, cameras: tuple[str, ...]):
        self.lowdim: dict[str, list[np.ndarray]] = {k: [] for k in LOWDIM_KEYS}
        self.images: dict[str, dict[str, list[np.ndarray]]] = {c: {} for c in cameras}
        self.poses: dict[str, list[np.ndarray]] = {c: [] for c in cameras}
        self.intrinsics: dict[str, Any] = {}
        self.states: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []
        self.rewards: list[float] = []
        self.clouds: dict[str, list[np.ndarray]] = {}  # pointcloud, pointcloud_rgb, pointcloud_seg per snapshot
        self.phases: list[int] = []  # expert phase index per observation (experts that declare PHASES)

    def arrays(self, depth_format: str = "metric") -> tuple[dict, dict, dict, dict, np.ndarray]:
        """Return (obs, next_obs low-dim, cameras, final image frames, dones) for T = recorded actions.

        Image lists are freed while they are stacked, so an episode's peak memory stays ~1x its images.
        """
        T = len(self.actions)
        obs = {k: np.stack(v[:T]).astype(np.float32) for k, v in self.lowdim.items()}
        next_obs = {k: np.stack(v[1 : T + 1]).astype(np.float32) for k, v in self.lowdim.items()}
        cameras: dict[str, CameraRecord] = {}
        final: dict[str, np.ndarray] = {}
        units = "m" if depth_format == "metric" else "normalized"
        for cam, images in self.images.items():
            intr = self.intrinsics[cam]
            cameras[cam] = CameraRecord(
                name=cam, K=np.asarray(intr.K, float), width=intr.width, height=intr.height,
                distortion=np.asarray(intr.distortion, float), near=float(intr.near), far=float(intr.far),
                depth_units=units, depth_kind="z", T_world_cam=np.stack(self.poses[cam][:T]),
            )
            for key, frames in images.items():
                arr = np.stack(frames)
                frames.clear()
                if key == "depth" and units == "normalized":
                    arr = normalize_depth(arr, intr.near, intr.far)
                if key in ("depth", "segmentation"):
                    arr = arr[..., None]
                name = f"{cam}_{'image' if key == 'rgb' else key}"
                obs[name] = arr[:T]
                final[name] = arr[T : T + 1]
        if self.phases:  # the expert's phase when it received each observation (docs/hdf5_format.md)
            ph = np.asarray(self.phases, np.float32)[:, None]
            obs[EXPERT_PHASE_KEY], next_obs[EXPERT_PHASE_KEY] = ph[:T], ph[1 : T + 1]
        for key, values in self.clouds.items():  # point clouds: like images, the last snapshot is next_obs_last
            arr = np.stack(values)
            obs[key], final[key] = arr[:T], arr[T : T + 1]
        dones = np.zeros(T, dtype=np.uint8)
        dones[-1] = 1
        return obs, next_obs, cameras, final, dones

    def add_obs(self, obs: dict[str, np.ndarray], state: np.ndarray) -> None:
        """Add one observation's low-dim values and the engine state it was taken in."""
        for k in LOWDIM_KEYS:
            self.lowdim[k].append(np.asarray(obs[k], np.float32))
        self.states.append(state)

    def add_frames(self, frames: dict[str, Frame]) -> None:
        """Add one observation's camera frames (the recorded cameras; empty without cameras)."""
        for cam, f in frames.items():
            self.intrinsics[cam] = f.intrinsics
            self.poses[cam].append(np.asarray(f.T_world_cam, np.float64))
            for key, arr in (("rgb", f.rgb), ("depth", f.depth), ("segmentation", f.segmentation)):
                if arr is not None:
                    self.images[cam].setdefault(key, []).append(arr)

    def add_phase(self, expert: Any, phases: tuple[str, ...]) -> None:
        """Record the expert's current phase (its index in ``phases``) for the observation just added."""
        if phases:
            self.phases.append(phases.index(expert.phase))

    def add_step(self, action: np.ndarray, reward: float) -> None:
        self.actions.append(action)
        self.rewards.append(float(reward))


def versions(backend: str) -> dict[str, str]:
    """Return the versions that determine an episode's bytes (engine, numpy, robosynth)."""
    return dict(_versions(backend))


@functools.cache
def _versions(backend: str) -> tuple[tuple[str, str], ...]:
    from importlib import metadata

    out = {"numpy": np.__version__}
    for pkg in ("robosynth", "mujoco" if backend == "mujoco" else "pybullet", "h5py"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return tuple(out.items())
