"""Load real camera calibrations into Intrinsics: OpenCV YAML/JSON and ROS camera_info YAML.

Supported layouts (keys are matched case-insensitively):

* OpenCV (cv2.FileStorage YAML with ``%YAML:1.0`` and ``!!opencv-matrix`` tags, or JSON):
  ``image_width``, ``image_height``, ``camera_matrix``, ``distortion_coefficients``.
* ROS camera_info calibration YAML (camera_calibration_parsers): ``image_width``, ``image_height``,
  ``camera_matrix: {rows, cols, data}``, ``distortion_model: plumb_bob``, ``distortion_coefficients``.
* ROS sensor_msgs/CameraInfo message dumps: ``width``, ``height``, ``K``/``k``, ``D``/``d``,
  ``distortion_model``.

A matrix may be ``{rows, cols, data}``, a nested list or a flat list. OpenCV and ROS use the same pixel
convention as renderers.camera (pixel centres at integers), so K is taken as is. YAML is parsed with a
SafeLoader subclass that only adds a constructor for the OpenCV matrix tags.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from renderers.camera import Intrinsics
from sim.errors import InputError

_SUPPORTED_MODELS = ("plumb_bob", "radtan", "opencv", "")


class _CalibrationLoader(yaml.SafeLoader):
    """SafeLoader that also understands OpenCV FileStorage matrix tags."""


def _construct_opencv_matrix(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return loader.construct_mapping(node, deep=True)


for _tag in ("opencv-matrix", "opencv-nd-matrix"):
    _CalibrationLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_opencv_matrix)


def _strip_opencv_header(text: str) -> str:
    """Drop OpenCV's non-standard ``%YAML:1.0`` directive line (PyYAML only knows ``%YAML 1.x``)."""
    lines = text.splitlines()
    if lines and lines[0].lstrip().startswith("%YAML:"):
        lines = lines[1:]
    return "\n".join(lines)


def _parse_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read camera calibration {path}: {e}") from e
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.load(_strip_opencv_header(text), Loader=_CalibrationLoader)  # SafeLoader subclass
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        kind = path.suffix.lstrip(".") or "YAML"
        raise InputError(f"camera calibration {path} is not valid {kind}: {first}") from e
    if not isinstance(data, dict):
        raise InputError(f"camera calibration {path} must be a mapping at top level")
    return data


def _lookup(data: dict[str, Any], *names: str) -> Any:
    lowered = {str(k).lower(): v for k, v in data.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _matrix(value: Any, field: str, source: str) -> np.ndarray:
    """Return a float array from {rows, cols, data}, a nested list or a flat list."""
    shape = None
    if isinstance(value, dict):
        rows, cols = _lookup(value, "rows"), _lookup(value, "cols")
        if rows is not None and cols is not None:
            shape = (int(rows), int(cols))
        value = _lookup(value, "data")
        if value is None:
            raise InputError(f"{source}: {field} has no 'data' entry")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InputError(f"{source}: {field} must contain numbers") from e
    if shape is not None:
        if arr.size != shape[0] * shape[1]:
            n = f"{shape[0]}x{shape[1]}"
            raise InputError(f"{source}: {field} has {arr.size} values but rows x cols = {n}")
        arr = arr.reshape(shape)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{source}: {field} contains non-finite values")
    return arr


def _int_field(data: dict[str, Any], source: str, *names: str) -> int:
    value = _lookup(data, *names)
    if value is None:
        raise InputError(f"{source}: missing {names[0]}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise InputError(f"{source}: {names[0]} must be an integer, got {value!r}")
    return int(value)


def _distortion(data: dict[str, Any], source: str) -> np.ndarray:
    model = _lookup(data, "distortion_model")
    model = "" if model is None else str(model).strip().lower()
    raw = _lookup(data, "distortion_coefficients", "D", "dist_coeffs")
    coeffs = np.zeros(5) if raw is None else _matrix(raw, "distortion_coefficients", source).reshape(-1)
    if model not in _SUPPORTED_MODELS and not (model == "rational_polynomial" and not np.any(coeffs[5:])):
        raise InputError(f"{source}: distortion_model {model!r} is not supported (use plumb_bob)")
    if coeffs.size == 0:
        coeffs = np.zeros(5)
    if coeffs.size > 5 and not np.any(coeffs[5:]):
        coeffs = coeffs[:5]
    if coeffs.size not in (4, 5):
        raise InputError(f"{source}: expected 4 or 5 distortion coefficients got {coeffs.size}")
    return coeffs


def intrinsics_from_calibration(
    data: dict[str, Any], source: str = "calibration", near: float = 0.01, far: float = 10.0
) -> Intrinsics:
    """Return Intrinsics from a parsed OpenCV or ROS calibration mapping."""
    width = _int_field(data, source, "image_width", "width")
    height = _int_field(data, source, "image_height", "height")
    raw_K = _lookup(data, "camera_matrix", "K")
    if raw_K is None:
        raise InputError(f"{source}: missing camera_matrix")
    K = _matrix(raw_K, "camera_matrix", source)
    if K.size != 9:
        raise InputError(f"{source}: camera_matrix must have 9 values, got {K.size}")
    try:
        return Intrinsics.from_K(K.reshape(3, 3), width, height, _distortion(data, source), near, far)
    except InputError as e:
        raise InputError(f"{source}: {e}") from e


def load_calibration(path: str | Path, near: float = 0.01, far: float = 10.0) -> Intrinsics:
    """Return Intrinsics from an OpenCV YAML/JSON or ROS camera_info YAML calibration file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"camera calibration file not found: {p}")
    return intrinsics_from_calibration(_parse_file(p), str(p), near, far)
