"""``RecordEpisodes``: a Gymnasium wrapper that writes any policy's episodes in robosynth's HDF5 format.

Wrap a ``robosynth/*`` env (state or rgbd); every finished episode is written atomically to
``DIR/episodes/ep_<i>.hdf5`` (schema "1", the same layout as ``robosynth generate``), and ``close()``
rebuilds ``DIR/dataset.hdf5`` for robomimic-style readers. Images are recorded for rgbd envs.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

from robosynth.dataset import DatasetInfo, EpisodeRecord, build_index, episode_path, write_episode_file
from robosynth.generate.buffer import EpisodeBuffer, versions


class RecordEpisodes(gym.Wrapper):
    """Record every episode of a robosynth env to an HDF5 dataset directory."""

    def __init__(self, env: gym.Env, out: str | Path, start_index: int = 0, compression: str | None = "gzip"):
        super().__init__(env)
        self.out = Path(out)
        self.index = int(start_index)
        self.compression = compression
        self._buf: EpisodeBuffer | None = None  # the episode being recorded (None before reset / after a flush)

    @property
    def _core(self):
        return self.env.unwrapped

    def _episode(self) -> EpisodeBuffer:
        """Return the buffer of the episode being recorded (RuntimeError when none was started)."""
        if self._buf is None:
            raise RuntimeError("RecordEpisodes: call reset() to start an episode before step()")
        return self._buf

    def _snapshot(self, obs: dict[str, np.ndarray]) -> None:
        core = self._core
        buf = self._episode()
        buf.add_obs(obs, core.sim.backend.get_state(exact=False))
        buf.add_frames(core.last_frames or {})

    def reset(self, **kwargs):
        """Start a new recorded episode."""
        if self._buf is not None and self._buf.actions:
            self._flush(success=False, reason="reset before the episode ended")
        core = self._core
        core.record_segmentation = True  # recorded episodes hold segmentation even when the obs do not
        obs, info = self.env.reset(**kwargs)
        self._buf = EpisodeBuffer(tuple(core.cam_names) if core.obs_mode != "state" else ())
        self._snapshot(obs)
        return obs, info

    def step(self, action):
        """Step and record; writes the episode when it terminates or truncates."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._episode().add_step(np.asarray(action, np.float32), float(reward))
        self._snapshot(obs)
        if terminated or truncated:
            self._flush(bool(info.get("success", False)), info.get("failure_reason") or
                        ("" if info.get("success") else "truncated"))
        return obs, reward, terminated, truncated, info

    def _flush(self, success: bool, reason: str) -> None:
        core, b = self._core, self._episode()
        obs, next_obs, cameras, final, dones = b.arrays()
        spec, renderer = core.scene_spec, core._renderer
        rec = EpisodeRecord(
            index=self.index, seed=int(core.episode_seed or 0), backend=core.sim.backend.name,
            engine_version=core.sim.backend.engine_version, scene_name=spec.name, success=success,
            failure_reason="" if success else reason, model_file="",
            ep_meta={"scene": spec.model_dump(mode="json"), "randomization": core._params.to_dict(),
                     "source": "gym RecordEpisodes", "versions": versions(core.sim.backend.name)},
            actions=np.stack(b.actions), rewards=np.asarray(b.rewards, np.float32), dones=dones,
            states=np.stack(b.states[: len(b.actions)]), obs=obs, next_obs_lowdim=next_obs, cameras=cameras,
            segmentation_ids=renderer.segmentation_ids if renderer is not None and cameras else {},
            quality=core.quality if cameras else "", final_images=final,
        )
        path = episode_path(self.out, self.index)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_episode_file(path, self._info(), rec, compression=self.compression)
        self.index += 1
        self._buf = None

    def _info(self) -> DatasetInfo:
        core = self._core
        env_id = core.spec.id if core.spec is not None else "robosynth/Scene-v0"
        return DatasetInfo(env_name=env_id, env_version="0",
                           env_kwargs={"backend": core.sim.backend.name, "obs_mode": core.obs_mode})

    def close(self):
        """Rebuild the dataset index, then close the env."""
        if any(self.out.glob("episodes/ep_*.hdf5")):
            build_index(self.out, self._info())
        return super().close()
