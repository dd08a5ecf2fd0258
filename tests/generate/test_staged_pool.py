"""Pool workers that record in two stages (one episode recorded while the previous one is finished and written on
the worker's writer thread), as ``--workers W`` does where each worker has 2 or more cores: the same dataset as
``--workers 1``, a worker's death costs only the episodes it held (never a write twice, never an innocent episode
given up), and an error in either stage reaches the caller."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from crashing_worker import (
    DIE_AFTER_WRITING,
    DIE_ON,
    DIE_WHILE_RECORDING,
    FAIL_TO_BEGIN,
    FAIL_TO_END,
    OVERLAP_PROBE,
)
from test_generate_kill import assert_same, dump
from test_worker_death import REQUEST, N

from robosynth.dataset import episode_path, list_episode_files, tmp_files
from robosynth.generate import executors, generate
from robosynth.generate.directory import tmp_dirs
from robosynth.generate.executors import _pool_init
from robosynth.generate.jobs import EPISODE_STAGES, finished_result, give_up_episode, make_job
from robosynth.generate.pool import MAX_ATTEMPTS, EpisodePool, Stages


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The request recorded with one worker, in-process."""
    out = tmp_path_factory.mktemp("ref") / "ds"
    assert generate(REQUEST, out).written == N
    return out


def staged_pool(stages: Stages, out: Path, workers: int, retries: list[tuple[int, int]], job: object = None,
                ) -> EpisodePool:
    """A pool of ``workers`` recording ``stages``, that records retries as (index, attempt)."""
    return EpisodePool(stages, make_job(REQUEST) if job is None else job, str(out), workers, init=_pool_init,
                       tmp_dirs=tmp_dirs(out), on_give_up=lambda i, reason: give_up_episode(str(out), i, reason),
                       on_retry=lambda i, reason, attempt: retries.append((i, attempt)),
                       recover=lambda i: finished_result(str(out), i))


def assert_same_episodes(out: Path, reference: Path, indices: list[int]) -> None:
    for i in indices:
        assert_same(dump(episode_path(out, i)), dump(episode_path(reference, i)))


def test_workers_with_two_cores_each_record_in_two_stages_and_write_the_one_worker_dataset(tmp_path, reference,
                                                                                          monkeypatch):
    pools: list[EpisodePool] = []

    class Spy(EpisodePool):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pools.append(self)

    monkeypatch.setattr(executors, "usable_cores", lambda: 4)  # 2 workers, 2 cores each
    monkeypatch.setattr(executors, "EpisodePool", Spy)
    out = tmp_path / "ds"
    summary = generate(REQUEST, out, workers=2)
    assert summary.written == N and [p.fn for p in pools] == [EPISODE_STAGES] and pools[0].depth == 2
    assert pools[0].job.render_thread
    assert tmp_files(out) == [] and sorted(list_episode_files(out)) == list(range(N))
    assert_same_episodes(out, reference, list(range(N)))
    assert_same(dump(out / "dataset.hdf5"), dump(reference / "dataset.hdf5"))


def test_staged_pybullet_workers_write_the_one_worker_dataset(tmp_path, monkeypatch):
    req = dataclasses.replace(REQUEST, backend="pybullet")
    reference = tmp_path / "ref"
    assert generate(req, reference).written == N
    monkeypatch.setattr(executors, "usable_cores", lambda: 4)
    out = tmp_path / "ds"
    assert generate(req, out, workers=2).written == N
    assert_same_episodes(out, reference, list(range(N)))
    assert_same(dump(out / "dataset.hdf5"), dump(reference / "dataset.hdf5"))


def test_workers_sharing_cores_record_each_episode_in_one_go(tmp_path, monkeypatch):
    pools: list[EpisodePool] = []

    class Spy(EpisodePool):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pools.append(self)

    monkeypatch.setattr(executors, "usable_cores", lambda: 2)  # 2 workers, 1 core each: a writer thread competes
    monkeypatch.setattr(executors, "EpisodePool", Spy)
    assert generate(REQUEST, tmp_path / "ds", workers=2).written == N
    assert pools[0].depth == 1 and not pools[0].job.render_thread


def test_a_staged_worker_records_the_next_episode_while_the_previous_one_is_finished(tmp_path):
    results = list(staged_pool(OVERLAP_PROBE, tmp_path, 1, [], job=(str(tmp_path), 4)).run(list(range(4))))
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["overlapped"] for r in results] == [True, True, True, False]  # the last has no next episode


def test_a_worker_dying_with_two_episodes_reruns_both_alone_and_gives_up_only_the_one_that_kills_it(tmp_path,
                                                                                                    reference):
    out = tmp_path / "ds"
    (out / "episodes").mkdir(parents=True)
    retries: list[tuple[int, int]] = []
    results = {r["index"]: r for r in staged_pool(DIE_WHILE_RECORDING, out, 2, retries).run(list(range(N)))}
    (dead,) = DIE_ON
    neighbour = dead + 1  # sent to the same worker with it: the first death cannot tell which one killed it
    assert sorted(results) == list(range(N))
    assert sorted(retries) == sorted([(dead, a) for a in range(2, MAX_ATTEMPTS + 1)] + [(neighbour, 2)])
    assert not results[dead]["success"] and f"died {MAX_ATTEMPTS} times" in results[dead]["failure_reason"]
    assert results[neighbour]["written"]
    assert tmp_files(out) == [] and sorted(list_episode_files(out)) == [i for i in range(N) if i != dead]
    assert_same_episodes(out, reference, [i for i in range(N) if i != dead])


def test_a_staged_worker_dying_after_a_write_does_not_write_it_again(tmp_path, reference):
    out = tmp_path / "ds"
    (out / "episodes").mkdir(parents=True)
    retries: list[tuple[int, int]] = []
    results = {r["index"]: r for r in staged_pool(DIE_AFTER_WRITING, out, 2, retries).run(list(range(N)))}
    (dead,) = DIE_ON
    assert (out / f".died-after-{dead}").exists(), "the worker did not die"
    assert retries == [(dead + 1, 2)]  # the episode it was recording meanwhile runs again; the written one does not
    assert sorted(results) == list(range(N)) and results[dead]["written"] and results[dead]["steps"] > 0
    assert tmp_files(out) == []
    assert_same_episodes(out, reference, list(range(N)))


@pytest.mark.parametrize(("stages", "error"), [(FAIL_TO_BEGIN, ValueError), (FAIL_TO_END, OSError)])
def test_an_error_in_either_stage_reaches_the_caller_and_stops_the_workers(tmp_path, stages, error):
    pool = staged_pool(stages, tmp_path, 2, [], job=(str(tmp_path), N))
    done: list[int] = []
    with pytest.raises(error, match=f"episode {next(iter(DIE_ON))} cannot"):
        for result in pool.run(list(range(N))):
            done.append(result["index"])
    assert next(iter(DIE_ON)) not in done and pool._workers == []
