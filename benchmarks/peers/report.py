"""The cases, the pairs compared, and the markdown section of the peers benchmark.

Every number is a median over rounds; a ratio is robosynth / peer computed *within* a round (both ran in the
same shuffled round, minutes apart at most) and then the median of those per-round ratios is reported.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from _common import markdown_table

NOISY_LOAD = 0.5  # cores used by other processes during a timed loop above which a run is flagged


@dataclass(frozen=True)
class CaseInfo:
    """A case: its child-side name, who runs it (``robosynth`` or a peer distribution), its group and label."""

    name: str
    side: str
    group: str
    label: str


CASES = [
    CaseInfo("mj_state", "robosynth", "MuJoCo state", "robosynth PickPlace-v0 `env.step`"),
    CaseInfo("mj_bare", "robosynth", "MuJoCo state", "bare `mj_step` x substeps on robosynth's model, robot at rest"),
    CaseInfo("mj_bare_motion", "robosynth", "MuJoCo state",
             "bare `mj_step` x substeps on robosynth's model, the same motion replayed (ceiling)"),
    CaseInfo("lift_state", "robosuite", "MuJoCo state", "robosuite Lift (Panda, no cameras) `env.step`"),
    CaseInfo("fetch_state", "gymnasium-robotics", "MuJoCo state", "gymnasium-robotics FetchPickAndPlace `env.step`"),
    CaseInfo("pb_state", "robosynth", "PyBullet state", "robosynth PickPlace-v0 `env.step`"),
    CaseInfo("pb_bare_motion", "robosynth", "PyBullet state",
             "bare motor targets + `stepSimulation` x substeps, the same motion replayed (ceiling)"),
    CaseInfo("panda_state", "panda-gym", "PyBullet state", "panda-gym PandaPickAndPlace-v3 `env.step`"),
    CaseInfo("mj_rgbd_fast", "robosynth", "MuJoCo 128x128 camera", "robosynth `rgbd`, quality fast"),
    CaseInfo("mj_rgbd_default", "robosynth", "MuJoCo 128x128 camera", "robosynth `rgbd`, quality default"),
    CaseInfo("mj_rgbdseg_fast", "robosynth", "MuJoCo 128x128 camera", "robosynth `rgbd_seg`, quality fast"),
    CaseInfo("lift_cam", "robosuite", "MuJoCo 128x128 camera", "robosuite Lift, agentview camera obs"),
    CaseInfo("fetch_cam", "gymnasium-robotics", "MuJoCo 128x128 camera", "Fetch `step` + `render()` rgb_array"),
    CaseInfo("pb_rgbd", "robosynth", "PyBullet 128x128 camera", "robosynth `rgbd` (TinyRenderer)"),
    CaseInfo("panda_cam", "panda-gym", "PyBullet 128x128 camera", "panda-gym `step` + `render()` (TinyRenderer)"),
]
INFO = {c.name: c for c in CASES}
PAIRS = [("mj_state", "mj_bare"), ("mj_state", "mj_bare_motion"), ("mj_state", "lift_state"),
         ("mj_state", "fetch_state"), ("pb_state", "pb_bare_motion"), ("pb_state", "panda_state"),
         ("pb_bare_motion", "panda_state"), ("mj_rgbd_fast", "lift_cam"), ("mj_rgbd_fast", "fetch_cam"),
         ("mj_rgbd_default", "lift_cam"), ("mj_rgbd_default", "fetch_cam"), ("mj_rgbdseg_fast", "lift_cam"),
         ("pb_rgbd", "panda_cam")]


def by_case(rounds: list[dict[str, Any]]) -> dict[str, dict[int, dict[str, Any]]]:
    """Return {case: {round index: successful result}}."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for i, rnd in enumerate(rounds):
        for res in rnd["results"]:
            if "error" not in res:
                out.setdefault(res["case"], {})[i] = res
    return out


def _label(name: str, runs: dict[int, dict[str, Any]]) -> str:
    """Return a case's label with the image modalities its child reported, e.g. ``... [RGB+D]``."""
    mods = next((r["notes"]["modalities"] for r in runs.values() if r["notes"].get("modalities")), None)
    return INFO[name].label + (f" [{mods}]" if mods else "")


def _med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def case_table(rounds: list[dict[str, Any]]) -> str:
    """Return the per-case table: medians of steps/s, steps per CPU-second, CPU share and simulated s per wall s."""
    results = by_case(rounds)
    rows = []
    for c in CASES:
        runs = list(results.get(c.name, {}).values())
        if not runs:
            continue
        sps = [r["steps_per_s"] for r in runs]
        dt = runs[0]["control_dt"]
        rows.append([c.group, _label(c.name, results[c.name]), f"{dt:g} ({runs[0]['dt_source']})", f"{_med(sps):.1f}",
                     f"{min(sps):.1f}-{max(sps):.1f}", f"{_med([r['steps_per_cpu_s'] for r in runs]):.1f}",
                     f"{_med([r['cpu_seconds'] / r['seconds'] for r in runs]):.2f}", f"{_med(sps) * dt:.2f}",
                     len(runs)])
    return markdown_table(["group", "case", "control period s (from the env)", "steps/s", "range",
                           "steps/CPU-s", "CPU/wall", "sim s / wall s", "runs"], rows)


