"""Can reinforcement learning learn from the task rewards? SB3 SAC on the Gymnasium envs, success vs env steps.

Runs (default): ``robosynth/Reach-v0`` on MuJoCo and on PyBullet, ``robosynth/Push-v0`` on MuJoCo, each for
30k env steps with the dense reward (``reward_type="dense"``, docs/tasks.md). Every ``--eval-every`` steps the
current policy plays 20 deterministic evaluation episodes on a separate env with fixed seeds (10000..10019, the same
for every checkpoint and for the random baseline). An episode counts as a success when the info of its last step
says so (``info.get("is_success", info.get("success"))``); since every env terminates on its first success step,
that is the same as "succeeded at any step". Also reported: the mean final task distance (reach: tool to target;
push: cube to goal in the table plane) and the mean episode return.

Learner: Stable-Baselines3 SAC, ``MultiInputPolicy`` (the observation is a Dict: ``robot0_*`` keys + ``object``),
hyperparameters at SB3's defaults (lr 3e-4, buffer 1e6, batch 256, gamma 0.99, tau 0.005, train_freq 1, 1 gradient
step per env step, learning_starts 100, 2x256 MLPs, automatic entropy tuning toward -dim(A)) except one:
``ent_coef="auto_0.01"``, i.e. the automatically tuned entropy temperature starts at 0.01 instead of 1.0. Why: the
dense rewards are distances in metres, |r| <= ~0.4 per step, while SB3's start value 1.0 suits rewards of order 1;
Adam moves log(alpha) by about lr = 3e-4 per update, so from 1.0 it needs ~15k of the 30k updates to come down to
0.01, and until then the entropy bonus (~alpha x 5 nats per step) outweighs the reward. Measured on Reach (MuJoCo):
with the default start, 0 % success at 5k, 10k, 15k and 20k steps (final distance 0.29, 0.20, 0.18, 0.14 m); with
0.01, 30 % at 10k (0.03 m). ``--ent-coef auto`` reproduces SB3's default. Fixed seeds; one torch thread.
Needs the ``learn`` extra: ``pip install -e ".[learn]"``.

    python benchmarks/bench_rl.py --write BENCHMARKS.md            # the three runs, ~20-40 min on 2 cores
    python benchmarks/bench_rl.py --runs reach:mujoco --steps 5000  # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment_line, markdown_table, write_markdown_section  # noqa: E402

ENV_IDS = {"reach": "robosynth/Reach-v0", "push": "robosynth/Push-v0"}
DEFAULT_RUNS = "reach:mujoco,reach:pybullet,push:mujoco"
EVAL_SEED0 = 10_000


def final_distance(task: str, obs: dict) -> float:
    """Return the task distance in an observation (m): reach tool-target, push cube-goal in xy."""
    import numpy as np

    o = np.asarray(obs["object"], float)
    if task == "reach":
        return float(np.linalg.norm(o[3:6]))
    return float(np.linalg.norm(o[7:9] - o[0:2]))


def evaluate(task: str, env, act, episodes: int) -> dict:
    """Play ``episodes`` episodes with ``act(obs)`` on seeds EVAL_SEED0..; return success rate, distance, return."""
    import numpy as np

    successes, dists, returns, lengths = [], [], [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=EVAL_SEED0 + i)
        ret, steps, done, info = 0.0, 0, False, {}
        while not done:
            obs, r, term, trunc, info = env.step(act(obs))
            ret += float(r)
            steps += 1
            done = term or trunc
        successes.append(bool(info.get("is_success", info.get("success", False))))
        dists.append(final_distance(task, obs))
        returns.append(ret)
        lengths.append(steps)
    return {"success": float(np.mean(successes)), "distance": float(np.mean(dists)),
            "return": float(np.mean(returns)), "length": float(np.mean(lengths))}


def run_one(task: str, engine: str, steps: int, eval_every: int, episodes: int, seed: int, ent_coef: str) -> dict:
    """Train SAC on one (task, engine) and return the random baseline plus one evaluation per checkpoint."""
    import gymnasium as gym
    import torch
    from stable_baselines3 import SAC
    from stable_baselines3.common.callbacks import BaseCallback

    import robosynth  # noqa: F401  (registers the gym ids)

    torch.set_num_threads(1)
    env_id = ENV_IDS[task]
    eval_env = gym.make(env_id, backend=engine, reward_type="dense")
    eval_env.action_space.seed(seed)
    t0 = time.perf_counter()
    random_eval = evaluate(task, eval_env, lambda _obs: eval_env.action_space.sample(), episodes)
    curve: list[dict] = []

    class EvalCallback(BaseCallback):
        def __init__(self):
            super().__init__()
            self.eval_s = 0.0

        def _on_step(self) -> bool:
            if self.num_timesteps % eval_every == 0:
                t = time.perf_counter()
                res = evaluate(task, eval_env, lambda o: self.model.predict(o, deterministic=True)[0], episodes)
                self.eval_s += time.perf_counter() - t
                res["steps"] = self.num_timesteps
                res["wall_s"] = time.perf_counter() - t_train
                log_alpha = getattr(self.model, "log_ent_coef", None)
                res["ent_coef"] = float(log_alpha.exp().item()) if log_alpha is not None else float("nan")
                curve.append(res)
                print(f"[{task}/{engine}] {self.num_timesteps:>6} steps: success {res['success']:.0%}, "
                      f"final distance {res['distance']:.3f} m, return {res['return']:.2f}, "
                      f"ent_coef {res['ent_coef']:.3g} ({res['wall_s']:.0f} s)", flush=True)
            return True

    env = gym.make(env_id, backend=engine, reward_type="dense")
    model = SAC("MultiInputPolicy", env, seed=seed, verbose=0, ent_coef=ent_coef)
    cb = EvalCallback()
    t_train = time.perf_counter()
    model.learn(total_timesteps=steps, callback=cb)
    wall = time.perf_counter() - t_train
    env.close()
    eval_env.close()
    return {"task": task, "engine": engine, "random": random_eval, "curve": curve, "train_s": wall - cb.eval_s,
            "wall_s": wall, "total_s": time.perf_counter() - t0, "seed": seed}


def section(results: list[dict], args: argparse.Namespace) -> str:
    """Return the markdown section for the results."""
    rows = []
    for res in results:
        r = res["random"]
        rows.append([res["task"], res["engine"], "random", f"{r['success']:.0%}", f"{r['distance']:.3f}",
                     f"{r['return']:.2f}", "-"])
        for c in res["curve"]:
            rows.append([res["task"], res["engine"], f"{c['steps']:,}", f"{c['success']:.0%}",
                         f"{c['distance']:.3f}", f"{c['return']:.2f}", f"{c['wall_s']:.0f}"])
    walls = ", ".join(f"{r['task']}/{r['engine']} {r['wall_s'] / 60:.1f} min (training alone "
                      f"{r['train_s'] / 60:.1f} min)" for r in results)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return "\n".join([
        "### Reinforcement learning on the dense rewards (SB3 SAC)",
        "",
        environment_line("mujoco", "pybullet", "torch", "stable-baselines3", "gymnasium")
        + f"; {args.jobs} run(s) at a time; load average at the end {load:.2f}.",
        "",
        f"`python benchmarks/bench_rl.py --steps {args.steps} --eval-every {args.eval_every} "
        f"--ent-coef {args.ent_coef}`: SAC with SB3's default "
        "hyperparameters (`MultiInputPolicy` on the Dict observation, learning_starts 100, 1 gradient step per env "
        f"step) except `ent_coef=\"{args.ent_coef}\"` (SB3's default is `\"auto\"`, i.e. starting at 1.0, which "
        "suits rewards of order 1 per step, not distances in metres; see the script's docstring), training seed "
        f"{args.seed}, one torch thread, `reward_type=\"dense\"`. Each checkpoint plays "
        f"{args.episodes} deterministic episodes on fixed evaluation seeds "
        f"({EVAL_SEED0}..{EVAL_SEED0 + args.episodes - 1}, the same for the random-action baseline). "
        "Success: `info[\"is_success\"]` (falling back to "
        "`info[\"success\"]`) on the episode's last step (episodes end on the first success step). Final distance: "
        "reach tool-to-target, push cube-to-goal in the table plane, in metres, at the episode's end. Return: mean "
        "undiscounted dense return (reach -d per step, horizon 60; push -(d(ee, cube) + d_xy(cube, goal)) per step, "
        "horizon 150). Wall s: seconds of training plus evaluations up to that checkpoint.",
        "",
        markdown_table(["task", "engine", "env steps", "success", "final distance (m)", "return", "wall s"], rows),
        "",
        f"Wall time per run: {walls}.",
    ])


def main() -> int:
    """Run the selected (task, engine) pairs and print or write the markdown section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default=DEFAULT_RUNS, help=f"comma-separated task:engine (default {DEFAULT_RUNS})")
    ap.add_argument("--steps", type=int, default=30_000, help="env steps per run")
    ap.add_argument("--eval-every", type=int, default=5_000, help="env steps between evaluations")
    ap.add_argument("--episodes", type=int, default=20, help="evaluation episodes per checkpoint")
    ap.add_argument("--seed", type=int, default=0, help="training seed (SAC, env resets, action sampling)")
    ap.add_argument("--ent-coef", default="auto_0.01", help="SAC ent_coef (SB3's default: auto)")
    ap.add_argument("--jobs", type=int, default=1, help="runs in parallel processes (one torch thread each)")
    ap.add_argument("--write", "--out", dest="out", type=Path, help="markdown file to write the `rl` section into")
    ap.add_argument("--quick", action="store_true", help="accepted for run_all.py; the RL runs are never short")
    args = ap.parse_args()
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        print("bench_rl needs stable-baselines3 and torch: pip install -e '.[learn]'", file=sys.stderr)
        return 2
    pairs = [tuple(r.split(":")) for r in args.runs.split(",") if r]
    for task, engine in pairs:
        if task not in ENV_IDS or engine not in ("mujoco", "pybullet"):
            ap.error(f"unknown run {task}:{engine}")
    jobs = [(t, e, args.steps, args.eval_every, args.episodes, args.seed, args.ent_coef) for t, e in pairs]
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(run_one, *zip(*jobs, strict=True)))
    else:
        results = [run_one(*j) for j in jobs]
    text = section(results, args)
    print(text)
    if args.out:
        write_markdown_section(args.out, "rl", text)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
