"""LeRobot's own ``LeRobotDataset`` (lerobot >= 0.6) reads robosynth's exports: every frame's action, state and depth
equal the source and the RGB is within the stated PSNR (exact with ``--images png``).

lerobot 0.6 needs Python >= 3.12 and torch, so it is not in robosynth's environment: the check runs in another
interpreter, named by ``ROBOSYNTH_LEROBOT_PYTHON`` (e.g. a 3.12 venv with ``pip install 'lerobot[dataset]'``), and is
skipped without it (CI). docs/export.md gives the figures measured with lerobot 0.6.1.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

LEROBOT_PYTHON = os.environ.get("ROBOSYNTH_LEROBOT_PYTHON")
CHECK = Path(__file__).with_name("lerobot_loader_check.py")
STATE_KEYS = ("robot0_joint_pos", "robot0_gripper_qpos", "robot0_eef_pos", "robot0_eef_quat")

pytestmark = pytest.mark.skipif(not LEROBOT_PYTHON, reason="set ROBOSYNTH_LEROBOT_PYTHON to a Python with lerobot")


def _reference(episodes: list, path: Path) -> Path:
    """Write the source's per-frame action, state, depth and RGB of the first camera to ``path`` (.npz)."""
    np.savez(path, action=np.concatenate([e.actions for e in episodes]),
             state=np.concatenate([np.concatenate([e.obs[k] for k in STATE_KEYS], axis=1) for e in episodes]),
             depth=np.concatenate([e.obs["agentview_depth"][..., 0] for e in episodes]),
             rgb=np.concatenate([e.obs["agentview_image"] for e in episodes]))
    return path


@pytest.mark.parametrize("images", ["video", "png"])
def test_lerobot_dataset_reads_the_export(images, source_episodes, lerobot_video, lerobot_png, tmp_path):
    root = lerobot_video if images == "video" else lerobot_png
    ref = _reference(source_episodes, tmp_path / "ref.npz")
    proc = subprocess.run([str(LEROBOT_PYTHON), str(CHECK), str(root), str(ref)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["frames"] == sum(e.num_steps for e in source_episodes) and got["episodes"] == len(source_episodes)
    assert got["action"] == 0.0 and got["state"] == 0.0 and got["depth"] == 0.0, got
    assert got["depth_mm_rel"] < 1e-6, got  # LeRobot's default output unit: millimetres, converted from "m"
    assert got["min_psnr"] == float("inf") if images == "png" else got["min_psnr"] >= 22.0, got
