"""Typed task parameters and object requirements, shared by every task (docs/tasks.md, "Parameters").

A task declares:

- ``Params``: a frozen pydantic model (``extra="forbid"``, finite numbers only) of its ``task.params``, with
  its defaults; the task reads it as ``self.p["name"]`` or ``self.p.name``;
- ``required_objects(params)``: the scene objects it moves or reads, in the order of its parameters;
- ``object_needs(params)``: what it relies on in each of them (free or fixed, colliding, shape), each with
  the reason, so that a scene that would crash or give meaningless episodes is refused before any engine
  starts (``scenes.tasks.validate_task``).

Field types here: ``Region2`` / ``Region3`` (exactly 2 corners ``[[x, y], [x, y]]`` / ``[[x, y, z], ...]``,
finite, low <= high on every axis, within ``MAX_COORD`` m of the origin), ``Length`` (finite metres, at
most ``MAX_COORD``), ``Number`` (a finite number, never a string or a bool) and ``ObjectName``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from scenes.validation import format_validation_error
from sim.errors import SceneError

MAX_COORD = 1000.0  # metres: larger values overflow numpy's samplers (e.g. uniform(-1e308, 1e308))


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(value: Any) -> float:
    """Accept an int or a float (not a bool, a string or None); the model then rejects NaN and inf."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, got {_short(value)}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"must be a finite number, got {_short(value)}") from None


Number = Annotated[float, BeforeValidator(_number)]
Length = Annotated[float, BeforeValidator(_number), Field(le=MAX_COORD)]
Coord = Annotated[float, BeforeValidator(_number), Field(ge=-MAX_COORD, le=MAX_COORD)]
ObjectName = Annotated[str, Field(min_length=1, max_length=64)]
RewardType = Literal["dense", "sparse"]


def _region(dim: int):
    axes = "xyz"[:dim]
    corner = "[" + ", ".join(axes) + "]"
    expected = f"expected 2 corners [{corner}, {corner}]"

    def check(value: Any) -> tuple[tuple[float, ...], ...]:
        if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(
                isinstance(c, (list, tuple)) and len(c) == dim for c in value):
            raise ValueError(f"{expected}, got {_short(value)}")
        if not all(not isinstance(v, bool) and isinstance(v, (int, float)) for c in value for v in c):
            raise ValueError(f"corners must be numbers, got {_short(value)}")
        try:
            lo, hi = (tuple(float(v) for v in c) for c in value)
        except OverflowError:
            raise ValueError(f"corners must be finite numbers, got {_short(value)}") from None
        if not all(math.isfinite(v) and abs(v) <= MAX_COORD for v in lo + hi):
            raise ValueError(f"corners must be finite numbers within {MAX_COORD:g} m of the origin, "
                             f"got {_short(value)}")
        bad = [a for a, low, high in zip(axes, lo, hi, strict=True) if low > high]
        if bad:
            raise ValueError(f"low corner > high corner on {', '.join(bad)}: {_short(value)}")
        return lo, hi

    return BeforeValidator(check)


Region2 = Annotated[tuple[tuple[float, float], tuple[float, float]], _region(2)]
Region3 = Annotated[tuple[tuple[float, float, float], tuple[float, float, float]], _region(3)]


def interval(value: Any) -> tuple[float, float]:
    """Validate ``[low, high]``: two finite numbers within MAX_COORD, low <= high."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"expected [low, high], got {_short(value)}")
    lo, hi = (_number(v) for v in value)
    if not all(math.isfinite(v) and abs(v) <= MAX_COORD for v in (lo, hi)):
        raise ValueError(f"expected finite numbers within {MAX_COORD:g} m of the origin, got {_short(value)}")
    if lo > hi:
        raise ValueError(f"low > high: {_short(value)}")
    return lo, hi


Interval = Annotated[tuple[float, float], BeforeValidator(interval)]


def _xy(value: Any) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"expected [x, y], got {_short(value)}")
    x, y = (_number(v) for v in value)
    if not all(math.isfinite(v) and abs(v) <= MAX_COORD for v in (x, y)):
        raise ValueError(f"expected finite numbers within {MAX_COORD:g} m of the origin, got {_short(value)}")
    return x, y


XY = Annotated[tuple[float, float], BeforeValidator(_xy)]


class TaskParams(BaseModel):
    """Base of every task's ``Params``: frozen, unknown parameters rejected, finite numbers only.

    ``params["name"]`` and ``params.get("name", default)`` read a field like a dict, so task code written
    against the old parameter dicts keeps working unchanged.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        """Return the field ``key`` or ``default``."""
        return getattr(self, key, default)


class RewardParams(TaskParams):
    """Parameters every robot task has: the reward flavour (see each task's reward)."""

    reward_type: RewardType = Field("dense", description="dense (<= 0, in metres) or sparse (0 on success, -1)")


class NoParams(TaskParams):
    """Task ``none``: no parameters at all."""


@dataclass(frozen=True)
class ObjectNeed:
    """What a task relies on in one scene object; ``None`` means "either"."""

    param: str  # the parameter path that names the object, e.g. "cube" or "objects[3]"
    name: str  # the object's name in the scene
    why: str  # what the task does with it, for the error message
    fixed: bool | None = None
    collide: bool | None = None
    shapes: tuple[str, ...] | None = None


__all__ = [
    "MAX_COORD", "XY", "Coord", "Interval", "Length", "NoParams", "Number", "ObjectName", "ObjectNeed",
    "Region2", "Region3", "RewardParams", "RewardType", "TaskParams", "interval", "parse_params",
]


def parse_params(spec, model: type[TaskParams]) -> Any:
    """Return ``spec.task.params`` validated as ``model``; SceneError naming ``task.params.<field>`` otherwise."""

    try:
        return model.model_validate(spec.task.params)
    except ValidationError as err:
        line = format_validation_error(err)
        if err.errors()[0].get("type") == "extra_forbidden":
            known = ", ".join(model.model_fields)
            line += f" (task {spec.task.name} parameters: {known})" if known else \
                f" (task {spec.task.name} takes no parameters)"
        if line.startswith("scene: "):  # a model-level message that names no field
            raise SceneError(f"task.params: {line.removeprefix('scene: ')}") from None
        raise SceneError(f"task.params.{line}") from None
