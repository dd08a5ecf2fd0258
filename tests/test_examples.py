"""The examples a newcomer runs first: each script, and the custom task end to end from a copy outside the
repository (validate, generate on both engines with a camera, verify, ``robosynth/Scene-v0`` under check_env)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"


def test_generate_and_read_example(run_python, tmp_path):
    res = run_python(f"import runpy, sys; sys.argv = ['x', {str(tmp_path / 'data')!r}]; "
                     f"runpy.run_path({str(EXAMPLES / 'generate_and_read.py')!r}, run_name='__main__')",
                     cwd=tmp_path)
    assert res.rc == 0, res.stderr
    assert "written 3 episodes" in res.stdout and "obs/agentview_depth: (" in res.stdout
    assert (tmp_path / "data" / "dataset.hdf5").is_file()


def test_gym_loop_example(tmp_path, run_python):
    res = run_python(f"import runpy, sys; sys.argv = ['x', '--episodes', '2']; "
                     f"runpy.run_path({str(EXAMPLES / 'gym_loop.py')!r}, run_name='__main__')", cwd=tmp_path)
    assert res.rc == 0, res.stderr
    assert "expert success 100%" in res.stdout


@pytest.fixture(scope="module")
def custom_task(tmp_path_factory) -> Path:
    """A copy of examples/custom_task in a folder outside the repository."""
    folder = tmp_path_factory.mktemp("user_project") / "custom_task"
    shutil.copytree(EXAMPLES / "custom_task", folder)
    assert REPO_ROOT not in folder.parents
    return folder


def test_custom_task_validates(run_cli, custom_task):
    res = run_cli("validate", "press_button.yaml", cwd=custom_task)
    assert res.rc == 0, res.stderr
    assert "task press_button:PressButton" in res.stdout and "mujoco" in res.stdout and "pybullet" in res.stdout


def test_custom_task_generates_and_verifies(run_cli, custom_task, backend):
    out = f"data-{backend}"
    res = run_cli("generate", "press_button.yaml", "--backend", backend, "--episodes", "3", "--cameras", "agentview",
                  "--resolution", "32x32", "--workers", "2", "--out", out, cwd=custom_task)
    assert res.rc == 0, res.stderr
    assert "3 written now" in res.stdout and "success rate 100%" in res.stdout
    check = run_cli("verify", out, cwd=custom_task)
    assert check.rc == 0, check.stdout


def test_custom_task_gym_scene_env_passes_check_env(run_python, custom_task):
    code = (
        "import gymnasium as gym, numpy as np, robosynth\n"
        "from gymnasium.utils.env_checker import check_env\n"
        "env = gym.make('robosynth/Scene-v0', scene='press_button.yaml', obs_mode='rgbd', resolution=(32, 32))\n"
        "check_env(env.unwrapped)\n"
        "obs, _ = env.reset(seed=0)\n"
        "expert = env.unwrapped.sim.task.expert()\n"
        "for _ in range(100):\n"
        "    obs, r, term, trunc, info = env.step(expert.act(obs))\n"
        "    if term or trunc: break\n"
        "print('success', info['is_success'], obs['agentview_image'].shape)\n"
    )
    res = run_python(code, cwd=custom_task)
    assert res.rc == 0, res.stderr
    assert "success True (32, 32, 3)" in res.stdout


def test_bad_custom_task_names_are_one_line_errors(run_cli, custom_task, tmp_path):
    text = (custom_task / "press_button.yaml").read_text()
    for name, message in (("press_button:Nope", "module 'press_button' has no task 'Nope'"),
                          ("no_such_module:Task", "no Python module 'no_such_module'"),
                          ("os:getcwd", "'os:getcwd' is not a task class"),
                          ("press_button:UP", "is not a task class"),
                          ("unknown_task", "unknown task 'unknown_task'")):
        scene = custom_task / f"bad_{abs(hash(name))}.yaml"
        scene.write_text(text.replace('"press_button:PressButton"', f'"{name}"'))
        res = run_cli("validate", scene.name, cwd=custom_task)
        assert res.rc == 2 and len(res.stderr_lines) == 1, (name, res.stderr)
        assert message in res.stderr and "internal error" not in res.stderr, (name, res.stderr)
