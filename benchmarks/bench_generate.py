"""Throughput of ``robosynth generate`` against a bare engine loop in the same run (a benchmark, not a test).

Two configurations of the built-in ``pick_place`` scene with its scripted expert, one worker, in-process:

* ``state``: no camera (low-dim obs, states, actions only);
* ``rgbd``: one camera (``agentview``) with RGB, depth and segmentation at 128x128.

The bare loop runs the same engine, model, expert, seeds and horizon (and, for ``rgbd``, renders the same
camera every step) with no recording at all. The ratio ``generate / bare`` in steps/s is what recording,
validation, checksums, compression, writing and the index cost. Also reported: peak RSS, bytes per step, and
RSS growth per episode (``--long``: over 200 episodes; target < 20 MB).

    python benchmarks/bench_generate.py                  # --quick (default), under ~90 s
    python benchmarks/bench_generate.py --long --out BENCH.md
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from randomization.seeding import stream
from renderers.sensors import VISUAL_DETAIL, SceneRenderer
from robosynth.generate import GenerateRequest, generate
from robosynth.generate.jobs import close_runners, make_job
from scenes.runtime import Simulation
from scenes.spec import SceneSpec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import shown_args  # noqa: E402

SEED = 0
TARGET_RATIO = 0.7
TARGET_GROWTH_MB = 20.0
WARMUP_EPISODES = 2  # RSS growth is measured after these (allocator, caches, GL buffers settle)


@dataclass
class Run:
    """One timed run: wall seconds, episodes, steps, bytes written and RSS samples after each episode."""

    seconds: float
    cpu_seconds: float
    episodes: int
    steps: int
    bytes: int = 0
    rss_mb: list[float] = field(default_factory=list)

    @property
    def steps_per_s(self) -> float:
        """Return control steps per wall second."""
        return self.steps / self.seconds

    @property
    def episodes_per_s(self) -> float:
        """Return episodes per wall second."""
        return self.episodes / self.seconds


def rss_mb() -> float:
    """Return this process's current resident set size in MB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    """Return this process's peak resident set size so far in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kilobytes on Linux


def request(mode: str, episodes: int, backend: str, max_steps: int | None) -> GenerateRequest:
    """Return the GenerateRequest of a benchmark configuration."""
    cams: tuple[str, ...] = () if mode == "state" else ("agentview",)
    return GenerateRequest(scene="pick_place", backend=backend, episodes=episodes, seed=SEED, cameras=cams,
                           resolution=None if mode == "state" else (128, 128), max_steps=max_steps,
                           keep_failed=True)


def bare_loop(req: GenerateRequest) -> Run:
    """Run the request's episodes with the same engine, model, expert and camera, recording nothing."""
    job = make_job(req)
    spec = SceneSpec.model_validate_json(job.spec_json)
    cams = list(req.cameras or ())
    t0, c0 = time.perf_counter(), time.process_time()
    detail = VISUAL_DETAIL[req.quality] if cams else 1.0  # the same level of detail generate renders
    sim = Simulation(spec, req.backend, Path(job.scene_dir) if job.scene_dir else None, detail)
    renderer = SceneRenderer(sim.backend, spec, req.quality) if cams else None
    steps, samples = 0, []
    horizon = req.max_steps or spec.task.horizon
    for i in range(req.episodes):
        sim.backend.restore_nominal_params()
        sim.reset(stream(req.seed, i, "task"))
        obs = sim.observe()
        expert = sim.task.expert()
        expert.reset()
        if renderer is not None:
            renderer.render(cams)
        for _ in range(horizon):
            result = sim.step(np.asarray(expert.act(obs), dtype=np.float32))
            if result.info.get("failure_reason"):
                break
            steps += 1
            obs = result.obs
            if renderer is not None:
                renderer.render(cams)
            if result.terminated:
                break
        samples.append(rss_mb())
    if renderer is not None:
        renderer.close()
    sim.close()
    return Run(time.perf_counter() - t0, time.process_time() - c0, req.episodes, steps, rss_mb=samples)


def generate_run(req: GenerateRequest, root: Path) -> Run:
    """Run ``generate`` in-process (one worker, world built inside the timing) into a fresh directory."""
    out = root / f"gen_{time.monotonic_ns()}"
    close_runners()
    samples: list[float] = []
    t0, c0 = time.perf_counter(), time.process_time()
    summary = generate(req, out, progress=lambda res: samples.append(rss_mb()))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    close_runners()
    size = sum(p.stat().st_size for p in (out / "episodes").glob("ep_*.hdf5"))
    shutil.rmtree(out)
    return Run(seconds, cpu, req.episodes, summary.steps, size, samples)


def growth_per_episode(samples: list[float]) -> tuple[float, float]:
    """Return (total growth in MB after the warm-up episodes, least-squares slope in MB per episode)."""
    tail = samples[WARMUP_EPISODES:] if len(samples) > WARMUP_EPISODES + 1 else samples
    if len(tail) < 2:
        return 0.0, 0.0
    slope = float(np.polyfit(np.arange(len(tail)), np.asarray(tail), 1)[0])
    return tail[-1] - tail[0], slope


