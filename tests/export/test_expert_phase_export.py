"""The scripted expert's phase label is exported to LeRobot as its own feature, not folded into observation.state."""

from __future__ import annotations

import json

import numpy as np
import pytest
from export_data import robosynth

from robosynth.dataset import iter_episodes

pq = pytest.importorskip("pyarrow.parquet")


def test_expert_phase_is_its_own_lerobot_feature(tmp_path):
    src, out = tmp_path / "pick", tmp_path / "pick_lerobot"
    r = robosynth("generate", "pick_place", "--out", src, "-n", 1, "--seed", 0, "--cameras", "none")
    assert r.returncode == 0, r.stderr
    r = robosynth("export", src, "--format", "lerobot", "--out", out)
    assert r.returncode == 0, r.stderr
    (ep,) = list(iter_episodes(src))
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["features"]["observation.state"]["shape"] == [16]  # robot joints, fingers, end effector only
    assert not any("phase" in n for n in info["features"]["observation.state"]["names"])
    assert info["features"]["expert_phase"]["dtype"] == "int64"
    data = pq.read_table(out / "data" / "chunk-000" / "file-000.parquet")
    assert np.array_equal(np.asarray(data.column("expert_phase").to_pylist()), ep.obs["expert_phase"][:, 0])
    episodes = pq.read_table(out / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    names = json.loads(episodes.column("robosynth/expert_phases").to_pylist()[0])
    assert names == ep.ep_meta["expert_phases"] and names[0] == "approach"
