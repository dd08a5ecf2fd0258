"""Scaling of ``robosynth generate`` with workers: episodes/s with 1 and 2 workers, local pool and Ray, in one run
(a benchmark, not a test), and where the time of a 2-worker run goes.

Configuration: the built-in ``pick_place`` scene with its expert on MuJoCo, one 128x128 RGB-D-seg camera
(``agentview``), ``--quality fast``. Each executor/worker count records the same episodes into a fresh directory:

* ``local W=1``: in-process (what ``--workers 1`` does);
* ``local W=2``: the local process pool (spawned workers, each builds its own engine world);
* ``ray W=1``, ``ray W=2``: a fresh local Ray with W CPUs per run; ``ray.init`` is timed apart and the episode
  throughput excludes it (a cluster is started once and serves many runs).

Besides throughput it measures the fixed costs a parallel run pays and a serial one does not: a worker process's
start and imports, an engine world's build, one episode file's write, the index rebuild, and the busy share of the
workers (sum of per-episode seconds / (W x wall)).

    python benchmarks/bench_scale.py                 # 16 episodes per run, a few minutes on 2 cores
    python benchmarks/bench_scale.py --episodes 8 --out SCALE.md
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import environment_line, shown_args, tree_cpu_seconds

from robosynth.dataset import build_index, write_episode_file
from robosynth.generate import GenerateRequest, generate
from robosynth.generate.jobs import _runner, close_runners, make_job
from robosynth.generate.pool import worker_context
from robosynth.generate.request import dataset_info


def request(episodes: int) -> GenerateRequest:
    """Return the benchmark's request."""
    return GenerateRequest(scene="pick_place", backend="mujoco", episodes=episodes, seed=0, cameras=("agentview",),
                           resolution=(128, 128), quality="fast", keep_failed=True)


