"""The timing loop and command line shared by the child processes of both sides.

It runs in either virtual environment (robosynth's ``.venv`` or the peers' ``.bench-peers-venv``), so it needs
the standard library only (numpy is imported lazily by :func:`gym_case`; both environments have it). A child
builds one case, warms it up untimed, times only the step calls, and prints one JSON line prefixed with
:data:`RESULT_PREFIX` on stdout (engines print their own chatter there too; the runner looks for the prefix).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

RESULT_PREFIX = "PEERS_RESULT "


@dataclass
class Case:
    """One benchmark case: how to get an action, step (True when the episode ended), reset and close."""

    act: Callable[[], Any]
    step: Callable[[Any], bool]
    reset: Callable[[], object]
    close: Callable[[], object]
    control_dt: float  # simulated seconds per step, read from the environment
    dt_source: str  # where control_dt came from, e.g. "n_substeps 20 x timestep 0.002"
    dists: tuple[str, ...]  # distributions whose versions the result reports
    notes: dict[str, Any] = field(default_factory=dict)


def gym_case(env: Any, seed: int, control_dt: float, dt_source: str, dists: tuple[str, ...],
             render: bool = False) -> Case:
    """Return a Case for a Gymnasium env: uniform random actions, ``env.render()`` after each step if ``render``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    env.reset(seed=seed)

    def step(action: Any) -> bool:
        _, _, terminated, truncated, _ = env.step(action)
        if render:
            env.render()
        return bool(terminated or truncated)

    return Case(act=lambda: rng.uniform(low, high).astype(env.action_space.dtype), step=step, reset=env.reset,
                close=env.close, control_dt=control_dt, dt_source=dt_source, dists=dists)


def _busy_seconds() -> float:
    """Return the CPU seconds all processes on the machine have been busy since boot (``/proc/stat``)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal (guest is inside user)
    return busy / os.sysconf("SC_CLK_TCK")


def time_case(case: Case, seconds: float, warmup_s: float, min_steps: int = 20) -> dict[str, Any]:
    """Warm ``case`` up untimed, then time its step calls for at least ``seconds``; return the measurements.

    Action sampling and resets (after terminated/truncated) stay outside the timed region for every case.
    ``other_load`` is the CPU the rest of the machine used during the timed loop, in cores.
    """
    case.reset()
    n, end = 0, time.perf_counter() + warmup_s
    while n < 10 or time.perf_counter() < end:
        if case.step(case.act()):
            case.reset()
        n += 1
    timed = cpu = 0.0
    steps = resets = 0
    busy0, cpu0, wall0 = _busy_seconds(), time.process_time(), time.perf_counter()
    while steps < min_steps or timed < seconds:
        action = case.act()
        c, t = time.process_time(), time.perf_counter()
        ended = case.step(action)
        timed += time.perf_counter() - t
        cpu += time.process_time() - c
        steps += 1
        if ended:
            case.reset()
            resets += 1
    wall = time.perf_counter() - wall0
    own = time.process_time() - cpu0
    other = max(0.0, _busy_seconds() - busy0 - own) / wall
    return {"steps": steps, "seconds": timed, "cpu_seconds": cpu, "resets": resets, "warmup_steps": n,
            "steps_per_s": steps / timed, "steps_per_cpu_s": steps / cpu if cpu > 0 else float("nan"),
            "other_load": other}


def child_main(cases: dict[str, Callable[[int], Case]]) -> int:
    """Command line of a child: build the named case, time it, print the result line."""
    ap = argparse.ArgumentParser(description="time one benchmark case in this process")
    ap.add_argument("case", choices=sorted(cases))
    ap.add_argument("--seconds", type=float, default=3.0, help="timed stepping, seconds")
    ap.add_argument("--warmup", type=float, default=1.0, help="untimed warm-up, seconds")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    case = cases[args.case](args.seed)
    result = time_case(case, args.seconds, args.warmup)
    result.update(case=args.case, control_dt=case.control_dt, dt_source=case.dt_source, notes=case.notes,
                  versions={d: _version(d) for d in case.dists}, python=sys.version.split()[0])
    try:
        case.close()
    except Exception as exc:  # a failing close must not lose the measurement
        result["notes"]["close_error"] = repr(exc)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"
