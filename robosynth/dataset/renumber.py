"""Copy one episode file under another demo number (``robosynth merge``): datasets copied chunk by chunk (no
re-compression), attrs kept, image ``next_obs`` virtual datasets re-pointed at the renamed demo."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from robosynth.dataset.reader import demo_names, open_dataset_file
from robosynth.dataset.records import DatasetError
from robosynth.dataset.writer import atomic_h5_file, new_group, relink_next_obs


def copy_episode_renumbered(src: str | os.PathLike[str], dst: str | os.PathLike[str], index: int,
                            attrs: dict[str, Any] | None = None) -> Path:
    """Write ``src`` (a one-demo episode file) crash-safely to ``dst`` as ``data/demo_<index>`` with
    ``episode_index = index`` and the extra demo ``attrs``; ``src`` is only read."""
    with open_dataset_file(src) as f:
        names = demo_names(f["data"])
        if len(names) != 1:
            raise DatasetError(f"{src}: an episode file holds exactly one demo, found {len(names)}")
        with atomic_h5_file(dst) as out:
            data = new_group(out, "data")
            for key, value in f["data"].attrs.items():
                data.attrs[key] = value
            name = f"demo_{index}"
            f.copy(f["data"][names[0]], data, name=name)
            g = data[name]
            relink_next_obs(g)
            g.attrs["episode_index"] = np.int64(index)
            for key, value in (attrs or {}).items():
                g.attrs[key] = value
    return Path(dst)
