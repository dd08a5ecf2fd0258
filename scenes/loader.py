"""Load scenes from YAML or built-in names, with errors that name the field path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scenes.spec import SceneSpec
from sim.assets import resolve_asset
from sim.errors import InputError, SceneError

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
MAX_SCENE_BYTES = 4 * 1024 * 1024


def builtin_names() -> list[str]:
    """Return the names of the built-in scenes."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "tuple[")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "scene"


_IDENT = r"[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*"
_SUBFIELD = re.compile(rf"^({_IDENT}(?:\.{_IDENT})*): (.+)$")


def format_validation_error(err: ValidationError) -> str:
    """Return one line naming the first bad field, e.g. ``objects[2].size: must be > 0``."""
    e = err.errors()[0]
    loc = _format_loc(tuple(e.get("loc", ())))
    msg = e.get("msg", "invalid")
    msg = msg.removeprefix("Value error, ")
    if e.get("type") == "extra_forbidden":
        msg = "unknown field"
    if e.get("type") == "greater_than":
        msg = f"must be > {e['ctx']['gt']}"
    if e.get("type") == "greater_than_equal":
        msg = f"must be >= {e['ctx']['ge']}"
    if e.get("type") == "less_than_equal":
        msg = f"must be <= {e['ctx']['le']}"
    m = _SUBFIELD.match(msg) if e.get("type") == "value_error" else None
    if m:  # a model validator named the field itself: "objects[0]" + "size: ..." -> "objects[0].size: ..."
        sub, msg = m.group(1), m.group(2)
        loc = sub if loc == "scene" else loc + ("" if sub.startswith("[") else ".") + sub
    return f"{loc}: {msg}"


def scene_from_dict(data: Any, source_dir: Path | None = None) -> SceneSpec:
    """Validate a plain dict into a SceneSpec and check that every asset resolves."""
    if not isinstance(data, dict):
        raise SceneError(f"scene must be a mapping at the top level, got {type(data).__name__}")
    try:
        spec = SceneSpec.model_validate(data)
    except ValidationError as err:
        raise SceneError(format_validation_error(err)) from None
    check_assets(spec, source_dir)
    spec = apply_calibrations(spec, source_dir)
    check_scene(spec)
    return spec


def check_scene(spec: SceneSpec) -> None:
    """Raise SceneError unless the scene's task and randomization section fit its objects.

    The task check (``scenes.tasks.validate_task``): typed ``task.params``, the objects the task needs exist
    and have the properties it relies on. The ``randomization:`` section: every name it targets exists.
    """
    from scenes.tasks import validate_task

    validate_task(spec)
    if spec.randomization is not None:
        from randomization.config import validate_randomization

        validate_randomization(spec.randomization, spec)


def apply_calibrations(spec: SceneSpec, source_dir: Path | None) -> SceneSpec:
    """Return ``spec`` with K, distortion, width and height of calibrated cameras read from their files."""
    if not any(c.calibration for c in spec.cameras):
        return spec
    from renderers.calibration import load_calibration

    cams = []
    for i, cam in enumerate(spec.cameras):
        if cam.calibration:
            try:
                intr = load_calibration(resolve_asset(cam.calibration, source_dir), cam.near, cam.far)
            except InputError as exc:
                raise SceneError(f"cameras[{i}].calibration: {exc}") from None
            cam = cam.model_copy(update={
                "K": tuple(tuple(float(v) for v in row) for row in intr.K), "fovy": None,
                "distortion": tuple(float(v) for v in intr.distortion), "width": intr.width, "height": intr.height,
            })
        cams.append(cam)
    return spec.model_copy(update={"cameras": tuple(cams)})


def check_assets(spec: SceneSpec, source_dir: Path | None) -> None:
    """Raise AssetError (naming the field) if an object's asset is missing or escapes the roots."""
    for i, o in enumerate(spec.objects):
        if o.asset is not None:
            try:
                resolve_asset(o.asset, source_dir)
            except SceneError:
                raise
            except Exception as exc:  # AssetError
                raise type(exc)(f"objects[{i}].asset: {exc}") from None


def load_yaml_file(path: Path) -> Any:
    """Read a YAML file safely (no Python object construction); raise SceneError on any problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SceneError(f"cannot read scene file '{path}': {exc.strerror}") from None
    if len(raw) > MAX_SCENE_BYTES:
        raise SceneError(f"scene file '{path}' is larger than {MAX_SCENE_BYTES} bytes")
    if not raw.strip():
        raise SceneError(f"scene file '{path}' is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SceneError(f"scene file '{path}' is not UTF-8 text") from None
    if "\x00" in text:
        raise SceneError(f"scene file '{path}' is binary, not YAML")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        lines = str(exc).splitlines()
        first = getattr(exc, "problem", None) or (lines[0] if lines else "invalid YAML")
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SceneError(f"scene file '{path}' is not valid YAML{where}: {first}") from None


def load_scene(ref: str | Path) -> SceneSpec:
    """Return the scene for a built-in name or a YAML path."""
    ref_s = str(ref)
    if ref_s in builtin_names():
        path = BUILTIN_DIR / f"{ref_s}.yaml"
        return scene_from_dict(load_yaml_file(path), source_dir=path.parent)
    path = Path(ref_s)
    if not path.exists():
        if path.suffix.lower() not in (".yaml", ".yml"):
            raise SceneError(f"unknown scene '{ref_s}' (built-in scenes: {', '.join(builtin_names())})")
        raise SceneError(f"scene file '{ref_s}' does not exist")
    if path.is_dir():
        raise SceneError(f"scene path '{ref_s}' is a directory, not a YAML file")
    return scene_from_dict(load_yaml_file(path), source_dir=path.resolve().parent)
