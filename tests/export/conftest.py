"""A small real dataset (MuJoCo, two 64x64 cameras, 3 episodes: 1 success, 2 time-outs), generated once per
session with the real CLI, plus its exports; every export test reads these."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_data import CAMERAS, MAX_STEPS, N_EPISODES, robosynth, tree_digest

from robosynth.dataset import iter_episodes

pytest.importorskip("pyarrow")
pytest.importorskip("av")
pytest.importorskip("minari")


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generate the source dataset with ``robosynth generate``."""
    out = tmp_path_factory.mktemp("export_src") / "reach_small"
    r = robosynth("generate", "reach", "--out", out, "-n", N_EPISODES, "--seed", 3, "--cameras", ",".join(CAMERAS),
                  "--resolution", "64x64", "--max-steps", MAX_STEPS, "--keep-failed", "--randomization", "visual")
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="session")
def source_episodes(source: Path) -> list:
    """The source episodes as robosynth reads them."""
    eps = list(iter_episodes(source))
    assert [e.success for e in eps] == [True, False, False]
    return eps


@pytest.fixture(scope="session")
def source_digest(source: Path) -> str:
    """The source's digest before any export ran."""
    return tree_digest(source)


def _export(source: Path, root: Path, *args: str) -> Path:
    out = root / "out"
    r = robosynth("export", source, "--out", out, *args)
    assert r.returncode == 0, r.stderr
    assert "exported 3 episodes" in r.stdout
    return out


@pytest.fixture(scope="session")
def lerobot_video(source: Path, source_digest: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The LeRobot export with RGB as video (the default)."""
    return _export(source, tmp_path_factory.mktemp("lr_video"), "--format", "lerobot")


@pytest.fixture(scope="session")
def lerobot_png(source: Path, source_digest: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The LeRobot export with lossless PNG frames in parquet."""
    return _export(source, tmp_path_factory.mktemp("lr_png"), "--format", "lerobot", "--images", "png")


@pytest.fixture(scope="session")
def minari_export(source: Path, source_digest: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Minari export."""
    return _export(source, tmp_path_factory.mktemp("minari"), "--format", "minari")
