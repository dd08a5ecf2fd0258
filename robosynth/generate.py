"""``robosynth generate``: record a crash-safe, resumable dataset of expert episodes.

Layout: ``OUT/generate.json`` (the request, written first), ``OUT/episodes/ep_<i>.hdf5`` (one finished
episode each, written atomically by the worker that ran it), ``OUT/failed/ep_<i>.json`` (markers of
failed episodes that were not kept, so ``--resume`` counts them without re-running), and
``OUT/dataset.hdf5`` (the robomimic-style index, rebuilt at the end and by ``--resume``).

Episode ``i`` is a pure function of (seed, i, request): ``--workers`` and ``--executor`` never change
its bytes, ``--resume`` after ``kill -9`` finishes the same dataset, and ``--indices`` runs only some
indices of a dataset of ``--episodes`` N (e.g. to regenerate one recorded episode bit-identically).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from robosynth.paths import probe_writable
from robosynth.schema import (
    DatasetError,
    DatasetInfo,
    build_index,
    completed_episode_indices,
    dataset_dir_kind,
    episode_path,
    list_episode_files,
    open_dataset_file,
)
from sim.errors import InputError

REQUEST_FILE = "generate.json"
FAILED_DIR = "failed"
ENV_IDS = {"pick_place": "robosynth/PickPlace-v0", "reach": "robosynth/Reach-v0", "push": "robosynth/Push-v0",
           "stack": "robosynth/Stack-v0", "clutter": "robosynth/Clutter-v0"}


@dataclass(frozen=True)
class GenerateRequest:
    """Everything that determines a dataset's contents (stored in generate.json)."""

    scene: str
    backend: str = "mujoco"
    episodes: int = 10
    seed: int = 0
    cameras: tuple[str, ...] | None = None  # None = all scene cameras; () = state only
    resolution: tuple[int, int] | None = None
    quality: str = "default"
    randomization: str | None = None  # preset name or YAML path; None = the scene's own section
    depth_format: str = "metric"
    keep_failed: bool = False
    compression: str = "gzip"
    train_ratio: float = 0.9
    max_steps: int | None = None
    indices: tuple[int, ...] | None = None  # None = all of 0..episodes-1; else sorted unique indices < episodes

    def to_json(self) -> str:
        """Return canonical JSON of the request."""
        return json.dumps(asdict(self), sort_keys=True, indent=1)


@dataclass
class GenerateSummary:
    """What a generate run did."""

    out: Path
    requested: int
    written: int = 0
    failed: int = 0
    skipped: int = 0
    steps: int = 0
    failures: dict[int, str] = field(default_factory=dict)


def parse_resolution(text: str | None) -> tuple[int, int] | None:
    """Return (width, height) from 'WxH'; InputError for 0, negative or > 4096 sizes."""
    if text is None:
        return None
    from renderers.camera import validate_resolution

    parts = text.lower().split("x")
    if len(parts) != 2:
        raise InputError(f"--resolution must look like WIDTHxHEIGHT (e.g. 128x128), got '{text}'")
    try:
        w, h = int(parts[0]), int(parts[1])
    except ValueError:
        raise InputError(f"--resolution must look like WIDTHxHEIGHT (e.g. 128x128), got '{text}'") from None
    return validate_resolution(w, h)


def parse_indices(text: str | None) -> tuple[int, ...] | None:
    """Return sorted unique episode indices from '3,5-7' (ranges inclusive); InputError on bad syntax."""
    if text is None:
        return None
    found: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if m is None:
            raise InputError(f"--indices must look like 3,5-7 (non-negative ints and ranges), got '{text}'")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise InputError(f"--indices: range '{part}' is empty (write LOW-HIGH with LOW <= HIGH)")
        if hi - lo >= 10_000_000:
            raise InputError(f"--indices: range '{part}' is too large")
        found.update(range(lo, hi + 1))
    return tuple(sorted(found))


