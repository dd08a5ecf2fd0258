"""The whole ``robosynth generate`` command next to the Gymnasium env loop at the same modalities, and 2 workers
next to 1 (issue 12's ``generate`` targets), in one run of fresh, interleaved processes (a benchmark, not a test).

Every round runs each case once as a fresh child process, in an order shuffled with the round's index as seed:

* ``gen RGB-D``: ``python -m robosynth generate`` of pick_place on MuJoCo, one 128x128 camera (agentview),
  ``--quality fast``, N episodes, recording RGB + depth. ``generate`` records each camera's scene modalities and
  has no flag to drop one, so this case runs a copy of the pick_place YAML whose agentview lists
  ``modalities: [rgb, depth]``;
* ``gen RGB-D-seg``: the same with the built-in scene (RGB + depth + segmentation, generate's default);
* ``gen RGB-D-seg W=2``: the same with ``--workers 2`` (local process pool);
* ``gen RGB-D-seg W=1, 1 core``: the W=1 command pinned to one core (CPU affinity), so that W=2 on 2 cores next
  to it is generate's scaling with cores, a core per worker (W=1 on its own keeps ~1.5 of 2 cores busy: its render,
  rasterizer and writer threads, so W=2 next to *that* is bounded by the 2 cores, not by the pool);
* ``env rgbd`` / ``env rgbd_seg``: ``gym.make("robosynth/PickPlace-v0", backend="mujoco", obs_mode=...,
  quality="fast", resolution=(128, 128), cameras=["agentview"])`` stepped with uniform random actions, timed
  step calls only (benchmarks/peers/robosynth_cases.py ``mj_rgbd_fast`` / ``mj_rgbdseg_fast``, the env rates the
  peers table reports);
* ``env rgbd, expert`` / ``env rgbd_seg, expert``: the same envs with the task's scripted expert choosing the
  actions, i.e. the episodes ``generate`` records (``mj_rgbd_fast_expert`` / ``mj_rgbdseg_fast_expert``; the
  expert's ``act`` and the resets untimed). Random actions keep the arm away from the cube and mostly out of the
  camera's view, which makes their frames and contacts cheaper: the same work as ``generate``'s is this case;
* ``gen RGB-D-seg, pool of 1``: the W=1 command with its episodes on a local pool of one worker that has every
  core (benchmarks/pool_worker_child.py), set up as each worker of W on a machine with W x as many cores: what a
  pool worker records at, next to the in-process command, where this machine cannot give W=2 two cores per worker;
* ``gen 1 episode`` and ``imports``: the start-up split (see the table's notes).

generate's steps/s is recorded steps / the command's whole wall time (interpreter start, imports, world build,
GL context, episodes, gzip HDF5 writes, index, exit). CPU s is the child's user + system time, its pool workers
included. Ratios are per round, then the median.

    python benchmarks/bench_generate_rate.py --quick          # 30 episodes, 2 rounds (run_all.py)
    python benchmarks/bench_generate_rate.py --episodes 40 --rounds 3 --out RATE.md
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import yaml
from _common import REPO_ROOT, environment_line, markdown_table, shown_args

PEERS_CHILD = REPO_ROOT / "benchmarks" / "peers" / "robosynth_cases.py"
POOL_CHILD = REPO_ROOT / "benchmarks" / "pool_worker_child.py"
BUILTIN_SCENE = REPO_ROOT / "scenes" / "builtin" / "pick_place.yaml"
GEN_ARGS = ["--backend", "mujoco", "--cameras", "agentview", "--resolution", "128x128", "--quality", "fast",
            "--seed", "0"]
IMPORTS = "import robosynth.cli.app, robosynth.generate.run, mujoco, h5py, renderers.mujoco_render"
TARGET_RATE, TARGET_W2 = 0.8, 1.8


def rgbd_scene(root: Path) -> Path:
    """Write pick_place with agentview recording only RGB + depth; return the YAML path."""
    spec = yaml.safe_load(BUILTIN_SCENE.read_text())
    for cam in spec["cameras"]:
        if cam["name"] == "agentview":
            cam["modalities"] = ["rgb", "depth"]
    path = root / "pick_place_rgbd.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def child_env() -> dict[str, str]:
    """Return the children's environment: this checkout first on the path, one BLAS thread, fixed hash seed."""
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}


