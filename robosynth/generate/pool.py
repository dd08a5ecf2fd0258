"""A process pool for episodes that survives its workers dying (``kill -9``, the OOM killer, a segfault).

``multiprocessing.Pool`` loses a task whose worker dies and waits for it forever. Here each worker holds
exactly one episode at a time over its own pipe, and the parent watches every worker's process sentinel:
when a worker dies, the episode it held goes back to the front of the queue and runs again in a fresh
worker; an episode whose worker has died ``max_attempts`` times is given up as failed (with the reason)
and the run goes on. An episode is a pure function of (seed, index), so a re-run writes the same bytes.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import signal
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

MAX_ATTEMPTS = 3

WORKER_MODULES = {
    "mujoco": ("robosynth.generate.executors", "renderers.mujoco_render", "sim.mujoco_backend"),
    "pybullet": ("robosynth.generate.executors", "renderers.pybullet_render", "sim.pybullet_backend"),
}
"""What an episode worker imports before its first episode, per backend: the fork server imports it once."""


def worker_context(backend: str = "mujoco") -> Any:
    """Return the multiprocessing context of episode workers: a fork server that has imported
    ``WORKER_MODULES[backend]`` (a fresh interpreter that never builds an engine or GL context, so forking it is
    safe, and every worker starts with the imports done), or ``spawn`` where there is no fork server."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(WORKER_MODULES.get(backend, WORKER_MODULES["mujoco"])))
    return ctx


def start_worker_server(backend: str = "mujoco") -> None:
    """Start the fork server now, without waiting for it: its imports then run while the caller does its own
    (the CLI calls this before importing the recording stack when it will need workers). No-op without one."""
    ctx = worker_context(backend)
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()

EpisodeFn = Callable[[Any, str, int], dict]


def _worker_main(conn: Connection, parent_pid: int, init: Callable[[int], None], fn: EpisodeFn, job: Any,
                 out: str) -> None:
    """Worker loop: receive an index, run ``fn(job, out, index)``, send ("ok", result) or ("error", exc)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    init(parent_pid)
    while True:
        try:
            index = conn.recv()
        except (EOFError, OSError):
            return
        if index is None:
            return
        try:
            conn.send(("ok", fn(job, out, index)))
        except BaseException as exc:  # noqa: BLE001 - every error goes back to the parent, which re-raises it
            conn.send(("error", _picklable(exc)))


def _picklable(exc: BaseException) -> BaseException:
    """Return ``exc`` if it survives pickling, else a RuntimeError carrying its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any pickling failure means: send a plain copy
        return RuntimeError(f"{type(exc).__name__}: {exc}")


@dataclass
class _Worker:
    proc: Any  # multiprocessing.Process (spawn context)
    conn: Connection
    index: int | None = None


@dataclass
class _State:
    queue: deque[int]
    attempts: dict[int, int] = field(default_factory=dict)


