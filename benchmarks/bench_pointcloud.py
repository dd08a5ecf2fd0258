"""Cost of fused point clouds per step against rendering the same cameras (a benchmark, not a test).

    python benchmarks/bench_pointcloud.py --quick --out BENCHMARKS.md

Per engine: render the pick_place cameras at 128x128 (RGB, depth, segmentation: what ``generate --pointcloud``
records), then fuse N points from them; both timed interleaved in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _common import environment_line, interleaved, markdown_table, write_markdown_section


def bench(engine: str, min_time: float, rounds: int) -> list[list[object]]:
    """Return rows [engine, cameras, N, render ms, fuse ms, fuse / render] for one engine."""
    import gymnasium as gym

    import robosynth  # noqa: F401
    from renderers.pointcloud import fuse_pointcloud

    rows: list[list[object]] = []
    for cams in (["agentview"], ["agentview", "wrist"]):
        env = gym.make("robosynth/PickPlace-v0", backend=engine, obs_mode="rgbd_seg", resolution=(128, 128),
                       cameras=cams).unwrapped
        env.reset(seed=0)
        env.step(np.zeros(5, np.float32))
        renderer = env._scene_renderer()
        frames = renderer.render(cams)
        rng = np.random.default_rng(0)
        for n in (1024, 8192):
            out = interleaved({"render": lambda: renderer.render(cams),  # noqa: B023 - called in this iteration
                               "fuse": lambda: fuse_pointcloud(frames, n, rng)}, min_time, rounds)  # noqa: B023
            rows.append([engine, len(cams), n, f"{out['render'] * 1e3:.2f}", f"{out['fuse'] * 1e3:.2f}",
                         f"{out['fuse'] / out['render']:.2f}"])
        env.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and optionally write its markdown section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short timing blocks")
    ap.add_argument("--out", type=Path, help="markdown file to write the result section into")
    args = ap.parse_args(argv)
    min_time, rounds = (0.3, 3) if args.quick else (2.0, 5)
    start = time.perf_counter()
    env_line = environment_line("mujoco", "pybullet", "numpy")
    rows = bench("mujoco", min_time, rounds) + bench("pybullet", min_time, rounds)
    table = markdown_table(["engine", "cameras (128x128)", "points N", "render RGB-D-seg ms", "fuse ms",
                            "fuse / render"], rows)
    print(f"{env_line}\n\n{table}\n({time.perf_counter() - start:.0f} s)")
    if args.out:
        mode = "quick" if args.quick else "full"
        text = (f"### Point clouds per step ({mode} run)\n\n{env_line}\n\n{table}\n\n"
                "`renderers.pointcloud.fuse_pointcloud` on the frames just rendered (quality `fast`, the Gymnasium "
                "default); render and fuse timed interleaved in the same run.\n")
        write_markdown_section(args.out, "pointcloud", text)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
