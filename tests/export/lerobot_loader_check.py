"""Load a robosynth LeRobot export with LeRobot's own ``LeRobotDataset`` and compare it with reference arrays.

Run by ``test_lerobot_dataset_class.py`` with the interpreter named in ``ROBOSYNTH_LEROBOT_PYTHON`` (a venv with
``lerobot[dataset]`` >= 0.6, which needs Python >= 3.12; CI's 3.11 venv cannot install it). Usage::

    python lerobot_loader_check.py EXPORT_DIR REFERENCE.npz

The .npz holds, per frame in dataset order: ``action``, ``state``, ``depth`` (N, H, W) and ``rgb`` (N, H, W, 3) uint8.
Prints one JSON line: frames, episodes, max abs differences (depth read in metres, and in LeRobot's default
millimetres / 1000) and the worst per-frame RGB PSNR.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset


def main() -> None:
    """Compare every frame LeRobotDataset returns with the reference arrays."""
    root, ref_path = sys.argv[1], sys.argv[2]
    ref = np.load(ref_path)
    # depth_output_unit="m": LeRobot returns depth in millimetres by default (it converts from the recorded unit)
    ds = LeRobotDataset("robosynth/export-check", root=root, video_backend="pyav", depth_output_unit="m")
    in_mm = LeRobotDataset("robosynth/export-check", root=root, video_backend="pyav")
    cam = next(k for k in ds.meta.features if k.startswith("observation.images.") and not k.endswith("_depth"))
    out = {"frames": len(ds), "episodes": ds.num_episodes, "fps": ds.fps, "action": 0.0, "state": 0.0,
           "depth": 0.0, "depth_mm_rel": 0.0, "min_psnr": float("inf")}
    for i in range(len(ds)):
        item = ds[i]
        out["action"] = max(out["action"], float(np.abs(item["action"].numpy() - ref["action"][i]).max()))
        out["state"] = max(out["state"], float(np.abs(item["observation.state"].numpy() - ref["state"][i]).max()))
        depth = item[f"{cam}_depth"].numpy()[0]
        out["depth"] = max(out["depth"], float(np.abs(depth - ref["depth"][i]).max()))
        mm = in_mm[i][f"{cam}_depth"].numpy()[0]
        out["depth_mm_rel"] = max(out["depth_mm_rel"], float(np.abs(mm / 1000.0 - ref["depth"][i]).max()))
        rgb = np.round(item[cam].numpy().transpose(1, 2, 0) * 255.0)
        mse = float(np.mean((rgb - ref["rgb"][i].astype(np.float64)) ** 2))
        out["min_psnr"] = min(out["min_psnr"], float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
