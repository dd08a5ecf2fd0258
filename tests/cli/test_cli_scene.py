"""The real ``robosynth`` command on scenes: scenes, schema, validate, bad input."""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path

import pytest

from sim.backend import BACKENDS


def _assert_bad_input(res, *needles: str) -> None:
    """Exit 2, exactly one non-empty stderr line in robosynth's format, no traceback, naming the problem."""
    assert res.rc == 2, (res.rc, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout
    assert len(res.stderr_lines) == 1, res.stderr
    line = res.stderr_lines[0]
    assert line.startswith("robosynth: error: "), line
    for needle in needles:
        assert needle in line, (needle, line)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).removeprefix("\n"))
    return path


# ------------------------------------------------------------------------------------------ good input


def test_scenes_lists_pick_place_with_task_and_description(run_cli) -> None:
    res = run_cli("scenes")
    assert res.rc == 0, res.stderr
    row = next(line for line in res.stdout.splitlines() if "pick_place" in line)
    assert row.count("pick_place") == 2  # scene name and task name
    assert "Franka Panda lifts" in res.stdout


def test_schema_is_json_schema_of_scene(run_cli) -> None:
    res = run_cli("schema")
    assert res.rc == 0, res.stderr
    schema = json.loads(res.stdout)
    assert "objects" in schema["properties"]
    assert "name" in schema["required"]
    assert "ObjectSpec" in schema["$defs"]


def test_version_and_help(run_cli) -> None:
    res = run_cli("--version")
    assert res.rc == 0 and res.stdout.startswith("robosynth "), res
    for verb in ("scenes", "schema", "validate"):
        res = run_cli(verb, "--help")
        assert res.rc == 0, (verb, res.stderr)
        assert "Usage" in res.stdout
    res = run_cli("--help")
    assert all(v in res.stdout for v in ("scenes", "schema", "validate"))


def test_validate_builtin_on_backend(run_cli, backend: str) -> None:
    res = run_cli("validate", "pick_place", "--backend", backend)
    assert res.rc == 0, res.stderr
    out = res.stdout
    assert f"pick_place on {backend}" in out
    for name in ("bodies", "joints", "actuators", "cameras", "panda_joint1", "cube", "agentview", "wrist"):
        assert name in out, name


def test_validate_all_backends_from_yaml_path(run_cli, tmp_path: Path) -> None:
    scene = _write(
        tmp_path / "s.yaml",
        """
        name: tiny
        objects:
          - {name: block, size: [0.05, 0.05, 0.05], pose: {pos: [0.5, 0.0, 0.025]}}
        cameras:
          - {name: front}
        task: {name: none}
        """,
    )
    res = run_cli("validate", scene)
    assert res.rc == 0, res.stderr
    for backend in BACKENDS:
        assert f"tiny on {backend}" in res.stdout
    assert "block" in res.stdout and "front" in res.stdout


# ------------------------------------------------------------------------------------------- bad input


BAD_SCENES = {
    "unknown_field": (
        """
        name: t
        objects:
          - {name: a}
          - {name: b, colour: [1, 0, 0, 1]}
        """,
        ("objects[1].colour", "unknown field"),
    ),
    "negative_size": (
        """
        name: t
        objects:
          - {name: a, size: [0.1, -0.2, 0.1]}
        """,
        ("objects[0].size: must be > 0",),
    ),
    "missing_asset": (
        """
        name: t
        objects:
          - {name: a, shape: mesh, asset: nope.obj}
        """,
        ("objects[0].asset", "'nope.obj'", "not found"),
    ),
    "object_far_away": (
        """
        name: t
        objects:
          - {name: a, pose: {pos: [1.0e300, 0, 0.4]}}
        """,
        ("objects[0].pose.pos[0]: must be <= 1000",),
    ),
    "camera_far_away": (
        """
        name: t
        cameras:
          - {name: c, pos: [0, -5000, 1]}
        """,
        ("cameras[0].pos[1]: must be >= -1000",),
    ),
    "far_before_near": (
        """
        name: t
        cameras:
          - {name: c}
          - {name: d, near: 2.0, far: 1.0}
        """,
        ("cameras[1].far: must be > near",),
    ),
    "wrong_size_count": (
        """
        name: t
        objects:
          - {name: ball, shape: sphere, size: [0.1, 0.1]}
        """,
        ("objects[0].size", "sphere needs 1"),
    ),
    "duplicate_name": (
        """
        name: t
        objects:
          - {name: a}
          - {name: a}
        """,
        ("objects[1].name", "duplicate"),
    ),
    "missing_name": ("objects: []\n", ("name:", "required")),
    "top_level_list": ("- name: t\n", ("mapping",)),
    "yaml_syntax": ("name: [unclosed\n", ("not valid YAML", "line")),
    "empty": ("", ("empty",)),
    "whitespace_only": ("\n   \n\t\n", ("empty",)),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENES))
def test_bad_scene_file(run_cli, tmp_path: Path, case: str) -> None:
    text, needles = BAD_SCENES[case]
    scene = _write(tmp_path / f"{case}.yaml", text)
    res = run_cli("validate", scene)
    _assert_bad_input(res, *needles)
    assert res.stdout == ""  # nothing printed before the error


