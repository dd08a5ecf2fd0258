"""Crash-safe file writing, the one way every layer writes files: temporary name, fsync, rename, directory fsync.

A final name therefore always holds a complete file; a crash leaves at most a ``<name>.tmp-<pid>`` file,
which readers ignore and ``generate --resume`` deletes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def tmp_path_for(path: Path, keep_suffix: bool = False) -> Path:
    """Return the temporary name a file is written under before its atomic rename: ``<name>.tmp-<pid>``, or
    with ``keep_suffix`` the hidden ``.<stem>.tmp-<pid><suffix>`` (writers that pick a format by suffix)."""
    if keep_suffix:
        return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    return path.with_name(f"{path.name}.tmp-{os.getpid()}")


def fsync_path(path: Path) -> None:
    """fsync a file or a directory by path."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], keep_suffix: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is fsynced and renamed to ``path`` (then the directory
    is fsynced); on any exception it is deleted and ``path`` is untouched. The one way robosynth writes files."""
    final = Path(path)
    tmp = tmp_path_for(final, keep_suffix)
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, final)
        fsync_path(final.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` crash-safely and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` crash-safely and return the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def pid_alive(pid: int) -> bool:
    """Return True if process ``pid`` exists (also when it belongs to another user): whether the writer named by a
    ``tmp-<pid>`` file or directory, or a watched parent process, may still be running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
