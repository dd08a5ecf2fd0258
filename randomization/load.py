"""Turning a scene and a ``--randomization`` argument into a validated :class:`RandomizationConfig`: presets
with overrides, YAML files, the scene's own ``randomization:`` section (``load_scene_randomized``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from randomization.config import RandomizationConfig, format_error
from randomization.heldout import HELDOUT_PREFIX, heldout_config
from randomization.presets import PRESETS, preset_dict
from randomization.scene_checks import check_against_scene
from scenes.loader import load_scene, load_yaml_file
from scenes.spec import SceneSpec
from sim.errors import SceneError


def preset(name: str, spec: SceneSpec) -> RandomizationConfig:
    """Return the validated RandomizationConfig of preset ``name`` for ``spec``."""
    return validate_randomization(preset_dict(name, spec), spec, prefix=f"preset {name}")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if v is None:  # null switches the preset's entry off
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict) and "dist" not in v:
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def validate_randomization(cfg_dict: Any, spec: SceneSpec,
                           prefix: str = "randomization") -> RandomizationConfig:
    """Return the validated config for a plain dict (``preset: NAME`` merges overrides onto a preset)."""
    if cfg_dict is None:
        return RandomizationConfig()
    if isinstance(cfg_dict, RandomizationConfig):
        check_against_scene(cfg_dict, spec, prefix)
        return cfg_dict
    if not isinstance(cfg_dict, dict):
        raise SceneError(f"{prefix}: must be a mapping, got {type(cfg_dict).__name__}")
    data = dict(cfg_dict)
    heldout = data.pop("heldout", False)
    if not isinstance(heldout, bool):
        raise SceneError(f"{prefix}.heldout: must be true or false, got {heldout!r}")
    if "preset" in data:
        name = data.pop("preset")
        if name not in PRESETS:
            raise SceneError(f"{prefix}.preset: unknown preset {name!r} (one of {', '.join(PRESETS)})")
        data = _merge(preset(name, spec).to_dict(), data)
    try:
        cfg = RandomizationConfig.model_validate(data)
    except ValidationError as err:
        raise SceneError(format_error(err, prefix)) from None
    check_against_scene(cfg, spec, prefix)
    return heldout_config(cfg, spec, prefix) if heldout else cfg


def load_randomization(ref: str | Path | None, spec: SceneSpec) -> RandomizationConfig:
    """Return the config for a preset name or a YAML file path; None uses the scene's own section.

    ``heldout:REF`` (e.g. ``heldout:full``) is the held-out split of REF (``randomization.heldout``)."""
    if ref is None:
        return validate_randomization(spec.randomization, spec)
    ref_s = str(ref)
    if ref_s.startswith(HELDOUT_PREFIX):
        inner = ref_s[len(HELDOUT_PREFIX):]
        if not inner or inner.startswith(HELDOUT_PREFIX):
            raise SceneError(f"--randomization {ref_s}: write heldout:PRESET or heldout:FILE (e.g. heldout:full)")
        return heldout_config(load_randomization(inner, spec), spec, f"randomization {ref_s}")
    if ref_s in PRESETS:
        return preset(ref_s, spec)
    path = Path(ref_s)
    if not path.is_file():
        if path.suffix.lower() not in (".yaml", ".yml", ".json"):
            raise SceneError(f"unknown randomization preset '{ref_s}' (presets: {', '.join(PRESETS)}; "
                             f"or give a YAML file)")
        raise SceneError(f"randomization file '{ref_s}' does not exist")
    try:
        data = load_yaml_file(path)
    except SceneError as exc:
        raise SceneError(str(exc).replace("scene file", "randomization file")) from None
    if isinstance(data, dict) and set(data) == {"randomization"}:
        data = data["randomization"]
    return validate_randomization(data, spec, prefix="randomization")


def load_scene_randomized(ref: str | Path, randomization: str | Path | None = None
                          ) -> tuple[SceneSpec, RandomizationConfig]:
    """Return a scene (built-in name or YAML path) with its own ``randomization:`` section checked, and the
    config ``randomization`` selects (a preset, a YAML file, or None for the scene's own section)."""
    spec = load_scene(ref)
    own = validate_randomization(spec.randomization, spec)
    return spec, own if randomization is None else load_randomization(randomization, spec)
