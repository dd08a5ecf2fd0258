"""A worker process that dies (``kill -9``, the OOM killer) never hangs ``generate``: its episode runs again in a
fresh worker and the dataset equals a ``--workers 1`` run array by array; an episode whose worker keeps dying is
recorded as failed with the reason and the run finishes. Both executors, through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crashing_worker import DIE_ON, run_or_die, write_then_die
from test_generate_kill import alive, assert_same, descendants, dump

from robosynth.dataset import build_index, episode_path, list_episode_files, tmp_files
from robosynth.generate import GenerateRequest, dataset_info, failed_marker, generate
from robosynth.generate.directory import tmp_dirs
from robosynth.generate.executors import _pool_init
from robosynth.generate.jobs import finished_result, give_up_episode, make_job
from robosynth.generate.pool import MAX_ATTEMPTS, EpisodePool

REPO_ROOT = Path(__file__).resolve().parents[2]
N = 4
# A small camera makes each episode last long enough (~0.5 s) that a worker found by polling is still running its
# first episode when it is killed, even on a loaded machine (state-only episodes end within one polling interval).
ARGS = ["pick_place", "--backend", "mujoco", "--episodes", str(N), "--seed", "5", "--cameras", "agentview",
        "--resolution", "32x32", "--max-steps", "60", "--keep-failed"]
REQUEST = GenerateRequest(scene="pick_place", backend="mujoco", episodes=N, seed=5, cameras=("agentview",),
                          resolution=(32, 32), max_steps=60, keep_failed=True)


def cmdline(pid: int) -> str:
    """Return a process's command line ('' once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    """Return the direct children of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def episode_workers(pid: int, executor: str) -> list[int]:
    """Return the live processes of ``pid``'s tree that run episodes for the given executor: Ray's tasks, or the
    local pool's workers (children of the fork server that ``pid`` started, or spawned children of ``pid``; not
    the short-lived processes a worker itself may start)."""
    if executor != "local":
        return [p for p in descendants(pid) if "ray::robosynth_episode" in cmdline(p) and alive(p)]
    direct = children(pid)
    spawned = [c for c in direct if "spawn_main" in cmdline(c)]
    forked = [w for c in direct if "multiprocessing.forkserver" in cmdline(c) for w in children(c)
              if cmdline(w) == cmdline(c) and cpu_ticks(w) >= 5]  # busy: not a helper the server forks to exec
    return [p for p in spawned + forked if alive(p)]


