"""Run one episode of a scene's expert and turn it into an ``EpisodeRecord`` (schema "1").

An ``EpisodeRunner`` lives in one worker. It keeps its world between episodes and rebuilds it only when an
episode's structural parameters (distractor meshes) differ. Every episode is a pure function of
(dataset seed, episode index, options): the world is reset to its pristine state, the episode's sampled
parameters are applied absolutely, and all randomness comes from named seed streams.
"""

from __future__ import annotations

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
from robosynth.dataset import EpisodeRecord
from robosynth.generate.buffer import EpisodeBuffer, versions
from scenes.runtime import Simulation
from scenes.spec import SceneSpec
from sim.backend import NOTHING_RENDERED
from sim.errors import InputError

if TYPE_CHECKING:
    from renderers.gl_thread import GLThread

RUN_AHEAD = 32
"""Observations an episode may run ahead of its drawn frames (while a new GL context is created, for instance)."""


def _drawn(pending: PendingFrames | None) -> bool:
    """Return True when ``pending``'s frames are drawn (collecting them will not wait)."""
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
        return self.run_unfinished(dataset_seed, index, params, policy).finish()

    def run_unfinished(self, dataset_seed: int, index: int, params: EpisodeParams | None = None,
                       policy: Policy | None = None) -> UnfinishedEpisode:
        """Step episode ``index`` as :meth:`run` does and return it before its frames are collected: its last
        frames may still be drawing. ``finish()`` collects them and builds the record, on any thread, while this
        runner records the next episode (the result is the same as :meth:`run`'s)."""
        params = params if params is not None else self.sample_params(dataset_seed, index)
        sim = self._world_for(params)
        from randomization.apply import begin_episode

        obs, perturb, sensor_rng = begin_episode(sim, self._renderer, params, dataset_seed, index)
        expert = policy if policy is not None else sim.task.expert()
        expert.reset()
        horizon = self.options.max_steps or self.spec.task.horizon
        buf = EpisodeBuffer(self.options.cameras)
        phases = expert_phases(expert) if policy is None else ()
        frames: list[PendingFrames | None] = [self._begin_frames()]  # one per observation, collected by finish()
        undrawn: deque[PendingFrames | None] = deque(frames)  # those not yet seen drawn, oldest first
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
            while undrawn and (len(undrawn) >= RUN_AHEAD or _drawn(undrawn[0])):
                _wait_drawn(undrawn.popleft())
            obs = result.obs
            frames.append(self._begin_frames())
            undrawn.append(frames[-1])
            buf.add_obs(obs, sim.backend.get_state(exact=False))
            buf.add_phase(expert, phases)
            if result.terminated:
                success = bool(result.info["success"])
                break
        if not success and not reason:
            reason = f"no success within {horizon} steps"
        world = WorldFacts(sim.backend.engine_version, self._model_text(),
                           self._renderer.segmentation_ids if self._renderer is not None else {})
        return UnfinishedEpisode(index, success, reason, buf, frames, self.options, self.spec, world,
                                 (int(dataset_seed), params, sensor_rng, stream(dataset_seed, index, "pointcloud")),
                                 phases)

    def _begin_frames(self) -> PendingFrames | None:
        """Start rendering the recorded cameras as the world is now (None without cameras)."""
        return None if self._renderer is None else self._renderer.render_async(list(self.options.cameras))

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


def _wait_drawn(pending: PendingFrames | None) -> None:
    """Block until ``pending``'s frames are drawn (without decoding them)."""
    if pending is not None:
        pending.wait()


@dataclass(frozen=True)
class WorldFacts:
    """What a record takes from the world it was recorded in, read when its steps end (the world may be rebuilt
    for the next episode before the record is built)."""

    engine_version: str
    model_text: str
    segmentation_ids: dict[int, dict[str, str]]


