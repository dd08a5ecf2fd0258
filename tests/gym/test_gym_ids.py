"""``import robosynth`` registers the Gymnasium ids in either import order, without importing Gymnasium itself."""

from __future__ import annotations

import pytest

CHECK = "import sys; import gymnasium as gym; print(sorted(k for k in gym.registry if k.startswith('robosynth/')))"


@pytest.mark.parametrize("first", ["import robosynth", "import gymnasium; import robosynth"])
def test_ids_are_registered_whichever_is_imported_first(first, run_python):
    res = run_python(f"{first}; {CHECK}")
    assert res.rc == 0, res.stderr
    ids = eval(res.stdout.strip().splitlines()[-1])  # noqa: S307 - our own child's printed list
    assert "robosynth/PickPlace-v0" in ids and "robosynth/Scene-v0" in ids


def test_importing_robosynth_alone_does_not_import_gymnasium(run_python):
    res = run_python("import sys, robosynth, robosynth.cli.app; print('gymnasium' in sys.modules)")
    assert res.rc == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "False"


def test_gym_make_after_import_robosynth_and_resources_of_gymnasium_still_load(run_python):
    code = ("import robosynth, importlib.resources as r, gymnasium as gym\n"
            "env = gym.make('robosynth/PickPlace-v0', backend='mujoco')\n"
            "print(type(env.unwrapped).__name__, (r.files('gymnasium') / '__init__.py').is_file())")
    res = run_python(code)
    assert res.rc == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "RobosynthEnv True"
