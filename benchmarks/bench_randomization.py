"""Randomization cost per episode: parametric (in place) vs structural (rebuild), as a fraction of an episode.

For both engines on pick_place with the ``full`` preset:

- sample: ``sample_episode_params`` (pure; every group's stream);
- parametric: sample + ``restore_nominal_params`` + ``apply_params`` (colours, textures, lights, cameras,
  masses, friction, restitution, damping, gravity, gains, initial joints) + on MuJoCo the texture re-upload
  to the live GL context; this is what ``EpisodeRunner`` pays per episode when nothing structural changes;
- structural: sample + a new world (``Simulation`` compile/load + ``SceneRenderer``) + apply: what a change
  of distractor meshes/sizes costs (2 random_urdfs distractors on both engines).

The denominator is a real episode of ``EpisodeRunner.run`` (expert until success, ``full`` preset),
state-only and with two 128x128 RGB-D+seg cameras, timed in the same run. Target: parametric < 5 %.

    python benchmarks/bench_randomization.py --quick        # < 60 s
    python benchmarks/bench_randomization.py --out BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment_line, interleaved, markdown_table, write_markdown_section  # noqa: E402

TARGET = 0.05
SEED = 7
DISTRACTORS = {"count": {"dist": "choice", "values": [2]}, "meshes": [0, 1, 2, 3, 4, 5],
               "size": {"dist": "uniform", "low": 0.4, "high": 0.6}, "region": [[0.35, -0.3], [0.7, 0.3]],
               "z": 0.45}


def configs(spec):
    """Return (full preset, full preset + distractors) validated for ``spec``."""
    from randomization.load import preset, validate_randomization
    from randomization.presets import preset_dict

    data = preset_dict("full", spec)
    data["placement"] = {**data.get("placement", {}), "distractors": DISTRACTORS}
    return preset("full", spec), validate_randomization(data, spec)


def bench_apply(engine: str, min_time: float, rounds: int) -> dict[str, float]:
    """Return seconds per call of sampling, parametric apply and a structural rebuild on ``engine``."""
    from randomization.apply import apply_params
    from randomization.params import apply_to_spec, sample_episode_params
    from randomization.seeding import stream
    from renderers.sensors import SceneRenderer
    from scenes.loader import load_scene
    from scenes.runtime import Simulation

    spec = load_scene("pick_place")
    full, structural = configs(spec)
    params = [sample_episode_params(full, spec, SEED, i) for i in range(16)]
    sim = Simulation(spec, engine)
    renderer = SceneRenderer(sim.backend, spec)
    renderer.render()  # live GL contexts (MuJoCo), so texture uploads are real
    sim.reset(stream(SEED, 0, "task"))
    cycle = itertools.cycle(params)
    counter = itertools.count()

    def sample() -> None:
        sample_episode_params(full, spec, SEED, next(counter))

    def parametric() -> None:
        sample_episode_params(full, spec, SEED, next(counter))
        sim.backend.restore_nominal_params()
        apply_params(sim, renderer, next(cycle))
        if engine == "mujoco":
            renderer._sync_mujoco_textures(sim.backend, renderer._pool)  # type: ignore[arg-type]

    def reset() -> None:
        sim.reset(stream(SEED, next(counter), "task"))

    out = interleaved({"sample": sample, "parametric": parametric, "reset": reset}, min_time, rounds)
    renderer.close()
    sim.close()

    def rebuild() -> None:
        i = next(counter)
        p = sample_episode_params(structural, spec, SEED, i)
        world_spec = spec.model_copy(update={"objects": apply_to_spec(spec, p).objects})
        s = Simulation(world_spec, engine)
        r = SceneRenderer(s.backend, world_spec)
        s.backend.restore_nominal_params()
        s.reset(stream(SEED, i, "task"))
        apply_params(s, r, p)
        r.close()
        s.close()

    rebuild()
    out["structural"] = statistics.median(_timed(rebuild) for _ in range(max(2, rounds)))
    return out


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_episode(engine: str, cameras: tuple[str, ...], episodes: int) -> tuple[float, float]:
    """Return (seconds per episode, mean steps) of EpisodeRunner.run with the full preset."""
    from randomization.load import preset
    from robosynth.generate.recording import EpisodeRunner, RecordingOptions
    from scenes.loader import load_scene

    spec = load_scene("pick_place")
    runner = EpisodeRunner(spec, RecordingOptions(backend=engine, cameras=cameras,
                                                  randomization=preset("full", spec)))
    runner.run(SEED, 1000)  # build the world and the GL contexts outside the timing
    times, steps = [], []
    for i in range(episodes):
        start = time.perf_counter()
        res = runner.run(SEED, i)
        times.append(time.perf_counter() - start)
        steps.append(res.steps)
    runner.close()
    return statistics.median(times), statistics.mean(steps)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and optionally write it as a markdown section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short timing blocks (whole run < 60 s)")
    ap.add_argument("--out", type=Path, help="markdown file to write the result section into")
    ap.add_argument("--engines", default="mujoco,pybullet", help="comma-separated engines")
    args = ap.parse_args(argv)
    min_time, rounds, n_state, n_cam = (0.3, 3, 2, 1) if args.quick else (2.0, 5, 8, 3)
    start = time.perf_counter()
    env = environment_line("mujoco", "pybullet", "numpy")
    print(env)
    rows = []
    for engine in [e.strip() for e in args.engines.split(",")]:
        cost = bench_apply(engine, min_time, rounds)
        ep_state, steps_state = bench_episode(engine, (), n_state)
        ep_cam, _ = bench_episode(engine, ("agentview", "wrist"), n_cam)
        for kind in ("parametric", "structural"):
            c = cost[kind]
            rows.append([engine, kind, f"{1e3 * c:.2f}", f"{1e3 * cost['sample']:.2f}", f"{1e3 * ep_state:.0f}",
                         f"{100 * c / ep_state:.2f}%", f"{1e3 * ep_cam:.0f}", f"{100 * c / ep_cam:.2f}%"])
        print(f"  {engine}: reset {1e3 * cost['reset']:.1f} ms, {steps_state:.0f} steps per state-only episode")
    headers = ["engine", "change", "randomize+apply ms", "of which sample ms", "episode ms (state)",
               "fraction (state)", "episode ms (2 cams)", "fraction (2 cams)"]
    table = markdown_table(headers, rows)
    print("\n" + table)
    worst = max(float(r[5].rstrip("%")) for r in rows if r[1] == "parametric") / 100
    verdict = "meets" if worst < TARGET else "misses"
    print(f"\nparametric apply: at most {100 * worst:.2f}% of an episode ({verdict} the {100 * TARGET:.0f}% "
          f"target; {time.perf_counter() - start:.0f} s)")
    if args.out:
        mode = "quick" if args.quick else "full"
        text = (f"### Randomization cost per episode ({mode} run)\n\n{env}\n\n"
                "pick_place, `full` preset. Parametric: sample + restore + apply in place (+ MuJoCo texture "
                "re-upload). Structural: sample + new world + apply (2 random_urdfs distractors on both "
                "engines). Episodes: "
                "`EpisodeRunner.run`, expert until success.\n\n"
                f"{table}\n\nWorst parametric fraction: {100 * worst:.2f}% ({verdict} the < 5 % target).\n")
        write_markdown_section(args.out, "randomization", text)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
