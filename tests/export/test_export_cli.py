"""``robosynth export`` as a user runs it: bad input exits 2 with one line and writes nothing, a missing optional
extra names the pip extra, and an export killed with SIGKILL mid-run leaves ``--out`` absent or unchanged."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from export_data import tree_digest


def _one_error_line(r, *fragments: str) -> None:
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.rc == 2, (r.rc, r.stderr)
    assert len(lines) == 1 and lines[0].startswith("robosynth: error: "), r.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_bad_inputs_exit_2(run_cli, source: Path, source_digest: str, tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    not_dataset = tmp_path / "not_a_dataset"
    not_dataset.mkdir()
    (not_dataset / "x.hdf5").write_text("not hdf5")
    cases = [
        (("export", source, "--format", "tfrecord", "--out", tmp_path / "a"), ("unknown --format 'tfrecord'",)),
        (("export", source, "--format", "lerobot", "--images", "jpeg", "--out", tmp_path / "a"), ("--images",)),
        (("export", not_dataset, "--format", "lerobot", "--out", tmp_path / "a"), ("not a robosynth dataset",)),
        (("export", tmp_path / "missing", "--format", "minari", "--out", tmp_path / "a"), ("no such dataset",)),
        (("export", source, "--format", "lerobot", "--out", full), ("exists and is not empty",)),
        (("export", source, "--format", "minari", "--out", source / "inside"), ("inside the source",)),
        (("export", source, "--out", tmp_path / "a"), ("--format",)),
    ]
    for args, fragments in cases:
        _one_error_line(run_cli(*args), *fragments)
    assert not (tmp_path / "a").exists() and not (source / "inside").exists()
    assert (full / "keep.txt").read_text() == "mine" and [p.name for p in full.iterdir()] == ["keep.txt"]
    assert not list(tmp_path.glob(".*tmp-*"))
    assert tree_digest(source) == source_digest


def test_missing_extra_names_the_pip_extra(run_python, source: Path, tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys
        sys.modules["av"] = None  # PyAV not installed: importing it raises ImportError
        from robosynth.cli.app import invoke
        sys.exit(invoke(["export", {str(source)!r}, "--format", "lerobot", "--out", {str(tmp_path / "o")!r}]))
    """)
    _one_error_line(run_python(code), "pip install 'robosynth[export]'", "'av'")
    assert not (tmp_path / "o").exists()


_KILL_MID_EXPORT = """
import os, signal, sys
from pathlib import Path
from robosynth.export import export_dataset, prepare_export
source, out, fmt = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
src = prepare_export(source, out, fmt)
def die_after_first_episode(frames):
    os.kill(os.getpid(), signal.SIGKILL)  # the first episode is written into the staging directory by now
export_dataset(src, out, fmt, progress=die_after_first_episode)
"""


@pytest.mark.parametrize("fmt", ["lerobot", "minari"])
@pytest.mark.parametrize("out_exists", [False, True])
def test_killed_export_leaves_out_untouched(run_cli, source: Path, source_digest: str, tmp_path: Path, fmt: str,
                                            out_exists: bool) -> None:
    out = tmp_path / "export"
    if out_exists:
        out.mkdir()
    proc = subprocess.run([sys.executable, "-c", _KILL_MID_EXPORT, str(source), str(out), fmt],
                          capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    staged = list(tmp_path.glob(".export.tmp-*"))
    assert len(staged) == 1 and any(p.is_file() for p in staged[0].rglob("*"))  # killed with data half written
    if out_exists:
        assert out.is_dir() and not any(out.iterdir())
    else:
        assert not out.exists()
    r = run_cli("export", source, "--format", fmt, "--out", out)  # a new export finishes and clears the leftover
    assert r.rc == 0, r.stderr
    assert not list(tmp_path.glob(".export.tmp-*")) and any(out.iterdir())
    assert tree_digest(source) == source_digest
