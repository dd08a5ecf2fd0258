"""An episode function for worker-death tests: its process dies by SIGKILL on chosen indices (real deaths).

Imported by spawned pool workers, so it lives in a module of its own (not a test module).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from robosynth.generate.jobs import Job, run_episode

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
