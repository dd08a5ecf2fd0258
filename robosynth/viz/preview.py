"""Preview images: a scene's cameras before any dataset exists, or a contact sheet / video of a dataset.

Every camera becomes one row ``RGB | colourised depth | colourised segmentation`` with a small label.
Depth: near = red, far = blue (OpenCV TURBO map of inverse depth between the 1st and 99th percentile of
valid pixels); no return (0, non-finite, far plane) is black. Segmentation: a fixed colour per instance id
(golden-ratio hues), background 0 black. Library functions return arrays or paths and raise InputError
subclasses; ``robosynth preview`` in robosynth/cli/preview.py only parses flags.
"""

from __future__ import annotations

import colorsys
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from robosynth.dataset.files import atomic_path, probe_writable
from sim.errors import InputError

if TYPE_CHECKING:
    from renderers.sensors import Frame
    from scenes.spec import SceneSpec

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
VIDEO_SUFFIXES = (".mp4",)
MAX_TILE_HEIGHT = 256  # contact-sheet tiles are shrunk to this height
GAP = 2  # px between tiles and rows


# -------------------------------------------------------------------------------------- validation


def check_output(out: str | os.PathLike[str], suffixes: Sequence[str]) -> Path:
    """Return ``out`` as a Path after checking its suffix and that its directory exists and is writable."""
    p = Path(out)
    if p.suffix.lower() not in suffixes:
        raise InputError(f"--out '{p}': expected a file ending in {', '.join(suffixes)}")
    if p.is_dir():
        raise InputError(f"--out '{p}' is a directory; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"output directory '{parent}' does not exist")
    probe_writable(parent, f"output directory '{parent}' is not writable")
    return p


# -------------------------------------------------------------------------------------- colourising


def instance_colours(n: int) -> np.ndarray:
    """Return an (n, 3) uint8 BGR table: a fixed colour per instance id (golden-ratio hues), id 0 black."""
    hsv = [((i * 0.6180339887) % 1.0, 0.6 + 0.4 * ((i * 0.37) % 1.0), 0.92) for i in range(n)]
    bgr = np.array([colorsys.hsv_to_rgb(*c)[::-1] for c in hsv]).reshape(n, 3)
    bgr = np.rint(255 * bgr).astype(np.uint8)
    bgr[:1] = 0
    return bgr


def colorize_segmentation(seg: np.ndarray) -> np.ndarray:
    """Return a BGR image of instance ids (H, W) or (H, W, 1); ids <= 0 are black."""
    s = np.asarray(seg).reshape(seg.shape[0], seg.shape[1]).astype(np.int64)
    table = instance_colours(max(int(s.max(initial=0)) + 1, 1))
    return table[np.clip(s, 0, None)]


def _valid_depth(d: np.ndarray, far: float | None) -> np.ndarray:
    """Return the mask of pixels with a depth return: finite, > 0 and in front of the far plane."""
    valid = np.isfinite(d) & (d > 0)
    return valid if far is None else valid & (d < far * (1 - 1e-5))


def depth_range(depth: np.ndarray, far: float | None = None) -> tuple[float, float] | None:
    """Return the (1st, 99th) percentile of valid depth, or None when no pixel has a return."""
    d = np.asarray(depth, dtype=np.float64)
    valid = _valid_depth(d, far)
    if not valid.any():
        return None
    lo, hi = np.percentile(d[valid], [1, 99])
    return float(lo), float(max(hi, lo + 1e-6))


def colorize_depth(depth: np.ndarray, rng: tuple[float, float] | None = None, far: float | None = None) -> np.ndarray:
    """Return a BGR image of depth (near red, far blue); 0, non-finite and far-plane pixels are black."""
    d = np.asarray(depth, dtype=np.float64).reshape(depth.shape[0], depth.shape[1])
    valid = _valid_depth(d, far)
    rng = rng or depth_range(d, far)
    if rng is None:
        return np.zeros((*d.shape, 3), np.uint8)
    inv = 1.0 / np.where(valid, d, rng[0])  # inverse depth spreads the colours over the near workspace
    norm = np.clip((inv - 1.0 / rng[1]) / (1.0 / rng[0] - 1.0 / rng[1]), 0, 1)
    img = cv2.applyColorMap((255 * norm).astype(np.uint8), cv2.COLORMAP_TURBO)
    img[~valid] = 0
    return img


# -------------------------------------------------------------------------------------- layout


def _put_label(img: np.ndarray, text: str) -> np.ndarray:
    """Return ``img`` with ``text`` written small in white on a black band in its top-left corner."""
    img = np.ascontiguousarray(img)
    scale = max(0.3, min(0.5, img.shape[0] / 400))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    img[: h + base + 3, : w + 4] = 0
    cv2.putText(img, text, (2, h + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def _fit(img: np.ndarray, nearest: bool) -> np.ndarray:
    """Return ``img`` shrunk to at most MAX_TILE_HEIGHT rows (nearest-neighbour for ids)."""
    if img.shape[0] <= MAX_TILE_HEIGHT:
        return img
    s = MAX_TILE_HEIGHT / img.shape[0]
    size = (max(1, round(img.shape[1] * s)), MAX_TILE_HEIGHT)
    return cv2.resize(img, size, interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def camera_tiles(rgb: np.ndarray | None, depth: np.ndarray | None, seg: np.ndarray | None, label: str,
                 depth_rng: tuple[float, float] | None = None, far: float | None = None) -> list[np.ndarray]:
    """Return the three labelled BGR tiles RGB | depth | segmentation of one image (missing ones black)."""
    shape = next(a.shape[:2] for a in (rgb, depth, seg) if a is not None)
    black = np.zeros((*shape, 3), np.uint8)
    rgb_t = black if rgb is None else np.ascontiguousarray(np.asarray(rgb)[..., ::-1])
    rng = None if depth is None else (depth_rng or depth_range(depth, far))
    depth_t = black if depth is None else colorize_depth(depth, rng, far)
    seg_t = black if seg is None else colorize_segmentation(seg)
    depth_label = "no depth" if rng is None else f"{rng[0]:.2f}-{rng[1]:.2f} m"
    n_ids = 0 if seg is None else len(np.unique(seg[np.asarray(seg) > 0]))
    return [_put_label(_fit(rgb_t, False), label), _put_label(_fit(depth_t, True), depth_label),
            _put_label(_fit(seg_t, True), f"{n_ids} ids")]


def stack(images: Iterable[np.ndarray], axis: int) -> np.ndarray:
    """Return images side by side (axis 1) or stacked (axis 0), GAP px apart, padded with black."""
    images = list(images)
    size = [0, 0]
    size[axis] = sum(i.shape[axis] for i in images) + GAP * (len(images) - 1)
    size[1 - axis] = max(i.shape[1 - axis] for i in images)
    out = np.zeros((*size, 3), np.uint8)
    at = 0
    for i in images:
        if axis:
            out[: i.shape[0], at : at + i.shape[1]] = i
        else:
            out[at : at + i.shape[0], : i.shape[1]] = i
        at += i.shape[axis] + GAP
    return out


# -------------------------------------------------------------------------------------- scene mode


def with_resolution(spec: SceneSpec, width: int, height: int) -> SceneSpec:
    """Return ``spec`` with every camera at width x height (fovy kept; an explicit K scaled per axis)."""
    from scenes.spec import CameraSpec

    cams = []
    for c in spec.cameras:
        data = c.model_dump()
        data.update(width=width, height=height)
        if c.K is not None:
            sx, sy = width / c.width, height / c.height
            (fx, _, cx), (_, fy, cy), _ = c.K
            data["K"] = ((fx * sx, 0.0, (cx + 0.5) * sx - 0.5), (0.0, fy * sy, (cy + 0.5) * sy - 0.5), (0.0, 0.0, 1.0))
        cams.append(CameraSpec.model_validate(data))
    return spec.model_copy(update={"cameras": tuple(cams)})


def render_scene_cameras(spec: SceneSpec, backend: str, quality: str = "default", seed: int = 0,
                         folder: Path | None = None) -> dict[str, Frame]:
    """Return one Frame per camera after reset with the task stream of episode 0 of dataset seed ``seed``."""
    from randomization.seeding import stream
    from renderers.sensors import VISUAL_DETAIL, SceneRenderer
    from scenes.runtime import Simulation

    sim = Simulation(spec, backend, folder, VISUAL_DETAIL.get(quality, 1.0))
    try:
        sim.reset(stream(seed, 0, "task"))
        renderer = SceneRenderer(sim.backend, spec, quality)
        try:
            return renderer.render()
        finally:
            renderer.close()
    finally:
        sim.close()


def scene_sheet(frames_by_backend: dict[str, dict[str, Frame]], pointcloud: int | None = None,
                seed: int = 0, crop: tuple[Sequence[float], Sequence[float]] | None = None) -> np.ndarray:
    """Return the BGR sheet: one row per (backend, camera) of RGB | depth | segmentation, and with ``pointcloud``
    N one row per backend: its cameras' fused N-point cloud (inside ``crop``), top-down and from the side."""
    from renderers.pointcloud import fuse_pointcloud
    from robosynth.viz.cloud import cloud_views

    rows = []
    for backend, frames in frames_by_backend.items():
        for name, f in frames.items():
            label = f"{backend} {name}"
            rows.append(stack(camera_tiles(f.rgb, f.depth, f.segmentation, label, far=f.intrinsics.far), 1))
        if pointcloud is not None and frames:
            cloud = fuse_pointcloud(frames, pointcloud, np.random.default_rng(seed), crop)
            top, side = (np.ascontiguousarray(v[..., ::-1]) for v in cloud_views(cloud))
            rows.append(stack([_put_label(_fit(top, True), f"{backend} cloud top (x, y)"),
                               _put_label(_fit(side, True), f"{pointcloud} points, side (x, z)")], 1))
    if not rows:
        raise InputError("the scene has no cameras to preview")
    return stack(rows, 0)


def preview_scene(scene: str, backends: Sequence[str], out: str | os.PathLike[str], quality: str = "default",
                  resolution: tuple[int, int] | None = None, seed: int = 0, pointcloud: int | None = None) -> Path:
    """Render every camera of ``scene`` once after reset on each backend and write the sheet; return its path."""
    from randomization.load import load_scene_randomized
    from renderers.sensors import QUALITIES
    from scenes.loader import scene_dir

    if quality not in QUALITIES:
        raise InputError(f"unknown quality '{quality}' (choose from: {', '.join(QUALITIES)})")
    if Path(out).suffix.lower() in VIDEO_SUFFIXES:
        raise InputError(f"--out '{out}': a scene preview is one image (.png, .jpg); videos need a dataset PATH")
    path = check_output(out, IMAGE_SUFFIXES)
    spec, _ = load_scene_randomized(scene)
    if resolution is not None:
        spec = with_resolution(spec, *resolution)
    if pointcloud is not None and not 1 <= pointcloud <= 1_000_000:
        raise InputError(f"--pointcloud must be in 1..1000000 points, got {pointcloud}")
    frames = {b: render_scene_cameras(spec, b, quality, seed, scene_dir(scene)) for b in backends}
    ws = spec.robot.controller  # the cloud around where the task happens: the workspace, 10 cm wider, 5 cm lower
    low = (np.asarray(ws.workspace_low) - (0.1, 0.1, 0.05)).tolist()
    high = (np.asarray(ws.workspace_high) + (0.1, 0.1, 0.0)).tolist()
    crop = (low, high)
    return write_image(scene_sheet(frames, pointcloud, seed, crop), path)


# -------------------------------------------------------------------------------------- dataset mode


def _episodes(path: Path, n: int) -> Iterator[Any]:
    """Yield up to ``n`` EpisodeRecords of a dataset directory or HDF5 file, one at a time (DatasetError if bad)."""
    from robosynth.dataset import iter_episodes

    if not path.exists():
        raise InputError(f"PATH '{path}' does not exist")
    it = iter_episodes(path)
    try:
        count = 0
        for ep in itertools.islice(it, n):
            count += 1
            yield ep
    finally:
        it.close()
    if not count:
        raise InputError(f"'{path}' holds no episodes")


def _camera_images(ep: Any) -> dict[str, dict[str, np.ndarray]]:
    """Return {camera: {image|depth|segmentation: (T, H, W, C) array}} of one episode's observations."""
    cams: dict[str, dict[str, np.ndarray]] = {}
    for key, arr in ep.obs.items():
        for kind in ("image", "depth", "segmentation"):
            if key.endswith(f"_{kind}") and len(key) > len(kind) + 1 and arr.ndim == 4:
                cams.setdefault(key[: -len(kind) - 1], {})[kind] = arr
    if not cams:
        raise InputError(f"episode {ep.index} has no camera images to preview")
    return cams


def _row(ep: Any, cam: str, imgs: dict[str, np.ndarray], steps: Sequence[int]) -> np.ndarray:
    """Return one contact-sheet row: RGB | depth | seg for each chosen step of one episode camera."""
    rec = ep.cameras.get(cam)
    far = None if rec is None else (1.0 if rec.depth_units == "normalized" else rec.far)
    depth = imgs.get("depth")
    rng = None if depth is None else depth_range(depth, far)  # one range per episode camera: no flicker
    tiles = []
    for t in steps:
        rgb, d, seg = (imgs[k][t] if k in imgs else None for k in ("image", "depth", "segmentation"))
        tiles += camera_tiles(rgb, d, seg, f"ep{ep.index} {cam} t={t}", rng, far)
    return stack(tiles, 1)


def dataset_sheet(path: str | os.PathLike[str], episodes: int = 3, frames: int = 4) -> np.ndarray:
    """Return a BGR contact sheet of ``frames`` evenly spaced steps of the first ``episodes`` episodes."""
    rows = []
    for ep in _episodes(Path(path), episodes):
        for cam, imgs in _camera_images(ep).items():
            T = next(iter(imgs.values())).shape[0]
            steps = sorted({int(round(x)) for x in np.linspace(0, T - 1, max(1, min(frames, T)))})
            rows.append(_row(ep, cam, imgs, steps))
        if "pointcloud" in ep.obs:  # recorded with --pointcloud N: the first step's cloud, top-down and side
            rows.append(_cloud_row(ep))
    return stack(rows, 0)


def _cloud_row(ep: Any) -> np.ndarray:
    """Return the labelled top-down | side views of an episode's first recorded point cloud."""
    from robosynth.viz.cloud import project_points

    xyz, rgb = ep.obs["pointcloud"][0], ep.obs["pointcloud_rgb"][0]
    views = [project_points(xyz, rgb, (0, 1), 2), project_points(xyz, rgb, (0, 2), 1)]
    top, side = (np.ascontiguousarray(v[..., ::-1]) for v in views)
    return stack([_put_label(_fit(top, True), f"ep {ep.index} cloud step 0, top (x, y)"),
                  _put_label(_fit(side, True), f"{len(xyz)} points, side (x, z)")], 1)


def preview_dataset(path: str | os.PathLike[str], out: str | os.PathLike[str], episodes: int = 3,
                    frames: int = 4, fps: float = 10.0) -> Path:
    """Write a contact sheet (.png/.jpg) or a video (.mp4, every step) of a dataset; return the path."""
    if episodes < 1 or frames < 1:
        raise InputError("--episodes and --frames must be >= 1")
    target = check_output(out, IMAGE_SUFFIXES + VIDEO_SUFFIXES)
    if target.suffix.lower() not in VIDEO_SUFFIXES:
        return write_image(dataset_sheet(path, episodes, frames), target)

    def frames_of_video() -> Iterator[np.ndarray]:
        for ep in _episodes(Path(path), episodes):
            cams = _camera_images(ep)
            for t in range(min(a.shape[0] for imgs in cams.values() for a in imgs.values())):
                yield stack((_row(ep, cam, imgs, [t]) for cam, imgs in cams.items()), 0)

    return write_video(frames_of_video(), target, fps)


# -------------------------------------------------------------------------------------- writing


def write_image(img: np.ndarray, path: Path) -> Path:
    """Write a BGR image atomically (temporary file, then rename); return ``path``."""
    with atomic_path(path, keep_suffix=True) as tmp:  # OpenCV picks the format by suffix
        if not cv2.imwrite(str(tmp), img):
            raise InputError(f"cannot write image '{path}'")
    return path


def write_video(frames: Iterable[np.ndarray], path: Path, fps: float = 10.0) -> Path:
    """Write BGR frames as an mp4v video atomically (streamed; sized by the first frame); return ``path``."""
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise InputError(f"nothing to write into '{path}': the episodes have no steps")
    h, w = 2 * ((first.shape[0] + 1) // 2), 2 * ((first.shape[1] + 1) // 2)  # even sizes suit every codec
    with atomic_path(path, keep_suffix=True) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"mp4v"), float(fps), (w, h))
        try:
            if not writer.isOpened():
                raise InputError(f"cannot write video '{path}' (OpenCV has no mp4v writer here)")
            for f in itertools.chain([first], it):
                canvas = np.zeros((h, w, 3), np.uint8)
                fh, fw = min(h, f.shape[0]), min(w, f.shape[1])
                canvas[:fh, :fw] = f[:fh, :fw]
                writer.write(canvas)
        finally:
            writer.release()
    return path