def busy_seconds() -> float:
    """Return the CPU seconds the whole machine has been busy since boot (/proc/stat; NaN elsewhere)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return float("nan")
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def become_subreaper() -> None:
    """Adopt orphaned descendants (Linux): a child's fork server, and with it its workers' CPU time, outlives it."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap_orphans() -> None:
    """Wait for every adopted descendant, so that its CPU time counts in RUSAGE_CHILDREN."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def run_child(cmd: list[str], cpus: set[int] | None = None) -> tuple[float, float, float, str]:
    """Run ``cmd`` (on the cores ``cpus`` only, when given); return (wall s, CPU s of it and all its descendants,
    other processes' load in cores, stdout)."""
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    k0, busy0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), busy_seconds(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, preexec_fn=pin)
    wall = time.perf_counter() - t0
    reap_orphans()
    k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (k1.ru_utime - k0.ru_utime) + (k1.ru_stime - k0.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    other = max(0.0, busy_seconds() - busy0 - cpu) / wall
    return wall, cpu, other, proc.stdout


def recorded_steps(out: Path) -> tuple[int, int]:
    """Return (episodes, steps) written into the dataset directory ``out``."""
    files = sorted((out / "episodes").glob("ep_*.hdf5"))
    steps = 0
    for p in files:
        with h5py.File(p, "r") as f:
            steps += sum(int(g.attrs["num_samples"]) for g in f["data"].values())
    return len(files), steps


def gen_case(scene: str, episodes: int, workers: int, root: Path, cpus: set[int] | None = None,
             pool_of_one: bool = False) -> dict[str, float]:
    """Run the generate command once into a fresh directory (on ``cpus`` only, when given; with ``pool_of_one``,
    its episodes on a pool of one worker: benchmarks/pool_worker_child.py); return its measurements."""
    out = root / f"gen_{time.monotonic_ns()}"
    prog = [str(POOL_CHILD)] if pool_of_one else ["-m", "robosynth"]
    cmd = [sys.executable, *prog, "generate", scene, *GEN_ARGS, "--episodes", str(episodes),
           "--workers", str(workers), "--out", str(out)]
    wall, cpu, other, _ = run_child(cmd, cpus)
    n, steps = recorded_steps(out)
    shutil.rmtree(out)
    if n != episodes:
        raise SystemExit(f"generate wrote {n} of {episodes} episodes (the expert failed some): {cmd}")
    return {"wall": wall, "cpu": cpu, "other": other, "steps": steps, "sps": steps / wall, "cpu_ep": cpu / n}


def env_case(case: str, seconds: float) -> dict[str, float]:
    """Run one peers child (``mj_rgbd_fast`` / ``mj_rgbdseg_fast``); return its step rate."""
    wall, cpu, other, stdout = run_child([sys.executable, str(PEERS_CHILD), case, "--seconds", str(seconds),
                                          "--warmup", "1", "--seed", "0"])
    line = next(ln for ln in stdout.splitlines() if ln.startswith("PEERS_RESULT "))
    res = json.loads(line.split(" ", 1)[1])
    return {"wall": wall, "cpu": cpu, "other": other, "sps": float(res["steps_per_s"]),
            "cpu_step": float(res["cpu_seconds"]) / int(res["steps"])}


def imports_case() -> dict[str, float]:
    """Time a fresh interpreter importing what generate needs."""
    wall, cpu, other, _ = run_child([sys.executable, "-c", IMPORTS])
    return {"wall": wall, "cpu": cpu, "other": other}


def run_rounds(args: argparse.Namespace, root: Path) -> dict[str, list[dict[str, float]]]:
    """Run every case once per round, shuffled; return the measurements per case."""
    scene_rgbd = str(rgbd_scene(root))
    cases = {
        "gen_rgbd": lambda: gen_case(scene_rgbd, args.episodes, 1, root),
        "gen_seg": lambda: gen_case("pick_place", args.episodes, 1, root),
        "gen_seg_w2": lambda: gen_case("pick_place", args.episodes, 2, root),
        "gen_seg_1core": lambda: gen_case("pick_place", args.episodes, 1, root, one_core()),
        "gen_seg_pool1": lambda: gen_case("pick_place", args.episodes, 1, root, pool_of_one=True),
        "gen_1": lambda: gen_case("pick_place", 1, 1, root),
        "env_rgbd": lambda: env_case("mj_rgbd_fast", args.seconds),
        "env_seg": lambda: env_case("mj_rgbdseg_fast", args.seconds),
        "env_rgbd_expert": lambda: env_case("mj_rgbd_fast_expert", args.seconds),
        "env_seg_expert": lambda: env_case("mj_rgbdseg_fast_expert", args.seconds),
        "imports": imports_case,
    }
    results: dict[str, list[dict[str, float]]] = {k: [] for k in cases}
    for r in range(args.rounds):
        order = list(cases)
        random.Random(r).shuffle(order)
        for name in order:
            results[name].append(cases[name]())
        print(f"round {r + 1}/{args.rounds}: gen RGB-D {results['gen_rgbd'][-1]['sps']:.0f} steps/s, env rgbd "
              f"{results['env_rgbd'][-1]['sps']:.0f}", file=sys.stderr, flush=True)
    return results


def usable_cores() -> int:
    """Return the cores this process may run on."""
    return len(os.sched_getaffinity(0))


def one_core() -> set[int]:
    """Return one core this process may run on (the first of its CPU affinity)."""
    return {min(os.sched_getaffinity(0))}


def med(rows: list[dict[str, float]], key: str) -> float:
    """Return the median of ``key`` over ``rows``."""
    return statistics.median(r[key] for r in rows)


def paired(a: list[dict[str, float]], b: list[dict[str, float]], key: str = "sps") -> float:
    """Return the median over rounds of a[key] / b[key]."""
    return statistics.median(x[key] / y[key] for x, y in zip(a, b, strict=True))


def cores(rows: list[dict[str, float]]) -> str:
    """Return the median cores a command kept busy: its CPU seconds (workers included) / its wall seconds."""
    return f"{statistics.median(r['cpu'] / r['wall'] for r in rows):.2f}"


def gen_row(name: str, rows: list[dict[str, float]], ref: list[dict[str, float]], ref_name: str) -> list[str]:
    """Return a generate case's table row, its rate as a ratio to ``ref``'s."""
    return [name, f"{med(rows, 'sps'):.0f}", f"{med(rows, 'wall'):.2f}", f"{med(rows, 'cpu_ep'):.3f}", cores(rows),
            f"{paired(rows, ref):.2f}x {ref_name}"]


def env_row(name: str, rows: list[dict[str, float]]) -> list[str]:
    """Return an env case's table row (cores busy: its CPU per timed step x steps/s)."""
    return [name, f"{med(rows, 'sps'):.0f}", "-", "-", f"{med(rows, 'cpu_step') * med(rows, 'sps'):.2f}", "1.00"]


def startup_split(res: dict[str, list[dict[str, float]]], episodes: int) -> dict[str, float]:
    """Return the fixed seconds of a W=1 command: total (1-episode wall minus one episode), imports, the rest."""
    per_episode = [(n["wall"] - o["wall"]) / (episodes - 1) for n, o in zip(res["gen_seg"], res["gen_1"], strict=True)]
    fixed = [o["wall"] - p for o, p in zip(res["gen_1"], per_episode, strict=True)]
    imports = med(res["imports"], "wall")
    return {"per_episode": statistics.median(per_episode), "fixed": statistics.median(fixed), "imports": imports,
            "rest": statistics.median(fixed) - imports}


def table(res: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> str:
    """Return the results as a markdown section."""
    n = args.episodes
    rows = [
        gen_row("generate, RGB-D (W=1)", res["gen_rgbd"], res["env_rgbd"], "env rgbd")
        + [f"{paired(res['gen_rgbd'], res['env_rgbd_expert']):.2f}x env rgbd, expert"],
        gen_row("generate, RGB-D-seg (W=1)", res["gen_seg"], res["env_seg"], "env rgbd_seg")
        + [f"{paired(res['gen_seg'], res['env_seg_expert']):.2f}x env rgbd_seg, expert"],
        gen_row("generate, RGB-D-seg, W=2", res["gen_seg_w2"], res["gen_seg"], "W=1") + ["-"],
        gen_row("generate, RGB-D-seg, W=1 pinned to 1 core", res["gen_seg_1core"], res["gen_seg"], "W=1") + ["-"],
        gen_row("generate, RGB-D-seg, a pool of 1 worker with every core", res["gen_seg_pool1"], res["gen_seg"],
                "W=1") + ["-"],
        env_row("env.step, obs_mode=rgbd, random actions", res["env_rgbd"]) + ["-"],
        env_row("env.step, obs_mode=rgbd_seg, random actions", res["env_seg"]) + ["-"],
        env_row("env.step, obs_mode=rgbd, expert actions", res["env_rgbd_expert"]) + ["-"],
        env_row("env.step, obs_mode=rgbd_seg, expert actions", res["env_seg_expert"]) + ["-"],
    ]
    s = startup_split(res, n)
    steps = int(med(res["gen_seg"], "steps"))
    other = statistics.mean(r["other"] for rows_ in res.values() for r in rows_)
    lines = [
        "### generate (whole command) next to the env loop; W=2 next to W=1",
        "",
        f"`python benchmarks/bench_generate_rate.py {shown_args()}`: {environment_line('mujoco', 'h5py')}; "
        f"pick_place on MuJoCo, agentview 128x128, `--quality fast`, {n} episodes per command ({steps} steps); "
        f"{args.rounds} rounds of fresh processes in shuffled order, medians; other processes' load during the "
        f"children {other:.2f} cores on average.",
        "",
        markdown_table(["case", "steps/s", "command wall (s)", "CPU s/episode", "cores busy",
                        "ratio (median of rounds)", "ratio to the env on the same episodes"], rows),
        "",
        f"Targets (issue 12): generate RGB-D >= {TARGET_RATE}x env rgbd: "
        f"**{paired(res['gen_rgbd'], res['env_rgbd']):.2f}x** the random-action loop, "
        f"**{paired(res['gen_rgbd'], res['env_rgbd_expert']):.2f}x** the loop on the expert's episodes (the same "
        f"work as generate's); W=2 >= {TARGET_W2}x W=1: "
        f"**{paired(res['gen_seg_w2'], res['gen_seg']):.2f}x** (CPU s/episode W=1 "
        f"{med(res['gen_seg'], 'cpu_ep'):.3f}, W=2 {med(res['gen_seg_w2'], 'cpu_ep'):.3f}: on 2 cores W=2 can reach "
        "at most (2 cores / W=1's cores busy) x (W=1's CPU s/episode / W=2's) of W=1's rate, less whatever else "
        "runs: W=1 already keeps more than one core busy (llvmpipe's rasterizer threads, the writer thread). "
        f"With a core per worker, W=2 on 2 cores is **{paired(res['gen_seg_w2'], res['gen_seg_1core']):.2f}x** "
        "W=1 pinned to 1 core (generate's scaling with cores; the pool's own overhead is the rest). A pool worker "
        f"with the {usable_cores()} cores this machine has, as each worker of W on W x that many cores would have "
        f"(render thread, two stages), records at **{paired(res['gen_seg_pool1'], res['gen_seg']):.2f}x** the "
        "in-process W=1 command's rate (the fork server's start-up is the difference).",
        "",
        f"Start-up of a W=1 command (from a 1-episode run: its wall minus one steady episode of "
        f"{s['per_episode']:.3f} s): **{s['fixed']:.2f} s** fixed, of which interpreter + imports "
        f"{s['imports']:.2f} s and world build, GL context, first frame, index and exit {s['rest']:.2f} s. generate's "
        "steps/s is recorded steps / command wall, start-up included; the env rates count timed `env.step` calls "
        "only (the expert's actions and the resets untimed). generate records each camera's scene "
        "modalities (no flag drops one): the RGB-D case uses a copy of pick_place whose agentview lists "
        "`modalities: [rgb, depth]`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the markdown section, optionally write it to ``--out``; return 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 episodes, 2 rounds (what run_all.py asks for)")
    ap.add_argument("--episodes", type=int, default=None, help="episodes per generate command (default 40)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 3; --quick 2)")
    ap.add_argument("--seconds", type=float, default=3.0, help="timed env stepping per env child")
    ap.add_argument("--out", type=Path, help="write the markdown section to this file")
    args = ap.parse_args(argv)
    args.episodes = args.episodes or (30 if args.quick else 40)
    args.rounds = args.rounds or (2 if args.quick else 3)
    if args.episodes < 2:
        ap.error("--episodes must be >= 2 (the start-up split compares with a 1-episode run)")
    root = Path(tempfile.mkdtemp(prefix="bench_generate_rate_"))
    become_subreaper()
    try:
        res = run_rounds(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = table(res, args)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
