"""``robosynth merge A B ... --out C``: one dataset directory from datasets generated separately (other machines,
other days, other seeds or ``--indices`` shares of one dataset).

The sources must agree on every recording option (scene, backend, cameras, resolution, quality, randomization,
depth format, compression, max steps, point cloud, keep-failed: read from each one's ``generate.json``, or the
``merge.json`` of an earlier merge), and no (seed, episode index) pair may appear twice; otherwise nothing is
written (InputError naming what differs). Sources are only read. The result is built in a temporary directory
next to ``C`` and renamed into place: ``episodes/ep_<k>.hdf5`` for k = 0..N-1 in source order (demo names stay
unique; each demo keeps its ``seed`` and records its original index as ``source_episode_index``), ``merge.json``
(sources, the common recording options, and where every demo came from) and a rebuilt ``dataset.hdf5``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from robosynth.dataset import (
    INDEX_FILENAME,
    atomic_path,
    build_index,
    dataset_dir_kind,
    list_episode_files,
    open_dataset_file,
    write_text_atomic,
)
from robosynth.dataset.renumber import copy_episode_renumbered
from robosynth.generate.directory import REQUEST_FILE
from robosynth.generate.request import FLAGS, RECORDING_FIELDS, GenerateRequest, dataset_info, show_value
from sim.errors import InputError

MERGE_FILE = "merge.json"
SOURCE_INDEX_ATTR = "source_episode_index"
COMPARED = tuple(f for f in RECORDING_FIELDS if f != "seed")  # seeds differ between shares; all else must not


@dataclass
class Source:
    """One dataset to merge: its recording options and its episodes as (seed, original index, file)."""

    path: Path
    request: GenerateRequest  # the recording options (seed and episode counts are not compared)
    episodes: list[tuple[int, int, Path]] = field(default_factory=list)


@dataclass
class MergeSummary:
    """What a merge wrote."""

    out: Path
    total: int
    per_source: dict[str, int]


def _recording(req: GenerateRequest) -> dict[str, Any]:
    return {name: getattr(req, name) for name in COMPARED}


def _read_request(path: Path) -> GenerateRequest:
    """Return the recording options of a dataset from its generate.json or merge.json."""
    gen, merged = path / REQUEST_FILE, path / MERGE_FILE
    try:
        if gen.is_file():
            return GenerateRequest.from_json(gen.read_text())
        if merged.is_file():
            rec = json.loads(merged.read_text())["recording"]
            return GenerateRequest.from_json(json.dumps(rec))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"'{path}': unreadable {gen.name if gen.is_file() else merged.name} ({exc})") from None
    raise InputError(f"'{path}' has neither {REQUEST_FILE} nor {MERGE_FILE}: only datasets written by robosynth "
                     f"generate or merge can be merged")


def read_source(path: Path) -> Source:
    """Return a finished dataset directory as a merge source; InputError if it is not one."""
    if not path.is_dir():
        raise InputError(f"merge source '{path}' is not a directory")
    if dataset_dir_kind(path) != "robosynth":
        raise InputError(f"merge source '{path}' is not a robosynth dataset directory")
    if not (path / INDEX_FILENAME).is_file():
        raise InputError(f"merge source '{path}' is not finished (no {INDEX_FILENAME}); finish it with "
                         f"generate --resume first")
    source = Source(path, _read_request(path))
    for _, file in list_episode_files(path).items():
        with open_dataset_file(file) as f:
            try:
                (demo,) = list(f["data"].values())
                a = demo.attrs
                original = int(a[SOURCE_INDEX_ATTR] if SOURCE_INDEX_ATTR in a else a["episode_index"])
                source.episodes.append((int(a["seed"]), original, file))
            except (KeyError, ValueError, TypeError):
                raise InputError(f"merge source '{path}': '{file.name}' is not a one-demo robosynth episode file "
                                 f"(run robosynth verify on it)") from None
    if not source.episodes:
        raise InputError(f"merge source '{path}' holds no episode")
    return source


def check_compatible(sources: list[Source]) -> None:
    """InputError naming the first recording option in which a source differs from the first source."""
    first = sources[0]
    want = _recording(first.request)
    for other in sources[1:]:
        got = _recording(other.request)
        for name in COMPARED:
            if got[name] != want[name]:
                raise InputError(f"cannot merge '{other.path}' into '{first.path}': {FLAGS[name]} "
                                 f"{show_value(name, got[name])} differs from {show_value(name, want[name])}")


def check_unique(sources: list[Source]) -> None:
    """InputError on a (seed, episode index) pair present twice (a dataset merged with itself or a copy)."""
    seen: dict[tuple[int, int], Path] = {}
    for source in sources:
        for seed, index, _ in source.episodes:
            if (seed, index) in seen:
                raise InputError(f"episode (seed {seed}, index {index}) is in both '{seen[seed, index]}' and "
                                 f"'{source.path}'; merging a dataset with itself or a copy would duplicate it")
            seen[seed, index] = source.path


def _check_out(out: Path, sources: list[Source]) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"merge output '{out}' already exists and is not an empty directory")
    target = out.absolute().resolve()
    for s in sources:
        src = s.path.absolute().resolve()
        if target == src or src in target.parents or target in src.parents:
            raise InputError(f"merge output '{out}' must lie outside the source '{s.path}'")
    if not out.absolute().parent.is_dir():
        raise InputError(f"merge output '{out}': parent directory '{out.absolute().parent}' does not exist")


def merge_datasets(paths: list[Path], out: Path, train_ratio: float = 0.9) -> MergeSummary:
    """Merge the dataset directories ``paths`` into the new directory ``out`` (see the module docstring)."""
    if len(paths) < 2:
        raise InputError("merge needs at least two source datasets")
    sources = [read_source(p) for p in paths]
    check_compatible(sources)
    check_unique(sources)
    _check_out(out, sources)
    with atomic_path(out) as tmp:
        try:
            _write_merged(sources, tmp, train_ratio)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return MergeSummary(out, sum(len(s.episodes) for s in sources), {str(s.path): len(s.episodes) for s in sources})


def _write_merged(sources: list[Source], tmp: Path, train_ratio: float) -> None:
    (tmp / "episodes").mkdir(parents=True)
    origin: list[dict[str, Any]] = []
    k = 0
    for number, source in enumerate(sources):
        for seed, index, file in sorted(source.episodes, key=lambda e: (e[1], e[0])):
            copy_episode_renumbered(file, tmp / "episodes" / f"ep_{k:06d}.hdf5", k,
                                    {SOURCE_INDEX_ATTR: np.int64(index)})
            origin.append({"demo": f"demo_{k}", "seed": seed, SOURCE_INDEX_ATTR: index, "source": number})
            k += 1
    common = replace(sources[0].request, seed=0, episodes=k, indices=None, train_ratio=train_ratio)
    recording = json.loads(common.to_json())
    meta = {"sources": [{"path": os.fspath(s.path.absolute()), "episodes": len(s.episodes)} for s in sources],
            "recording": recording, "total": k, "episodes": origin}
    write_text_atomic(tmp / MERGE_FILE, json.dumps(meta, indent=1, sort_keys=True))
    build_index(tmp, dataset_info(common), train_ratio=train_ratio)
