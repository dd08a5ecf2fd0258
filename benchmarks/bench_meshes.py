"""Cost of mesh objects (a benchmark, not a test): pick_mesh against pick_place, and convex decomposition.

    python benchmarks/bench_meshes.py --quick --out BENCHMARKS.md

1. Per engine: one control step (25 physics steps) and one render of the ``agentview`` camera at 128x128 (RGB,
   depth, segmentation; quality ``fast``, the Gymnasium default) in ``pick_mesh`` (five mesh objects with their
   convex parts and the bin) and in ``pick_place`` (a cube), timed interleaved in the same run.
2. Convex decomposition of every shipped object (``assets/objects``): cold (an empty cache folder, CoACD runs) and
   cached (a new process would read the cache file: the in-process memo is cleared before each call).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import environment_line, interleaved, markdown_table, write_markdown_section


def bench_scenes(engine: str, min_time: float, rounds: int) -> list[list[object]]:
    """Return rows [engine, scene, step ms, render ms] for pick_place and pick_mesh on one engine."""
    import gymnasium as gym

    import robosynth  # noqa: F401

    envs = {}
    for scene, env_id in (("pick_place", "robosynth/PickPlace-v0"), ("pick_mesh", "robosynth/PickMesh-v0")):
        env = gym.make(env_id, backend=engine, obs_mode="rgbd_seg", resolution=(128, 128),
                       cameras=["agentview"]).unwrapped
        env.reset(seed=0)
        envs[scene] = env
    fns = {}
    for scene, env in envs.items():
        sim, renderer = env.sim, env._scene_renderer()
        action = np.zeros(5, np.float32)
        fns[f"{scene} step"] = lambda sim=sim, action=action: sim.step(action)
        fns[f"{scene} render"] = lambda renderer=renderer: renderer.render(["agentview"])
    out = interleaved(fns, min_time, rounds)
    for env in envs.values():
        env.close()
    return [[engine, scene, f"{out[f'{scene} step'] * 1e3:.2f}", f"{out[f'{scene} render'] * 1e3:.2f}"]
            for scene in envs]


def bench_decomposition(rounds: int) -> list[list[object]]:
    """Return rows [object, parts, cold s, cached ms] for every shipped object (an empty cache folder)."""
    import sim.mesh_convex as mc
    from sim.assets import ASSETS_DIR

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ROBOSYNTH_CACHE_DIR"] = tmp
        for path in sorted((ASSETS_DIR / "objects").glob("*.obj")):
            mc.convex_parts.cache_clear()
            start = time.perf_counter()
            parts = mc.convex_parts_of_file(path, 1.0)
            cold = time.perf_counter() - start
            cached = []
            for _ in range(rounds):
                mc.convex_parts.cache_clear()
                start = time.perf_counter()
                mc.convex_parts_of_file(path, 1.0)
                cached.append(time.perf_counter() - start)
            rows.append([path.stem, len(parts.parts), f"{cold:.2f}", f"{np.median(cached) * 1e3:.1f}"])
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and optionally write its markdown section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short timing blocks")
    ap.add_argument("--out", type=Path, help="markdown file to write the result section into")
    args = ap.parse_args(argv)
    min_time, rounds = (0.5, 3) if args.quick else (2.0, 5)
    start = time.perf_counter()
    env_line = environment_line("mujoco", "pybullet", "coacd", "numpy")
    decomposition = bench_decomposition(rounds)  # first: the scenes below then find their parts cached
    scenes = bench_scenes("mujoco", min_time, rounds) + bench_scenes("pybullet", min_time, rounds)
    t_scenes = markdown_table(["engine", "scene", "control step ms (25 physics steps)", "render agentview ms"],
                              scenes)
    t_dec = markdown_table(["object", "convex parts", "cold s (CoACD)", "cached ms"], decomposition)
    print(f"{env_line}\n\n{t_scenes}\n\n{t_dec}\n({time.perf_counter() - start:.0f} s)")
    if args.out:
        mode = "quick" if args.quick else "full"
        text = (f"### Mesh objects ({mode} run)\n\n{env_line}\n\n{t_scenes}\n\n"
                "pick_mesh: five mesh objects (convex parts) and the bin; pick_place: one cube. Same camera "
                "(agentview, 128x128 RGB-D-seg, quality `fast`), timed interleaved in the same run.\n\n"
                f"{t_dec}\n\nConvex decomposition (`sim.mesh_convex`, one core): cold = CoACD on an empty cache; "
                "cached = reading the cache file (what every later process and worker does).\n")
        write_markdown_section(args.out, "meshes", text)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
