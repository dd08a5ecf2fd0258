"""--executor ray gives the same episodes as the local executor (runs where the [ray] extra is installed)."""

from __future__ import annotations

import pytest

from robosynth.dataset import episode_checksum, iter_episodes
from robosynth.generate import GenerateRequest, generate

pytest.importorskip("ray")


def test_ray_executor_matches_local(tmp_path):
    req = GenerateRequest(scene="pick_place", backend="mujoco", episodes=3, seed=4, cameras=(), max_steps=20,
                          keep_failed=True)
    generate(req, tmp_path / "ray", workers=2, executor="ray")
    generate(req, tmp_path / "local", workers=1)
    a = {e.index: episode_checksum(e) for e in iter_episodes(tmp_path / "ray")}
    b = {e.index: episode_checksum(e) for e in iter_episodes(tmp_path / "local")}
    assert len(a) == 3 and a == b
