"""Shared benchmark helpers: interleaved timing loops, environment line, markdown tables and sections.

Benchmarks measure throughput as ratios against a bare engine loop timed in the same run (DESIGN habit 12);
nothing here asserts a wall-clock time.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python benchmarks/x.py` from anywhere, even without an editable install
    sys.path.insert(0, str(REPO_ROOT))


def time_block(fn: Callable[[], object], min_time: float, min_calls: int = 2) -> float:
    """Return seconds per call of ``fn``, calling it at least ``min_calls`` times and ``min_time`` seconds."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if calls >= min_calls and elapsed >= min_time:
            return elapsed / calls


def interleaved(fns: dict[str, Callable[[], object]], min_time: float = 0.5, rounds: int = 3,
                warmup: int = 2) -> dict[str, float]:
    """Return the median seconds per call of each function, timed in alternating blocks (fair under drift)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(time_block(fn, min_time / rounds))
    return {name: statistics.median(s) for name, s in samples.items()}


def tree_cpu_seconds() -> float:
    """Return the CPU seconds of this process, its reaped children and every live descendant (Linux /proc).

    Pool workers forked by a fork server are its children, not ours: their time reaches us only through the
    fork server's own counters (utime, stime and its reaped children's cutime, cstime), summed here once each.
    """
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = time.process_time() + kids.ru_utime + kids.ru_stime
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in _descendants(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
    return total


def _descendants(pid: int) -> list[int]:
    """Return the live descendants of ``pid`` (Linux /proc; [] elsewhere)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *_descendants(kid)]
    return found


def version(dist: str) -> str:
    """Return the installed version of a distribution, or '-'."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def shown_args(argv: Sequence[str] | None = None) -> str:
    """Return the command-line arguments as text without ``--out PATH`` (a temporary file under run_all.py)."""
    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join(a for i, a in enumerate(args) if a != "--out" and (i == 0 or args[i - 1] != "--out"))


def environment_line(*dists: str) -> str:
    """Return one line describing the machine and the versions measured."""
    versions = ", ".join(f"{d} {version(d)}" for d in dists)
    gl = os.environ.get("MUJOCO_GL", "egl (default)")
    return (f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, {versions}, "
            f"MUJOCO_GL={gl}, {bytecode_state()}")


PACKAGES = ("robosynth", "sim", "scenes", "randomization", "renderers")


def bytecode_state() -> str:
    """Say whether the project's modules load from up-to-date bytecode (``make bytecode``) or are compiled from
    source at every start (stale or missing ``__pycache__`` while PYTHONDONTWRITEBYTECODE is set)."""
    import importlib.util

    sources = [p for pkg in PACKAGES for p in (REPO_ROOT / pkg).rglob("*.py")]
    stale = 0
    for src in sources:
        cached = Path(importlib.util.cache_from_source(str(src)))
        stale += not cached.is_file() or cached.stat().st_mtime < src.stat().st_mtime
    if not stale:
        return "project bytecode precompiled"
    writes = "not written back (PYTHONDONTWRITEBYTECODE)" if sys.dont_write_bytecode else "written on first import"
    return f"{stale} of {len(sources)} project modules without current bytecode, {writes}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a GitHub markdown table (numbers right-aligned)."""

    def cell(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    cells = [[cell(v) for v in r] for r in rows]
    numeric = [all(_is_number(r[i]) for r in cells) and bool(cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in cells]
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("x%"))
    except ValueError:
        return False
    return True


def write_markdown_section(path: str | os.PathLike[str], key: str, text: str) -> Path:
    """Write ``text`` into ``path`` between ``<!-- bench:key -->`` markers, replacing an older run; return path."""
    p = Path(path)
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    block = f"{start}\n{text.strip()}\n{end}\n"
    old = p.read_text() if p.exists() else ""
    if start in old and end in old:
        head, rest = old.split(start, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        new = head + block + ("\n" + tail if tail else "")
    else:
        new = old + ("\n" if old and not old.endswith("\n\n") else "") + block
    p.write_text(new)
    return p