@dataclass(eq=False)
class UnfinishedEpisode:
    """An episode whose steps are recorded and whose frames are not collected yet (the last ones may still be
    drawing). It holds all it needs, so :meth:`finish` can run on another thread while the runner records the
    next episode: the frames are collected in step order with the episode's own noise streams, so the record is
    the one :meth:`EpisodeRunner.run` returns."""

    index: int
    success: bool
    reason: str
    buf: EpisodeBuffer
    frames: list[PendingFrames | None]
    options: RecordingOptions
    spec: SceneSpec
    world: WorldFacts
    streams: tuple[int, EpisodeParams, np.random.Generator, np.random.Generator]  # seed, params, sensor, cloud
    phases: tuple[str, ...]

    @property
    def steps(self) -> int:
        """Return the number of recorded steps."""
        return len(self.buf.actions)

    def finish(self) -> EpisodeResult:
        """Collect the frames (sensor noise applied, point clouds fused) and return the episode's result."""
        seed, params, sensor_rng, cloud_rng = self.streams
        for pending in self.frames:
            _collect_frames(self.buf, pending, params, sensor_rng, cloud_rng, self.options.pointcloud)
        self.frames = []
        if self.steps == 0:
            return EpisodeResult(self.index, False, self.reason or "no steps recorded", 0, None)
        record = _record(self.buf, self.options, self.spec, self.world, seed, self.index, params, self.success,
                         self.reason)
        if self.phases:
            record.ep_meta["expert_phases"] = list(self.phases)
        return EpisodeResult(self.index, self.success, self.reason, self.steps, record)


def _collect_frames(buf: EpisodeBuffer, pending: PendingFrames | None, params: EpisodeParams,
                    sensor_rng: np.random.Generator, cloud_rng: np.random.Generator, pointcloud: int | None) -> None:
    """Wait for ``pending``, add its frames (sensor noise applied) and their fused point cloud to ``buf``."""
    frames: dict[str, Frame] = {}
    if pending is not None:
        from randomization.apply import apply_sensor_noise

        frames = apply_sensor_noise(pending.result(), params, sensor_rng)
    buf.add_frames(frames)
    if pointcloud is not None:
        cloud = fuse_pointcloud(frames, pointcloud, cloud_rng)
        for key, value in (("pointcloud", cloud.xyz), ("pointcloud_rgb", cloud.rgb),
                           ("pointcloud_seg", cloud.ids[:, None])):
            buf.clouds.setdefault(key, []).append(value)


def _record(buf: EpisodeBuffer, options: RecordingOptions, spec: SceneSpec, world: WorldFacts, seed: int,
            index: int, params: EpisodeParams, success: bool, reason: str) -> EpisodeRecord:
    obs, next_obs, cameras, final, dones = buf.arrays(options.depth_format)
    T = len(buf.actions)
    ep_meta = {
        "scene": spec.model_dump(mode="json"),
        "randomization": params.to_dict(),
        "randomization_config": None if options.randomization is None else options.randomization.to_dict(),
        "quality": options.quality,
        "depth_format": options.depth_format,
        "max_steps": options.max_steps,  # --max-steps (None = the task horizon): needed to regenerate
        "pointcloud": options.pointcloud,  # --pointcloud N (None: no point clouds)
        "versions": versions(options.backend),
        "final_frames_in": "next_obs_last",
    }
    return EpisodeRecord(
        index=int(index), seed=int(seed), backend=options.backend,
        engine_version=world.engine_version, scene_name=spec.name, success=bool(success),
        failure_reason="" if success else reason, model_file=world.model_text, ep_meta=ep_meta,
        actions=np.stack(buf.actions).astype(np.float32), rewards=np.asarray(buf.rewards, np.float32),
        dones=dones, states=np.stack(buf.states[:T]), obs=obs, next_obs_lowdim=next_obs, cameras=cameras,
        segmentation_ids=world.segmentation_ids, quality=options.quality, final_images=final,
    )
