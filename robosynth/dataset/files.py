"""Output-path checks and the crash-safe writers (from :mod:`sim.files`, the one atomic-write helper)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sim.errors import InputError
from sim.files import atomic_path, fsync_path, tmp_path_for, write_bytes_atomic, write_text_atomic

__all__ = ["atomic_path", "fsync_path", "probe_writable", "tmp_path_for", "write_bytes_atomic", "write_text_atomic"]


def probe_writable(directory: Path, message: str, error: type[InputError] = InputError) -> None:
    """Raise ``error(message + reason)`` unless a file can really be created in ``directory``.

    A real probe, because os.access says yes to root even on read-only file systems.
    """
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".robosynth-probe-"):
            pass
    except OSError as exc:
        raise error(f"{message} ({exc.strerror})") from None