def death_reason(exitcode: int | None) -> str:
    """Return 'killed by signal SIGKILL (9)' or 'exited with code N' for a dead worker's exit code."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "signal"
        return f"killed by signal {name} ({-exitcode})"
    return f"exited with code {exitcode}"


def remove_tmp_files_of(pid: int, dirs: list[Path]) -> None:
    """Delete the ``*.tmp-<pid>`` files a dead writer left in ``dirs`` (they are never renamed into place)."""
    for d in dirs:
        if d.is_dir():
            for p in d.glob(f"*.tmp-{pid}"):
                with contextlib.suppress(OSError):
                    p.unlink()


class EpisodePool:
    """Run ``fn(job, out, index)`` for many indices on ``workers`` processes, tolerating deaths.

    Workers come from :func:`worker_context` (forked from a fork server that has imported the worker modules,
    else spawned), never forked from this process, which may hold engines and GL contexts.

    ``on_give_up(index, reason)`` returns the result to yield for an episode whose worker died
    ``max_attempts`` times (the caller writes its failure marker there); ``on_retry(index, reason, attempt)``
    is told of every other death; ``tmp_dirs`` are cleaned of a dead worker's temporary files. ``recover(index)``
    returns the result of an episode its dead worker had already finished writing (or None): that episode is
    not run again, so every episode is written at most once.
    """

    def __init__(self, fn: EpisodeFn, job: Any, out: str, workers: int, *, init: Callable[[int], None],
                 on_give_up: Callable[[int, str], dict], tmp_dirs: list[Path],
                 on_retry: Callable[[int, str, int], None] | None = None, max_attempts: int = MAX_ATTEMPTS,
                 recover: Callable[[int], dict | None] | None = None, backend: str = "mujoco") -> None:
        self.fn, self.job, self.out, self.n_workers = fn, job, out, workers
        self.init, self.on_give_up, self.tmp_dirs, self.max_attempts = init, on_give_up, tmp_dirs, max_attempts
        self.on_retry, self.recover = on_retry, recover
        self._ctx = worker_context(backend)  # engines and GL contexts must not be forked: never fork this process
        self._workers: list[_Worker] = []

    def _start_worker(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_worker_main, daemon=True, name="robosynth-episode-worker",
                                 args=(child_conn, os.getpid(), self.init, self.fn, self.job, self.out))
        proc.start()
        child_conn.close()
        return _Worker(proc, parent_conn)

    def run(self, indices: list[int]) -> Iterator[dict]:
        """Yield one result per index, in completion order; stop every worker on exit (also on Ctrl-C)."""
        state = _State(deque(indices))
        try:
            self._workers = [self._start_worker() for _ in range(min(self.n_workers, len(indices)))]
            while state.queue or any(w.index is not None for w in self._workers):
                self._assign(state)
                yield from self._collect(state)
        finally:
            self._shutdown()

    def _assign(self, state: _State) -> None:
        for i, w in enumerate(self._workers):
            if w.index is None and state.queue:
                if not w.proc.is_alive():  # died while idle: nothing was lost, just replace it
                    w.proc.join()
                    remove_tmp_files_of(w.proc.pid, self.tmp_dirs)
                    w.conn.close()
                    w = self._workers[i] = self._start_worker()
                w.index = state.queue.popleft()
                try:
                    w.conn.send(w.index)
                except (BrokenPipeError, OSError):
                    pass  # it died; its sentinel reports it below

    def _collect(self, state: _State) -> Iterator[dict]:
        busy = [w for w in self._workers if w.index is not None]
        wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
        for w in busy:
            message = self._receive(w)
            if message is not None:
                kind, payload = message
                w.index = None
                if kind == "error":
                    raise payload
                yield payload
            elif not w.proc.is_alive():
                result = self._handle_death(w, state)
                if result is not None:
                    yield result

    @staticmethod
    def _receive(w: _Worker) -> tuple[str, Any] | None:
        try:
            if w.conn.poll():
                return w.conn.recv()
        except (EOFError, OSError):
            return None
        return None

    def _handle_death(self, w: _Worker, state: _State) -> dict | None:
        w.proc.join()
        index, reason = w.index, death_reason(w.proc.exitcode)
        remove_tmp_files_of(w.proc.pid, self.tmp_dirs)
        w.conn.close()
        self._workers[self._workers.index(w)] = self._start_worker()
        if index is None:
            return None
        finished = self.recover(index) if self.recover is not None else None
        if finished is not None:  # it died after its episode was complete on disk: nothing to run again
            return finished
        state.attempts[index] = state.attempts.get(index, 0) + 1
        attempt = state.attempts[index]
        if attempt < self.max_attempts:
            state.queue.appendleft(index)
            if self.on_retry is not None:
                self.on_retry(index, f"worker process {w.proc.pid} {reason}", attempt + 1)
            return None
        return self.on_give_up(index, f"worker process died {attempt} times running this episode (last: {reason})")

    def _shutdown(self) -> None:
        """Stop every worker at once: an idle one holds nothing, so it is ended (SIGTERM) rather than waited for
        (a graceful exit tears down its engine and GL context, ~0.5 s that every run would pay at its end); a busy
        one (Ctrl-C, an error) is killed and its temporary files are deleted."""
        for w in self._workers:
            if w.proc.is_alive():
                if w.index is None:
                    w.proc.terminate()
                else:
                    w.proc.kill()
        for w in self._workers:
            w.proc.join(timeout=5)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join()
            remove_tmp_files_of(w.proc.pid, self.tmp_dirs)
            w.conn.close()
        self._workers = []
