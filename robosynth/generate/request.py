"""What a dataset is: the request that determines its contents (stored as ``generate.json``), flag parsing, and
what a ``--resume`` may change (:func:`reconcile_request`).

Episode ``i`` is a pure function of (seed, i, request): ``--workers`` and ``--executor`` never change its bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import cast

from robosynth.dataset import DatasetInfo
from scenes.tasks import gym_id_for_scene
from sim.errors import InputError

GENERIC_ENV_ID = "robosynth/Scene-v0"  # any scene, given as ``scene=`` (built-in name or YAML path)


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
    compression: str | None = "gzip"  # None = uncompressed (--compression none)
    train_ratio: float = 0.9
    max_steps: int | None = None
    indices: tuple[int, ...] | None = None  # None = all of 0..episodes-1; else sorted unique indices < episodes
    pointcloud: int | None = None  # points of the fused cloud recorded per step (None: no point clouds)
    adaptive: bool = False  # generate --adaptive: ranges adapt to success (robosynth.generate.adaptive)
    focus_failures: str | None = None  # generate --focus-failures P: where policy P fails (robosynth.evaluate.focus)

    def to_json(self) -> str:
        """Return canonical JSON of the request."""
        return json.dumps(asdict(self), sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> GenerateRequest:
        """Return the request stored by :meth:`to_json` (ValueError/TypeError/KeyError when it is not one)."""
        data = json.loads(text)
        for key in ("cameras", "resolution", "indices"):
            value = data.get(key)
            data[key] = None if value is None else tuple(value)
        return cls(**data)


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


FLAGS = {"scene": "SCENE", "backend": "--backend", "seed": "--seed", "cameras": "--cameras",
         "resolution": "--resolution", "quality": "--quality", "randomization": "--randomization",
         "depth_format": "--depth-format", "keep_failed": "--keep-failed", "compression": "--compression",
         "max_steps": "--max-steps", "episodes": "--episodes", "indices": "--indices", "train_ratio": "--valid-ratio",
         "pointcloud": "--pointcloud", "adaptive": "--adaptive",
         "focus_failures": "--focus-failures"}
RECORDING_FIELDS = ("scene", "backend", "seed", "cameras", "resolution", "quality", "randomization", "depth_format",
                    "keep_failed", "compression", "max_steps", "pointcloud", "adaptive",
                    "focus_failures")


def show_value(name: str, value: object) -> str:
    """Return a request value the way its flag is written ('agentview,wrist', '128x128', 'none', ...).

    ``value`` is the GenerateRequest field ``name``, so its type follows from the name (the casts below).
    """
    if name == "cameras":
        return "all scene cameras" if value is None else ",".join(cast("tuple[str, ...]", value)) or "none"
    if name == "resolution":
        return "the scene's" if value is None else "x".join(map(str, cast("tuple[int, int]", value)))
    if name == "train_ratio":
        return f"{1.0 - float(cast(float, value)):g}"
    if name == "randomization":
        return "(the scene's own section)" if value is None else str(value)
    if name in ("compression", "max_steps", "pointcloud", "focus_failures"):
        return "none" if value is None else str(value)
    if name == "indices":
        return "all" if value is None else ",".join(map(str, cast("tuple[int, ...]", value)))
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
            raise InputError(f"{FLAGS[name]} {show_value(name, new)} differs from this dataset's {FLAGS[name]} "
                             f"{show_value(name, old)}; --resume continues the same request (use another --out "
                             f"for a different one)")
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
        value = show_value("indices", indices) if indices is not None else str(episodes)
        raise InputError(f"{flag} {value} leaves out episode {missing[0]} of the {len(selected_indices(stored))} "
                         f"this dataset was generated with; --resume never removes episodes (use another --out "
                         f"for a smaller dataset)")
    return merged


def dataset_info(req: GenerateRequest) -> DatasetInfo:
    """Return the dataset-wide metadata (Gymnasium id and kwargs) of a request."""
    env_name = gym_id_for_scene(req.scene) or GENERIC_ENV_ID
    kwargs = {"scene": req.scene, "backend": req.backend, "obs_mode": "rgbd" if req.cameras != () else "state",
              "cameras": None if req.cameras is None else list(req.cameras), "quality": req.quality,
              "randomization": req.randomization}
    return DatasetInfo(env_name=env_name, env_version="0", env_kwargs=kwargs)
