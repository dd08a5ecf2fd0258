"""What every export format shares: errors, the optional-extra check, the staged output directory, progress.

An export is written into a hidden sibling of ``--out`` (``.<name>.tmp-<pid>``) and renamed into place only
when it is complete, so a killed export leaves nothing under ``--out``; a later export removes leftover staging
directories of processes that no longer run.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from robosynth.dataset.files import fsync_path, probe_writable
from sim.errors import InputError
from sim.files import pid_alive

FORMATS = ("lerobot", "minari")
IMAGE_MODES = ("video", "png")
EXTRA_HINT = "pip install 'robosynth[export]'"
_STAGING_RE = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)$")

Progress = Callable[[int], None]
"""Called with the number of frames just exported (for a progress bar)."""


class ExportError(InputError):
    """An export cannot run: bad source, bad output directory, unknown format, missing optional extra."""


def require_modules(*names: str) -> None:
    """Raise ExportError naming the pip extra unless every module in ``names`` imports."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ExportError(f"export needs the Python package '{name}' ({exc}); install it with: "
                              f"{EXTRA_HINT}") from None


def check_format(fmt: str, images: str) -> None:
    """Raise ExportError for an unknown ``--format`` or ``--images`` value."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown --format '{fmt}' (choose from: {', '.join(FORMATS)})")
    if images not in IMAGE_MODES:
        raise ExportError(f"unknown --images '{images}' (choose from: {', '.join(IMAGE_MODES)})")


def check_out_dir(out: Path, source: Path) -> None:
    """Raise ExportError unless ``out`` is absent or an empty directory, outside the source, in a writable place."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        raise ExportError(f"--out {out}: exists and is not empty (choose a new directory)")
    src, dst = source.resolve(), out.resolve()
    if dst == src or src in dst.parents:
        raise ExportError(f"--out {out}: must not be inside the source dataset {source}")
    parent = dst.parent
    while not parent.exists():  # missing parents are created when the export starts
        parent = parent.parent
    if not parent.is_dir():
        raise ExportError(f"--out {out}: {parent} is not a directory")
    probe_writable(parent, f"--out {out}: cannot write in {parent}", ExportError)


def remove_stale_staging(out: Path) -> list[Path]:
    """Delete ``.<out name>.tmp-<pid>`` directories beside ``out`` left by killed exports; return them."""
    removed: list[Path] = []
    parent = out.resolve().parent
    if not parent.is_dir():
        return removed
    for entry in parent.iterdir():
        m = _STAGING_RE.match(entry.name)
        if m and m.group("name") == out.name and entry.is_dir() and not pid_alive(int(m.group("pid"))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def staging_path(out: Path) -> Path:
    """Return the hidden sibling directory an export into ``out`` is written to before its rename."""
    out = out.resolve()
    return out.parent / f".{out.name}.tmp-{os.getpid()}"


@contextlib.contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Yield an empty staging directory; on success rename it to ``out`` (fsynced), on any error delete it."""
    out.resolve().parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out)
    stage = staging_path(out)
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
        _fsync_tree(stage)
        final = out.resolve()
        if final.is_dir():
            final.rmdir()  # empty (checked before the export started); rename needs it gone or empty
        os.replace(stage, final)
        fsync_path(final.parent)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _fsync_tree(root: Path) -> None:
    """fsync every directory under ``root`` (files written by third-party writers included)."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fsync_path(Path(dirpath) / name)
        fsync_path(Path(dirpath))


def safe_name(text: str) -> str:
    """Return ``text`` reduced to letters, digits, ``-`` and ``_`` (for dataset ids), never empty."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-")
    return cleaned or "dataset"


def dir_size(path: Path) -> int:
    """Return the bytes of every file under ``path`` (or of ``path`` itself if it is a file)."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
