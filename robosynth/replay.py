"""``robosynth replay``: re-execute an episode's recorded actions and measure how far the state drifts.

On the recording engine the replay is exact (the same seed streams, parameters and actions give the same
bits). On the other engine (``--backend``) it measures sim-to-sim transfer: per-step distance between the
recorded and replayed end-effector and object positions, and whether the task still succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from randomization.apply import begin_episode
from randomization.params import EpisodeParams
from robosynth.dataset import DatasetError, EpisodeRecord, iter_episodes
from scenes.runtime import Simulation
from scenes.spec import SceneSpec
from sim.errors import InputError


@dataclass
class ReplayReport:
    """Per-step divergence between a recorded episode and its replay."""

    episode: int
    recorded_backend: str
    replay_backend: str
    steps: int
    eef_error: np.ndarray  # (T,) metres
    object_error: np.ndarray  # (T,) metres, first object position in obs["object"]
    joint_error: np.ndarray  # (T,) rad, max over arm joints
    recorded_success: bool
    replay_success: bool
    extra: dict = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """Return True when every compared quantity matched bit for bit."""
        return bool(self.eef_error.max(initial=0) == 0 and self.object_error.max(initial=0) == 0
                    and self.joint_error.max(initial=0) == 0)

    def summary(self) -> dict:
        """Return JSON-ready summary numbers."""
        return {
            "episode": self.episode, "recorded_backend": self.recorded_backend,
            "replay_backend": self.replay_backend, "steps": self.steps,
            "eef_error_max_m": float(self.eef_error.max(initial=0)),
            "eef_error_final_m": float(self.eef_error[-1]) if self.steps else 0.0,
            "object_error_max_m": float(self.object_error.max(initial=0)),
            "object_error_final_m": float(self.object_error[-1]) if self.steps else 0.0,
            "joint_error_max_rad": float(self.joint_error.max(initial=0)),
            "recorded_success": self.recorded_success, "replay_success": self.replay_success,
            "exact": self.exact,
        }


def find_episode(path: Path, index: int) -> EpisodeRecord:
    """Return the recorded episode with ``episode_index == index`` from a dataset dir or file."""
    for ep in iter_episodes(path):
        if ep.index == index:
            return ep
    raise InputError(f"episode {index} is not in '{path}'")


def replay_episode(ep: EpisodeRecord, backend: str | None = None) -> ReplayReport:
    """Re-run ``ep``'s actions on ``backend`` (default: the recording backend) and compare observations."""
    try:
        spec = SceneSpec.model_validate(ep.ep_meta["scene"])
        params = EpisodeParams.from_dict(ep.ep_meta["randomization"])
    except (KeyError, ValueError) as exc:
        raise DatasetError(f"episode {ep.index} lacks the scene or randomization metadata needed to replay "
                           f"({exc})") from None
    backend = backend or ep.backend
    sim = Simulation(spec, backend)
    try:
        obs, perturb, _ = begin_episode(sim, None, params, ep.seed, ep.index)
        T = ep.num_steps
        eef, objerr, joint = np.zeros(T), np.zeros(T), np.zeros(T)
        success = False
        for t in range(T):
            # Compare the observation *before* action t with the recorded obs[t].
            eef[t] = np.linalg.norm(obs["robot0_eef_pos"] - ep.obs["robot0_eef_pos"][t])
            objerr[t] = np.linalg.norm(obs["object"][:3] - ep.obs["object"][t][:3])
            joint[t] = np.abs(obs["robot0_joint_pos"] - ep.obs["robot0_joint_pos"][t]).max()
            res = sim.step(perturb.effective(ep.actions[t]))
            if res.info.get("failure_reason") and not res.obs:
                eef, objerr, joint = eef[: t + 1], objerr[: t + 1], joint[: t + 1]
                break
            obs = res.obs
            success = success or bool(res.info.get("success"))
        return ReplayReport(ep.index, ep.backend, backend, len(eef), eef, objerr, joint, bool(ep.success), success)
    finally:
        sim.close()
