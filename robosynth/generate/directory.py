"""The dataset directory ``generate`` writes: which ``--out`` it accepts, the stored request, failure markers and
what is already done (for ``--resume``). Layout: ``OUT/generate.json`` (the request, written first),
``OUT/episodes/ep_<i>.hdf5`` (one finished episode each, written atomically by the worker that ran it),
``OUT/failed/ep_<i>.json`` (markers of failed episodes that were not kept, so ``--resume`` counts them without
re-running) and ``OUT/dataset.hdf5`` (the robomimic-style index, rebuilt at the end of every run).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from robosynth.dataset import (
    EPISODES_DIRNAME,
    DatasetError,
    completed_episode_indices,
    dataset_dir_kind,
    episode_path,
    open_dataset_file,
    probe_writable,
    write_text_atomic,
)
from robosynth.generate.request import GenerateRequest, reconcile_request
from sim.errors import InputError

REQUEST_FILE = "generate.json"
FAILED_DIR = "failed"

_OWN_ENTRY = re.compile(r"^(generate\.json(\.tmp(-\d+)?)?|episodes|failed|dataset\.hdf5(\.tmp-\d+)?)$")


def output_dir_kind(out: Path) -> str:
    """Return dataset_dir_kind(out), but "robosynth" also for a run killed before its first episode file."""
    kind = dataset_dir_kind(out)
    if kind != "foreign" or not out.is_dir() or (out / "dataset.hdf5").exists():
        return kind
    names = [e.name for e in out.iterdir() if not e.name.startswith(".")]
    if not all(_OWN_ENTRY.match(n) for n in names):
        return kind
    failed_dir = out / FAILED_DIR
    if (out / "episodes").exists():
        return kind  # dataset_dir_kind found something in episodes/ that is not ours
    if failed_dir.exists() and (not failed_dir.is_dir() or not all(
            re.fullmatch(r"ep_\d+\.json(\.tmp-\d+)?", e.name) for e in failed_dir.iterdir())):
        return kind
    return "robosynth"


def check_output_dir(out: Path, resume: bool) -> None:
    """Raise InputError unless ``out`` can receive this dataset without losing anything already there."""
    if out.exists() and not out.is_dir():
        raise InputError(f"output path '{out}' exists and is not a directory")
    kind = output_dir_kind(out)
    if kind == "foreign":
        raise InputError(f"output directory '{out}' is not empty and is not a robosynth dataset")
    if kind == "robosynth" and not resume:
        raise InputError(f"output directory '{out}' already holds a dataset; pass --resume to finish it "
                         "or choose another --out")
    probe = out if out.exists() else next((p for p in out.absolute().parents if p.exists()), Path("."))
    if not probe.is_dir():
        raise InputError(f"output directory '{out}' cannot be created: '{probe}' is not a directory")
    probe_writable(probe, f"output directory '{out}' is not writable")


def _read_request(path: Path) -> GenerateRequest:
    try:
        return GenerateRequest.from_json(path.read_text())
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DatasetError(f"'{path}' is not a robosynth generate request ({exc})") from None


def _store_request(path: Path, req: GenerateRequest) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, req.to_json())


def load_or_store_request(out: Path, req: GenerateRequest, resume: bool,
                           explicit: set[str] | None = None) -> GenerateRequest:
    path = out / REQUEST_FILE
    if path.exists():
        stored = _read_request(path)
        if not resume:
            if stored != req:
                raise InputError(f"'{out}' was generated with a different request; use another --out")
            return stored
        merged = reconcile_request(stored, req, explicit)
        if merged != stored:
            _store_request(path, merged)
        return merged
    if resume and (out / "episodes").exists():
        raise DatasetError(f"cannot resume '{out}': {REQUEST_FILE} is missing")
    _store_request(path, req)
    return req


def failed_marker(out: Path, index: int) -> Path:
    """Return the path of the marker of a failed, not-kept episode."""
    return out / FAILED_DIR / f"ep_{index:06d}.json"


def done_indices(out: Path) -> tuple[set[int], dict[int, str]]:
    done = completed_episode_indices(out)
    failed = {}
    for p in (out / FAILED_DIR).glob("ep_*.json.tmp-*"):
        p.unlink(missing_ok=True)  # a marker write interrupted by a crash
    for p in sorted((out / FAILED_DIR).glob("ep_*.json")):
        try:
            failed[int(p.stem[3:])] = json.loads(p.read_text())["failure_reason"]
        except (ValueError, KeyError, OSError):
            p.unlink(missing_ok=True)  # a torn marker: the episode simply runs again
    return done, failed


def kept_failures(out: Path, indices: list[int]) -> dict[int, str]:
    """Return {index: failure_reason} of already written episodes that failed (kept with --keep-failed)."""
    found = {}
    for i in indices:
        with open_dataset_file(episode_path(out, i)) as f:
            attrs = f["data"][f"demo_{i}"].attrs
            if not bool(attrs["success"]):
                found[i] = str(attrs["failure_reason"])
    return found


def write_failed_marker(out: Path, index: int, failure_reason: str, steps: int) -> None:
    """Write ``failed/ep_<index>.json`` crash-safely: the episode failed and was not kept."""
    path = failed_marker(out, index)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps({"index": index, "failure_reason": failure_reason, "steps": steps}))


def tmp_dirs(out: Path) -> list[Path]:
    """Return the directories where a writer of ``out`` leaves ``*.tmp-<pid>`` files."""
    return [out, out / EPISODES_DIRNAME, out / FAILED_DIR]


def remove_episode_tmp_files(out: Path, index: int) -> None:
    """Delete temporary files of episode ``index`` left by a writer that died (no other writer holds it)."""
    for d in tmp_dirs(out):
        for p in d.glob(f"ep_{index:06d}.*.tmp-*") if d.is_dir() else ():
            p.unlink(missing_ok=True)
