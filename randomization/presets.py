"""Randomization presets ``none``, ``visual``, ``physical``, ``full`` built for a given scene.

Ranges are mild (tuned for a Panda tabletop pick-and-place) so that a scripted expert keeps succeeding:
colours anywhere, the shipped textures (assets/textures) on the floor, tables and mesh objects, lights and
cameras jittered a little, masses x[0.5, 2], friction x[0.7, 1.3], articulated objects' joint damping and friction
x[0.7, 1.4], initial joints +-0.02 rad (sd), small action noise and 0-1 step latency. ``full`` = visual + physical
+ sensor noise. Objects the task places itself (a ``<name>_region`` task parameter, drawn from the ``task``
stream) are left to the task. Distractors are structural (world rebuilds) and stay opt-in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from scenes.spec import SceneSpec
from sim.errors import SceneError

COLOUR = {"dist": "uniform", "low": [0.05, 0.05, 0.05], "high": [0.95, 0.95, 0.95]}


def _visual(spec: SceneSpec) -> dict[str, Any]:
    objects: dict[str, Any] = {"*": {"rgba": COLOUR}}
    if spec.floor:
        objects["floor"] = {
            "rgba": {"dist": "uniform", "low": [0.25, 0.25, 0.25], "high": [0.75, 0.75, 0.75]},
            "texture": {"kinds": ["checker", "noise", "image"],
                        "rgb1": {"dist": "uniform", "low": [0.2, 0.2, 0.2], "high": [0.8, 0.8, 0.8]},
                        "rgb2": {"dist": "uniform", "low": [0.2, 0.2, 0.2], "high": [0.8, 0.8, 0.8]},
                        "repeat": {"dist": "loguniform", "low": 2.0, "high": 8.0}},
        }
    for o in spec.objects:  # tables and mesh objects: one of the shipped images (assets/textures)
        if (o.fixed and o.shape == "box") or o.shape == "mesh":
            objects[o.name] = {"texture": {"kinds": ["image"], "repeat": {"dist": "uniform", "low": 1.0, "high": 2.0}}}
    cams: dict[str, Any] = {}
    if spec.cameras:
        cams["*"] = {"pos_jitter": {"dist": "uniform", "low": -0.02, "high": 0.02},
                     "fovy_jitter": {"dist": "uniform", "low": -3.0, "high": 3.0}}
        for c in spec.cameras:
            if c.look_at is not None:
                cams[c.name] = {"look_at_jitter": {"dist": "uniform", "low": -0.02, "high": 0.02}}
    return {
        "visual": {
            "objects": objects,
            "lights": {"*": {
                "pos_jitter": {"dist": "uniform", "low": [-0.3, -0.3, -0.1], "high": [0.3, 0.3, 0.1]},
                "dir_jitter": {"dist": "uniform", "low": [-0.2, -0.2, 0.0], "high": [0.2, 0.2, 0.0]},
                "diffuse": {"dist": "scale", "low": 0.7, "high": 1.3},
                "ambient": {"dist": "scale", "low": 0.7, "high": 1.3},
            }} if spec.lights else {},
        },
        "camera": {"cameras": cams},
    }


def _placement(spec: SceneSpec) -> dict[str, Any]:
    """Return placement for free objects the task does not place itself (no ``<name>_region`` task param)."""
    objects: dict[str, Any] = {}
    for o in spec.objects:
        if o.fixed or f"{o.name}_region" in spec.task.params:
            continue
        x, y = o.pose.pos[0], o.pose.pos[1]
        objects[o.name] = {"region": [[x - 0.03, y - 0.03], [x + 0.03, y + 0.03]],
                           "yaw": {"dist": "uniform", "low": -math.pi / 8, "high": math.pi / 8}}
    return {"objects": objects, "min_separation": 0.005}


def _physical(spec: SceneSpec) -> dict[str, Any]:
    articulated = {"object_joints": {"*": {"damping": {"dist": "uniform", "low": 0.7, "high": 1.4},
                                           "friction": {"dist": "uniform", "low": 0.7, "high": 1.4}}}}
    return {
        "physical": {
            **(articulated if any(o.shape == "articulated" for o in spec.objects) else {}),
            "objects": {"*": {"mass": {"dist": "scale", "low": 0.5, "high": 2.0},
                              "friction": {"dist": "scale", "low": 0.7, "high": 1.3},
                              "restitution": {"dist": "uniform", "low": 0.0, "high": 0.2}}},
            "joint_damping": {"dist": "scale", "low": 0.8, "high": 1.25},
            "gravity_jitter": {"dist": "normal", "mean": 0.0, "std": 0.02, "low": -0.05, "high": 0.05},
        },
        "placement": _placement(spec),
        "robot": {
            "init_qpos_noise": {"dist": "normal", "mean": 0.0, "std": 0.02, "low": -0.06, "high": 0.06},
            "gain_scale": {"dist": "uniform", "low": 0.9, "high": 1.1},
        },
        "action": {
            "noise_std": {"dist": "uniform", "low": 0.0, "high": 0.02},
            "latency": {"dist": "choice", "values": [0, 1], "p": [0.9, 0.1]},
        },
    }


def _sensor(spec: SceneSpec) -> dict[str, Any]:
    if not spec.cameras:
        return {}
    return {"sensor": {"cameras": {"*": {
        "depth_model": "kinect",
        "depth_noise_scale": {"dist": "uniform", "low": 0.5, "high": 1.5},
        "edge_dropout": {"dist": "uniform", "low": 0.0, "high": 0.3},
        "rgb_noise_std": {"dist": "uniform", "low": 0.0, "high": 4.0},
        "blur_sigma": {"dist": "choice", "values": [0.0, 0.5, 0.8], "p": [0.6, 0.2, 0.2]},
        "exposure_gain": {"dist": "uniform", "low": 0.85, "high": 1.15},
    }}}}


def preset_dict(name: str, spec: SceneSpec) -> dict[str, Any]:
    """Return the plain-data config of preset ``name`` for ``spec``."""
    if name not in PRESETS:
        raise SceneError(f"unknown randomization preset {name!r} (one of {', '.join(PRESETS)})")
    out: dict[str, Any] = {}
    for part in PRESETS[name]:
        out.update(part(spec))
    return out


PRESETS: dict[str, tuple[Callable[[SceneSpec], dict[str, Any]], ...]] = {
    "none": (),
    "visual": (_visual,),
    "physical": (_physical,),
    "full": (_visual, _physical, _sensor),
}
