"""Pipelined MuJoCo rendering (a GL thread draws while the caller steps) records the same frames as drawing on the
caller's thread: per render, across a randomized episode with two cameras, sensor noise and point clouds, and with
each episode finished (frames collected, record built) on another thread while the next one records."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from randomization.load import preset, validate_randomization
from renderers.sensors import SceneRenderer
from robosynth.generate.recording import EpisodeRunner, RecordingOptions
from scenes.loader import load_scene
from scenes.runtime import Simulation

SPEC = load_scene("pick_place")
SMALL = SPEC.model_copy(update={"cameras": tuple(c.model_copy(update={"width": 48, "height": 40})
                                                  for c in SPEC.cameras)})
MOVE = np.array([0.6, -0.4, -0.5, 0.3, 1.0], dtype=np.float32)


def _frames_equal(a, b) -> None:
    assert a.keys() == b.keys()
    for name in a:
        for key in ("rgb", "depth", "segmentation", "T_world_cam"):
            x, y = getattr(a[name], key), getattr(b[name], key)
            assert (x is None) == (y is None), (name, key)
            if x is not None:
                np.testing.assert_array_equal(x, y, err_msg=f"{name} {key}")


@pytest.mark.parametrize("spec", [SPEC, SMALL.model_copy(update={"cameras": (
    SMALL.cameras[0], SMALL.cameras[1].model_copy(update={"width": 64, "height": 48}))})],
    ids=["same_resolution", "two_resolutions"])
def test_render_async_sees_the_world_as_it_was_when_called(spec):
    sim = Simulation(spec, "mujoco", None)
    sim.reset(np.random.default_rng(0))
    sync = SceneRenderer(sim.backend, spec, "fast")
    piped = SceneRenderer(sim.backend, spec, "fast", pipelined=True)
    assert piped._gl is not None
    gl_thread = piped._gl._thread
    try:
        for _ in range(4):
            expected = sync.render()
            pending = piped.render_async()
            for _ in range(3):  # the world moves on while the frames are drawn
                sim.step(MOVE)
            _frames_equal(pending.result(), expected)
    finally:
        piped.close()
        sync.close()
        sim.close()
    assert not gl_thread.is_alive()  # close() ended its render thread


def test_frames_queued_deeper_than_the_scene_pool_come_back_in_order():
    from renderers.mujoco_render import MAX_IN_FLIGHT

    sim = Simulation(SMALL, "mujoco", None)
    sim.reset(np.random.default_rng(1))
    sync = SceneRenderer(sim.backend, SMALL, "fast")
    piped = SceneRenderer(sim.backend, SMALL, "fast", pipelined=True)
    try:
        expected, pending = [], []
        for _ in range(2 * MAX_IN_FLIGHT + 1):  # never collected in between: begin waits for the oldest draws
            expected.append(sync.render())
            pending.append(piped.render_async())
            sim.step(MOVE)
        # the wrist camera moves with the arm: every frame differs from the first, so order matters
        assert not np.array_equal(expected[0]["wrist"].rgb, expected[-1]["wrist"].rgb)
        got = [p.result() for p in pending]
        assert [g["wrist"].T_world_cam.tolist() for g in got] == [e["wrist"].T_world_cam.tolist() for e in expected]
        for g, e in zip(got, expected, strict=True):
            _frames_equal(g, e)
    finally:
        piped.close()
        sync.close()
        sim.close()


def test_pipelined_episodes_record_the_same_arrays_as_sequential_ones():
    cfg = preset("full", SMALL)
    options = RecordingOptions(backend="mujoco", cameras=("agentview", "wrist"), randomization=cfg, max_steps=12,
                               quality="fast", pointcloud=64)
    records = []
    for pipelined in (False, True):
        runner = EpisodeRunner(SMALL, options, pipelined=pipelined)
        records.append([runner.run(7, i).record for i in (0, 1)])  # textures change between the two episodes
        runner.close()
    for seq, piped in zip(*records, strict=True):
        assert seq is not None and piped is not None
        assert seq.obs.keys() == piped.obs.keys() and seq.final_images.keys() == piped.final_images.keys()
        for key in seq.obs:
            np.testing.assert_array_equal(seq.obs[key], piped.obs[key], err_msg=key)
        for key in seq.final_images:
            np.testing.assert_array_equal(seq.final_images[key], piped.final_images[key], err_msg=key)
        np.testing.assert_array_equal(seq.states, piped.states)
        for cam in seq.cameras:
            np.testing.assert_array_equal(seq.cameras[cam].T_world_cam, piped.cameras[cam].T_world_cam)


def _records_equal(a, b) -> None:
    assert a is not None and b is not None
    for name in ("obs", "final_images", "next_obs_lowdim"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.keys() == y.keys(), name
        for key in x:
            np.testing.assert_array_equal(x[key], y[key], err_msg=f"{name}/{key}")
    for name in ("actions", "rewards", "dones", "states"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for cam in a.cameras:
        np.testing.assert_array_equal(a.cameras[cam].T_world_cam, b.cameras[cam].T_world_cam)
        np.testing.assert_array_equal(a.cameras[cam].K, b.cameras[cam].K)
    assert (a.ep_meta, a.segmentation_ids, a.model_file, a.success) == (b.ep_meta, b.segmentation_ids, b.model_file,
                                                                         b.success)


DISTRACTORS = {"placement": {"distractors": {"count": {"dist": "choice", "values": [1, 2]}, "meshes": [3, 17],
                                             "region": [[0.35, -0.3], [0.7, 0.3]]}}}


@pytest.mark.parametrize("randomization", ["full", "distractors"])
def test_an_episode_finished_on_another_thread_while_the_next_records_is_the_same(randomization):
    """generate's in-process loop: episode i's last frames are collected and its record built on the writer thread
    while episode i+1 resets (new textures, cameras; with distractors a rebuilt world) and records."""
    cfg = preset("full", SMALL) if randomization == "full" else validate_randomization(DISTRACTORS, SMALL)
    options = RecordingOptions(backend="mujoco", cameras=("agentview", "wrist"), randomization=cfg, max_steps=12,
                               quality="fast", pointcloud=64)
    runner = EpisodeRunner(SMALL, options, pipelined=True)
    if randomization == "distractors":  # the world is rebuilt between these episodes
        assert len({runner.sample_params(7, i).structural_key() for i in range(3)}) > 1
    expected = [runner.run(7, i).record for i in range(3)]
    finished = []
    unfinished = runner.run_unfinished(7, 0)
    for i in (1, 2):
        finisher = threading.Thread(target=lambda u=unfinished: finished.append(u.finish()))
        finisher.start()
        unfinished = runner.run_unfinished(7, i)
        finisher.join()
    finished.append(unfinished.finish())
    runner.close()
    assert [r.index for r in finished] == [0, 1, 2]
    for want, got in zip(expected, finished, strict=True):
        _records_equal(want, got.record)


def test_a_draw_error_is_raised_by_result_and_the_renderer_goes_on(monkeypatch):
    import renderers.mujoco_render as mujoco_render

    sim = Simulation(SMALL, "mujoco", None)
    sim.reset(np.random.default_rng(0))
    piped = SceneRenderer(sim.backend, SMALL, "fast", pipelined=True)
    try:
        good = piped.render(["agentview"])
        threads = []

        def failing_draw(*args):
            threads.append(threading.current_thread().name)
            return 1 / 0

        monkeypatch.setattr(mujoco_render, "draw", failing_draw)
        pending = piped.render_async(["agentview"])
        with pytest.raises(ZeroDivisionError):
            pending.result()
        assert threads == ["robosynth-gl"]  # drawn on the GL thread, not the caller's
        monkeypatch.undo()
        _frames_equal(piped.render(["agentview"]), good)
    finally:
        piped.close()
        sim.close()


def test_a_render_thread_only_where_each_episode_has_two_cores():
    from robosynth.generate.jobs import make_job
    from robosynth.generate.request import GenerateRequest

    job = make_job(GenerateRequest(scene="pick_place", episodes=2))
    assert job.render_thread  # one process recording alone: the draws overlap its stepping
    assert not job.with_render_thread(1.0).render_thread  # 2 workers on 2 cores, or Ray's default 1 CPU a task
    assert job.with_render_thread(2.0).render_thread


def test_a_scene_that_fills_up_is_regrown_and_nothing_is_left_out(monkeypatch):
    import renderers.mujoco_render as mujoco_render

    sim = Simulation(SMALL, "mujoco", None)
    sim.reset(np.random.default_rng(2))
    expected = SceneRenderer(sim.backend, SMALL, "fast")
    want = expected.render()
    expected.close()
    monkeypatch.setattr(mujoco_render, "scene_capacity", lambda model: 5)  # fewer than the geoms in view
    small = SceneRenderer(sim.backend, SMALL, "fast", pipelined=True)
    try:
        _frames_equal(small.render(), want)
        _frames_equal(small.render(), want)  # and the regrown size is kept
        assert all(r._capacity == mujoco_render.MAX_GEOM for r in small._pool.renderers)
    finally:
        small.close()
        sim.close()
