"""GLThread: one thread runs submitted calls in order, hands back results and errors, and closes cleanly."""

from __future__ import annotations

import threading

import pytest

from renderers.gl_thread import GLThread


def test_calls_run_in_order_on_one_daemon_thread():
    gl = GLThread()
    seen: list[tuple[int, int]] = []
    futures = [gl.submit(lambda i=i: seen.append((i, threading.get_ident())) or i * i) for i in range(20)]
    assert [f.result() for f in futures] == [i * i for i in range(20)]
    assert [i for i, _ in seen] == list(range(20))
    assert len({tid for _, tid in seen}) == 1 and seen[0][1] != threading.get_ident()
    assert gl._thread.daemon and gl._thread.name == "robosynth-gl"
    gl.close()


def test_errors_reach_the_caller_and_the_thread_goes_on():
    gl = GLThread()
    bad = gl.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        bad.result()
    assert gl.call(lambda: "still serving") == "still serving"
    gl.close()


def test_call_from_the_thread_itself_runs_inline():
    gl = GLThread()
    assert gl.call(lambda: gl.call(lambda: gl.on_thread())) is True
    assert gl.on_thread() is False
    gl.close()


def test_close_finishes_queued_calls_and_refuses_new_ones():
    gl = GLThread()
    done: list[int] = []
    for i in range(5):
        gl.submit(done.append, i)
    gl.close()
    gl.close()  # idempotent
    assert done == list(range(5))
    assert not gl._thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        gl.submit(print)
