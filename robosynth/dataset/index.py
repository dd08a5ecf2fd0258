"""Dataset directories: which kind a path is, which episodes are complete (resume), the train/valid split and
``dataset.hdf5``, whose ``data/demo_<index>`` are HDF5 external links to the episode files, so robomimic-style
readers open one file."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from robosynth.dataset.layout import EP_RE, EPISODES_DIRNAME, INDEX_FILENAME, TMP_RE, list_episode_files, tmp_files
from robosynth.dataset.reader import demo_names, demo_number, open_dataset_file
from robosynth.dataset.records import (
    DatasetError,
    DatasetInfo,
    demo_signature,
)
from robosynth.dataset.writer import atomic_h5_file, new_group, write_data_attrs
from sim.errors import InputError


def dataset_dir_kind(path: str | os.PathLike[str]) -> str:
    """Return "absent", "empty", "robosynth" (index or episodes/ present) or "foreign" for an output path."""
    p = Path(path)
    if not p.exists():
        return "absent"
    if not p.is_dir():
        return "foreign"
    if not [e for e in p.iterdir() if not e.name.startswith(".")]:
        return "empty"
    index = p / INDEX_FILENAME
    if index.exists():
        try:
            with open_dataset_file(index, check_schema=False):
                return "robosynth"
        except DatasetError:
            return "foreign"
    ep_dir = p / EPISODES_DIRNAME
    if ep_dir.is_dir() and all(EP_RE.match(e.name) or TMP_RE.search(e.name) for e in ep_dir.iterdir()):
        return "robosynth"
    return "foreign"


def is_robosynth_dataset(path: str | os.PathLike[str]) -> bool:
    """Return True if ``path`` is a robosynth dataset directory (index file or episodes/ of ours)."""
    return dataset_dir_kind(path) == "robosynth"


def completed_episode_indices(dataset_dir: str | os.PathLike[str], *, remove_tmp: bool = True) -> set[int]:
    """Return indices of complete, readable episodes after deleting leftover tmp files (before writers)."""
    if remove_tmp:
        for tmp in tmp_files(dataset_dir):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    done = set()
    for index, path in list_episode_files(dataset_dir).items():
        try:
            with open_dataset_file(path) as f:
                if demo_names(f["data"]) == [f"demo_{index}"]:
                    done.add(index)
        except DatasetError:
            continue  # unreadable: not complete, it will be rewritten
    return done


def split_demos(names: list[str], train_ratio: float = 0.9,
                split_seed: int = 0) -> tuple[list[str], list[str]]:
    """Return deterministic (train, valid) demo-name lists, a fixed function of the names and the ratio.

    round(n * train_ratio) names go to train, except that with n >= 2 and 0 < train_ratio < 1 each side
    keeps at least one demo (robomimic's ``filter_by_attribute="valid"`` refuses an empty mask).
    """
    if not 0.0 <= train_ratio <= 1.0:
        raise InputError(f"train_ratio must be within [0, 1], got {train_ratio}")
    ordered = sorted(names, key=lambda n: demo_number(n) or 0)
    perm = np.random.default_rng(split_seed).permutation(len(ordered))
    n_train = int(np.floor(len(ordered) * train_ratio + 0.5))
    if len(ordered) >= 2 and 0.0 < train_ratio < 1.0:
        n_train = min(max(n_train, 1), len(ordered) - 1)
    train = {ordered[i] for i in perm[:n_train]}
    return [n for n in ordered if n in train], [n for n in ordered if n not in train]


def _checked_signature(path: Path, index: int, want_args: Any, env_name: str) -> dict[str, Any]:
    """Return the demo signature of episode file ``path`` after checking its demo name and env_args."""
    with open_dataset_file(path) as f:
        data = f["data"]
        if demo_names(data) != [f"demo_{index}"]:
            raise DatasetError(f"{path}: expected exactly one demo_{index}")
        if json.loads(data.attrs["env_args"]) != want_args:
            raise DatasetError(f"{path}: env_args differ from the dataset's ({env_name})")
        return demo_signature(data[f"demo_{index}"])


def build_index(dataset_dir: str | os.PathLike[str], dataset_info: DatasetInfo, train_ratio: float = 0.9,
                split_seed: int = 0, *, created: str | None = None,
                written: Mapping[int, dict[str, Any]] | None = None) -> Path:
    """Write ``dataset.hdf5`` atomically: external links to every episode's demo, mask/train, mask/valid.

    ``written``: {index: demo_signature} of episode files this process has just written with this
    ``dataset_info`` (what :func:`write_episode` returns); those are not opened again to check their demo name,
    env_args and signature (about 1.5 ms a file).
    """
    d = Path(dataset_dir)
    files = list_episode_files(d)
    if not files:
        raise DatasetError(f"{d}: no episode files under {EPISODES_DIRNAME}/")
    want_args = json.loads(dataset_info.env_args_json())
    ref: tuple[dict[str, Any], str] | None = None
    written = written or {}
    for index, path in files.items():
        sig = written.get(index)
        if sig is None:
            sig = _checked_signature(path, index, want_args, dataset_info.env_name)
        if ref is None:
            ref = (sig, path.name)
        elif sig != ref[0]:
            raise DatasetError(f"{path}: obs keys/shapes differ from {ref[1]} (robomimic needs equal keys)")
    names = [f"demo_{i}" for i in files]
    train, valid = split_demos(names, train_ratio, split_seed)
    with atomic_h5_file(d / INDEX_FILENAME) as f:
        data = new_group(f, "data")
        write_data_attrs(data, dataset_info, len(names), "index", created)
        for (index, path), name in zip(files.items(), names, strict=True):
            data[name] = h5py.ExternalLink(f"{EPISODES_DIRNAME}/{path.name}", f"/data/demo_{index}")
        mask = new_group(f, "mask")
        for key, members in (("train", train), ("valid", valid)):
            mask.create_dataset(key, data=np.array(members, dtype="S"), track_times=False)
    return d / INDEX_FILENAME
