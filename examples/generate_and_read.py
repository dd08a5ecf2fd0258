"""Generate a small dataset in Python and read it back the way robomimic does.

    python examples/generate_and_read.py [OUT_DIR]

Records 3 pick-and-place episodes on MuJoCo with one 64x64 RGB-D-segmentation camera, then opens the index
``dataset.hdf5`` with h5py and prints what a training loader sees.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import h5py

from robosynth.dataset import verify_path
from robosynth.generate import GenerateRequest, generate


def main(out: Path) -> None:
    """Generate, verify and read a 3-episode dataset in ``out``."""
    request = GenerateRequest(scene="pick_place", backend="mujoco", episodes=3, seed=0, cameras=("agentview",),
                              resolution=(64, 64), quality="fast")
    summary = generate(request, out)
    print(f"written {summary.written} episodes, {summary.failed} failed, {summary.steps} steps")
    assert verify_path(out) == [], "the dataset does not verify"
    with h5py.File(out / "dataset.hdf5", "r") as f:
        demos = sorted(f["data"], key=lambda name: int(name.split("_")[1]))
        train = [name.decode() for name in f["mask/train"][:]]
        valid = [name.decode() for name in f["mask/valid"][:]]
        print(f"demos {demos}, train {train}, valid {valid}")
        demo = f["data"][demos[0]]
        for key in ("actions", "obs/robot0_eef_pos", "obs/agentview_image", "obs/agentview_depth",
                    "obs/agentview_segmentation"):
            print(f"{key}: {demo[key].shape} {demo[key].dtype}")
        print(f"success {bool(demo.attrs['success'])}, seed {int(demo.attrs['seed'])}, "
              f"K {demo['cameras/agentview'].attrs['K'].tolist()}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp) / "data")
