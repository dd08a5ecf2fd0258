"""Constants and helpers shared by the export tests (fixtures are in conftest.py)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

N_EPISODES = 3
MAX_STEPS = 8  # with seed 3 the expert needs 6, 11 and 9 steps: episode 0 succeeds, 1 and 2 are truncated
CAMERAS = ("agentview", "wrist")
FPS = 20  # the reach scene's control rate: timestep 0.002 s x 25 substeps


def robosynth(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real ``robosynth`` command; return the finished process (text output)."""
    return subprocess.run([sys.executable, "-m", "robosynth", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def tree_digest(root: Path) -> str:
    """Return a digest of every file's relative path and bytes under ``root``."""
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()
