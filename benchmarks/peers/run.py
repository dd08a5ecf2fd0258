"""robosynth and its peers (robosuite, panda-gym, gymnasium-robotics Fetch) timed side by side in one run.

    python benchmarks/peers/run.py --write BENCHMARKS.md            # quick: 5 rounds, ~6 min on 2 cores
    python benchmarks/peers/run.py --rounds 7 --seconds 5 --out /tmp/peers.md

Run it with robosynth's interpreter (``make bench-peers`` does). It creates ``.bench-peers-venv`` (the peers
need ``mujoco<3.4``) and installs the peers from PyPI when missing, then runs every case of
``robosynth_cases.py`` and ``peer_cases.py`` once per round, interleaved in a shuffled order, each in a fresh
process. Only the markdown between ``<!-- bench:peers -->`` markers of ``--write`` is replaced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/_common.py

from _common import REPO_ROOT, write_markdown_section  # noqa: E402
from _loop import RESULT_PREFIX  # noqa: E402
from peer_venv import CASE_PEER, REPORTED, assets_check, ensure_peers, python_of, versions  # noqa: E402
from report import CASES, section  # noqa: E402

OURS_DISTS = ["robosynth", "mujoco", "pybullet", "gymnasium", "numpy"]
CHILD_ENV = {
    "MUJOCO_GL": "egl", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
    # Nothing may be downloaded at run time: any HTTP(S) attempt goes to a closed local port and fails.
    "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": "",
}


def loadavg() -> str:
    """Return the 1/5/15-minute load averages, or '?'."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> str:
    """Return a one-line description of this machine."""
    cpu = "?"
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.node() or 'host'}: {platform.machine()}, {cpu}, {os.cpu_count()} CPU cores, " \
           f"Python {platform.python_version()}"


def gl_renderer() -> str:
    """Return the GL renderer MuJoCo's EGL context gets in robosynth's venv (llvmpipe without a GPU), or '?'."""
    code = ("import mujoco\nctx = mujoco.GLContext(16, 16)\nctx.make_current()\nfrom OpenGL import GL\n"
            "print(GL.glGetString(GL.GL_RENDERER).decode(), '/', GL.glGetString(GL.GL_VERSION).decode())")
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                              env={**os.environ, **CHILD_ENV})
    except (OSError, subprocess.SubprocessError):
        return "?"
    return done.stdout.strip() or "?"


def git_state() -> str:
    """Return robosynth's commit and how many tracked files differ from it (the code measured), or '?'."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=REPO_ROOT, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=REPO_ROOT, timeout=30).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return f"commit {head or '?'}" + (f" + uncommitted changes in {len(dirty)} tracked files" if dirty else "")


def run_child(python: Path, script: Path, case: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run one case in a fresh process; return its result dict, or {case, error}."""
    cmd = [str(python), str(script), case, "--seconds", str(args.seconds), "--warmup", str(args.warmup),
           "--seed", str(seed)]
    env = {**os.environ, **CHILD_ENV}
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"case": case, "error": f"timed out after {args.timeout:g} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return {**json.loads(line[len(RESULT_PREFIX):]), "process_s": time.perf_counter() - start}
    tail = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()][-2:]
    return {"case": case, "error": f"exit code {done.returncode}: {' | '.join(tail)[:300]}"}


