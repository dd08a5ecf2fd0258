"""``RecordEpisodes``: a Gymnasium wrapper that writes any policy's episodes in robosynth's HDF5 format.

Wrap a ``robosynth/*`` env (state or rgbd); every finished episode is written atomically to
``DIR/episodes/ep_<i>.hdf5`` (schema "1", the same layout as ``robosynth generate``), and ``close()``
rebuilds ``DIR/dataset.hdf5`` for robomimic-style readers. Images are recorded for rgbd envs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from robosynth.recording import LOWDIM_KEYS, versions
from robosynth.schema import CameraRecord, DatasetInfo, EpisodeRecord, build_index, episode_path, write_episode_file


class RecordEpisodes(gym.Wrapper):
    """Record every episode of a robosynth env to an HDF5 dataset directory."""

    def __init__(self, env: gym.Env, out: str | Path, start_index: int = 0, compression: str | None = "gzip"):
        super().__init__(env)
        self.out = Path(out)
        self.index = int(start_index)
        self.compression = compression
        self._buf: dict[str, Any] | None = None

    @property
    def _core(self):
        return self.env.unwrapped

    def _snapshot(self, obs: dict[str, np.ndarray]) -> None:
        core, b = self._core, self._buf
        b["lowdim"].append({k: np.asarray(obs[k], np.float32) for k in LOWDIM_KEYS})
        b["states"].append(core.sim.backend.get_state(exact=False))
        for cam, f in (core.last_frames or {}).items():
            b["frames"].setdefault(cam, []).append(f)

    def reset(self, **kwargs):
        """Start a new recorded episode."""
        if self._buf is not None and self._buf["actions"]:
            self._flush(success=False, reason="reset before the episode ended")
        obs, info = self.env.reset(**kwargs)
        self._buf = {"lowdim": [], "states": [], "frames": {}, "actions": [], "rewards": [], "success": False}
        self._snapshot(obs)
        return obs, info

    def step(self, action):
        """Step and record; writes the episode when it terminates or truncates."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        b = self._buf
        b["actions"].append(np.asarray(action, np.float32))
        b["rewards"].append(float(reward))
        self._snapshot(obs)
        if terminated or truncated:
            self._flush(bool(info.get("success", False)), info.get("failure_reason") or
                        ("" if info.get("success") else "truncated"))
        return obs, reward, terminated, truncated, info

    def _flush(self, success: bool, reason: str) -> None:
        core, b = self._core, self._buf
        T = len(b["actions"])
        obs = {k: np.stack([d[k] for d in b["lowdim"][:T]]) for k in LOWDIM_KEYS}
        next_obs = {k: np.stack([d[k] for d in b["lowdim"][1 : T + 1]]) for k in LOWDIM_KEYS}
        cameras, final = {}, {}
        for cam, frames in b["frames"].items():
            intr = frames[0].intrinsics
            cameras[cam] = CameraRecord(cam, np.asarray(intr.K, float), intr.width, intr.height,
                                        np.asarray(intr.distortion, float), float(intr.near), float(intr.far), "m", "z",
                                        np.stack([f.T_world_cam for f in frames[:T]]))
            for key, attr, extra in (("image", "rgb", False), ("depth", "depth", True),
                                     ("segmentation", "segmentation", True)):
                if getattr(frames[0], attr) is None:
                    continue
                arr = np.stack([getattr(f, attr) for f in frames])
                arr = arr[..., None] if extra else arr
                obs[f"{cam}_{key}"], final[f"{cam}_{key}"] = arr[:T], arr[T : T + 1]
        dones = np.zeros(T, np.uint8)
        dones[-1] = 1
        spec = core.scene_spec
        renderer = core._renderer
        rec = EpisodeRecord(
            index=self.index, seed=int(core.episode_seed or 0), backend=core.sim.backend.name,
            engine_version=core.sim.backend.engine_version, scene_name=spec.name, success=success,
            failure_reason="" if success else reason, model_file="",
            ep_meta={"scene": spec.model_dump(mode="json"), "randomization": core._params.to_dict(),
                     "source": "gym RecordEpisodes", "versions": versions(core.sim.backend.name)},
            actions=np.stack(b["actions"]), rewards=np.asarray(b["rewards"], np.float32), dones=dones,
            states=np.stack(b["states"][:T]), obs=obs, next_obs_lowdim=next_obs, cameras=cameras,
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
