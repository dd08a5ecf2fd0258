"""Ending the ``robosynth`` process without tearing the interpreter down.

A normal exit clears ~1,000 modules and garbage-collects what a run built (engine worlds, GL contexts, h5py's
and mujoco's objects): 0.1-0.4 s per command on a 2-core machine, which frees nothing the operating system
would not. :func:`exit_process` runs what must run (the ``atexit`` handlers, which include ``weakref.finalize``
callbacks, multiprocessing's and Ray's clean-up and coverage's data file), flushes the standard streams and
ends the process with ``os._exit``. It falls back to the ordinary ``sys.exit`` whenever that could lose
something: another non-daemon thread still running, or an HDF5 file still open (HDF5 flushes open files at
exit). Daemon threads (a renderer's idle GL thread, a parent watcher) do not hold the exit back: the ordinary
exit would not wait for them either.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def _hdf5_files_open() -> bool:
    """Return True if h5py is loaded and any HDF5 file is still open in this process."""
    h5py = sys.modules.get("h5py")
    if h5py is None:
        return False
    try:
        return int(h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE)) > 0
    except Exception:  # noqa: BLE001 - when in doubt, exit the ordinary way
        return True


def can_exit_fast() -> bool:
    """Return True if ending the process now with ``os._exit`` (after the atexit handlers) loses nothing."""
    me = threading.current_thread()
    others = [t for t in threading.enumerate() if t is not me and not t.daemon and t.is_alive()]
    return not others and not _hdf5_files_open()


def exit_process(code: int) -> NoReturn:
    """End the process with ``code``: atexit handlers, flushed streams, then ``os._exit`` (or ``sys.exit``
    when :func:`can_exit_fast` says no)."""
    if not can_exit_fast():
        sys.exit(code)
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