def fixed_costs(req: GenerateRequest, root: Path) -> dict[str, float]:
    """Return seconds of: worker process start + imports, world build, one episode, one write, index rebuild."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import robosynth.generate.jobs, mujoco, h5py"], check=True)
    spawn = time.perf_counter() - t
    fork = worker_start_seconds(req.backend)
    close_runners()
    job = make_job(req)
    t = time.perf_counter()
    first = _runner(job).run(req.seed, 0)
    first_s = time.perf_counter() - t
    t = time.perf_counter()
    res = _runner(job).run(req.seed, 1)
    episode = time.perf_counter() - t
    close_runners()
    out = root / "fixed" / "episodes"
    out.mkdir(parents=True)
    t = time.perf_counter()
    assert res.record is not None and first.record is not None
    write_episode_file(out / "ep_000001.hdf5", dataset_info(req), res.record, compression=req.compression)
    write = time.perf_counter() - t
    write_episode_file(out / "ep_000000.hdf5", dataset_info(req), first.record, compression=req.compression)
    t = time.perf_counter()
    build_index(out.parent, dataset_info(req))
    index = (time.perf_counter() - t) / 2  # per episode file: it scales with the files
    return {"spawn": spawn, "fork": fork, "world": max(0.0, first_s - episode), "episode": episode, "write": write,
            "index_per_file": index, "steps": res.steps}


def worker_start_seconds(backend: str) -> float:
    """Return the seconds to start and join one pool worker process once its fork server runs (nan without one)."""
    ctx = worker_context(backend)
    if ctx.get_start_method() != "forkserver":
        return float("nan")
    times = []
    for _ in range(3):  # the first also waits for the fork server's own start and imports
        t = time.perf_counter()
        p = ctx.Process(target=os.getpid)
        p.start()
        p.join()
        times.append(time.perf_counter() - t)
    return min(times[1:])


def cpu_seconds() -> float:
    """Return CPU seconds of this process and of its descendants (pool workers, the fork server) so far."""
    return tree_cpu_seconds()


def timed_run(req: GenerateRequest, root: Path, executor: str, workers: int) -> dict[str, float]:
    """Run generate once; return wall seconds, Ray start seconds, busy share, rates and CPU s per episode."""
    out = root / f"{executor}_{workers}"
    init_s, cpu0 = 0.0, cpu_seconds()
    if executor == "ray":
        import ray

        t = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
        init_s = time.perf_counter() - t
    busy: list[float] = []
    close_runners()
    t = time.perf_counter()
    summary = generate(req, out, workers=workers, executor=executor,
                       progress=lambda res: busy.append(float(res.get("seconds", 0.0))))
    wall = time.perf_counter() - t
    close_runners()
    if executor == "ray":
        import ray

        ray.shutdown()
    cpu = cpu_seconds() - cpu0 if executor == "local" else float("nan")  # Ray's workers are not our children
    shutil.rmtree(out)
    return {"wall": wall, "init": init_s, "busy": sum(busy) / (workers * wall), "eps": req.episodes / wall,
            "sps": summary.steps / wall, "bytes": summary.stats.bytes_written / wall, "cpu": cpu / req.episodes}


def cpu_text(cpu: float) -> str:
    """Return CPU seconds per episode as text ('-' when not measured)."""
    return "-" if math.isnan(cpu) else f"{cpu:.2f}"


def table(rows: dict[tuple[str, int], dict[str, float]], fixed: dict[str, float], args: argparse.Namespace) -> str:
    """Return the results as a markdown section."""
    lines = [
        "### generate: 1 and 2 workers, local pool and Ray",
        "",
        f"`python benchmarks/bench_scale.py {shown_args()}`: {environment_line('mujoco', 'ray', 'h5py')}; "
        f"pick_place on MuJoCo, one 128x128 RGB-D-seg camera, --quality fast, {args.episodes} episodes per run; "
        f"load average at start {args.load:.2f}.",
        "",
        "| executor | workers | wall (s) | episodes/s | steps/s | MB/s | speed-up vs W=1 | workers busy "
        "| CPU s/episode | Ray start (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (executor, w), r in rows.items():
        base = rows.get((executor, 1))
        speed = r["eps"] / base["eps"] if base else float("nan")
        lines.append(f"| {executor} | {w} | {r['wall']:.1f} | {r['eps']:.2f} | {r['sps']:.0f} | {r['bytes'] / 1e6:.2f} "
                     f"| {speed:.2f}x | {r['busy']:.0%} | {cpu_text(r['cpu'])} | {r['init']:.1f} |")
    if ("ray", 2) in rows and ("local", 2) in rows:
        lines.append(f"\nRay W=2 / local pool W=2 episodes/s: {rows['ray', 2]['eps'] / rows['local', 2]['eps']:.2f}.")
    lines += [
        "",
        "Fixed costs (seconds): a fresh interpreter's start + the recording stack's imports "
        f"{fixed['spawn']:.2f} (the fork server pays it once per run, while the CLI does its own imports), one "
        f"pool worker forked from the running fork server {fixed['fork']:.3f}, engine world build "
        f"{fixed['world']:.2f}, one episode ({fixed['steps']:.0f} steps) "
        f"{fixed['episode']:.2f}, one episode file write {fixed['write']:.3f}, index rebuild per episode file "
        f"{fixed['index_per_file']:.4f}. A W-worker run pays a world build once per worker before its first "
        "episode (in parallel), as a W=1 in-process run does once; 'workers busy' is the share of "
        "the W workers' wall time spent recording and writing episodes (above 100 % at W=1, whose writes overlap "
        "the next episode on a writer thread). CPU s/episode (local only: Ray's workers are not this "
        "process's children) counts this process and its pool workers, so it does not depend on other load: on W "
        "idle cores, W workers reach W x (CPU s/episode at W=1) / (CPU s/episode at W) of the W=1 speed at best.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the markdown table, optionally write it to ``--out``; return 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=None, help="episodes per run (default 16; --quick 12)")
    ap.add_argument("--quick", action="store_true", help="12 episodes per run (what run_all.py asks for)")
    ap.add_argument("--executors", default="local,ray", help="comma-separated: local, ray (ray skipped if missing)")
    ap.add_argument("--out", type=Path, help="write the markdown section to this file")
    args = ap.parse_args(argv)
    args.load = os.getloadavg()[0]
    args.episodes = args.episodes or (12 if args.quick else 16)
    executors = [e for e in args.executors.split(",") if e != "ray" or importlib.util.find_spec("ray") is not None]
    req = request(args.episodes)
    root = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    rows: dict[tuple[str, int], dict[str, float]] = {}
    try:
        fixed = fixed_costs(req, root)
        for executor in executors:
            for workers in (1, 2):
                rows[executor, workers] = timed_run(req, root, executor, workers)
                print(f"{executor} W={workers}: {rows[executor, workers]['eps']:.2f} episodes/s", file=sys.stderr,
                      flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = table(rows, fixed, args)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
