"""``generate --resume`` never ignores the command line: more ``--episodes`` extend the dataset exactly as a fresh
larger run would, a recording flag that differs from the stored request is refused naming the flag and both values,
fewer episodes are refused, and flags left out are taken from the stored request."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import pytest
from test_generate_kill import assert_same, dump

from robosynth.cli import invoke
from robosynth.dataset import episode_path, list_episode_files
from robosynth.generate import GenerateRequest, generate

BASE = ["generate", "pick_place", "--backend", "mujoco", "--seed", "3", "--cameras", "agentview", "--resolution",
        "32x32", "--max-steps", "12", "--keep-failed"]


def request(episodes: int) -> GenerateRequest:
    """The library request BASE describes."""
    return GenerateRequest(scene="pick_place", backend="mujoco", episodes=episodes, seed=3, cameras=("agentview",),
                           resolution=(32, 32), max_steps=12, keep_failed=True)


def cli(capsys, *args: str | Path) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    rc = invoke([str(a) for a in args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def snapshot(root: Path) -> dict[str, bytes]:
    """Return every file's bytes under ``root``."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> Path:
    """A finished 3-episode dataset."""
    out = tmp_path_factory.mktemp("three") / "ds"
    assert generate(request(3), out).written == 3
    return out


def test_more_episodes_extend_the_dataset_like_a_fresh_run(tmp_path, capsys, three):
    out = tmp_path / "grown"
    rc, _, err = cli(capsys, *BASE, "--episodes", "3", "--out", out)
    assert rc == 0, err
    rc, stdout, err = cli(capsys, *BASE, "--episodes", "8", "--out", out, "--resume")
    assert rc == 0, err
    assert "8 episodes" in stdout and "5 written now, 3 already done" in stdout
    assert json.loads((out / "generate.json").read_text())["episodes"] == 8
    fresh = tmp_path / "fresh"
    generate(request(8), fresh)
    assert sorted(list_episode_files(out)) == list(range(8))
    for i in range(8):
        assert_same(dump(episode_path(out, i)), dump(episode_path(fresh, i)))
    index = dump(out / "dataset.hdf5")
    assert_same(index, dump(fresh / "dataset.hdf5"))
    assert len([k for k in index if k.endswith("/actions")]) == 8


DIFFERENT = [
    (["--backend", "pybullet"], "--backend pybullet differs from this dataset's --backend mujoco"),
    (["--seed", "4"], "--seed 4 differs from this dataset's --seed 3"),
    (["--cameras", "none"], "--cameras none differs from this dataset's --cameras agentview"),
    (["--resolution", "64x48"], "--resolution 64x48 differs from this dataset's --resolution 32x32"),
    (["--quality", "fast"], "--quality fast differs from this dataset's --quality default"),
    (["--randomization", "full"],
     "--randomization full differs from this dataset's --randomization (the scene's own section)"),
    (["--depth-format", "normalized"], "--depth-format normalized differs from this dataset's --depth-format metric"),
    (["--compression", "lzf"], "--compression lzf differs from this dataset's --compression gzip"),
    (["--max-steps", "13"], "--max-steps 13 differs from this dataset's --max-steps 12"),
    (["--pointcloud", "64"], "--pointcloud 64 differs from this dataset's --pointcloud none"),
    (["--episodes", "2"], "--episodes 2 leaves out episode 2 of the 3"),
    (["--indices", "0,1"], "--indices 0,1 leaves out episode 2 of the 3"),
]


@pytest.mark.parametrize(("extra", "message"), DIFFERENT, ids=[d[0][0] for d in DIFFERENT])
def test_a_differing_recording_flag_is_refused_and_nothing_changes(tmp_path, capsys, three, extra, message):
    out = tmp_path / "ds"
    shutil.copytree(three, out)
    before = snapshot(out)
    base = [a for a in BASE if a not in ("--max-steps", "12")] if "--max-steps" in extra else BASE
    rc, _, err = cli(capsys, *base, *extra, "--out", out, "--resume")
    assert rc == 2
    assert err.count("\n") == 1 and message in err and "internal error" not in err, err
    assert snapshot(out) == before


def test_another_scene_is_refused(tmp_path, capsys, three):
    out = tmp_path / "ds"
    shutil.copytree(three, out)
    rc, _, err = cli(capsys, "generate", "reach", "--out", out, "--resume")
    assert rc == 2 and "SCENE reach differs from this dataset's SCENE pick_place" in err


def test_flags_left_out_are_taken_from_the_stored_request(tmp_path, capsys, three):
    out = tmp_path / "ds"
    shutil.copytree(three, out)
    before = snapshot(out / "episodes")
    rc, stdout, err = cli(capsys, "generate", "pick_place", "--out", out, "--resume")
    assert rc == 0, err
    assert "3 episodes" in stdout and "0 written now, 3 already done" in stdout
    assert snapshot(out / "episodes") == before


def test_valid_ratio_re_splits_the_index_on_resume(tmp_path, capsys, three):
    out = tmp_path / "ds"
    shutil.copytree(three, out)
    rc, _, err = cli(capsys, "generate", "pick_place", "--out", out, "--resume", "--valid-ratio", "0.5")
    assert rc == 0, err
    with h5py.File(out / "dataset.hdf5", "r") as f:
        train, valid = len(f["mask/train"]), len(f["mask/valid"])
    assert (train, valid) == (2, 1) or (train, valid) == (1, 2)
    assert json.loads((out / "generate.json").read_text())["train_ratio"] == 0.5
    rc, _, err = cli(capsys, "generate", "pick_place", "--out", out, "--resume", "--valid-ratio", "1")
    assert rc == 2 and "--valid-ratio" in err