def selected_indices(req: GenerateRequest) -> list[int]:
    """Return the episode indices a request records; InputError if one is not < ``req.episodes``."""
    if req.indices is None:
        return list(range(req.episodes))
    bad = [i for i in req.indices if not 0 <= i < req.episodes]
    if bad:
        raise InputError(f"--indices {bad[0]} is out of range for a dataset of --episodes {req.episodes} "
                         f"(indices must be < {req.episodes})")
    return sorted(set(req.indices))


_OWN_ENTRY = re.compile(r"^(generate\.json(\.tmp)?|episodes|failed|dataset\.hdf5(\.tmp-\d+)?)$")


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


# The flag behind each request field, for messages; fields a --resume may not change are RECORDING_FIELDS.
FLAGS = {"scene": "SCENE", "backend": "--backend", "seed": "--seed", "cameras": "--cameras",
         "resolution": "--resolution", "quality": "--quality", "randomization": "--randomization",
         "depth_format": "--depth-format", "keep_failed": "--keep-failed", "compression": "--compression",
         "max_steps": "--max-steps", "episodes": "--episodes", "indices": "--indices", "train_ratio": "--valid-ratio"}
RECORDING_FIELDS = ("scene", "backend", "seed", "cameras", "resolution", "quality", "randomization", "depth_format",
                    "keep_failed", "compression", "max_steps")


def _show(name: str, value: object) -> str:
    """Return a request value the way its flag is written ('agentview,wrist', '128x128', 'none', ...)."""
    if name == "cameras":
        return "all scene cameras" if value is None else ",".join(value) or "none"  # type: ignore[arg-type]
    if name == "resolution":
        return "the scene's" if value is None else "x".join(map(str, value))  # type: ignore[arg-type]
    if name == "train_ratio":
        return f"{1.0 - float(value):g}"  # type: ignore[arg-type]
    if name == "randomization":
        return "(the scene's own section)" if value is None else str(value)
    if name in ("compression", "max_steps"):
        return "none" if value is None else str(value)
    if name == "indices":
        return "all" if value is None else ",".join(map(str, value))  # type: ignore[arg-type]
    return str(value)


def _same_scene(stored: str, given: str) -> bool:
    """Return True if two SCENE arguments name the same scene (equal text, or the same file from here)."""
    if stored == given:
        return True
    a, b = Path(stored), Path(given)
    return a.is_file() and b.is_file() and a.resolve() == b.resolve()


def reconcile_request(stored: GenerateRequest, given: GenerateRequest,
                      explicit: set[str] | None = None) -> GenerateRequest:
    """Return the request a ``--resume`` continues: the stored one, extended or re-split as ``given`` asks.

    ``explicit`` names the fields the user set (None: all of them); the others are taken from ``stored``.
    A recording field that differs is an InputError naming the flag and both values. More ``--episodes``
    (or more ``--indices``) extend the dataset; asking for fewer never deletes anything: it is an InputError.
    ``--valid-ratio`` may change (it only re-splits the index).
    """
    explicit = set(FLAGS) if explicit is None else explicit
    for name in RECORDING_FIELDS:
        old, new = getattr(stored, name), getattr(given, name)
        if name in explicit and old != new and not (name == "scene" and _same_scene(old, new)):
            raise InputError(f"{FLAGS[name]} {_show(name, new)} differs from this dataset's {FLAGS[name]} "
                             f"{_show(name, old)}; --resume continues the same request (use another --out for a "
                             f"different one)")
    episodes = given.episodes if "episodes" in explicit else stored.episodes
    if "indices" in explicit:
        indices = given.indices
    else:
        indices = None if "episodes" in explicit and stored.indices is None else stored.indices
    train_ratio = given.train_ratio if "train_ratio" in explicit else stored.train_ratio
    merged = replace(stored, episodes=episodes, indices=indices, train_ratio=train_ratio)
    missing = sorted(set(selected_indices(stored)) - set(selected_indices(merged)))
    if missing:
        flag = "--indices" if indices is not None else "--episodes"
        value = _show("indices", indices) if indices is not None else str(episodes)
        raise InputError(f"{flag} {value} leaves out episode {missing[0]} of the {len(selected_indices(stored))} "
                         f"this dataset was generated with; --resume never removes episodes (use another --out "
                         f"for a smaller dataset)")
    return merged


