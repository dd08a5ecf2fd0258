"""The one progress view of ``generate``, whatever the executor (in-process, local pool, Ray): counts and rates
while it runs, and the final throughput summary. Plain data and text; the CLI decides how to show it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _clock() -> float:
    return time.perf_counter()


def _duration(seconds: float) -> str:
    """Return 'H:MM:SS' (or 'M:SS' under an hour)."""
    s = int(round(max(0.0, seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def bytes_on_disk(path: Path) -> int:
    """Return the total size of the regular files under ``path`` (0 if it does not exist)."""
    if not path.is_dir():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass
class RunStats:
    """Counts of one ``generate`` run, updated per finished episode (``add``) and per retried one (``retry``)."""

    to_run: int = 0
    already_done: int = 0
    done: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    steps: int = 0
    bytes_written: int = 0
    started: float = field(default_factory=_clock)
    finished: float | None = None

    def start(self, to_run: int, already_done: int) -> None:
        """Reset the clock: ``to_run`` episodes are about to run, ``already_done`` were done before."""
        self.to_run, self.already_done, self.started = to_run, already_done, _clock()

    def add(self, result: dict[str, Any]) -> None:
        """Count one finished episode (a result of the executors)."""
        self.done += 1
        self.succeeded += int(bool(result["success"]))
        self.failed += int(not result["success"])
        self.steps += int(result["steps"])
        self.bytes_written += int(result.get("bytes", 0))

    def retry(self) -> None:
        """Count one episode that runs again because its worker or node died."""
        self.retries += 1

    def finish(self) -> None:
        """Stop the clock."""
        self.finished = _clock()

    @property
    def elapsed(self) -> float:
        """Return seconds since start (until finish)."""
        return max(1e-9, (self.finished or _clock()) - self.started)

    def eta(self) -> float | None:
        """Return the estimated seconds left (None before the first episode)."""
        if not self.done:
            return None
        return self.elapsed / self.done * max(0, self.to_run - self.done)

    def line(self) -> str:
        """Return the running view: rates, success so far, failures, retries, ETA (no episode count)."""
        rate = f"success {self.succeeded / self.done:.0%}" if self.done else "success -"
        eta = self.eta()
        return (f"{self.steps / self.elapsed:.0f} steps/s, {rate}, {self.failed} failed, {self.retries} retried, "
                f"ETA {'-' if eta is None else _duration(eta)}")

    def status(self) -> str:
        """Return the running view with the count of episodes: 'episodes 3/8, ...'."""
        return f"episodes {self.done}/{self.to_run}, {self.line()}"

    def summary(self, disk_bytes: int) -> str:
        """Return the final summary: wall time, episodes/s, steps/s, MB/s written and bytes on disk."""
        t = self.elapsed
        return (f"{self.done} episodes ran in {t:.1f} s: {self.done / t:.2f} episodes/s, {self.steps / t:.0f} "
                f"steps/s, {self.bytes_written / t / 1e6:.2f} MB/s written; {self.retries} retried; "
                f"{disk_bytes / 1e6:.1f} MB on disk")
