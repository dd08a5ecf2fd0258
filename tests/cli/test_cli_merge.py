"""``robosynth merge``: shares of one dataset recorded separately merge into the dataset one run records (array by
array), the result verifies, totals add up and demo names stay unique; overlapping or incompatible sources are
refused with exit 2 and every source stays byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import h5py
import pytest

from robosynth.dataset import episode_path, list_episode_files
from robosynth.generate import GenerateRequest, generate

BASE = GenerateRequest(scene="pick_place", backend="mujoco", episodes=4, seed=5, cameras=("agentview",),
                       resolution=(32, 32), max_steps=10, keep_failed=True)


def tree_hash(path: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under ``path`` by relative path."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def demo_dump(path: Path) -> dict[str, object]:
    """Return every dataset (read through virtual ones) and demo attr of a one-demo file, demo name left out."""
    out: dict[str, object] = {}
    with h5py.File(path, "r") as f:
        (g,) = f["data"].values()
        out.update({f"@{k}": (v.tolist() if hasattr(v, "tolist") else v) for k, v in g.attrs.items()})
        g.visititems(lambda k, v: out.__setitem__(k, v[()].tobytes()) if isinstance(v, h5py.Dataset) else None)
    return out


@pytest.fixture(scope="module")
def shares(tmp_path_factory) -> dict[str, Path]:
    """The 4-episode dataset in one run, and as two --indices shares recorded separately; a pybullet dataset."""
    root = tmp_path_factory.mktemp("merge")
    runs = {"full": BASE, "first": GenerateRequest(**{**BASE.__dict__, "indices": (0, 1)}),
            "second": GenerateRequest(**{**BASE.__dict__, "indices": (2, 3)}),
            "other_seed": GenerateRequest(**{**BASE.__dict__, "seed": 6, "episodes": 1}),
            "pybullet": GenerateRequest(**{**BASE.__dict__, "backend": "pybullet", "episodes": 1})}
    for name, req in runs.items():
        generate(req, root / name)
    return {name: root / name for name in runs}


def test_shares_merge_into_the_one_run_dataset(shares, tmp_path, run_cli):
    before = {n: tree_hash(shares[n]) for n in ("first", "second", "other_seed")}
    out = tmp_path / "merged"
    res = run_cli("merge", shares["first"], shares["second"], shares["other_seed"], "--out", out)
    assert res.rc == 0, res.stderr
    assert "(2 + 2 + 1 episodes)" in res.stdout and "5 episodes" in res.stdout
    assert {n: tree_hash(shares[n]) for n in before} == before  # sources untouched
    check = run_cli("verify", out)
    assert check.rc == 0, check.stdout
    assert sorted(list_episode_files(out)) == list(range(5))
    with h5py.File(out / "dataset.hdf5", "r") as f:
        assert int(f["data"].attrs["total"]) == 5 and sorted(f["data"]) == [f"demo_{k}" for k in range(5)]
        assert len(f["mask/train"]) + len(f["mask/valid"]) == 5
    for k in range(4):  # the shares together are the one-run dataset, episode for episode
        got, want = demo_dump(episode_path(out, k)), demo_dump(episode_path(shares["full"], k))
        assert got.pop("@source_episode_index") == k
        assert got == want
    last = demo_dump(episode_path(out, 4))
    assert (last["@seed"], last["@source_episode_index"], last["@episode_index"]) == (6, 0, 4)
    meta = json.loads((out / "merge.json").read_text())
    assert meta["total"] == 5 and [e["seed"] for e in meta["episodes"]] == [5, 5, 5, 5, 6]
    # a merged dataset merges again; its episodes keep their origin, so re-adding a share is refused
    again = run_cli("merge", out, shares["first"], "--out", tmp_path / "again")
    assert again.rc == 2 and "(seed 5, index 0)" in again.stderr and not (tmp_path / "again").exists()


def test_overlapping_or_incompatible_sources_are_refused_untouched(shares, tmp_path, run_cli):
    copy = tmp_path / "copy"
    shutil.copytree(shares["first"], copy)
    names = ("first", "full", "pybullet")
    before = {n: tree_hash(shares[n]) for n in names} | {"copy": tree_hash(copy)}
    cases = [((shares["first"], shares["first"]), "(seed 5, index 0)"),
             ((shares["first"], copy), "a copy"),
             ((shares["full"], shares["second"]), "(seed 5, index 2)"),
             ((shares["first"], shares["pybullet"]), "--backend pybullet differs from mujoco"),
             ((shares["first"],), "at least two")]
    for k, (sources, message) in enumerate(cases):
        out = tmp_path / f"out{k}"
        res = run_cli("merge", *sources, "--out", out)
        assert res.rc == 2 and len(res.stderr_lines) == 1 and message in res.stderr, res.stderr
        assert not out.exists() and not list(tmp_path.glob(f"out{k}*"))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    res = run_cli("merge", shares["first"], shares["second"], "--out", busy)
    assert res.rc == 2 and "not an empty directory" in res.stderr and (busy / "notes.txt").read_text() == "mine"
    assert {n: tree_hash(shares[n]) for n in names} | {"copy": tree_hash(copy)} == before