def cpu_ticks(pid: int) -> int:
    """Return the user + system CPU clock ticks a process has used (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The same request recorded with one worker, no deaths."""
    out = tmp_path_factory.mktemp("ref") / "ds"
    assert generate(REQUEST, out).written == N
    return out


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_kill9_of_a_worker_reruns_its_episode_and_the_run_finishes(tmp_path, reference, executor, run_cli):
    if executor == "ray":
        pytest.importorskip("ray")
    out = tmp_path / "ds"
    env = {k: v for k, v in os.environ.items() if k not in ("ROBOSYNTH_DEBUG", "RAY_ADDRESS")}
    proc = subprocess.Popen([sys.executable, "-m", "robosynth", "generate", *ARGS, "--out", str(out),
                             "--workers", "2", "--executor", executor], cwd=REPO_ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        victims: list[int] = []
        while not victims:  # kill a worker while every episode is still in flight or queued
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no worker process appeared"
            assert not list_episode_files(out), "episodes finished before a worker could be killed"
            victims = episode_workers(proc.pid, executor)
            time.sleep(0.02)
            try:
                if victims:
                    os.kill(victims[0], signal.SIGKILL)
            except ProcessLookupError:  # a short-lived helper process (e.g. of an import), not a worker
                victims = []
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr.decode()
    assert "running it again in a new worker (attempt 2 of 3)" in stderr.decode()
    assert f"{N} episodes" in stdout.decode() and f"{N} written now" in stdout.decode()
    assert "; 1 retried;" in stdout.decode()  # the progress view counts the retry, whatever the executor
    assert f"generate: episodes {N}/{N}," in stderr.decode() and "1 retried, ETA" in stderr.decode()
    assert tmp_files(out) == [] and sorted(list_episode_files(out)) == list(range(N))
    for i in range(N):
        assert_same(dump(episode_path(out, i)), dump(episode_path(reference, i)))
    assert_same(dump(out / "dataset.hdf5"), dump(reference / "dataset.hdf5"))
    assert run_cli("verify", out).rc == 0
    if executor == "local":
        assert not any(alive(p) for p in victims)


def test_an_episode_whose_worker_keeps_dying_is_failed_with_the_reason(tmp_path, reference, run_cli):
    out = tmp_path / "ds"
    (out / "episodes").mkdir(parents=True)
    job = make_job(REQUEST)
    retries: list[tuple[int, int]] = []
    pool = EpisodePool(run_or_die, job, str(out), 2, init=_pool_init, tmp_dirs=tmp_dirs(out),
                       on_give_up=lambda i, reason: give_up_episode(str(out), i, reason),
                       on_retry=lambda i, reason, attempt: retries.append((i, attempt)))
    results = {r["index"]: r for r in pool.run(list(range(N)))}
    assert sorted(results) == list(range(N))
    (dead,) = DIE_ON
    assert retries == [(dead, a) for a in range(2, MAX_ATTEMPTS + 1)]
    reason = results[dead]["failure_reason"]
    assert not results[dead]["success"] and f"died {MAX_ATTEMPTS} times" in reason and "SIGKILL" in reason
    assert json.loads(failed_marker(out, dead).read_text())["failure_reason"] == reason
    assert sorted(list_episode_files(out)) == [i for i in range(N) if i != dead]
    for i in list_episode_files(out):
        assert_same(dump(episode_path(out, i)), dump(episode_path(reference, i)))
    # the marker is what --resume counts: the dataset is finished, nothing re-runs
    (out / "generate.json").write_text(REQUEST.to_json())
    build_index(out, dataset_info(REQUEST), train_ratio=REQUEST.train_ratio)
    res = run_cli("generate", *ARGS, "--out", out, "--resume")
    assert res.rc == 0, res.stderr
    assert "0 written now" in res.stdout and "1 failed" in res.stdout
    assert run_cli("verify", out).rc == 0


def test_sigterm_stops_the_local_pool_and_resume_finishes_the_same_dataset(tmp_path, reference, run_cli):
    out = tmp_path / "ds"
    env = {k: v for k, v in os.environ.items() if k not in ("ROBOSYNTH_DEBUG", "RAY_ADDRESS")}
    proc = subprocess.Popen([sys.executable, "-m", "robosynth", "generate", *ARGS, "--out", str(out),
                             "--workers", "2"], cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list_episode_files(out):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no episode was written"
        time.sleep(0.01)
    workers = episode_workers(proc.pid, "local")
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr.decode()
    assert "--resume" in stderr.decode().splitlines()[-1]
    assert workers and not any(alive(p) for p in workers), "pool workers outlived the stopped driver"
    assert not (out / "dataset.hdf5").exists() and len(list_episode_files(out)) < N
    res = run_cli("generate", *ARGS, "--out", out, "--resume", "--workers", "2")
    assert res.rc == 0, res.stderr
    assert "already done" in res.stdout and tmp_files(out) == []
    for i in range(N):
        assert_same(dump(episode_path(out, i)), dump(episode_path(reference, i)))
    assert_same(dump(out / "dataset.hdf5"), dump(reference / "dataset.hdf5"))
    assert run_cli("verify", out).rc == 0


def test_a_worker_dying_after_writing_its_episode_does_not_write_it_again(tmp_path, reference):
    out = tmp_path / "ds"
    (out / "episodes").mkdir(parents=True)
    retries: list[int] = []
    pool = EpisodePool(write_then_die, make_job(REQUEST), str(out), 2, init=_pool_init, tmp_dirs=tmp_dirs(out),
                       on_give_up=lambda i, reason: give_up_episode(str(out), i, reason),
                       on_retry=lambda i, reason, attempt: retries.append(i),
                       recover=lambda i: finished_result(str(out), i))
    (dead,) = DIE_ON
    results = {r["index"]: r for r in pool.run(list(range(N)))}
    assert (out / f".died-after-{dead}").exists(), "the worker did not die"
    assert retries == [] and sorted(results) == list(range(N)) and results[dead]["written"]
    assert results[dead]["steps"] > 0
    for i in range(N):
        assert_same(dump(episode_path(out, i)), dump(episode_path(reference, i)))
