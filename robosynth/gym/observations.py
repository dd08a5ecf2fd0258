"""Camera observations of the Gymnasium env per ``obs_mode``: spaces, and observations from rendered frames.

- ``rgbd``: ``<cam>_image`` (H, W, 3) uint8 and ``<cam>_depth`` (H, W, 1) float32 metres per camera;
- ``rgbd_seg``: also ``<cam>_segmentation`` (H, W, 1) int32 instance ids (0 = background);
- ``pointcloud``: ``pointcloud`` (N, 3) float32 world metres, ``pointcloud_rgb`` (N, 3) uint8 and
  ``pointcloud_seg`` (N, 1) int32, fused from the cameras' depth (``renderers.pointcloud``), N fixed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from gymnasium import spaces

from renderers.pointcloud import fuse_pointcloud
from renderers.sensors import Frame
from scenes.spec import SceneSpec

OBS_MODES = ("state", "rgbd", "rgbd_seg", "pointcloud")
ID_MAX = np.iinfo(np.int32).max


def render_modalities(obs_mode: str, record_segmentation: bool) -> tuple[str, ...]:
    """Return what a mode renders: no segmentation for ``rgbd`` unless a recorder asks for it."""
    if obs_mode in ("rgbd_seg", "pointcloud") or record_segmentation:
        return ("rgb", "depth", "segmentation")
    return ("rgb", "depth")


def camera_spaces(spec: SceneSpec, cameras: Sequence[str], obs_mode: str, points: int) -> dict[str, spaces.Space]:
    """Return the observation spaces a camera mode adds to the low-dim ones."""
    d: dict[str, spaces.Space] = {}
    if obs_mode == "pointcloud":
        d["pointcloud"] = spaces.Box(-np.inf, np.inf, (points, 3), dtype=np.float32)
        d["pointcloud_rgb"] = spaces.Box(0, 255, (points, 3), dtype=np.uint8)
        d["pointcloud_seg"] = spaces.Box(0, ID_MAX, (points, 1), dtype=np.int32)
        return d
    for name in cameras if obs_mode != "state" else ():
        cam = spec.camera(name)
        d[f"{name}_image"] = spaces.Box(0, 255, (cam.height, cam.width, 3), dtype=np.uint8)
        d[f"{name}_depth"] = spaces.Box(0.0, cam.far, (cam.height, cam.width, 1), dtype=np.float32)
        if obs_mode == "rgbd_seg":
            d[f"{name}_segmentation"] = spaces.Box(0, ID_MAX, (cam.height, cam.width, 1), dtype=np.int32)
    return d


def camera_obs(frames: Mapping[str, Frame], obs_mode: str, points: int, rng: np.random.Generator,
               crop: tuple[Sequence[float], Sequence[float]] | None) -> dict[str, np.ndarray]:
    """Return the camera observations of ``obs_mode`` from rendered (and noised) frames."""
    if obs_mode == "pointcloud":
        cloud = fuse_pointcloud(frames, points, rng, crop)
        return {"pointcloud": cloud.xyz, "pointcloud_rgb": cloud.rgb, "pointcloud_seg": cloud.ids[:, None]}
    obs: dict[str, np.ndarray] = {}
    for name, f in frames.items():
        if f.rgb is None or f.depth is None:
            raise RuntimeError(f"camera '{name}' renders no {'rgb' if f.rgb is None else 'depth'} image "
                               f"(see its modalities); obs_mode '{obs_mode}' needs both")
        obs[f"{name}_image"] = f.rgb
        obs[f"{name}_depth"] = f.depth[..., None].astype(np.float32)
        if obs_mode == "rgbd_seg":
            if f.segmentation is None:
                raise RuntimeError(f"camera '{name}' renders no segmentation (see its modalities)")
            obs[f"{name}_segmentation"] = f.segmentation[..., None].astype(np.int32)
    return obs
