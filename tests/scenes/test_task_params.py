"""Typed task parameters and required objects (issue 10, item 3): bad scenes fail with one line, exit 2.

Most cases run the real CLI entry point in-process (``robosynth.cli.invoke``); a few run the command in a
subprocess to show that nothing (no engine) starts before the error.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pytest
import yaml

from randomization.load import load_scene_randomized
from robosynth.cli import invoke
from scenes.loader import BUILTIN_DIR, builtin_names, load_scene, scene_from_dict
from scenes.tasks import make_task, registered_tasks, task_class, task_params, validate_task
from sim.errors import InputError, SceneError


def _base(scene: str) -> dict:
    return yaml.safe_load((BUILTIN_DIR / f"{scene}.yaml").read_text())


def _rename(data: dict, old: str, new: str) -> dict:
    for o in data["objects"]:
        if o["name"] == old:
            o["name"] = new
    return data


def _obj(data: dict, name: str) -> dict:
    return next(o for o in data["objects"] if o["name"] == name)


def _set(scene: str, **params) -> dict:
    data = _base(scene)
    data["task"]["params"].update(params)
    return data


def _drop(scene: str, key: str) -> dict:
    data = _base(scene)
    del data["task"]["params"][key]
    return data


def _edit(scene: str, fn) -> dict:
    data = _base(scene)
    fn(data)
    return data


def _rename_everywhere_but_randomization(data: dict, old: str, new: str) -> None:
    data["randomization"] = {"physical": {"objects": {old: {"mass": {"dist": "uniform", "low": 0.04, "high": 0.06}}}}}
    _rename(data, old, new)
    data["task"]["params"][old] = new


# (scene data, the exact error line after "robosynth: error: " or a prefix of it ending in "...")
BAD = {
    "renamed_cube": (_rename(_base("pick_place"), "cube", "block"),
                     "task.params.cube: task pick_place needs an object named 'cube' (scene objects: table, block, "
                     "target)"),
    "renamed_target": (_rename(_base("pick_place"), "target", "marker"),
                       "task.params.target: task pick_place needs an object named 'target' ..."),
    "renamed_cube_a": (_rename(_base("stack"), "cube_a", "red"),
                       "task.params.cube_a: task stack needs an object named 'cube_a' (scene objects: table, red, "
                       "cube_b)"),
    "renamed_obj_0": (_rename(_base("clutter"), "obj_0", "thing"),
                      "task.params.objects[0]: task clutter needs an object named 'obj_0' ..."),
    "renamed_goal": (_rename(_base("push"), "goal", "disc"),
                     "task.params.goal: task push needs an object named 'goal' ..."),
    "params_name_missing_object": (_set("reach", target="nowhere"),
                                   "task.params.target: task reach needs an object named 'nowhere' ..."),
    "one_corner": (_set("pick_place", cube_region=[[0.42, -0.12]]),
                   "task.params.cube_region: expected 2 corners [[x, y], [x, y]], got [[0.42, -0.12]]"),
    "three_corners": (_set("push", goal_region=[[0.4, -0.2], [0.6, 0.2], [0.7, 0.3]]),
                      "task.params.goal_region: expected 2 corners [[x, y], [x, y]], got ..."),
    "corner_with_three_numbers": (_set("pick_place", cube_region=[[0.42, -0.12, 0.0], [0.58, 0.12]]),
                                  "task.params.cube_region: expected 2 corners [[x, y], [x, y]], got "
                                  "[[0.42, -0.12, 0.0], [0.58, 0.12]]"),
    "reach_2d_region": (_set("reach", target_region=[[0.3, -0.2], [0.6, 0.2]]),
                        "task.params.target_region: expected 2 corners [[x, y, z], [x, y, z]], got ..."),
    "region_not_a_list": (_set("stack", cube_a_region="left"),
                          "task.params.cube_a_region: expected 2 corners [[x, y], [x, y]], got 'left'"),
    "region_low_above_high": (_set("pick_place", target_region=[[0.58, -0.15], [0.42, 0.15]]),
                              "task.params.target_region: low corner > high corner on x: "
                              "[[0.58, -0.15], [0.42, 0.15]]"),
    "region_nan": (_set("pick_place", cube_region=[[math.nan, -0.12], [0.58, 0.12]]),
                   "task.params.cube_region: corners must be finite numbers within 1000 m of the origin, got ..."),
    "region_string_corner": (_set("stack", cube_b_region=[["a", 0.0], [0.5, 0.1]]),
                             "task.params.cube_b_region: corners must be numbers, got [['a', 0.0], [0.5, 0.1]]"),
    "negative_threshold": (_set("reach", success_threshold=-0.02), "task.params.success_threshold: must be > 0.0"),
    "zero_tolerance": (_set("stack", z_tolerance=0), "task.params.z_tolerance: must be > 0.0"),
    "threshold_string": (_set("pick_place", success_threshold="0.03"),
                         "task.params.success_threshold: must be a number, got '0.03'"),
    "threshold_bool": (_set("push", success_threshold=True),
                       "task.params.success_threshold: must be a number, got True"),
    "threshold_inf": (_set("pick_place", success_threshold=math.inf),
                      "task.params.success_threshold: Input should be a finite number"),
    "yaw_range_huge": (_set("stack", cube_yaw_range=1e308), "task.params.cube_yaw_range: must be <= 6.28..."),
    "negative_height": (_set("pick_place", target_height=-0.1), "task.params.target_height: must be >= 0.0"),
    "max_below_min": (_set("push", min_distance=0.2, max_distance=0.1),
                      "task.params.max_distance: must be >= min_distance (0.2)"),
    "name_is_a_number": (_set("pick_place", cube=5), "task.params.cube: Input should be a valid string"),
    "unknown_param": (_set("pick_place", cube_regoin=[[0.4, -0.1], [0.6, 0.1]]),
                      "task.params.cube_regoin: unknown field (task pick_place parameters: reward_type, cube, target, "
                      "cube_region, target_region, target_height, min_separation, success_threshold, cube_yaw_range)"),
    "bad_reward_type": (_set("reach", reward_type="shaped"),
                        "task.params.reward_type: Input should be 'dense' or 'sparse'"),
    "same_object_twice": (_set("pick_place", target="cube"),
                          "task.params.target: names the same object as task.params.cube ('cube'); task pick_place "
                          "needs different objects"),
    "fixed_cube": (_edit("pick_place", lambda d: _obj(d, "cube").update(fixed=True)),
                   "objects[1].fixed: task pick_place needs object 'cube' (task.params.cube) with fixed: false: the "
                   "robot grasps and lifts it"),
    "free_target": (_edit("reach", lambda d: _obj(d, "target").update(fixed=False)),
                    "objects[1].fixed: task reach needs object 'target' (task.params.target) with fixed: true: the "
                    "task places it in mid-air each episode"),
    "ghost_cube": (_edit("push", lambda d: _obj(d, "cube").update(collide=False)),
                   "objects[1].collide: task push needs object 'cube' (task.params.cube) with collide: true: ..."),
    "sphere_to_stack": (_edit("stack", lambda d: _obj(d, "cube_b").update(shape="sphere", size=[0.025])),
                        "objects[2].shape: task stack needs object 'cube_b' (task.params.cube_b) to be a box, got "
                        "sphere: cube_a rests on it and the stacked height uses its size"),
    "clutter_fixed_object": (_edit("clutter", lambda d: _obj(d, "obj_3").update(fixed=True)),
                             "objects[9].fixed: task clutter needs object 'obj_3' (task.params.objects[3]) with fixed: "
                             "false: ..."),
    "clutter_missing_param": (_drop("clutter", "tray_top"), "task.params.tray_top: Field required"),
    "clutter_no_objects": (_set("clutter", objects=[]),
                           "task.params.objects: Tuple should have at least 1 item after validation, not 0"),
    "clutter_duplicate_object": (_set("clutter", objects=["obj_0", "obj_1", "obj_0"]),
                                 "task.params.objects[2]: names the same object as task.params.objects[0] ('obj_0'); "
                                 "task clutter needs different objects"),
    "clutter_stale_marker": (_set("clutter", obj_9_region=[[0.4, -0.1], [0.6, 0.1]]),
                             "task.params.obj_9_region: unknown field (and no object 'obj_9' in the scene for an "
                             "<object>_region marker)"),
    "clutter_bad_marker": (_set("clutter", obj_2_region=[[0.4, -0.1]]),
                           "task.params.obj_2_region: expected 2 corners [[x, y], [x, y]], got [[0.4, -0.1]]"),
    "clutter_drop_height": (_set("clutter", drop_height=[0.8, 0.5]), "task.params.drop_height: low > high: ..."),
    "task_none_with_params": (_edit("pick_place", lambda d: d.update(task={"name": "none", "params": {"cube": 1}})),
                              "task.params.cube: unknown field (task none takes no parameters)"),
    "randomization_renamed_object": (
        _edit("pick_place", lambda d: _rename_everywhere_but_randomization(d, "cube", "block")),
        "randomization.physical.objects.cube: unknown object 'cube' (scene objects: table, block, target)"),
    "nan_light": (_edit("pick_place", lambda d: d["lights"][0].update(ambient=[0.4, 0.4, math.nan])),
                  "lights[0].ambient[2]: Input should be a finite number"),
}


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _check_line(err: str, expected: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    line = lines[0].removeprefix("robosynth: error: ")
    assert lines[0].startswith("robosynth: error: "), lines[0]
    if expected.endswith("..."):
        assert line.startswith(expected[:-3]), (line, expected)
    else:
        assert line == expected, (line, expected)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_task_scene_is_refused_by_validate_and_generate(capsys, tmp_path: Path, case: str) -> None:
    data, expected = BAD[case]
    path = _write(tmp_path, case, data)
    for argv in (["validate", path], ["generate", path, "--out", tmp_path / "ds", "-n", "1", "--cameras", "none"]):
        capsys.readouterr()
        rc = invoke([str(a) for a in argv])
        out = capsys.readouterr()
        assert rc == 2, (argv[0], out.err)
        _check_line(out.err, expected)
        assert "internal error" not in out.err and "Traceback" not in out.err
    assert not (tmp_path / "ds").exists() or not any((tmp_path / "ds").rglob("*.hdf5"))
    with pytest.raises(SceneError):
        load_scene_randomized(path)  # the scene as the application loads it (its randomization section too)


def test_bad_task_scene_fails_before_any_engine_starts(run_python, tmp_path: Path) -> None:
    path = _write(tmp_path, "renamed", BAD["renamed_cube"][0])
    code = textwrap.dedent(
        f"""
        import sys
        from robosynth.cli import invoke
        rcs = [invoke(["validate", {str(path)!r}]),
               invoke(["generate", {str(path)!r}, "--out", {str(tmp_path / "ds")!r}, "-n", "1"])]
        print(rcs, sorted(m for m in ("mujoco", "pybullet") if m in sys.modules))
        """
    )
    res = run_python(code)
    assert res.rc == 0, res.stderr
    assert res.stdout.strip() == "[2, 2] []"
    assert res.stderr_lines == [f"robosynth: error: {BAD['renamed_cube'][1]}"] * 2


def test_real_command_one_corner(run_cli, tmp_path: Path) -> None:
    path = _write(tmp_path, "one_corner", BAD["one_corner"][0])
    res = run_cli("generate", path, "--out", tmp_path / "ds", "-n", "1", "--cameras", "none")
    assert res.rc == 2 and res.stdout == "", res
    assert res.stderr_lines == [f"robosynth: error: {BAD['one_corner'][1]}"]


def test_gym_env_and_simulation_refuse_bad_tasks(tmp_path: Path) -> None:
    from robosynth.gym import RobosynthEnv
    from scenes.runtime import Simulation

    path = _write(tmp_path, "renamed", BAD["renamed_cube_a"][0])
    with pytest.raises(InputError, match=r"task\.params\.cube_a: task stack needs an object named 'cube_a'"):
        RobosynthEnv(scene=str(path))
    # a spec that bypassed the loader (model_copy) is refused by make_task, i.e. by Simulation too
    spec = load_scene("pick_place")
    bad = spec.model_copy(update={"task": spec.task.model_copy(update={"params": {"cube_region": [[0.4, 0.0]]}})})
    with pytest.raises(SceneError, match=r"^task\.params\.cube_region: expected 2 corners"):
        make_task(bad)
    with pytest.raises(SceneError, match=r"^task\.params\.cube_region: expected 2 corners"):
        Simulation(bad, "mujoco")


# ---------------------------------------------------------------------------------------- good input

# The task parameter dicts before they became models: the defaults must not change (bit-identical episodes).
OLD_DEFAULTS = {
    "pick_place": {"cube": "cube", "target": "target", "cube_region": [[0.42, -0.12], [0.58, 0.12]],
                   "target_region": [[0.42, -0.15], [0.58, 0.15]], "target_height": 0.1, "min_separation": 0.08,
                   "success_threshold": 0.03, "cube_yaw_range": 0.6},
    "reach": {"target": "target", "target_region": [[0.35, -0.25, 0.45], [0.65, 0.25, 0.70]],
              "success_threshold": 0.02},
    "push": {"cube": "cube", "goal": "goal", "cube_region": [[0.42, -0.12], [0.56, 0.12]],
             "goal_region": [[0.40, -0.22], [0.64, 0.22]], "min_distance": 0.10, "max_distance": 0.22,
             "cube_yaw_range": 0.5, "success_threshold": 0.03},
    "stack": {"cube_a": "cube_a", "cube_b": "cube_b", "cube_a_region": [[0.42, -0.15], [0.58, 0.15]],
              "cube_b_region": [[0.42, -0.15], [0.58, 0.15]], "min_separation": 0.10, "cube_yaw_range": 0.6,
              "xy_threshold": 0.02, "z_tolerance": 0.01},
    "clutter": {"settle_speed": 0.002, "spacing": 0.09},
    "pick_mesh": {"target": "can", "bin": "bin", "gap": 0.015, "target_gap": 0.05, "bin_inner": [0.3, 0.22],
                  "bin_rim": 0.11, "settle_speed": 0.002, "grasp_height": 0.08},
    "open_drawer": {"cabinet": "cabinet", "drawer_joint": "drawer_slide", "handle_link": "handle",
                    "cabinet_region": [[0.78, -0.08], [0.84, 0.08]], "cabinet_yaw_range": 0.2, "open_threshold": 0.12},
}


@pytest.mark.parametrize("name", sorted(registered_tasks()))
def test_defaults_are_the_old_values(name: str) -> None:
    fields = task_class(name).Params.model_fields
    for key, value in OLD_DEFAULTS[name].items():
        assert json.dumps(fields[key].default) == json.dumps(value), (name, key)
    assert fields["reward_type"].default == "dense"


@pytest.mark.parametrize("scene", builtin_names())
def test_builtin_scenes_params_read_like_the_old_dicts(scene: str) -> None:
    spec = load_scene(scene)
    validate_task(spec)
    params = task_params(spec)
    task = make_task(spec)
    raw = {**OLD_DEFAULTS.get(spec.task.name, {}), **spec.task.params}
    for key, value in raw.items():
        assert json.dumps(params[key]) == json.dumps(value), (key, params[key], value)  # same numbers, lists -> tuples
        assert params.get(key) == params[key] == getattr(params, key)
    assert params.get("nope", 7) == 7
    with pytest.raises(KeyError):
        params["nope"]
    with pytest.raises(Exception, match="frozen"):
        params.reward_type = "sparse"
    required = type(task).required_objects(params)
    assert required and all(spec.object(n) for n in required)
    assert required == tuple(n.name for n in type(task).object_needs(params))


def test_required_objects_follow_the_params() -> None:
    data = _rename(_rename(_base("pick_place"), "cube", "block"), "target", "marker")
    data["task"]["params"].update(cube="block", target="marker")
    spec = scene_from_dict(data, BUILTIN_DIR)
    cls = task_class("pick_place")
    assert cls.required_objects(task_params(spec)) == ("block", "marker")
    assert make_task(spec).cube == "block"
    assert task_class("none") is None
    validate_task(scene_from_dict({"name": "t", "task": {"name": "none"}}))


def test_int_and_float_values_are_the_same_parameter() -> None:
    a = scene_from_dict(_set("pick_place", target_height=1, min_separation=0), BUILTIN_DIR)
    b = scene_from_dict(_set("pick_place", target_height=1.0, min_separation=0.0), BUILTIN_DIR)
    assert task_params(a) == task_params(b)
    assert isinstance(task_params(a).target_height, float)
