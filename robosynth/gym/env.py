"""Gymnasium environments over the same scenes, e.g. ``robosynth/PickPlace-v0`` (ids in ``registration``).

``gymnasium.make("robosynth/PickPlace-v0", backend="mujoco", obs_mode="state"|"rgbd"|"rgbd_seg"|"pointcloud",
render_mode="rgb_array")`` (camera observations: ``observations``). Seeding follows Gymnasium:
``reset(seed=s)`` re-seeds ``self.np_random``, from which each episode's task, randomization and point-cloud
sampling streams are drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from robosynth.gym.observations import OBS_MODES, camera_obs, camera_spaces, render_modalities

if TYPE_CHECKING:
    from randomization.apply import EpisodePerturbation
    from randomization.params import EpisodeParams
    from renderers.sensors import Frame, SceneRenderer
    from scenes.runtime import Simulation


class RobosynthEnv(gym.Env):
    """A robosynth scene as a Gymnasium environment (one engine world per instance)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(self, scene: str = "pick_place", backend: str = "mujoco", obs_mode: str = "state",
                 render_mode: str | None = None, cameras: list[str] | None = None, quality: str = "fast",
                 randomization: str | None = None, resolution: tuple[int, int] | None = None,
                 reward_type: str | None = None, pointcloud_points: int = 1024, pointcloud_crop: bool = False):
        from randomization.load import load_scene_randomized
        from renderers.sensors import VISUAL_DETAIL
        from scenes.loader import scene_dir
        from scenes.runtime import Simulation
        from sim.backend import NOTHING_RENDERED
        from sim.errors import InputError

        if obs_mode not in OBS_MODES:
            raise InputError(f"obs_mode must be one of {', '.join(OBS_MODES)}, got '{obs_mode}'")
        if render_mode not in (None, "rgb_array"):
            raise InputError(f"render_mode must be None or 'rgb_array', got '{render_mode}'")
        spec, self._rand_cfg = load_scene_randomized(scene, randomization)
        if reward_type is not None:  # "dense" | "sparse": overrides the scene's task parameter (see docs/tasks.md)
            spec = spec.model_copy(update={"task": spec.task.model_copy(
                update={"params": {**spec.task.params, "reward_type": reward_type}})})
        if resolution is not None:
            w, h = resolution
            spec = spec.model_copy(update={"cameras": tuple(
                c.model_copy(update={"width": int(w), "height": int(h)}) for c in spec.cameras)})
        self.scene_spec = spec
        self.obs_mode = obs_mode
        self.render_mode = render_mode
        self.quality = quality
        self.cam_names = list(cameras) if cameras is not None else [c.name for c in spec.cameras][:1]
        if obs_mode == "pointcloud" and not 1 <= int(pointcloud_points) <= 1_000_000:
            raise InputError(f"pointcloud_points must be in 1..1000000, got {pointcloud_points}")
        self.pointcloud_points = int(pointcloud_points)
        ws = spec.robot.controller  # crop to the controller's workspace box (where the task happens)
        self._crop = (ws.workspace_low, ws.workspace_high) if pointcloud_crop else None
        self._cloud_rng = np.random.default_rng(0)  # re-seeded from each episode's seed at reset
        renders = obs_mode != "state" or render_mode == "rgb_array"
        detail = VISUAL_DETAIL.get(quality, 1.0) if renders else NOTHING_RENDERED
        sim = Simulation(spec, backend, scene_dir(scene), detail)  # re-validates the task (reward_type override)
        self.sim: Simulation | None = sim  # None once closed
        self._renderer: SceneRenderer | None = None
        self.action_space = spaces.Box(-1.0, 1.0, (sim.controller.action_dim,), dtype=np.float32)
        self.observation_space = self._make_obs_space()
        self._perturb: EpisodePerturbation | None = None
        self._sensor_rng: np.random.Generator | None = None
        self._params: EpisodeParams | None = None
        self._last_obs: dict[str, np.ndarray] = {}
        self._last_reward = 0.0
        self.record_segmentation = False  # set by RecordEpisodes: compute segmentation for last_frames too
        self.last_frames: dict[str, Frame] = {}  # the Frames behind the last rgbd observation (for recording wrappers)
        self.episode_seed: int | None = None

    def _live_sim(self) -> Simulation:
        """Return the engine world (RuntimeError once the environment is closed)."""
        if self.sim is None:
            raise RuntimeError("the environment is closed")
        return self.sim

    # -- spaces ---------------------------------------------------------------------------------------
    def _make_obs_space(self) -> spaces.Dict:
        probe = self._live_sim().observe()
        d: dict[str, spaces.Space] = {
            k: spaces.Box(-np.inf, np.inf, v.shape, dtype=np.float32) for k, v in probe.items()
        }
        d.update(camera_spaces(self.scene_spec, self.cam_names, self.obs_mode, self.pointcloud_points))
        return spaces.Dict(d)

    def _scene_renderer(self) -> SceneRenderer:
        if self._renderer is None:
            from renderers.sensors import SceneRenderer

            self._renderer = SceneRenderer(self._live_sim().backend, self.scene_spec, self.quality)
        return self._renderer

    def _obs(self, low: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        obs = {k: np.asarray(v, np.float32) for k, v in low.items()}
        if self.obs_mode != "state":
            from randomization.apply import apply_sensor_noise

            if self._params is None or self._sensor_rng is None:
                raise RuntimeError("call reset() before observing an rgbd environment")
            mods = render_modalities(self.obs_mode, self.record_segmentation)
            frames = apply_sensor_noise(self._scene_renderer().render(self.cam_names, mods), self._params,
                                        self._sensor_rng)
            obs.update(camera_obs(frames, self.obs_mode, self.pointcloud_points, self._cloud_rng, self._crop))
            self.last_frames = frames
        return obs

    # -- gym API ----------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a new episode; returns (obs, info)."""
        super().reset(seed=seed)
        from randomization.apply import begin_episode
        from randomization.params import sample_episode_params
        from randomization.seeding import stream

        episode_seed = int(self.np_random.integers(0, 2**62))
        self.episode_seed = episode_seed
        self._cloud_rng = stream(episode_seed, 0, "pointcloud")
        params = sample_episode_params(self._rand_cfg, self.scene_spec, episode_seed, 0)
        self._params = params
        renders = self.obs_mode != "state" or self.render_mode == "rgb_array"
        low, self._perturb, self._sensor_rng = begin_episode(
            self._live_sim(), self._scene_renderer() if renders else None, params, episode_seed, 0)
        obs = self._obs(low)
        self._last_obs, self._last_reward = obs, 0.0
        return obs, {"episode_seed": episode_seed}

    def step(self, action):
        """Apply one action; returns (obs, reward, terminated, truncated, info)."""
        sim = self._live_sim()
        a = np.asarray(action, dtype=np.float64)
        r = sim.step(self._perturb.effective(a) if self._perturb is not None else a)
        if r.info.get("failure_reason") and not r.obs:
            # A physics blow-up ends the episode as *truncated* (not an outcome of the task: learners bootstrap
            # from the last value), with the last finite observation and reward, so it never pays to cause one.
            return self._last_obs, self._last_reward, False, True, dict(r.info)
        obs = self._obs(r.obs)
        self._last_obs, self._last_reward = obs, float(r.reward)
        return obs, float(r.reward), bool(r.terminated), bool(r.truncated), dict(r.info)

    def render(self):
        """Return the first camera's RGB image (render_mode 'rgb_array')."""
        if self.render_mode != "rgb_array":
            return None
        return self._scene_renderer().render(self.cam_names[:1], ("rgb",))[self.cam_names[0]].rgb

    def close(self) -> None:
        """Release the renderer and the engine."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        sim = getattr(self, "sim", None)  # absent when __init__ failed early
        if sim is not None:
            sim.close()
            self.sim = None
