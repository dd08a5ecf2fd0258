"""Dataset quality report: success with 95 % CI, lengths, coverage, randomized parameters,
image statistics, sample grid and cross-engine agreement, written as DIR/index.html + PNGs + report.json.

Episodes are streamed one demo at a time: only low-dim trajectories, parameters and at most
``FRAMES_PER_EPISODE`` sampled frames per image key are read; see docs/report.md.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from robosynth.dataset import (
    INDEX_FILENAME,
    DatasetError,
    demo_group,
    demo_names,
    image_key_parts,
    is_robosynth_dataset,
    list_episode_files,
    open_dataset_file,
    read_dataset_info,
    summarize,
)
from robosynth.dataset.files import probe_writable, write_text_atomic
from robosynth.report import plots
from robosynth.report.html import render_html
from robosynth.report.stats import (
    CamStats,
    Collected,
    Episode,
    adaptive_section,
    cross_engine,
    flatten_params,
    numeric_summary,
    parameter_section,
    plots_slug,
    wilson_interval,
)
from sim.errors import InputError

REPORT_VERSION = 1
FRAMES_PER_EPISODE = 16  # sampled frames per episode and image key for the image statistics
MAX_GRID_EPISODES = 8
GRID_TILE_HEIGHT = 128  # smaller first frames are enlarged by an integer factor in the sample grid
REPORT_FILES = ("index.html", "report.json")

Progress = Callable[[int, int], None]


class ReportError(InputError):
    """Bad report input or output: a missing PATH, no episodes, an unwritable --out."""


def resolve_sources(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Return the dataset directories / HDF5 files behind PATHs (a directory of datasets gives each one)."""
    if not paths:
        raise ReportError("give at least one dataset PATH")
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise ReportError(f"PATH '{p}' does not exist")
        if p.is_dir() and not is_robosynth_dataset(p):
            subs = sorted(d for d in p.iterdir() if d.is_dir() and is_robosynth_dataset(d))
            if not subs:
                raise DatasetError(f"{p}: not a robosynth dataset directory (nor a directory of datasets)")
            out += subs
        elif p not in out:
            out.append(p)
    return out


