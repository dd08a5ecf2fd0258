"""An episode function for worker-death tests: its process dies by SIGKILL on chosen indices (real deaths).

Imported by spawned pool workers, so it lives in a module of its own (not a test module).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from robosynth.generate.jobs import Job, begin_episode, end_episode, run_episode
from robosynth.generate.pool import Stages

DIE_ON = {2}


def run_or_die(job: Job, out: str, index: int) -> dict:
    """Die as the OOM killer kills (SIGKILL, no cleanup) on ``DIE_ON`` indices, else record the episode."""
    if index in DIE_ON:
        os.kill(os.getpid(), signal.SIGKILL)
    return run_episode(job, out, index)


def write_then_die(job: Job, out: str, index: int) -> dict:
    """Record and write the episode, then die before reporting it (on ``DIE_ON`` indices, once: a marker file)."""
    result = run_episode(job, out, index)
    once = Path(out) / f".died-after-{index}"
    if index in DIE_ON and not once.exists():
        once.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return result


def begin_or_die(job: Job, index: int) -> tuple:
    """:func:`begin_episode` that dies by SIGKILL on ``DIE_ON`` indices (a worker recording in two stages)."""
    if index in DIE_ON:
        os.kill(os.getpid(), signal.SIGKILL)
    return begin_episode(job, index)


def end_then_die(job: Job, out: str, begun: tuple) -> dict:
    """:func:`end_episode` (on the worker's writer thread), then die before reporting it, on ``DIE_ON`` indices,
    once (a marker file), while the worker may be recording its next episode."""
    result = end_episode(job, out, begun)
    once = Path(out) / f".died-after-{result['index']}"
    if result["index"] in DIE_ON and not once.exists():
        once.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return result


def fail_on_begin(job: object, index: int) -> int:
    """A light first stage (no episode recorded: the pool's protocol only) that raises on ``DIE_ON`` indices."""
    if index in DIE_ON:
        raise ValueError(f"episode {index} cannot start")
    return index


def fail_on_end(job: object, out: str, begun: int) -> dict:
    """A light second stage that raises on ``DIE_ON`` indices, else returns the index's summary."""
    if begun in DIE_ON:
        raise OSError(f"episode {begun} cannot be written")
    return {"index": begun}


def mark_begin(job: tuple[str, int], index: int) -> int:
    """A light first stage that leaves a ``began-<index>`` file in the directory ``job[0]``."""
    (Path(job[0]) / f"began-{index}").touch()
    return index


def end_once_next_began(job: tuple[str, int], out: str, begun: int) -> dict:
    """A light second stage that waits (up to 60 s) for the next index's first stage to start, if there is one
    (``job[1]`` indices in all), and says whether it did: it does only when the worker records the next episode
    while this one is being finished."""
    nxt = Path(job[0]) / f"began-{begun + 1}"
    deadline = time.monotonic() + (60 if begun + 1 < job[1] else 0)
    while not nxt.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    return {"index": begun, "overlapped": nxt.exists()}


DIE_WHILE_RECORDING = Stages(begin_or_die, end_episode)
DIE_AFTER_WRITING = Stages(begin_episode, end_then_die)
FAIL_TO_BEGIN = Stages(fail_on_begin, fail_on_end)  # raises in the first stage, before the second can
FAIL_TO_END = Stages(mark_begin, fail_on_end)
OVERLAP_PROBE = Stages(mark_begin, end_once_next_began)
