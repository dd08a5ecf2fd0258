"""`robosynth evaluate` as a user runs it (real subprocesses on both engines): the experts' success reproduced,
random ~0, a user's module:factory policy, policy errors as failure reasons, results.json holding every printed
number, --record datasets that verify and match generate's episodes, --compare, and bad input (exit 2, one line)."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from robosynth.cli.app import invoke

REPO_ROOT = Path(__file__).resolve().parents[2]

POLICY_FILE = '''
import numpy as np

class Hold:
    """Stands still (zero motion, gripper open)."""
    def reset(self):
        self.steps = 0
    def act(self, obs):
        self.steps += 1
        assert obs["robot0_eef_pos"].shape == (3,)
        return np.array([0.0, 0.0, 0.0, 0.0, -1.0])

class Crash(Hold):
    def act(self, obs):
        if self.steps >= 2:
            raise RuntimeError("boom at step 2")
        return super().act(obs)

def hold():
    return Hold()

def crash():
    return Crash()

def wrong_dim():
    class W(Hold):
        def act(self, obs):
            return np.zeros(3)
    return W()

def not_a_policy():
    return object()

class BadSeed(Hold):
    def seed_episode(self, rng):
        raise ValueError("no seeds please")

def bad_seed():
    return BadSeed()
'''


def assert_one_error_line(res, *fragments: str) -> None:
    """Exit 2 with exactly one ``robosynth: error:`` line on stderr containing every fragment."""
    assert res.rc == 2, (res.rc, res.stdout, res.stderr)
    assert len(res.stderr_lines) == 1, res.stderr
    assert res.stderr_lines[0].startswith("robosynth: error: ") and "Traceback" not in res.stderr
    for f in fragments:
        assert f in res.stderr_lines[0], res.stderr_lines[0]


def numeric_leaves(tree) -> list[float]:
    """Return every number in a JSON tree."""
    if isinstance(tree, dict):
        return [v for x in tree.values() for v in numeric_leaves(x)]
    if isinstance(tree, list):
        return [v for x in tree for v in numeric_leaves(x)]
    if isinstance(tree, bool) or not isinstance(tree, (int, float)):
        return []
    return [float(tree)]


def assert_printed_numbers_in(stdout: str, results: dict) -> None:
    """Every number printed (table cells, title, gap lines) is a results.json number as shown (x100 for %)."""
    leaves = numeric_leaves(results)
    lines = [ln for ln in stdout.splitlines() if "randomization" not in ln]  # the header row names "95% CI"
    tokens = [t for ln in lines for t in re.findall(r"[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?", ln)]
    assert tokens
    for tok in tokens:
        value = float(tok)
        decimals = len(tok.split(".")[1]) if "." in tok and "e" not in tok else 0
        tol = 0.5 * 10 ** -decimals + 1e-9 if "e" not in tok else abs(value) * 5e-3
        assert any(math.isclose(v, value, abs_tol=tol) or math.isclose(100 * v, value, abs_tol=tol)
                   or (abs(value) > 0 and math.isclose(v, value, rel_tol=5e-3)) for v in leaves), (tok, stdout)


@pytest.fixture(scope="module")
def expert_run(tmp_path_factory):
    """pick_place with the expert on both engines, 3 episodes each, recorded, with results.json."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("evaluate")
    cmd = [sys.executable, "-m", "robosynth", "evaluate", "pick_place", "--policy", "expert", "--backend",
           "mujoco,pybullet", "--episodes", "3", "--seed", "11", "--record", str(root / "rec"), "--out",
           str(root / "results.json")]
    env = {**{k: v for k, v in os.environ.items() if k != "ROBOSYNTH_DEBUG"}, "COLUMNS": "200"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    return root, proc.stdout, json.loads((root / "results.json").read_text())


def test_expert_reproduces_its_success_on_both_engines(expert_run):
    _, stdout, results = expert_run
    for engine in ("mujoco", "pybullet"):
        assert results[engine]["rate"] == 1.0 and results[engine]["n"] == 3
        lo, hi = results[engine]["ci95"]
        assert 0.0 < lo < 1.0 and hi == 1.0
        assert results[engine]["failures"] == {"timeout": 0, "physics": 0, "policy_error": 0}
        assert 0 < results[engine]["mean_length"] < 150
    gap = results["gaps"][0]
    assert (gap["a"], gap["b"], gap["difference"], gap["p_value"]) == ("mujoco", "pybullet", 0.0, 1.0)
    assert results["evaluation_seed"] != results["seed"]
    assert "mujoco" in stdout and "gap mujoco - pybullet" in stdout


def test_results_json_holds_every_printed_number(expert_run):
    _, stdout, results = expert_run
    assert_printed_numbers_in(stdout, results)
    cell = results["cells"][0]
    assert cell["episodes_per_second"] > 0 and len(cell["episodes"]) == 3


def test_record_writes_datasets_that_verify_and_match_generate(expert_run, run_cli, tmp_path):
    root, _, results = expert_run
    for engine in ("mujoco", "pybullet"):
        res = run_cli("verify", root / "rec" / f"{engine}-scene")
        assert res.rc == 0, res.stdout + res.stderr
    # Evaluation episode i of --seed S is episode i of dataset seed evaluation_seed(S): generate reproduces it.
    seed = results["evaluation_seed"]
    gen = run_cli("generate", "pick_place", "--backend", "mujoco", "--cameras", "none", "--episodes", "1",
                  "--seed", str(seed), "--out", tmp_path / "gen")
    assert gen.rc == 0, gen.stderr
    with h5py.File(root / "rec" / "mujoco-scene" / "episodes" / "ep_000000.hdf5") as a, \
            h5py.File(tmp_path / "gen" / "episodes" / "ep_000000.hdf5") as b:
        assert int(a["data/demo_0"].attrs["seed"]) == seed
        np.testing.assert_array_equal(a["data/demo_0/actions"][()], b["data/demo_0/actions"][()])
        np.testing.assert_array_equal(a["data/demo_0/states"][()], b["data/demo_0/states"][()])


def test_random_policy_is_about_zero_on_pick_place(run_cli, tmp_path):
    res = run_cli("evaluate", "pick_place", "--policy", "random", "--backend", "mujoco,pybullet", "--episodes",
                  "3", "--out", tmp_path / "r.json")
    assert res.rc == 0, res.stderr
    results = json.loads((tmp_path / "r.json").read_text())
    for engine in ("mujoco", "pybullet"):
        assert results[engine]["successes"] == 0
        assert results[engine]["failures"]["timeout"] == 3 and results[engine]["mean_length"] == 150
    assert_printed_numbers_in(res.stdout, results)


def test_module_factory_policy_from_a_file_runs_and_its_errors_are_failures(run_cli, tmp_path):
    (tmp_path / "my_policies.py").write_text(POLICY_FILE)
    env = {"PYTHONPATH": os.pathsep.join((str(REPO_ROOT), str(tmp_path)))}
    res = run_cli("evaluate", "reach", "--policy", "my_policies:hold", "--episodes", "2", "--max-steps", "5",
                  "--randomization", "none,heldout:physical", "--out", tmp_path / "h.json", env=env)
    assert res.rc == 0, res.stderr
    hold = json.loads((tmp_path / "h.json").read_text())
    assert [c["randomization"] for c in hold["cells"]] == ["none", "heldout:physical"]
    assert hold["mujoco"]["n"] == 4 and hold["mujoco"]["failures"]["timeout"] == 4
    assert hold["max_steps"] == 5 and hold["mujoco"]["mean_length"] == 5.0
    path_ref = f"{tmp_path / 'my_policies.py'}:crash"  # a file path works too
    res = run_cli("evaluate", "reach", "--policy", path_ref, "--episodes", "2", "--out", tmp_path / "c.json")
    assert res.rc == 0, res.stderr
    crash = json.loads((tmp_path / "c.json").read_text())
    assert crash["mujoco"]["failures"]["policy_error"] == 2
    assert crash["mujoco"]["mean_length"] == 2.0
    assert crash["cells"][0]["failure_reasons"] == {"policy error: RuntimeError: boom at step 2": 2}


def test_missing_robomimic_is_one_line(run_cli, tmp_path):
    try:
        import robomimic  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("robomimic is installed")
    ckpt = tmp_path / "model.pth"
    ckpt.write_bytes(b"not used")
    assert_one_error_line(run_cli("evaluate", "pick_place", "--policy", f"robomimic:{ckpt}"),
                          "robomimic", "not installed")


@pytest.mark.parametrize(("args", "fragments"), [
    (["reach", "--policy", "teleop"], ["unknown --policy 'teleop'"]),
    (["reach", "--policy", "no_such_module_xyz:make"], ["no Python module 'no_such_module_xyz'"]),
    (["reach", "--policy", "json:dumps"], ["json:dumps() failed"]),
    (["reach", "--policy", "os:getcwd"], ["without reset() and act()"]),
    (["reach", "--backend", "mujoco,ode"], ["unknown backend 'ode'"]),
    (["reach", "--episodes", "0"], ["--episodes must be in 1.."]),
    (["reach", "--randomization", "heldout:nope"], ["unknown randomization preset 'nope'"]),
    (["no_such_scene"], ["no_such_scene"]),
    ([], ["missing SCENE"]),
    (["reach", "--compare", "a.json", "b.csv"], ["--compare takes no SCENE"]),
])
def test_bad_input_is_one_line(args, fragments, capsys):
    assert invoke(["evaluate", *args]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("robosynth: error: "), err
    for f in fragments:
        assert f in err[0], err[0]


def test_policy_returning_a_wrong_action_is_a_failure_not_a_crash(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_policies2.py").write_text(POLICY_FILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "w.json"
    assert invoke(["evaluate", "reach", "--policy", "my_policies2:wrong_dim", "--episodes", "1", "--out",
                   str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["cells"][0]["failure_reasons"] == {"policy error: act returned 3 values, the action has 5": 1}
    assert results["mujoco"]["mean_length"] == 0.0
    assert invoke(["evaluate", "reach", "--policy", "my_policies2:bad_seed", "--episodes", "2", "--out",
                   str(out)]) == 0  # an error before the first action fails each episode, not the evaluation
    assert json.loads(out.read_text())["cells"][0]["failure_reasons"] == {
        "policy error: ValueError: no seeds please": 2}
    assert invoke(["evaluate", "reach", "--policy", "my_policies2:not_a_policy"]) == 2
    assert "without reset() and act()" in capsys.readouterr().err


def test_compare_files(run_cli, tmp_path):
    (tmp_path / "real.csv").write_text("policy,rate,notes\na,0.9,x\nb,0.5,y\nc,0.1,z\n")
    (tmp_path / "sim.json").write_text(json.dumps({"a": {"rate": 0.2}, "b": 0.6, "c": {"rate": 0.8, "n": 10}}))
    res = run_cli("evaluate", "--compare", tmp_path / "real.csv", tmp_path / "sim.json", "--out", tmp_path / "c.json")
    assert res.rc == 0, res.stderr
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["mmrv"] == pytest.approx(2 / 3)
    assert data["pearson_r"] == pytest.approx(-0.24 / math.sqrt(0.32 * 42 / 225))
    assert "MMRV = 0.667" in res.stdout and "Pearson r = -0.982" in res.stdout
    (tmp_path / "bad.csv").write_text("policy,rate\na,1.5\nb,0.2\n")
    assert_one_error_line(run_cli("evaluate", "--compare", tmp_path / "real.csv", tmp_path / "bad.csv"),
                          "policy 'a'", "[0, 1]")