def check_output_dir(out: str | os.PathLike[str]) -> Path:
    """Return ``out`` as a Path after checking it is (or can become) a writable directory; nothing is created."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise ReportError(f"--out '{p}' exists and is not a directory")
    probe = p
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ReportError(f"--out '{p}': '{probe}' is not a directory")
    probe_writable(probe, f"--out '{p}' is not writable", ReportError)
    return p


def _input_summary(src: Path) -> dict[str, Any]:
    """Return the inspect-style summary of one source plus its Gymnasium id."""
    s = summarize(src)
    info_file = src
    if src.is_dir():
        files = list(list_episode_files(src).values())
        info_file = files[0] if files else src / INDEX_FILENAME
    env = read_dataset_info(info_file).env_name
    return {"path": str(src), "env_name": env, "episodes": s["episodes"], "total_steps": s["total_steps"],
            "backends": s["backends"], "scenes": s["scenes"], "bytes_on_disk": s["bytes_on_disk"]}


def _demo_groups(src: Path) -> Iterator[h5py.Group]:
    """Yield every demo group of a dataset directory (its episode files, else its index) or of a file."""
    if src.is_dir():
        for f in list(list_episode_files(src).values()) or [src / INDEX_FILENAME]:
            yield from _demo_groups(f)
        return
    with open_dataset_file(src) as f:
        for name in demo_names(f["data"]):
            yield demo_group(f, name)


# ------------------------------------------------------------------------------------------ reading


def sample_indices(n: int, k: int = FRAMES_PER_EPISODE) -> list[int]:
    """Return up to ``k`` evenly spaced, sorted, unique frame indices of ``n`` frames (always 0)."""
    return sorted({int(round(x)) for x in np.linspace(0, n - 1, min(k, n))}) if n > 0 else []


def _read_frames(g: h5py.Group) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, Any]]]:
    """Return sampled frames {cam: {suffix: (F, H, W, C)}} of a demo and its camera attrs {cam: attrs}."""
    frames: dict[str, dict[str, np.ndarray]] = {}
    for key, ds in g["obs"].items():
        parts = image_key_parts(key)
        if parts is not None and ds.ndim == 4 and ds.shape[0] > 0:
            frames.setdefault(parts[0], {})[parts[1]] = ds[sample_indices(ds.shape[0])]
    cams = {c: dict(cg.attrs) for c, cg in g.get("cameras", {}).items()}
    return frames, cams


def _far(attrs: Mapping[str, Any] | None) -> float | None:
    """Return the far plane of a camera in its depth units (1 for normalized depth), None if unknown."""
    if not attrs:
        return None
    return 1.0 if str(attrs.get("depth_units", "m")) == "normalized" else float(attrs["far"])


def _read_demo(g: h5py.Group, col: Collected) -> Episode:
    """Read one demo's summary into an Episode and feed its sampled frames to the accumulators."""
    a, obs = g.attrs, g["obs"]
    meta = json.loads(a["ep_meta"])
    rand = meta.get("randomization") or {}
    for name, (lo, hi) in ((meta.get("adaptive") or {}).get("ranges") or {}).items():
        col.adaptive.setdefault(name, []).append((int(a["episode_index"]), float(lo), float(hi)))
    seg_ids = {int(k): v for k, v in json.loads(a["segmentation_ids"]).items()}
    obj = obs["object"] if "object" in obs else None
    ep = Episode(
        backend=str(a["backend"]), scene=str(a["scene"]), seed=int(a["seed"]), index=int(a["episode_index"]),
        steps=int(a["num_samples"]), success=bool(a["success"]), failure_reason=str(a["failure_reason"]),
        file=str(g.file.filename), demo=g.name.rsplit("/", 1)[-1],
        object0=obj[0, :3].astype(np.float64) if obj is not None and obj.shape[1] >= 3 else None,
        eef=obs["robot0_eef_pos"][()].astype(np.float32) if "robot0_eef_pos" in obs else None,
        params_digest=hashlib.sha256(json.dumps(rand, sort_keys=True).encode()).hexdigest())
    for path, value in flatten_params(rand).items():
        col.params.setdefault(path, []).append(value)
    frames, cam_attrs = _read_frames(g)
    for cam, imgs in frames.items():
        for key in ((cam, ep.backend), (cam, "*")):
            col.cams.setdefault(key, CamStats()).add(imgs, _far(cam_attrs.get(cam)), seg_ids)
    shown = col.grid.setdefault(ep.backend, [])
    if frames and len(shown) < MAX_GRID_EPISODES:
        first = {cam: {s: v[0] for s, v in imgs.items()} for cam, imgs in frames.items()}
        shown.append((f"ep{ep.index} {ep.backend}", first, {c: _far(cam_attrs.get(c)) for c in frames}))
    return ep


def collect(sources: Sequence[Path], progress: Progress | None = None, total: int = 0) -> Collected:
    """Stream every demo of the sources once (duplicates by file and demo skipped) and return the gathered data."""
    col = Collected()
    seen: set[tuple[str, str]] = set()
    for src in sources:
        for g in _demo_groups(src):
            key = (os.path.realpath(g.file.filename), g.name)
            if key in seen:
                continue
            seen.add(key)
            try:
                col.episodes.append(_read_demo(g, col))
            except (KeyError, OSError, ValueError, TypeError, IndexError) as exc:
                raise DatasetError(f"{g.file.filename}:{g.name}: cannot read episode ({exc})") from exc
            if progress is not None:
                progress(len(col.episodes), total)
    return col


# ------------------------------------------------------------------------------------------ sections


def _rate(eps: Sequence[Episode]) -> dict[str, Any]:
    """Return n, successes, rate and the 95 % Wilson interval of a group of episodes."""
    k, n = sum(e.success for e in eps), len(eps)
    ci = wilson_interval(k, n)
    return {"episodes": n, "successes": k, "rate": k / n if n else None, "ci95": list(ci) if ci else None}


def _by_backend(eps: Sequence[Episode]) -> dict[str, list[Episode]]:
    """Return episodes grouped by backend (sorted names)."""
    groups: dict[str, list[Episode]] = {}
    for e in sorted(eps, key=lambda e: e.backend):
        groups.setdefault(e.backend, []).append(e)
    return groups


