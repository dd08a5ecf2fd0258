"""The writer thread of a recording process: it finishes and writes one episode while the next one records.

Used by the in-process executor and by each pool worker that records its episodes in two stages
(:class:`robosynth.generate.pool.Stages`); see docs/performance.md, "Writer thread".
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

WRITER_NICE = 10
"""How much lower the writer thread's priority is than the process's (Linux): the recording and render threads get
the cores first and the writer the time they leave, which is what it needs (docs/performance.md, "Writer thread")."""


def lower_thread_priority(by: int = WRITER_NICE) -> None:
    """Raise the calling thread's nice value by ``by`` (Linux, where a thread has its own; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return  # on other systems PRIO_PROCESS takes a process id, not a thread's
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + by)
    except OSError:  # not permitted: the writer runs at the process's priority
        pass


def writer_thread() -> ThreadPoolExecutor:
    """Return a one-thread executor whose thread runs at the writer's lower priority (use it as a context manager:
    leaving it waits for the write in flight)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="robosynth-writer",
                              initializer=lower_thread_priority)
