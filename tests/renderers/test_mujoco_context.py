"""OffscreenContext draws what mujoco.Renderer draws; texture kinds are warmed up before MjrContext; a GL thread
keeps a closed renderer's platform context and gives it to the next world, which draws the same frames."""

from __future__ import annotations

import threading

import mujoco
import numpy as np
import pytest

from renderers.gl_thread import GLThread
from renderers.mujoco_context import (
    WARMED_TEXTURE_KINDS,
    OffscreenContext,
    ensure_gl_backend,
    model_texture_kinds,
    new_platform_context,
)
from renderers.mujoco_passes import decode, depth_planes, draw, forget_current_context
from renderers.mujoco_render import MujocoCameraRenderer
from renderers.sensors import start_gl_thread

XML = """
<mujoco>
  <visual><global offwidth="64" offheight="48"/></visual>
  <asset>
    <texture name="grid" type="2d" builtin="checker" width="32" height="32" rgb1="1 0 0" rgb2="0 0 1"/>
    <texture name="sky" type="skybox" builtin="gradient" width="16" height="16" rgb1="0 1 0" rgb2="1 1 1"/>
    <material name="grid" texture="grid" texrepeat="4 4"/>
  </asset>
  <worldbody>
    <light pos="0 0 3"/>
    <geom type="plane" size="2 2 0.1" material="grid"/>
    <geom type="box" pos="0 0 0.2" size="0.1 0.2 0.2" rgba="0 1 0 1"/>
    <camera name="cam" pos="0 -1.5 1" xyaxes="1 0 0 0 0.6 0.8"/>
  </worldbody>
</mujoco>
"""
OTHER = XML.replace('rgba="0 1 0 1"', 'rgba="1 1 0 1"').replace('size="0.1 0.2 0.2"', 'size="0.3 0.1 0.1"')


def _world(xml: str = XML) -> tuple[mujoco.MjModel, mujoco.MjData]:
    model = mujoco.MjModel.from_xml_string(xml)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data


def _scene(model: mujoco.MjModel, data: mujoco.MjData) -> mujoco.MjvScene:
    scene = mujoco.MjvScene(model, maxgeom=100)
    cam = mujoco.MjvCamera()
    cam.type, cam.fixedcamid = mujoco.mjtCamera.mjCAMERA_FIXED, 0
    mujoco.mjv_updateScene(model, data, mujoco.MjvOption(), None, cam, mujoco.mjtCatBit.mjCAT_ALL.value, scene)
    return scene


def test_texture_kinds_of_a_model():
    model, _ = _world()
    assert model_texture_kinds(model) == {(False, 3), (True, 3)}


def test_offscreen_context_draws_what_mujoco_renderer_draws():
    ensure_gl_backend()
    model, data = _world()
    reference = mujoco.Renderer(model, height=48, width=64)
    reference.update_scene(data, camera="cam")
    rgb = reference.render()
    reference.enable_depth_rendering()
    depth = reference.render()
    reference.close()
    forget_current_context()
    context = OffscreenContext(model, 64, 48)
    try:
        assert getattr(context._gl_context, WARMED_TEXTURE_KINDS) == {(False, 3), (True, 3)}
        from_colour_pass = model.vis.quality.offsamples == 0  # MSAA (the default 4): depth from the id pass
        out = decode(draw(context, _scene(model, data), ("rgb", "depth"), depth_planes(model), from_colour_pass))
    finally:
        context.close()
        forget_current_context()
    np.testing.assert_array_equal(out["rgb"], rgb)
    np.testing.assert_array_equal(out["depth"], depth)
    assert context._mjr_context is None and context._gl_context is None
    context.close()  # idempotent


def test_a_frame_larger_than_the_offscreen_buffer_is_refused():
    model, _ = _world()
    with pytest.raises(ValueError, match="exceeds the model's offscreen buffer 64x48"):
        OffscreenContext(model, 65, 48)