def pair_table(rounds: list[dict[str, Any]]) -> str:
    """Return the paired-ratio table: robosynth / peer per round, its median, the CPU and simulated-time ratios."""
    results = by_case(rounds)
    rows = []
    for ours, theirs in PAIRS:
        a, b = results.get(ours, {}), results.get(theirs, {})
        common = sorted(set(a) & set(b))
        if not common:
            continue
        wall = [a[i]["steps_per_s"] / b[i]["steps_per_s"] for i in common]
        cpu = [a[i]["steps_per_cpu_s"] / b[i]["steps_per_cpu_s"] for i in common]
        dt_ratio = a[common[0]]["control_dt"] / b[common[0]]["control_dt"]
        rows.append([_label(ours, a), _label(theirs, b), f"{_med(wall):.2f}",
                     ", ".join(f"{w:.2f}" for w in wall), f"{_med(cpu):.2f}", f"{_med(wall) * dt_ratio:.2f}"])
    return markdown_table(["robosynth", "vs", "steps/s ratio (median)", "per round", "steps/CPU-s ratio",
                           "sim-time ratio"], rows)


def load_lines(rounds: list[dict[str, Any]]) -> list[str]:
    """Return one markdown bullet per round: load average, other processes' CPU during the timed loops, flags."""
    lines = []
    for i, rnd in enumerate(rounds):
        ok = [r for r in rnd["results"] if "error" not in r]
        other = [r["other_load"] for r in ok]
        noisy = [r["case"] for r in ok if r["other_load"] > NOISY_LOAD]
        share = [r["cpu_seconds"] / r["seconds"] for r in ok]
        flag = f"**noisy** ({len(noisy)}/{len(ok)} runs above {NOISY_LOAD} cores)" if noisy else "quiet"
        lines.append(f"- round {i} (order seed {i}, {rnd['wall_s']:.0f} s): loadavg {rnd['load_before']} -> "
                     f"{rnd['load_after']}; other processes during the timed loops: median "
                     f"{_med(other):.2f} cores, max {max(other, default=float('nan')):.2f}; child CPU/wall median "
                     f"{_med(share):.2f}; {flag}")
    return lines


def error_lines(rounds: list[dict[str, Any]]) -> list[str]:
    """Return one bullet per failed child run."""
    return [f"- round {i}, `{r['case']}`: {r['error']}" for i, rnd in enumerate(rounds) for r in rnd["results"]
            if "error" in r]


def section(meta: dict[str, Any], rounds: list[dict[str, Any]]) -> str:
    """Return the markdown body of the ``peers`` section."""
    parts = [
        f"### robosynth next to its peers ({meta['mode']} run)",
        f"`{meta['command']}` on {meta['machine']}; {meta['date']}; {len(rounds)} rounds, "
        f"{meta['seconds']:g} s timed per case after {meta['warmup']:g} s warm-up; total {meta['wall_s']:.0f} s.",
        f"- robosynth side (`.venv`): {meta['ours']}\n- peer side (`{meta['peer_venv']}`): {meta['theirs']}\n"
        f"- child environment: {meta['child_env']}",
        "Each round runs every case once, in an order shuffled with the round's index as seed, each in a fresh "
        "process (robosynth's in its venv, the peers' in theirs). The child builds the env, resets it, steps it "
        "untimed for the warm-up (numba JIT, GL context, first contacts), then times only the `env.step` calls "
        "(plus `env.render()` where the peer renders that way) with uniform random actions; action sampling and "
        "the resets after terminated/truncated happen outside the timed region for every case alike. Steps/s is "
        "wall-clock; steps/CPU-s divides by the child's own CPU time in those calls (all its threads, software "
        "GL included), which other processes disturb less. Ratios are robosynth / peer per round, then the "
        "median; sim-time ratio = steps/s ratio x (robosynth control period / peer control period), i.e. "
        "simulated seconds per wall second. Control periods are read from each env at run time.",
        case_table(rounds),
        pair_table(rounds),
        "Load (other processes' CPU = machine busy time from `/proc/stat` minus the child's own CPU, during the "
        f"timed loop; a run is noisy above {NOISY_LOAD} cores):",
        "\n".join(load_lines(rounds)),
    ]
    errors = error_lines(rounds)
    notes = [f"- {peer}: {why}" for peer, why in meta["install"].items() if why] + errors
    if notes:
        parts += ["Not measured:", "\n".join(notes)]
    parts += ["Notes:", "\n".join(f"- {n}" for n in meta["notes"])]
    return "\n\n".join(parts)