def run_rounds(plan: dict[str, tuple[Path, Path]], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run ``args.rounds`` rounds; in round r every case of ``plan`` runs once, shuffled with seed r."""
    rounds = []
    for r in range(args.rounds):
        order = list(plan)
        random.Random(r).shuffle(order)
        before, start, results = loadavg(), time.perf_counter(), []
        for case in order:
            python, script = plan[case]
            res = run_child(python, script, case, r, args)
            shown = f"{res['steps_per_s']:8.1f} steps/s, other load {res['other_load']:.2f}" if "error" not in res \
                else res["error"]
            print(f"round {r} {case:16s} {shown}", flush=True)
            results.append(res)
        rounds.append({"order": order, "results": results, "load_before": before, "load_after": loadavg(),
                       "wall_s": time.perf_counter() - start})
    return rounds


def main() -> int:
    """Install the peers if needed, run the rounds, print and write the markdown section."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", type=Path, help="replace the peers section of this markdown file")
    ap.add_argument("--out", type=Path, help="also write the section alone to this file")
    ap.add_argument("--json", type=Path, help="dump every child's raw result here")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (at least 3 for a meaningful median)")
    ap.add_argument("--seconds", type=float, default=3.0, help="timed stepping per case and round")
    ap.add_argument("--warmup", type=float, default=1.0, help="untimed warm-up per case and round, seconds")
    ap.add_argument("--timeout", type=float, default=300.0, help="per child process, seconds")
    ap.add_argument("--cases", nargs="+", choices=[c.name for c in CASES], help="a subset of the cases")
    ap.add_argument("--peer-venv", type=Path, default=REPO_ROOT / ".bench-peers-venv")
    ap.add_argument("--no-install", action="store_true", help="do not create or install the peer venv")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    t0 = time.perf_counter()
    install = ensure_peers(args.peer_venv, install=not args.no_install)
    for peer, why in install.items():
        print(f"{peer}: {'ok' if why is None else why}", flush=True)
    ours, theirs = (Path(sys.executable), HERE / "robosynth_cases.py"), (python_of(args.peer_venv),
                                                                        HERE / "peer_cases.py")
    plan = {}
    for c in CASES:
        if args.cases and c.name not in args.cases:
            continue
        if c.side == "robosynth":
            plan[c.name] = ours
        elif install.get(CASE_PEER[c.name.split("_")[0]]) is None:
            plan[c.name] = theirs
    rounds = run_rounds(plan, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rounds, indent=1))
    fmt = " ".join
    meta = {
        "mode": "quick" if args.rounds <= 5 and args.seconds <= 3 else "long",
        "command": fmt(["python benchmarks/peers/run.py", *map(shlex.quote, sys.argv[1:])]),
        "machine": machine(), "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": args.seconds, "warmup": args.warmup, "wall_s": time.perf_counter() - t0,
        "peer_venv": os.path.relpath(args.peer_venv, REPO_ROOT), "install": install,
        "ours": ", ".join(f"{d} {v}" for d, v in versions(Path(sys.executable), OURS_DISTS).items())
        + f" ({git_state()})",
        "theirs": ", ".join(f"{d} {v}" for d, v in versions(python_of(args.peer_venv), REPORTED).items()),
        "child_env": ", ".join(f"{k}={v}" for k, v in CHILD_ENV.items() if "proxy" not in k.lower())
        + "; HTTP(S) proxies set to a closed local port (no downloads at run time)",
        "notes": [assets_check(args.peer_venv) + "; the peers need no download at run time.",
                  "Episode lengths differ: robosynth pick_place 150 steps, robosuite Lift 1000 (`horizon`), Fetch "
                  "and panda-gym 50 (TimeLimit); resets are untimed, so this only changes how much of the timed "
                  "stepping happens right after a reset.",
                  "robosuite's `env.step` is its own API (robosuite.make, no Gymnasium wrappers); the others go "
                  "through `gym.make` (its passive checker and order enforcing).",
                  "PyBullet cameras: panda-gym asks for ER_BULLET_HARDWARE_OPENGL with shadows in a DIRECT "
                  "connection, which PyBullet serves with TinyRenderer (RGB, depth and segmentation are always "
                  "rasterised); robosynth uses TinyRenderer without shadows, and without the segmentation mask "
                  "(ER_NO_SEGMENTATION_MASK) for `rgbd`.",
                  "MuJoCo shadows: the lights of robosuite's table arena and of Fetch cast none, like robosynth's "
                  "`fast` preset; `default` adds a 1024 shadow map. `fast` also draws decimated robot meshes, on "
                  "MuJoCo (sim/mesh_lod.py) and on PyBullet (sim/pybullet_lod.py, colours baked from the Panda's "
                  "texture atlas); physics unchanged; the peers draw their full meshes.",
                  "Modalities in brackets: robosynth `rgbd` renders RGB + depth, `rgbd_seg` adds instance "
                  "segmentation (robosuite's camera obs here: RGB + depth + instance segmentation); Fetch's "
                  "`render()` is RGB only.",
                  f"MuJoCo rendering: MUJOCO_GL=egl for all, on {gl_renderer()}; CPU/wall above 1 is its "
                  "rasteriser threads."],
    }
    text = section(meta, rounds)
    print("\n" + text)
    if args.out:
        args.out.write_text(text + "\n")
    if args.write:
        write_markdown_section(args.write, "peers", text)
        print(f"wrote the peers section of {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
