"""`robosynth generate --adaptive` end to end: ranges widen to their envelope on an easy task, stay put on an
impossible one, every episode regenerates exactly from its recorded ranges, and unsupported flags are one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from randomization.config import RandomizationConfig
from randomization.params import sample_episode_params
from robosynth.dataset import read_episode
from robosynth.generate.recording import EpisodeRunner, RecordingOptions
from scenes.loader import load_scene, scene_dir

ADR = """preset: none
physical:
  objects:
    table:
      restitution: {dist: uniform, low: 0.05, high: 0.1}
robot:
  gain_scale: {dist: uniform, low: 0.95, high: 1.05}
adaptive: {queue: 2, batch: 4, boundary_fraction: 1.0, step: 0.5, envelope: 3.0}
"""


@pytest.fixture(scope="module")
def easy(tmp_path_factory):
    import os
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("adr")
    (root / "adr.yaml").write_text(ADR)
    cmd = [sys.executable, "-m", "robosynth", "generate", "reach", "--adaptive", "--cameras", "none", "--episodes",
           "40", "--seed", "3", "--randomization", str(root / "adr.yaml"), "--out", str(root / "ds")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    return root


def test_easy_task_widens_to_the_envelope(easy, run_cli):
    report = json.loads((easy / "ds" / "adaptive.json").read_text())
    assert report["final"] == report["envelope"]
    assert report["initial"] == {"physical.objects.table.restitution": [0.05, 0.1], "robot.gain_scale": [0.95, 1.05]}
    for name in report["initial"]:
        los = [h["ranges"][name][0] for h in report["history"]]
        his = [h["ranges"][name][1] for h in report["history"]]
        assert los == sorted(los, reverse=True) and his == sorted(his)
    assert report["envelope"]["physical.objects.table.restitution"][0] == 0.0  # clipped to the physical limit
    assert run_cli("verify", easy / "ds").rc == 0


def test_recorded_ranges_regenerate_each_episode_exactly(easy):
    spec = load_scene("reach")
    runner = EpisodeRunner(spec, RecordingOptions(backend="mujoco"), scene_dir("reach"))
    try:
        for k in (0, 17, 39):
            ep = read_episode(easy / "ds" / "episodes" / f"ep_{k:06d}.hdf5")
            meta = ep.ep_meta["adaptive"]
            params = sample_episode_params(RandomizationConfig.model_validate(meta["config"]), spec, 3, k)
            assert params.to_dict() == ep.ep_meta["randomization"]
            again = runner.run(3, k, params).record
            np.testing.assert_array_equal(again.actions, ep.actions)
            np.testing.assert_array_equal(again.states, ep.states)
    finally:
        runner.close()


def test_impossible_task_keeps_its_initial_ranges(run_cli, tmp_path):
    (tmp_path / "adr.yaml").write_text(ADR)
    res = run_cli("generate", "reach", "--adaptive", "--cameras", "none", "--episodes", "16", "--max-steps", "1",
                  "--keep-failed", "--randomization", tmp_path / "adr.yaml", "--out", tmp_path / "ds")
    assert res.rc == 0, res.stderr
    report = json.loads((tmp_path / "ds" / "adaptive.json").read_text())
    assert all(h["ranges"] == report["initial"] for h in report["history"])


@pytest.mark.parametrize("flag", [["--workers", "2"], ["--indices", "1"]])
def test_unsupported_flags_are_one_line(run_cli, tmp_path, flag):
    res = run_cli("generate", "reach", "--adaptive", "--episodes", "2", "--cameras", "none", *flag,
                  "--out", tmp_path / "x")
    assert res.rc == 2 and len(res.stderr_lines) == 1 and "--adaptive runs in one local process" in res.stderr


def test_report_plots_how_each_range_evolved(easy, run_cli):
    res = run_cli("report", easy / "ds", "--out", easy / "report")
    assert res.rc == 0, res.stderr
    report = json.loads((easy / "report" / "report.json").read_text())
    adaptive = json.loads((easy / "ds" / "adaptive.json").read_text())
    section = report["adaptive"]
    assert (easy / "report" / section["plot"]).is_file()
    for name, values in section["ranges"].items():
        assert values["first"] == adaptive["initial"][name] and values["last"] == adaptive["final"][name]
        assert values["episodes"] == 40
    assert "Adaptive randomization" in (easy / "report" / "index.html").read_text()


FOCUS = """preset: none
robot:
  gain_scale: {dist: uniform, low: 0.5, high: 1.5}
adaptive: {bins: 3}
"""


def test_focus_failures_records_where_the_policy_failed_and_regenerates(run_cli, tmp_path):
    (tmp_path / "focus.yaml").write_text(FOCUS)
    res = run_cli("generate", "reach", "--focus-failures", "random", "--cameras", "none", "--episodes", "4",
                  "--seed", "2", "--randomization", tmp_path / "focus.yaml", "--out", tmp_path / "ds")
    assert res.rc == 0, res.stderr
    assert run_cli("verify", tmp_path / "ds").rc == 0
    focus = json.loads((tmp_path / "ds" / "focus.json").read_text())
    post = focus["posterior"]["robot.gain_scale"]
    assert focus["policy"] == "random" and sum(post["failures"]) + sum(post["successes"]) == 4
    spec = load_scene("reach")
    for k in range(4):
        ep = read_episode(tmp_path / "ds" / "episodes" / f"ep_{k:06d}.hdf5")
        meta = ep.ep_meta["focus"]
        assert meta["policy_success"] is False and meta["bins"]["robot.gain_scale"] in (0, 1, 2)
        params = sample_episode_params(RandomizationConfig.model_validate(meta["config"]), spec, 2, k)
        assert params.to_dict() == ep.ep_meta["randomization"]
    bad = run_cli("generate", "reach", "--focus-failures", "teleop", "--randomization", tmp_path / "focus.yaml",
                  "--out", tmp_path / "bad")
    assert bad.rc == 2 and len(bad.stderr_lines) == 1 and "unknown --policy 'teleop'" in bad.stderr
    assert not (tmp_path / "bad").exists()