def _read_request(path: Path) -> GenerateRequest:
    try:
        data = json.loads(path.read_text())
        for key in ("cameras", "resolution", "indices"):
            data[key] = _tuple(data.get(key))
        return GenerateRequest(**data)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DatasetError(f"'{path}' is not a robosynth generate request ({exc})") from None


def _store_request(path: Path, req: GenerateRequest) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(req.to_json())
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _load_or_store_request(out: Path, req: GenerateRequest, resume: bool,
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


def _tuple(v):
    return None if v is None else tuple(v)


def dataset_info(req: GenerateRequest) -> DatasetInfo:
    """Return the dataset-wide metadata (Gymnasium id and kwargs) of a request."""
    env_name = ENV_IDS.get(req.scene, "robosynth/Scene-v0")
    kwargs = {"scene": req.scene, "backend": req.backend, "obs_mode": "rgbd" if req.cameras != () else "state",
              "cameras": None if req.cameras is None else list(req.cameras), "quality": req.quality,
              "randomization": req.randomization}
    return DatasetInfo(env_name=env_name, env_version="0", env_kwargs=kwargs)


def failed_marker(out: Path, index: int) -> Path:
    """Return the path of the marker of a failed, not-kept episode."""
    return out / FAILED_DIR / f"ep_{index:06d}.json"


def _done_indices(out: Path) -> tuple[set[int], dict[int, str]]:
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


def generate(req: GenerateRequest, out: Path, *, workers: int = 1, executor: str = "local", resume: bool = False,
             progress: Callable[[dict], None] | None = None,
             on_start: Callable[[int, int], None] | None = None,
             on_retry: Callable[[int, str, int], None] | None = None,
             explicit: set[str] | None = None) -> GenerateSummary:
    """Record the dataset described by ``req`` into ``out``, rebuild its index and return a summary.

    ``on_start(to_run, already_done)`` is called once before the first episode, ``progress(result)`` after each,
    ``on_retry(index, reason, attempt)`` when a dead worker's episode runs again. With ``resume``, ``req`` must
    agree with the stored request on every field named in ``explicit`` (default: all), see
    :func:`reconcile_request`.
    """
    from robosynth.workers import make_job, run_jobs

    if req.episodes < 0:
        raise InputError("--episodes must be >= 0")
    if workers < 1:
        raise InputError("--workers must be >= 1")
    selected_indices(req)
    check_output_dir(out, resume)
    job = make_job(req)  # validates scene, backend, cameras, randomization before touching the disk
    req = _load_or_store_request(out, req, resume, explicit)
    if resume:
        job = make_job(req)
    wanted = selected_indices(req)
    done, failed = _done_indices(out)
    todo = [i for i in wanted if i not in done and i not in failed]
    summary = GenerateSummary(out=out, requested=len(wanted), skipped=len(wanted) - len(todo))
    summary.failures.update({i: r for i, r in failed.items() if i in set(wanted)})
    if req.keep_failed:
        summary.failures.update(_kept_failures(out, sorted(done & set(wanted))))
    summary.failed = len(summary.failures)
    if on_start is not None:
        on_start(len(todo), summary.skipped)
    for res in run_jobs(job, str(out), todo, workers=workers, executor=executor, on_retry=on_retry):
        summary.steps += res["steps"]
        if res["written"]:
            summary.written += 1
        if not res["success"]:
            summary.failed += 1
            summary.failures[res["index"]] = res["failure_reason"]
        if progress is not None:
            progress(res)
    if list_episode_files(out):
        build_index(out, dataset_info(req), train_ratio=req.train_ratio)
    return summary


def _kept_failures(out: Path, indices: list[int]) -> dict[int, str]:
    """Return {index: failure_reason} of already written episodes that failed (kept with --keep-failed)."""
    found = {}
    for i in indices:
        with open_dataset_file(episode_path(out, i)) as f:
            attrs = f["data"][f"demo_{i}"].attrs
            if not bool(attrs["success"]):
                found[i] = str(attrs["failure_reason"])
    return found
