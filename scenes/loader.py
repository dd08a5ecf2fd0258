"""Load scenes from YAML or built-in names, with errors that name the field path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from renderers.calibration import load_calibration
from scenes.spec import ObjectSpec, SceneSpec
from scenes.tasks import validate_task
from scenes.validation import format_validation_error
from sim.assets import resolve_asset
from sim.errors import AssetError, InputError, SceneError
from sim.mesh_files import mesh_problem, object_volume, read_mesh

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
MAX_SCENE_BYTES = 4 * 1024 * 1024


def builtin_names() -> list[str]:
    """Return the names of the built-in scenes."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def scene_from_dict(data: Any, source_dir: Path | None = None) -> SceneSpec:
    """Validate a plain dict into a SceneSpec and check that every asset resolves."""
    if not isinstance(data, dict):
        raise SceneError(f"scene must be a mapping at the top level, got {type(data).__name__}")
    try:
        spec = SceneSpec.model_validate(data)
    except ValidationError as err:
        raise SceneError(format_validation_error(err)) from None
    check_assets(spec, source_dir)
    spec = apply_densities(spec, source_dir)
    spec = apply_mesh_sizes(spec, source_dir)
    spec = apply_calibrations(spec, source_dir)
    check_scene(spec, source_dir)
    return spec


def check_scene(spec: SceneSpec, source_dir: Path | None = None) -> None:
    """Raise SceneError unless the scene's task fits its objects (``scenes.tasks.validate_task``): typed
    ``task.params``, the objects the task needs exist and have the properties it relies on. The scene's
    ``randomization:`` section is checked by ``randomization.load.load_scene_randomized`` (a layer above)."""
    validate_task(spec, source_dir)


def apply_calibrations(spec: SceneSpec, source_dir: Path | None) -> SceneSpec:
    """Return ``spec`` with K, distortion, width and height of calibrated cameras read from their files."""
    if not any(c.calibration for c in spec.cameras):
        return spec

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


def apply_densities(spec: SceneSpec, source_dir: Path | None) -> SceneSpec:
    """Return ``spec`` with each ``density`` turned into ``mass`` (density x volume; a mesh's enclosed volume,
    scaled), so both engines, the tasks and mass randomization read one number."""
    if all(o.density is None for o in spec.objects):
        return spec
    objects = []
    for i, o in enumerate(spec.objects):
        if o.density is not None:
            volume = object_volume(o, resolve_asset(o.asset, source_dir) if o.shape == "mesh" and o.asset else None)
            if volume is None:
                raise AssetError(f"objects[{i}].density: the mesh is not closed, so it has no volume; give mass")
            mass = o.density * volume
            if not 0 < mass <= 1000:
                raise SceneError(f"objects[{i}].density: gives a mass of {mass:.3g} kg; expected (0, 1000] kg")
            o = o.model_copy(update={"mass": mass, "density": None})
        objects.append(o)
    return spec.model_copy(update={"objects": tuple(objects)})


def apply_mesh_sizes(spec: SceneSpec, source_dir: Path | None) -> SceneSpec:
    """Return ``spec`` with the ``size`` of each mesh object that gives none set to its scaled bounding box (m),
    which placement randomization reads as the object's footprint."""
    objects = []
    for o in spec.objects:
        if o.shape == "mesh" and o.asset and "size" not in o.model_fields_set:
            vertices, _ = read_mesh(resolve_asset(o.asset, source_dir))
            extent = (vertices.max(axis=0) - vertices.min(axis=0)) * o.scale
            o = o.model_copy(update={"size": tuple(max(float(v), 1e-4) for v in extent)})
        objects.append(o)
    return spec.model_copy(update={"objects": tuple(objects)})


def check_assets(spec: SceneSpec, source_dir: Path | None) -> None:
    """Raise AssetError (naming the field) if an object's asset is missing, escapes the roots, or (a mesh) is
    unreadable, empty, non-finite, absurdly sized or too large (``sim.mesh_files``)."""
    for i, o in enumerate(spec.objects):
        if o.asset is not None:
            try:
                path = resolve_asset(o.asset, source_dir)
            except SceneError:
                raise
            except Exception as exc:  # AssetError
                raise type(exc)(f"objects[{i}].asset: {exc}") from None
            if o.shape == "mesh" and (problem := mesh_problem(path, o.scale)) is not None:
                raise AssetError(f"objects[{i}].asset: {problem}")
            if o.shape == "articulated":
                _check_articulated(i, o, path)


def _check_articulated(i: int, o: ObjectSpec, path: Path) -> None:
    """Raise AssetError naming the field if an articulated URDF is unsupported or its joint_positions are wrong."""
    from sim.urdf_articulated import parse_articulated_urdf

    try:
        joints = {j.name: j for j in parse_articulated_urdf(str(path)).movable_joints}
    except AssetError as exc:
        raise AssetError(f"objects[{i}].asset: {exc}") from None
    for name, value in o.joint_positions.items():
        j = joints.get(name)
        if j is None:
            raise AssetError(f"objects[{i}].joint_positions: '{name}' is not a movable joint of {o.asset} "
                             f"(joints: {', '.join(joints) or 'none'})")
        if j.limited and not j.lower <= value <= j.upper:
            raise AssetError(f"objects[{i}].joint_positions.{name}: {value} is outside the joint's limits "
                             f"[{j.lower}, {j.upper}]")


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
        return _safe_load(text)
    except yaml.YAMLError as exc:
        lines = str(exc).splitlines()
        first = getattr(exc, "problem", None) or (lines[0] if lines else "invalid YAML")
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SceneError(f"scene file '{path}' is not valid YAML{where}: {first}") from None


def _safe_load(text: str) -> Any:
    """Return ``yaml.safe_load(text)``, parsed by LibYAML when PyYAML has it (~6x faster: ~1 ms for a scene).

    The same constructors and resolver build the same values; a document LibYAML refuses is parsed again by the
    pure-Python parser, so what it accepts and every error message stay ``yaml.safe_load``'s.
    """
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return yaml.load(text, Loader=loader)  # a safe loader: SafeConstructor, as yaml.safe_load
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def scene_dir(ref: str | Path) -> Path:
    """Return the folder a scene's relative asset paths and task modules are resolved against."""
    return BUILTIN_DIR if str(ref) in builtin_names() else Path(ref).resolve().parent


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