def _lengths(eps: Sequence[Episode], images: dict[str, np.ndarray]) -> dict[str, Any]:
    """Return episode-length statistics and histogram (one series per backend); draws lengths.png."""
    steps = np.array([e.steps for e in eps], np.float64)
    lo, hi = int(steps.min()), int(steps.max())
    edges = np.arange(lo - 0.5, hi + 1.5) if hi - lo <= 40 else np.histogram_bin_edges(steps, 30)
    counts = {b: np.histogram([e.steps for e in g], edges)[0].tolist() for b, g in _by_backend(eps).items()}
    images["lengths.png"] = plots.histogram(edges, counts, "episode length", "steps")
    return {**numeric_summary(steps), "median": float(np.median(steps)),
            "histogram": {"edges": edges.tolist(), "counts": counts}, "plot": "lengths.png"}


def _failures(eps: Sequence[Episode]) -> dict[str, Any]:
    """Return {reason: {total, by_backend}} of failed episodes, most frequent first."""
    table: dict[str, Counter[str]] = {}
    for e in eps:
        if not e.success:
            table.setdefault(e.failure_reason or "(no reason recorded)", Counter())[e.backend] += 1
    ordered = sorted(table.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return {r: {"total": sum(c.values()), "by_backend": dict(sorted(c.items()))} for r, c in ordered}


def _coverage(eps: Sequence[Episode], images: dict[str, np.ndarray]) -> dict[str, Any]:
    """Return object-start and end-effector coverage statistics; draws the two top-down maps."""
    with_obj = [(e, e.object0) for e in eps if e.object0 is not None]  # (episode, its object's start)
    out: dict[str, Any] = {"object_initial": None, "eef": None}
    points: dict[str, np.ndarray] = {}
    markers: dict[str, str] = {}
    for (b, ok), grp in itertools.groupby(sorted(with_obj, key=lambda eo: (eo[0].backend, not eo[0].success)),
                                          key=lambda eo: (eo[0].backend, eo[0].success)):
        label = f"{b} {'ok' if ok else 'failed'}"
        points[label] = np.array([o[:2] for _, o in grp])
        markers[label] = "o" if ok else "x"
    if with_obj:
        xyz = np.array([o for _, o in with_obj])
        out["object_initial"] = {"episodes": len(with_obj), **{ax: numeric_summary(xyz[:, i])
                                                               for i, ax in enumerate("xyz")},
                                 "plot": "coverage_object_xy.png"}
        images["coverage_object_xy.png"] = plots.xy_map(points, "object initial xy (top-down)", markers=markers)
    trajs = [e.eef for e in eps if e.eef is not None and len(e.eef)]
    if trajs:
        allp = np.concatenate(trajs).astype(np.float64)
        path = [float(np.linalg.norm(np.diff(t, axis=0), axis=1).sum()) for t in trajs]
        out["eef"] = {"episodes": len(trajs), "samples": len(allp),
                      **{ax: numeric_summary(allp[:, i]) for i, ax in enumerate("xyz")},
                      "path_length_m": numeric_summary(np.array(path)), "plot": "coverage_eef_xy.png"}
        starts = {"object start": np.array([o[:2] for _, o in with_obj])} if with_obj else {}
        images["coverage_eef_xy.png"] = plots.xy_map(starts, "end-effector xy paths (density)",
                                                     [t[:, :2] for t in trajs])
    return out


def _image_stats(col: Collected, images: dict[str, np.ndarray]) -> dict[str, Any]:
    """Return per-camera image statistics (all episodes and per backend); draws the class-fraction bars."""
    out: dict[str, Any] = {}
    for cam in sorted({c for c, _ in col.cams}):
        entry = col.cams[(cam, "*")].to_json()
        entry["by_backend"] = {b: s.to_json() for (c, b), s in sorted(col.cams.items()) if c == cam and b != "*"}
        classes = entry.get("segmentation_class_fraction") or {}
        if classes:
            name = f"segmentation_{plots_slug(cam)}.png"
            images[name] = plots.bars(list(classes), list(classes.values()), f"{cam}: pixel fraction per class",
                                      "fraction")
            entry["plot"] = name
        out[cam] = entry
    return out


def _sample_grid(col: Collected, images: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """Return which episodes the sample grid shows; draws sample_grid.png (first frames, round-robin backends)."""
    from robosynth.viz.preview import camera_tiles, stack

    rows_src = [r for r in itertools.chain.from_iterable(itertools.zip_longest(*col.grid.values())) if r]
    rows_src = rows_src[:MAX_GRID_EPISODES]
    if not rows_src:
        return None
    rows = []
    for label, cams, fars in rows_src:
        tiles: list[np.ndarray] = []
        for cam, imgs in sorted(cams.items()):
            f = max(1, GRID_TILE_HEIGHT // next(iter(imgs.values())).shape[0])  # small renders: pixel-true zoom
            big = {k: np.repeat(np.repeat(v, f, axis=0), f, axis=1) for k, v in imgs.items()}
            tiles += camera_tiles(big.get("_image"), big.get("_depth"), big.get("_segmentation"),
                                  f"{label} {cam}", far=fars.get(cam))
        rows.append(stack(tiles, 1))
    images["sample_grid.png"] = stack(rows, 0)
    return {"plot": "sample_grid.png", "episodes": [r[0] for r in rows_src],
            "columns": "per camera: RGB | colourised depth | colourised segmentation, first frame"}


def build_report(col: Collected, inputs: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Return the report dict (all numbers) and the PNG images it refers to, by file name."""
    eps = col.episodes
    images: dict[str, np.ndarray] = {}
    groups = _by_backend(eps)
    report: dict[str, Any] = {
        "robosynth_report": REPORT_VERSION, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs, "episodes": len(eps), "total_steps": int(sum(e.steps for e in eps)),
        "backends": {b: len(g) for b, g in groups.items()},
        "scenes": dict(sorted(Counter(e.scene for e in eps).items())),
        "success": {"overall": _rate(eps), "by_backend": {b: _rate(g) for b, g in groups.items()}},
        "lengths": _lengths(eps, images), "failure_reasons": _failures(eps), "coverage": _coverage(eps, images),
        "parameters": parameter_section(col.params, images),
        "image_stats": _image_stats(col, images), "sample_grid": _sample_grid(col, images),
        "cross_engine": cross_engine(eps, images), "adaptive": adaptive_section(col.adaptive, images),
        "episode_table": [{"backend": e.backend, "scene": e.scene, "seed": e.seed, "episode_index": e.index,
                           "steps": e.steps, "success": e.success, "failure_reason": e.failure_reason,
                           "file": e.file, "demo": e.demo} for e in eps],
    }
    return report, images


# ------------------------------------------------------------------------------------------ writing


def _json_ready(obj: Any) -> Any:
    """Return ``obj`` with numpy scalars/arrays as Python values and non-finite floats as None."""
    if isinstance(obj, Mapping):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def _atomic_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling and an atomic rename."""
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise ReportError(f"cannot write '{path}' ({exc.strerror or exc})") from None


def _previous_files(out: Path) -> set[str]:
    """Return the PNG names a previous report in ``out`` listed (to delete the ones no longer written)."""
    try:
        files = json.loads((out / "report.json").read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {f for f in files if isinstance(f, str) and f.endswith(".png") and "/" not in f and "\\" not in f}


def write_report(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str],
                 progress: Progress | None = None) -> dict[str, Any]:
    """Write DIR/index.html, DIR/*.png and DIR/report.json for the datasets at ``paths``; return the report."""
    from robosynth.viz.preview import write_image

    sources = resolve_sources(paths)
    target = check_output_dir(out)
    inputs = [_input_summary(s) for s in sources]
    col = collect(sources, progress, sum(i["episodes"] for i in inputs))
    if not col.episodes:
        raise ReportError(f"no episodes in {', '.join(map(str, sources))}")
    report, images = build_report(col, inputs)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create --out '{target}' ({exc.strerror})") from None
    stale = _previous_files(target)
    for name, img in images.items():
        write_image(img, target / name)
    report["files"] = sorted(images) + list(REPORT_FILES)
    report = _json_ready(report)
    _atomic_text(target / "report.json", json.dumps(report, indent=1, allow_nan=False) + "\n")
    _atomic_text(target / "index.html", render_html(report))  # last: an index only ever names finished files
    for name in stale - set(report["files"]):
        (target / name).unlink(missing_ok=True)
    return report