def test_asset_path_escaping_with_dotdot_is_refused(run_cli, tmp_path: Path) -> None:
    # the target exists, so the refusal is about the path, not a missing file
    (tmp_path / "outside.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    scene = _write(
        tmp_path / "scene" / "s.yaml",
        """
        name: t
        objects:
          - {name: a, shape: mesh, asset: ../outside.obj}
        """,
    )
    _assert_bad_input(run_cli("validate", scene), "objects[0].asset", "../outside.obj", "escapes")


def test_yaml_never_constructs_python_objects(run_cli, tmp_path: Path) -> None:
    marker = tmp_path / "hacked"
    scene = tmp_path / "evil.yaml"
    scene.write_text(f'name: !!python/object/apply:os.system ["echo hacked > {marker}"]\n')
    res = run_cli("validate", scene)
    _assert_bad_input(res, "evil.yaml", "python/object")
    assert not marker.exists()
    assert "hacked" not in res.stdout


def test_binary_garbage(run_cli, tmp_path: Path) -> None:
    scene = tmp_path / "garbage.yaml"
    scene.write_bytes(random.Random(0).randbytes(4096))
    _assert_bad_input(run_cli("validate", scene), "garbage.yaml")


def test_nonexistent_path(run_cli, tmp_path: Path) -> None:
    _assert_bad_input(run_cli("validate", tmp_path / "missing.yaml"), "missing.yaml", "does not exist")


def test_directory_instead_of_file(run_cli, tmp_path: Path) -> None:
    folder = tmp_path / "scene.yaml"
    folder.mkdir()
    _assert_bad_input(run_cli("validate", folder), "directory")


def test_unknown_builtin_name(run_cli) -> None:
    _assert_bad_input(run_cli("validate", "no_such_scene"), "unknown scene 'no_such_scene'", "pick_place")


def test_unknown_backend_is_checked_before_the_scene(run_cli, tmp_path: Path) -> None:
    _assert_bad_input(run_cli("validate", "pick_place", "--backend", "ode"), "unknown backend 'ode'")
    # the flag is checked first: even a missing scene file reports the backend
    _assert_bad_input(run_cli("validate", tmp_path / "nope.yaml", "-b", "ode"), "'ode'")


@pytest.mark.parametrize(
    ("args", "needle"),
    [(("validate",), "Missing argument"), (("validate", "pick_place", "--frobnicate"), "--frobnicate"),
     (("frobnicate",), "frobnicate")],
)
def test_usage_errors(run_cli, args: tuple[str, ...], needle: str) -> None:
    _assert_bad_input(run_cli(*args), needle)


# ------------------------------------------------------------------------ no side effects, no engines


def test_imports_have_no_side_effects(run_python) -> None:
    code = textwrap.dedent(
        """
        import json, os, sys
        import sim, scenes, randomization, renderers, robosynth, sim.backend, sim.assets, scenes.loader
        import robosynth.cli
        print(json.dumps({"gl": os.environ.get("MUJOCO_GL"),
                          "engines": sorted(m for m in ("mujoco", "pybullet") if m in sys.modules)}))
        """
    )
    res = run_python(code, env={"MUJOCO_GL": None, "PYOPENGL_PLATFORM": None})
    assert res.rc == 0, res.stderr
    assert json.loads(res.stdout) == {"gl": None, "engines": []}


def test_invalid_scene_fails_before_any_engine_starts(run_python, tmp_path: Path) -> None:
    scene = _write(tmp_path / "bad.yaml", "name: t\nobjects:\n  - {name: a, size: [-1, 1, 1]}\n")
    code = textwrap.dedent(
        f"""
        import sys
        from robosynth.cli import invoke
        rc = invoke(["validate", {str(scene)!r}])
        print(rc, sorted(m for m in ("mujoco", "pybullet") if m in sys.modules))
        """
    )
    res = run_python(code)
    assert res.rc == 0, res.stderr
    assert res.stdout.split() == ["2", "[]"]


def test_unexpected_error_is_one_line_exit_1_traceback_only_with_debug(run_python) -> None:
    code = textwrap.dedent(
        """
        import sys
        import randomization.load
        from robosynth.cli import invoke
        def boom(ref):
            raise ZeroDivisionError("kaboom")
        randomization.load.load_scene = boom
        sys.exit(invoke(["validate", "pick_place", "-b", "mujoco"]))
        """
    )
    res = run_python(code)
    assert res.rc == 1
    assert len(res.stderr_lines) == 1 and "Traceback" not in res.stderr
    assert "ZeroDivisionError: kaboom" in res.stderr and "ROBOSYNTH_DEBUG" in res.stderr
    res = run_python(code, env={"ROBOSYNTH_DEBUG": "1"})
    assert res.rc == 1 and "Traceback" in res.stderr


def test_keyboard_interrupt_exits_130(run_python) -> None:
    code = textwrap.dedent(
        """
        import sys
        import randomization.load
        from robosynth.cli import invoke
        def interrupted(ref):
            raise KeyboardInterrupt
        randomization.load.load_scene = interrupted
        sys.exit(invoke(["validate", "pick_place"]))
        """
    )
    res = run_python(code)
    assert res.rc == 130 and "Traceback" not in res.stderr
