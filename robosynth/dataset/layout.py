"""Where things are in a dataset directory: ``episodes/ep_<index:06d>.hdf5``, ``dataset.hdf5``, tmp files."""

from __future__ import annotations

import os
import re
from pathlib import Path

INDEX_FILENAME = "dataset.hdf5"
EPISODES_DIRNAME = "episodes"
EP_RE = re.compile(r"^ep_(\d+)\.hdf5$")
TMP_RE = re.compile(r"\.tmp-\d+$")



def episode_path(dataset_dir: str | os.PathLike[str], index: int) -> Path:
    """Return where episode ``index`` of a dataset directory is stored."""
    return Path(dataset_dir) / EPISODES_DIRNAME / f"ep_{index:06d}.hdf5"


def list_episode_files(dataset_dir: str | os.PathLike[str]) -> dict[int, Path]:
    """Return finished episode files (temporary files excluded) by episode index, sorted."""
    ep_dir = Path(dataset_dir) / EPISODES_DIRNAME
    if not ep_dir.is_dir():
        return {}
    found = {int(m.group(1)): e for e in ep_dir.iterdir() if (m := EP_RE.match(e.name)) and e.is_file()}
    return dict(sorted(found.items()))


def tmp_files(dataset_dir: str | os.PathLike[str]) -> list[Path]:
    """Return leftover ``*.tmp-<pid>`` files of interrupted writes in a dataset directory."""
    d = Path(dataset_dir)
    dirs = [d, d / EPISODES_DIRNAME]
    return sorted(e for sub in dirs if sub.is_dir() for e in sub.iterdir() if TMP_RE.search(e.name))
