"""The instance-id table shared by every backend: same ids, names and classes on both engines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scenes.spec import SceneSpec

# Robot links that carry geometry (link8 and grasptarget are frames only).
ROBOT_VISUAL_LINKS = (
    *(f"panda_link{i}" for i in range(0, 8)),
    "panda_hand",
    "panda_leftfinger",
    "panda_rightfinger",
)


@dataclass(frozen=True)
class Instance:
    """One segmentation instance: id (> 0), stable name, semantic class and owning body."""

    id: int
    name: str
    cls: str
    body: str


def instance_table(spec: SceneSpec) -> list[Instance]:
    """Return the instances of a scene in a fixed order: floor, robot links, objects (0 = background)."""
    out: list[Instance] = []
    if spec.floor:
        out.append(Instance(1, "floor", "floor", "floor"))
    for link in ROBOT_VISUAL_LINKS:
        out.append(Instance(len(out) + 1, link, "robot", link))
    for o in spec.objects:
        out.append(Instance(len(out) + 1, o.name, o.semantic_class, o.name))
    return out


def id_map(instances: list[Instance]) -> dict[int, dict[str, str]]:
    """Return the JSON-ready id map ``{id: {name, class, body}}``."""
    return {i.id: {"name": i.name, "class": i.cls, "body": i.body} for i in instances}
