"""In-process ``generate`` writes each episode on a writer thread while the next one records: the files are the
ones a synchronous write gives, and a write error is one clear line (exit 2) that loses no finished episode."""

from __future__ import annotations

import dataclasses
import errno
import os
import sys
import threading
from pathlib import Path

import h5py
import pytest

import robosynth.generate.jobs as jobs
from robosynth.cli.app import invoke
from robosynth.dataset import DatasetError, list_episode_files, tmp_files
from robosynth.generate import GenerateRequest, generate, writer_thread
from robosynth.generate.jobs import make_job, run_episode

N = 4
REQ = GenerateRequest(scene="pick_place", backend="mujoco", episodes=N, seed=11, cameras=("agentview",),
                      resolution=(32, 32), max_steps=8, keep_failed=True)
ARGS = ["generate", "pick_place", "--backend", "mujoco", "--episodes", str(N), "--seed", "11", "--cameras",
        "agentview", "--resolution", "32x32", "--max-steps", "8", "--keep-failed"]


def file_bytes(out: Path) -> dict[int, bytes]:
    """Return each episode file's bytes with its creation time blanked (it is the only wall-clock field)."""
    found = {}
    for i, path in list_episode_files(out).items():
        with h5py.File(path) as f:
            created = f["data"].attrs["created"].encode()
        found[i] = path.read_bytes().replace(created, b"#" * len(created))
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[int, bytes]:
    """The episodes written synchronously, one ``run_episode`` call each (no writer thread)."""
    out = tmp_path_factory.mktemp("sync")
    job = make_job(REQ)
    for i in range(N):
        assert run_episode(job, str(out), i)["written"]
    return file_bytes(out)


def test_writer_thread_files_are_byte_identical_to_synchronous_writes(tmp_path, reference):
    out = tmp_path / "ds"
    seen: list[int] = []
    summary = generate(REQ, out, progress=lambda res: seen.append(res["index"]))
    assert summary.written == N and sorted(seen) == list(range(N))
    assert file_bytes(out) == reference
    assert tmp_files(out) == []


def failing_writer(bad: int, real=jobs.write_episode):
    """Return a write_episode that fails like a full disk for episode ``bad``."""

    def write(path, *args, **kwargs):
        if path.name == f"ep_{bad:06d}.hdf5":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, *args, **kwargs)

    return write


def test_a_write_error_is_a_dataset_error_after_the_finished_episodes(tmp_path, monkeypatch, reference):
    out = tmp_path / "ds"
    monkeypatch.setattr(jobs, "write_episode", failing_writer(2))
    with pytest.raises(DatasetError, match=r"cannot write episode 2 into .*No space left on device"):
        generate(REQ, out)
    assert sorted(list_episode_files(out)) == [0, 1] and tmp_files(out) == []
    monkeypatch.undo()
    summary = generate(REQ, out, resume=True)  # the same dataset, finished
    assert summary.skipped == 2 and summary.written == 2
    assert file_bytes(out) == reference


def test_cli_reports_a_write_error_as_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(jobs, "write_episode", failing_writer(1))
    rc = invoke([*ARGS, "--out", str(tmp_path / "ds")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("generate: episodes")]
    assert rc == 2
    assert len(err) == 1 and "cannot write episode 1 into" in err[0] and "No space left on device" in err[0]
    assert sorted(list_episode_files(tmp_path / "ds")) == [0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_writer_thread_runs_below_the_recording_threads_priority(tmp_path, monkeypatch):
    from robosynth.generate import executors

    seen: dict[str, int] = {}
    store = executors.end_episode

    def spy(*args, **kwargs):
        seen["writer"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen["thread"] = threading.get_ident()
        return store(*args, **kwargs)

    monkeypatch.setattr(executors, "end_episode", spy)
    main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    summary = generate(dataclasses.replace(REQ, episodes=1), tmp_path / "out")
    assert summary.written == 1
    assert seen["writer"] == min(19, main + writer_thread.WRITER_NICE)
    assert seen["thread"] != threading.get_ident()  # the episode was finished and written on the writer thread
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main  # the caller's thread is untouched