def bench(mode: str, episodes: int, backend: str, max_steps: int | None, repeats: int, root: Path) -> dict:
    """Time bare loop and generate alternately ``repeats`` times; keep the best of each; return a row."""
    req = request(mode, episodes, backend, max_steps)
    bare_runs, gen_runs = [], []
    for _ in range(repeats):
        gc.collect()
        bare_runs.append(bare_loop(req))
        gc.collect()
        gen_runs.append(generate_run(req, root))
    bare = min(bare_runs, key=lambda r: r.seconds)
    gen = min(gen_runs, key=lambda r: r.seconds)
    bare_cpu = min(r.cpu_seconds for r in bare_runs)
    gen_cpu = min(r.cpu_seconds for r in gen_runs)
    if bare.steps != gen.steps:
        raise SystemExit(f"{mode}: bare loop ran {bare.steps} steps but generate {gen.steps}: not the same work")
    total, slope = growth_per_episode(gen_runs[-1].rss_mb)
    return {"mode": mode, "episodes": episodes, "steps": gen.steps, "bare_sps": bare.steps_per_s,
            "gen_sps": gen.steps_per_s, "bare_eps": bare.episodes_per_s, "gen_eps": gen.episodes_per_s,
            "ratio": gen.steps_per_s / bare.steps_per_s, "cpu_ratio": bare_cpu / gen_cpu,
            "bytes_per_step": gen.bytes / max(1, gen.steps),
            "growth_mb": total, "growth_per_ep_mb": slope, "peak_rss_mb": peak_rss_mb(),
            "measured_eps": max(0, len(gen_runs[-1].rss_mb) - WARMUP_EPISODES)}


def table(rows: list[dict], args: argparse.Namespace) -> str:
    """Return the results as a markdown section."""
    import h5py
    import mujoco
    import pybullet  # noqa: F401  (version via metadata below)

    from robosynth.generate.buffer import versions

    v = versions(args.backend)
    lines = [
        f"## generate vs bare engine loop ({'long' if args.long else 'quick'} run)",
        "",
        f"`python benchmarks/bench_generate.py {shown_args()}` on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, {args.backend} "
        f"{v.get(args.backend, '?')}, h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version}), "
        f"MUJOCO_GL={os.environ.get('MUJOCO_GL', 'unset')}, mujoco {mujoco.__version__}; scene pick_place with its "
        f"expert, one worker, best of {args.repeats}; load average at start {args.load:.2f}.",
        "",
        "| config | episodes | steps | bare steps/s | generate steps/s | bare eps/s | generate eps/s | ratio (CPU) "
        "| ratio (wall) | bytes/step | RSS growth (MB, after warm-up) | MB/episode | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    names = {"state": "state only", "rgbd": "1 camera RGB-D-seg 128x128"}
    for r in rows:
        ok = "" if r["cpu_ratio"] >= TARGET_RATIO else " (below target)"
        lines.append(
            f"| {names[r['mode']]} | {r['episodes']} | {r['steps']} | {r['bare_sps']:.1f} | {r['gen_sps']:.1f} "
            f"| {r['bare_eps']:.3f} | {r['gen_eps']:.3f} | **{r['cpu_ratio']:.2f}**{ok} | {r['ratio']:.2f} "
            f"| {r['bytes_per_step']:,.0f} "
            f"| {r['growth_mb']:+.1f} over {r['measured_eps']} | {r['growth_per_ep_mb']:+.3f} "
            f"| {r['peak_rss_mb']:.0f} |")
    lines += ["", f"Targets: ratio >= {TARGET_RATIO}; RSS growth < {TARGET_GROWTH_MB:.0f} MB over 200 episodes "
              "(`--long`). Ratio (CPU) = bare CPU seconds / generate CPU seconds of this process (all its threads, "
              "software GL included), robust to other load on the machine; ratio (wall) = generate / bare steps per "
              "wall second. Steps/s and episodes/s are wall-clock. Peak RSS is the whole benchmark process so far "
              "(both loops, all configs up to that row)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the markdown table, optionally write it to ``--out``; return 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="few episodes, under ~90 s (default)")
    size.add_argument("--long", action="store_true", help="200 episodes per config: RSS growth over 200 episodes")
    ap.add_argument("--backend", default="mujoco", choices=("mujoco", "pybullet"))
    ap.add_argument("--episodes", type=int, help="episodes per config (default: quick 10 state / 5 rgbd; long 200)")
    ap.add_argument("--max-steps", type=int, default=None, help="cap steps per episode (default: task horizon)")
    ap.add_argument("--repeats", type=int, default=None, help="timed repetitions, best kept (quick 2, long 1)")
    ap.add_argument("--modes", default="state,rgbd", help="comma-separated: state, rgbd")
    ap.add_argument("--out", type=Path, help="write the markdown section to this file")
    args = ap.parse_args(argv)
    args.repeats = args.repeats or (1 if args.long else 2)
    args.load = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="bench_generate_"))
    rows = []
    try:
        for mode in args.modes.split(","):
            n = args.episodes or (200 if args.long else {"state": 10, "rgbd": 5}[mode])
            t = time.perf_counter()
            rows.append(bench(mode, n, args.backend, args.max_steps, args.repeats, root))
            print(f"{mode}: done in {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = table(rows, args)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
