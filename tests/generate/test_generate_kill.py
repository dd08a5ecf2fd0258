"""Crash safety: ``kill -9`` a running ``robosynth generate`` at several moments, ``--resume`` it, and get the
dataset an uninterrupted run with the same seed produces (array by array), passing ``robosynth verify``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from robosynth.dataset import completed_episode_indices, episode_path, list_episode_files, tmp_files
from robosynth.generate import GenerateRequest, generate

REPO_ROOT = Path(__file__).resolve().parents[2]
N = 6
SEED = 3
MAX_STEPS = 15  # episodes fail (kept with --keep-failed): short, and a failed kept episode is data like any other
ARGS = ["pick_place", "--backend", "mujoco", "--episodes", str(N), "--seed", str(SEED), "--cameras", "agentview",
        "--resolution", "32x32", "--max-steps", str(MAX_STEPS), "--keep-failed"]


def start(out: Path, *extra: str, args: list[str] = ARGS) -> subprocess.Popen:
    """Start ``robosynth generate`` on the test request in the background (Ctrl-C reaches it even where this
    process was started with SIGINT ignored, as a shell's background job is)."""
    env = {k: v for k, v in os.environ.items() if k != "ROBOSYNTH_DEBUG"}
    return subprocess.Popen([sys.executable, "-m", "robosynth", "generate", *args, "--out", str(out), *extra],
                            cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(cond: Callable[[], bool], proc: subprocess.Popen, timeout: float = 60.0, poll: float = 0.005) -> None:
    """Wait until ``cond()`` holds while ``proc`` is still running; fail if it ends or time runs out first."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert proc.poll() is None, f"generate ended (rc {proc.returncode}) before the kill point: " \
                                    f"{proc.stderr.read().decode() if proc.stderr else ''}"
        assert time.monotonic() < deadline, "kill point not reached in time"
        time.sleep(poll)


def descendants(pid: int) -> list[int]:
    """Return the descendant process ids of ``pid`` (Linux /proc): pool workers and the fork server they come from."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *descendants(kid)]
    return found


def alive(pid: int) -> bool:
    """Return True if ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def kill9(proc: subprocess.Popen) -> None:
    """SIGKILL the process (only it, as ``kill -9 PID`` does) and reap it."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    if proc.stderr:
        proc.stderr.close()


def n_files(out: Path) -> int:
    """Return how many finished episode files exist."""
    return len(list_episode_files(out))


def assert_only_complete_files(out: Path) -> None:
    """Every final-named episode file is complete and readable (a kill loses at most in-flight episodes)."""
    assert completed_episode_indices(out, remove_tmp=False) == set(list_episode_files(out))


def dump(path: Path) -> dict[str, object]:
    """Return every dataset (virtual ones read through) and attr of a file's demos, keyed by path."""
    out: dict[str, object] = {}
    with h5py.File(path, "r") as f:
        for name in f["data"]:
            g = f["data"][name]
            out.update({f"{name}@{k}": v.tolist() if isinstance(v, np.ndarray) else v for k, v in g.attrs.items()})
            g.visititems(lambda k, v, n=name: out.__setitem__(f"{n}/{k}", v[()]) if isinstance(v, h5py.Dataset)
                         else None)
        for key in ("train", "valid"):
            if f"mask/{key}" in f:
                out[f"mask/{key}"] = f[f"mask/{key}"][()]
    return out


def assert_same(a: dict[str, object], b: dict[str, object]) -> None:
    """Assert two dumps are equal: arrays bit-identical (dtype, shape, bytes), attrs equal."""
    assert sorted(a) == sorted(b)
    for key, x in a.items():
        y = b[key]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), key
        else:
            assert x == y, key


def test_kill9_at_several_moments_then_resume_equals_uninterrupted_run(tmp_path, run_cli):
    out = tmp_path / "killed"

    # 1. right after start: the request file is there, no episode yet
    p = start(out)
    wait_for(lambda: (out / "generate.json").exists(), p)
    kill9(p)
    assert n_files(out) == 0

    # 2. resume, killed as soon as the first episode file appears
    p = start(out, "--resume")
    wait_for(lambda: n_files(out) >= 1, p)
    kill9(p)
    assert n_files(out) >= 1
    assert_only_complete_files(out)
    before = {i: dump(path) for i, path in list_episode_files(out).items()}

    # 3. resume with two workers, parent killed mid-way: its pool workers must not survive it
    p = start(out, "--resume", "--workers", "2")
    wait_for(lambda: n_files(out) >= 3 and len(descendants(p.pid)) >= 2, p)
    kids = descendants(p.pid)
    kill9(p)
    deadline = time.monotonic() + 10
    while any(alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(k) for k in kids), "pool workers outlived the killed parent"
    assert 3 <= n_files(out) < N
    assert_only_complete_files(out)
    # episodes finished before a kill are never rewritten
    for i, d in before.items():
        assert_same(dump(episode_path(out, i)), d)
    # a write torn by the kill: a partial temporary file next to the finished ones
    torn = episode_path(out, N - 1).with_name(episode_path(out, N - 1).name + ".tmp-999999")
    torn.write_bytes(episode_path(out, 0).read_bytes()[:1000])

    # 4. final resume completes the dataset
    res = run_cli("generate", *ARGS, "--out", out, "--resume")
    assert res.rc == 0, res.stderr
    assert f"{N} episodes" in res.stdout and "already done" in res.stdout
    assert tmp_files(out) == []
    assert sorted(list_episode_files(out)) == list(range(N))
    check = run_cli("verify", out)
    assert check.rc == 0, check.stdout + check.stderr

    # the uninterrupted run with the same seed
    ref = tmp_path / "ref"
    summary = generate(GenerateRequest(scene="pick_place", backend="mujoco", episodes=N, seed=SEED,
                                       cameras=("agentview",), resolution=(32, 32), max_steps=MAX_STEPS,
                                       keep_failed=True), ref)
    assert summary.written == N
    for i in range(N):
        assert_same(dump(episode_path(out, i)), dump(episode_path(ref, i)))
    a, b = dump(out / "dataset.hdf5"), dump(ref / "dataset.hdf5")
    assert_same(a, b)
    assert len([k for k in a if k.endswith("/actions")]) == N


def test_ctrl_c_keeps_every_finished_episode_exits_130_and_resume_completes(tmp_path, run_cli):
    """Ctrl-C while one episode records and the one before it is finished and written on the writer thread: the
    write in flight completes, the command says how to resume and exits 130, and ``--resume`` gives the dataset
    of an uninterrupted run."""
    n = 20
    args = [*ARGS[:ARGS.index("--episodes") + 1], str(n), *ARGS[ARGS.index("--episodes") + 2:]]
    out = tmp_path / "interrupted"
    p = start(out, args=args)
    wait_for(lambda: n_files(out) >= 1, p)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    lines = err.decode().strip().splitlines()
    assert p.returncode == 130, lines
    assert "--resume" in lines[-1] and "Traceback" not in err.decode()
    assert 1 <= n_files(out) < n
    assert_only_complete_files(out)
    assert tmp_files(out) == []  # the write in flight was completed, not torn
    res = run_cli("generate", *args, "--out", out, "--resume")
    assert res.rc == 0, res.stderr
    ref = tmp_path / "ref"
    generate(GenerateRequest(scene="pick_place", backend="mujoco", episodes=n, seed=SEED, cameras=("agentview",),
                             resolution=(32, 32), max_steps=MAX_STEPS, keep_failed=True), ref)
    for i in range(n):
        assert_same(dump(episode_path(out, i)), dump(episode_path(ref, i)))
    assert_same(dump(out / "dataset.hdf5"), dump(ref / "dataset.hdf5"))

