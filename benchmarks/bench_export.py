"""Throughput and size of ``robosynth export`` (LeRobot v3.0 video / PNG, Minari) against the HDF5 source.

Sources: the built-in ``pick_place`` scene recorded at 128x128 with RGB, depth and segmentation, one camera
(``agentview``) and two cameras (``agentview,wrist``), gzip HDF5 (generate's default). For each format the table
gives frames (steps) exported per second, the ratio to only *reading* the source in the same run (``read``:
every episode through ``robosynth.dataset.iter_episodes``, what every export does first), the size of the result
over the size of the source, and for video the mean RGB PSNR of the decoded frames against the source.

    python benchmarks/bench_export.py --quick          # 4 episodes per source (~1-2 min on 2 cores)
    python benchmarks/bench_export.py --out BENCH.md   # 10 episodes per source
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import environment_line, markdown_table, write_markdown_section

from robosynth.dataset import iter_episodes
from robosynth.export import export_dataset, prepare_export
from robosynth.generate import GenerateRequest, generate

CONFIGS = {"1 camera": ("agentview",), "2 cameras": ("agentview", "wrist")}
FORMATS = (("lerobot", "video"), ("lerobot", "png"), ("minari", "video"))


def make_source(root: Path, cameras: tuple[str, ...], episodes: int) -> Path:
    """Record the benchmark source with generate (pick_place, 128x128, failures kept)."""
    out = root / f"src_{len(cameras)}cam"
    req = GenerateRequest(scene="pick_place", backend="mujoco", episodes=episodes, seed=0, cameras=cameras,
                          resolution=(128, 128), keep_failed=True)
    generate(req, out)
    return out


def read_seconds(source: Path) -> float:
    """Return the seconds to read every episode of the source (the floor under any export)."""
    start = time.perf_counter()
    for _ep in iter_episodes(source):
        pass
    return time.perf_counter() - start


def video_psnr(out: Path, source: Path, cam: str) -> float:
    """Return the mean PSNR (dB) of one camera's decoded video frames against the source RGB."""
    import av

    path = next((out / "videos" / f"observation.images.{cam}").rglob("*.mp4"))
    with av.open(str(path)) as c:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)]).astype(np.float64)
    ref = np.concatenate([ep.obs[f"{cam}_image"] for ep in iter_episodes(source)]).astype(np.float64)
    mse = np.mean((frames - ref) ** 2, axis=(1, 2, 3))
    return float(np.mean(10 * np.log10(255.0**2 / np.maximum(mse, 1e-12))))


def bench(root: Path, episodes: int) -> list[list[object]]:
    """Export each source in each format once; return the table rows."""
    rows: list[list[object]] = []
    for label, cameras in CONFIGS.items():
        source = make_source(root, cameras, episodes)
        read_s = read_seconds(source)
        for fmt, images in FORMATS:
            out = root / f"out_{len(cameras)}_{fmt}_{images}"
            src = prepare_export(source, out, fmt, images)
            start = time.perf_counter()
            result = export_dataset(src, out, fmt, images)
            seconds = time.perf_counter() - start
            name = f"{fmt} ({images})" if fmt == "lerobot" else "minari (parquet)"
            quality = f"{video_psnr(out, source, cameras[0]):.1f}" if images == "video" and fmt == "lerobot" else \
                "lossless"
            rows.append([label, name, result.frames, f"{result.frames / seconds:.0f}", f"{seconds / read_s:.1f}x",
                         f"{result.bytes_on_disk / result.source_bytes:.2f}x", quality])
            shutil.rmtree(out)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and optionally write its markdown section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 episodes per source instead of 10")
    ap.add_argument("--out", type=Path, help="markdown file to write the result section into")
    args = ap.parse_args(argv)
    missing = [m for m in ("pyarrow", "av", "minari", "PIL") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"bench_export: skipped, {', '.join(missing)} not installed (pip install 'robosynth[export]')")
        if args.out:
            write_markdown_section(args.out, "export", "### Export\n\nskipped: the `export` extra is not installed.\n")
        return 0
    episodes = 4 if args.quick else 10
    start = time.perf_counter()
    env_line = environment_line("pyarrow", "av", "minari", "h5py")
    with tempfile.TemporaryDirectory(prefix="bench_export_") as tmp:
        rows = bench(Path(tmp), episodes)
    table = markdown_table(["source (128x128, RGB-D-seg)", "format", "frames", "frames/s", "time / read source",
                            "size / HDF5 source", "RGB PSNR dB"], rows)
    print(f"{env_line}\n\n{table}\n({time.perf_counter() - start:.0f} s)")
    if args.out:
        mode = "quick" if args.quick else "full"
        text = (f"### Export ({mode} run, {episodes} pick_place episodes per source)\n\n{env_line}\n\n{table}\n\n"
                "`robosynth export` in-process, one run per row; source: gzip HDF5 from `generate`. LeRobot video "
                "uses LeRobot's default encoder (libsvtav1, CRF 30); depth and segmentation are lossless in every "
                "format.\n")
        write_markdown_section(args.out, "export", text)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
