"""The peers' own virtual environment (``.bench-peers-venv`` at the repository root).

robosuite 1.5 needs ``mujoco<3.4`` while robosynth runs the newest MuJoCo, so the peers live in a separate
environment installed from PyPI. Each peer is installed by its own ``pip install`` (with the shared pins), so
one that cannot be installed is recorded with the reason and the others still run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SHARED = ["mujoco<3.4", "numpy", "gymnasium"]  # pinned in every pip call so no peer can lift mujoco
PEERS: dict[str, list[str]] = {
    "robosuite": ["robosuite>=1.5,<1.6"],
    "panda-gym": ["panda-gym==3.0.7"],
    "gymnasium-robotics": ["gymnasium-robotics"],
}
CASE_PEER = {"lift": "robosuite", "fetch": "gymnasium-robotics", "panda": "panda-gym"}  # case prefix -> peer
REPORTED = ["robosuite", "panda-gym", "gymnasium-robotics", "gymnasium", "mujoco", "pybullet", "numpy", "scipy",
            "numba"]


def python_of(venv: Path) -> Path:
    """Return the interpreter of ``venv``."""
    return venv / "bin" / "python"


def versions(python: Path, dists: list[str]) -> dict[str, str]:
    """Return {distribution: version or '-'} as installed for ``python``."""
    code = ("import json, sys\nfrom importlib import metadata\nout = {}\nfor d in sys.argv[1:]:\n"
            "    try: out[d] = metadata.version(d)\n    except metadata.PackageNotFoundError: out[d] = '-'\n"
            "print(json.dumps(out))")
    try:
        done = subprocess.run([str(python), "-c", code, *dists], capture_output=True, text=True, timeout=60)
        return json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return {d: "-" for d in dists}


def _tail(text: str, lines: int = 3) -> str:
    """Return the last few non-empty lines of pip's output, on one line."""
    kept = [ln.strip() for ln in text.splitlines() if ln.strip() and "is ignored" not in ln]
    return " | ".join(kept[-lines:])


def ensure_peers(venv: Path, install: bool = True) -> dict[str, str | None]:
    """Create ``venv`` if missing and install any missing peer; return {peer: None if usable, else why not}."""
    python = python_of(venv)
    status: dict[str, str | None] = {}
    if not python.exists():
        if not install:
            return {p: f"{venv} does not exist (run without --no-install)" for p in PEERS}
        print(f"creating {venv}", flush=True)
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            return {p: f"python -m venv failed: {_tail(made.stderr)}" for p in PEERS}
    installed = versions(python, list(PEERS))
    for peer, reqs in PEERS.items():
        if installed.get(peer, "-") != "-":
            status[peer] = None
            continue
        if not install:
            status[peer] = "not installed (--no-install)"
            continue
        print(f"installing {peer} into {venv} from PyPI", flush=True)
        cmd = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *SHARED, *reqs]
        done = subprocess.run(cmd, capture_output=True, text=True)
        status[peer] = None if done.returncode == 0 else f"pip install failed: {_tail(done.stderr or done.stdout)}"
    mujoco = versions(python, ["mujoco"])["mujoco"]
    if mujoco != "-" and tuple(int(v) for v in mujoco.split(".")[:2]) >= (3, 4):
        status["robosuite"] = status["robosuite"] or f"the peer venv has mujoco {mujoco}; robosuite 1.5 needs <3.4"
    return status


def assets_check(venv: Path) -> str:
    """Return a note on whether robosuite's model assets came inside its wheel (nothing to download at run time)."""
    code = ("import importlib.util, pathlib\nspec = importlib.util.find_spec('robosuite')\n"
            "root = pathlib.Path(spec.origin).parent / 'models' / 'assets'\n"
            "files = [p for p in root.rglob('*') if p.is_file()]\n"
            "print(len(files), sum(p.stat().st_size for p in files) // 2**20)")
    try:
        done = subprocess.run([str(python_of(venv)), "-c", code], capture_output=True, text=True, timeout=120)
        n, mb = done.stdout.split()
    except (OSError, ValueError, subprocess.SubprocessError):
        return "robosuite assets: not checked (robosuite not importable)"
    return f"robosuite ships its assets in the wheel ({n} files, {mb} MiB under robosuite/models/assets)"
