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
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from robosynth.generate.writer_thread import writer_thread

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


@dataclass(frozen=True)
class Stages:
    """An episode in two halves that a worker overlaps: ``begin(job, index)`` records it on the worker's main
    thread, then ``end(job, out, begun)`` finishes and writes it on the worker's writer thread while the next
    episode's ``begin`` runs. A worker of such a pool holds up to two episodes (one recording, one being written);
    ``end(job, out, begin(job, index))`` must equal the plain episode function's result."""

    begin: Callable[[Any, int], Any]
    end: Callable[[Any, str, Any], dict]


def _worker_main(conn: Connection, parent_pid: int, init: Callable[[int], None], fn: EpisodeFn | Stages,
                 job: Any, out: str) -> None:
    """Worker loop: receive indices, run each episode, send ("ok", index, result) or ("error", index, exc)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    init(parent_pid)
    if isinstance(fn, Stages):
        _staged_worker_loop(conn, fn, job, out)
        return
    while (index := _next_index(conn)) is not None:
        try:
            conn.send(("ok", index, fn(job, out, index)))
        except BaseException as exc:  # noqa: BLE001 - every error goes back to the parent, which re-raises it
            conn.send(("error", index, _picklable(exc)))


def _staged_worker_loop(conn: Connection, stages: Stages, job: Any, out: str) -> None:
    """Record each received episode (``begin``) while the previous one is finished and written (``end``) on the
    writer thread, which sends its result; at most one episode is being written (two in memory)."""
    lock = threading.Lock()

    def send(message: tuple) -> None:
        with lock:
            conn.send(message)

    def end_and_send(index: int, begun: Any) -> None:
        try:
            result = stages.end(job, out, begun)
        except BaseException as exc:  # noqa: BLE001 - every error goes back to the parent, which re-raises it
            send(("error", index, _picklable(exc)))
            return
        send(("ok", index, result))

    with writer_thread() as writer:
        pending: Future[None] | None = None
        while (index := _next_index(conn)) is not None:
            try:
                begun = stages.begin(job, index)
            except BaseException as exc:  # noqa: BLE001 - as above, after the episode being written is sent
                if pending is not None:
                    pending.result()
                send(("error", index, _picklable(exc)))
                continue
            if pending is not None:
                pending.result()
            pending = writer.submit(end_and_send, index, begun)


def _next_index(conn: Connection) -> int | None:
    """Return the next episode index from the parent, or None when told to stop or the parent is gone."""
    try:
        index: int | None = conn.recv()
    except (EOFError, OSError):
        return None
    return index


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
    held: list[int] = field(default_factory=list)  # the episodes it was sent and has not reported, oldest first


@dataclass
class _State:
    queue: deque[int]
    attempts: dict[int, int] = field(default_factory=dict)
    alone: set[int] = field(default_factory=set)  # held by a worker that died holding others: now run one at a time


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
    else spawned), never forked from this process, which may hold engines and GL contexts. With ``fn`` a
    :class:`Stages`, each worker records one episode while it writes the previous one, so it holds up to two.

    ``on_give_up(index, reason)`` returns the result to yield for an episode whose worker died
    ``max_attempts`` times (the caller writes its failure marker there); ``on_retry(index, reason, attempt)``
    is told of every other death; ``tmp_dirs`` are cleaned of a dead worker's temporary files. ``recover(index)``
    returns the result of an episode its dead worker had already finished writing (or None): that episode is
    not run again, so every episode is written at most once. A worker that dies holding two episodes counts the
    death against both, and from then on each of them runs on a worker holding nothing else: an episode that
    never kills its worker is counted at most one death, so it is never given up.
    """

    def __init__(self, fn: EpisodeFn | Stages, job: Any, out: str, workers: int, *, init: Callable[[int], None],
                 on_give_up: Callable[[int, str], dict], tmp_dirs: list[Path],
                 on_retry: Callable[[int, str, int], None] | None = None, max_attempts: int = MAX_ATTEMPTS,
                 recover: Callable[[int], dict | None] | None = None, backend: str = "mujoco") -> None:
        self.fn, self.job, self.out, self.n_workers = fn, job, out, workers
        self.init, self.on_give_up, self.tmp_dirs, self.max_attempts = init, on_give_up, tmp_dirs, max_attempts
        self.on_retry, self.recover = on_retry, recover
        self.depth = 2 if isinstance(fn, Stages) else 1  # episodes a worker holds at once
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
            while state.queue or any(w.held for w in self._workers):
                self._assign(state)
                yield from self._collect(state)
        finally:
            self._shutdown()

    def _assign(self, state: _State) -> None:
        for i, w in enumerate(self._workers):
            if not w.held and state.queue and not w.proc.is_alive():  # died while idle: nothing lost, replace it
                w.proc.join()
                remove_tmp_files_of(w.proc.pid, self.tmp_dirs)
                w.conn.close()
                w = self._workers[i] = self._start_worker()
            while state.queue and len(w.held) < self.depth and self._may_take(w, state.queue[0], state):
                w.held.append(state.queue.popleft())
                try:
                    w.conn.send(w.held[-1])
                except (BrokenPipeError, OSError):
                    break  # it died; its sentinel reports it below

    @staticmethod
    def _may_take(w: _Worker, index: int, state: _State) -> bool:
        """An episode that must run alone goes only to an idle worker, which then takes nothing else."""
        return not w.held or (index not in state.alone and not state.alone.intersection(w.held))

    def _collect(self, state: _State) -> Iterator[dict]:
        busy = [w for w in self._workers if w.held]
        wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
        for w in busy:
            while (message := self._receive(w)) is not None:
                kind, index, payload = message
                w.held.remove(index)
                if kind == "error":
                    raise payload
                yield payload
            if w.held and not w.proc.is_alive():
                yield from self._handle_death(w, state)

    @staticmethod
    def _receive(w: _Worker) -> tuple[str, int, Any] | None:
        try:
            if w.conn.poll():
                message: tuple[str, int, Any] = w.conn.recv()
                return message
        except (EOFError, OSError):
            return None
        return None

    def _handle_death(self, w: _Worker, state: _State) -> Iterator[dict]:
        w.proc.join()
        held, reason = list(w.held), death_reason(w.proc.exitcode)
        remove_tmp_files_of(w.proc.pid, self.tmp_dirs)
        w.conn.close()
        self._workers[self._workers.index(w)] = self._start_worker()
        if len(held) > 1:
            state.alone.update(held)
        rerun: list[int] = []
        for index in held:
            finished = self.recover(index) if self.recover is not None else None
            if finished is not None:  # it died after this episode was complete on disk: nothing to run again
                yield finished
                continue
            state.attempts[index] = state.attempts.get(index, 0) + 1
            attempt = state.attempts[index]
            if attempt >= self.max_attempts:
                yield self.on_give_up(index, f"worker process died {attempt} times running this episode "
                                             f"(last: {reason})")
                continue
            rerun.append(index)
            if self.on_retry is not None:
                self.on_retry(index, f"worker process {w.proc.pid} {reason}", attempt + 1)
        state.queue.extendleft(reversed(rerun))

    def _shutdown(self) -> None:
        """Stop every worker at once: an idle one holds nothing, so it is ended (SIGTERM) rather than waited for
        (a graceful exit tears down its engine and GL context, ~0.5 s that every run would pay at its end); a busy
        one (Ctrl-C, an error) is killed and its temporary files are deleted."""
        for w in self._workers:
            if w.proc.is_alive():
                if not w.held:
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