def test_a_prepared_context_is_taken_by_the_first_renderer_then_reused_by_the_next_world():
    first, first_data = _world()
    second, second_data = _world(OTHER)
    gl = start_gl_thread(64, 48)
    try:
        prepared = gl.call(lambda: list(gl.spare_contexts))
        assert len(prepared) == 1 and getattr(prepared[0], WARMED_TEXTURE_KINDS) == {(False, 3)}
        r1 = MujocoCameraRenderer(first, 64, 48, "fast", gl=gl)
        frame1 = r1.render(first_data, "cam")
        assert gl.call(lambda: list(gl.spare_contexts)) == []  # taken by r1
        assert r1._context is not None and r1._context.result()._gl_context is prepared[0]
        r1.close()
        assert gl.call(lambda: list(gl.spare_contexts)) == prepared  # given back, MjrContext freed
        r2 = MujocoCameraRenderer(second, 64, 48, "fast", gl=gl)
        frame2 = r2.render(second_data, "cam")
        assert r2._context is not None and r2._context.result()._gl_context is prepared[0]
        r2.close()
    finally:
        gl.close()
    assert gl.spare_contexts == []  # freed on the thread by close
    for model, data, frame in ((first, first_data, frame1), (second, second_data, frame2)):
        fresh = MujocoCameraRenderer(model, 64, 48, "fast")
        try:
            expected = fresh.render(data, "cam")
        finally:
            fresh.close()
        for key in ("rgb", "depth", "seg_geom"):
            np.testing.assert_array_equal(frame[key], expected[key], err_msg=key)
    assert not np.array_equal(frame1["rgb"], frame2["rgb"])


def test_warm_up_runs_once_per_kind_and_context():
    gl = GLThread()
    try:
        platform = gl.call(lambda: new_platform_context(16, 16, {(False, 3)}))
        assert getattr(platform, WARMED_TEXTURE_KINDS) == {(False, 3)}
        model, _ = _world()
        context = gl.call(lambda: OffscreenContext(model, 64, 48, platform))
        assert getattr(platform, WARMED_TEXTURE_KINDS) == {(False, 3), (True, 3)}
        gl.call(context.close)
    finally:
        gl.call(forget_current_context)
        gl.close()


def test_prestart_hands_its_thread_to_the_next_start_once():
    from renderers import sensors

    sensors.close_prestarted_gl_thread()  # none is left by generate() runs; this makes sure
    sensors.prestart_gl_thread()
    sensors.prestart_gl_thread()  # at most one waits
    assert len(sensors._PRESTARTED) == 1
    ahead = sensors._PRESTARTED[0]
    taken = start_gl_thread()
    other = start_gl_thread()
    try:
        assert taken is ahead and other is not ahead and not sensors._PRESTARTED
        assert len(taken.call(lambda: list(taken.spare_contexts))) == 1
    finally:
        taken.close()
        other.close()


def test_generate_closes_a_prestarted_thread_no_episode_took(tmp_path):
    """A resumed run with every episode done records nothing: the GL thread it started ahead does not linger."""
    from renderers import sensors
    from robosynth.generate import GenerateRequest, generate

    req = GenerateRequest(scene="pick_place", backend="mujoco", episodes=1, seed=0, cameras=("agentview",),
                          resolution=(32, 32), max_steps=3, keep_failed=True)
    generate(req, tmp_path / "ds")
    before = {t.ident for t in threading.enumerate() if t.name == "robosynth-gl"}
    generate(req, tmp_path / "ds", resume=True)  # nothing left to record
    assert not sensors._PRESTARTED
    assert {t.ident for t in threading.enumerate() if t.name == "robosynth-gl"} <= before


def test_warm_up_is_left_to_mujoco_on_other_gl_platforms(monkeypatch):
    class Platform:
        pass

    platform = Platform()
    monkeypatch.setenv("MUJOCO_GL", "glfw")
    from renderers.mujoco_context import warm_up_textures

    warm_up_textures(platform, {(False, 3)})  # makes no GL call: nothing is current on this thread
    assert not hasattr(platform, WARMED_TEXTURE_KINDS)
