"""One thread that owns a set of GL contexts, so that frames can be drawn while the caller steps physics.

An EGL context is current in at most one thread. A renderer that hands its draws to a ``GLThread`` therefore
runs *every* GL call there (context creation, texture uploads, draws, read-backs, freeing); the caller keeps
the CPU-side work (``mjv_updateScene``, which reads ``MjData``) on its own thread. MuJoCo's ``mjr_render`` and
``mjr_readPixels`` release the GIL, so a draw on this thread overlaps the caller's next expert action and
``mj_step`` (docs/performance.md, "Pipelined rendering").

The thread is a daemon: a renderer a user never closes does not keep the interpreter alive. It also keeps the
platform GL contexts no renderer uses now (``spare_contexts``), so that a world rebuilt for the next episode draws
in a context whose shaders are already compiled (``renderers.mujoco_context``); ``close`` frees them there.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class GLThread:
    """A single worker thread running submitted callables in order (FIFO), each with its result in a Future."""

    def __init__(self, name: str = "robosynth-gl") -> None:
        self._jobs: queue.SimpleQueue[tuple[Future, Callable[..., Any], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._closed = False
        self.spare_contexts: list[Any] = []  # platform GL contexts (with .free()); used on this thread only
        self._thread.start()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fut, fn, args = job
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                fut.set_exception(exc)

    def on_thread(self) -> bool:
        """Return True when called from this GL thread itself."""
        return threading.current_thread() is self._thread

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``fn(*args)`` on the GL thread; return its Future (RuntimeError once closed)."""
        if self._closed:
            raise RuntimeError("GLThread is closed")
        fut: Future[T] = Future()
        self._jobs.put((fut, fn, args))
        return fut

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the GL thread and return its result (inline when already on it)."""
        if self.on_thread():
            return fn(*args)
        return self.submit(fn, *args).result()

    def close(self) -> None:
        """Finish the queued calls, then end the thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put((Future(), self._free_spare_contexts, ()))
        self._jobs.put(None)
        if not self.on_thread():
            self._thread.join()

    def _free_spare_contexts(self) -> None:
        while self.spare_contexts:
            self.spare_contexts.pop().free()
