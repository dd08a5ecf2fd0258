"""What is the data worth? Behaviour cloning on N expert episodes, evaluated closed-loop on both engines.

For each task (default ``pick_place`` and ``push``), each training randomization (``none``, ``full``) and each data
source (``mujoco``: N episodes recorded on MuJoCo; ``both``: N/2 on MuJoCo + N/2 on PyBullet), a BC policy is
trained on the first N (10, 30, 100) expert episodes and evaluated with ``robosynth.evaluate`` on MuJoCo and
PyBullet, under the training randomization and under ``heldout:full`` (values outside the ``full`` ranges,
docs/randomization.md). The table (success with Wilson 95 % CIs per task x N x DR x source x engine x evaluation
randomization) is written by this script, never typed.

Data: ``robosynth generate TASK --cameras none --seed 0`` per engine and randomization (state only), the
successful episodes only (generate keeps only those). Observations: end-effector position and quaternion, gripper
joints and the task's ``object`` vector (the same low-dim keys robomimic reads), standardised with the training
set's mean and std. Policy: an MLP (2 x 256, ReLU) regressing the ee_delta action (MSE), Adam lr 1e-3, batch 256,
``--steps`` gradient steps (default 5000), one torch thread, fixed torch seed. This is a deliberately plain
learner (no history, no action chunking): the experts keep hidden state (their phase, a close-step counter) that no
single observation shows, which is what makes their data hard to imitate (issue 16 measured 60 % on MuJoCo and
10 % on PyBullet with robomimic's BC at 30k steps on 100 pick_place demos).

Evaluation episodes use ``evaluate``'s own seed stream (never a training episode). Needs the ``learn`` extra
(torch): ``pip install -e ".[learn]"``.

    python benchmarks/bench_data_value.py --write docs/data_value.md               # the full grid (long)
    python benchmarks/bench_data_value.py --tasks pick_place --n 10,30 --dr none --sources mujoco --episodes 10
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment_line, markdown_table, write_markdown_section  # noqa: E402

OBS_KEYS = ("robot0_eef_pos", "robot0_eef_quat", "robot0_gripper_qpos", "object")


def record(task: str, backend: str, dr: str, episodes: int, out: Path) -> Path:
    """Record ``episodes`` expert episodes (state only) and return the dataset directory."""
    from robosynth.generate import GenerateRequest, generate

    req = GenerateRequest(scene=task, backend=backend, episodes=episodes, seed=0, cameras=(), randomization=dr)
    generate(req, out)
    return out


def load_pairs(dataset: Path, limit: int) -> tuple[Any, Any, int]:
    """Return (observations, actions, demos used) of the first ``limit`` successful episodes of a dataset."""
    import numpy as np

    from robosynth.dataset import iter_episodes

    xs, ys, used = [], [], 0
    for ep in iter_episodes(dataset):
        if used >= limit:
            break
        xs.append(np.concatenate([ep.obs[k] for k in OBS_KEYS], axis=1))
        ys.append(ep.actions)
        used += 1
    return np.concatenate(xs), np.concatenate(ys), used


class BCPolicy:
    """An MLP from the standardised low-dim observation to the action (robosynth's reset/act protocol)."""

    def __init__(self, model: Any, mean: Any, std: Any):
        self.model, self.mean, self.std = model, mean, std

    def reset(self) -> None:
        """The MLP has no state."""

    def act(self, obs: dict[str, Any]) -> Any:
        """Return the MLP's action for one observation."""
        import numpy as np
        import torch

        x = (np.concatenate([obs[k] for k in OBS_KEYS]) - self.mean) / self.std
        with torch.no_grad():
            return self.model(torch.as_tensor(x, dtype=torch.float32)[None])[0].numpy()


def train_bc(x: Any, y: Any, steps: int, seed: int = 0) -> BCPolicy:
    """Return a BC policy trained by MSE regression of ``y`` on standardised ``x``."""
    import numpy as np
    import torch

    torch.manual_seed(seed)
    mean, std = x.mean(0), x.std(0) + 1e-6
    xt = torch.as_tensor((x - mean) / std, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, y.shape[1]))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(xt), (min(256, len(xt)),), generator=gen)
        loss = torch.nn.functional.mse_loss(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return BCPolicy(model, mean.astype(np.float32), std.astype(np.float32))


def evaluate_policy(task: str, policy: BCPolicy, label: str, dr: str, episodes: int) -> dict[str, Any]:
    """Return robosynth.evaluate's results for ``policy`` on both engines, under ``dr`` and ``heldout:full``."""
    from robosynth.evaluate import EvaluateRequest, evaluate

    rands = tuple(dict.fromkeys((dr, "heldout:full")))
    req = EvaluateRequest(scene=task, policy=label, backends=("mujoco", "pybullet"), episodes=episodes, seed=0,
                          randomizations=rands)
    return evaluate(req, policy_object=policy)


def run(args: argparse.Namespace) -> tuple[list[list[object]], dict[str, float]]:
    """Run the grid; return table rows and timings."""
    import torch

    torch.set_num_threads(1)
    ns = sorted(int(n) for n in args.n.split(","))
    rows: list[list[object]] = []
    timing = {"record": 0.0, "train": 0.0, "evaluate": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks.split(","):
            for dr in args.dr.split(","):
                t0 = time.perf_counter()
                data = {b: record(task, b, dr, max(ns) + max(ns) // 5, Path(tmp) / f"{task}-{dr}-{b}")
                        for b in (("mujoco", "pybullet") if "both" in args.sources else ("mujoco",))}
                timing["record"] += time.perf_counter() - t0
                for source in args.sources.split(","):
                    for n in ns:
                        rows += _one(task, dr, source, n, data, args, timing)
                        print(f"{task} {dr} {source} N={n}: done ({sum(timing.values()):.0f} s so far)", flush=True)
    return rows, timing


def _one(task: str, dr: str, source: str, n: int, data: dict[str, Path], args: argparse.Namespace,
         timing: dict[str, float]) -> list[list[object]]:
    import numpy as np

    t0 = time.perf_counter()
    if source == "both":
        parts = [load_pairs(data[b], n // 2 + (n % 2 if b == "mujoco" else 0)) for b in ("mujoco", "pybullet")]
        x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        used = sum(p[2] for p in parts)
    else:
        x, y, used = load_pairs(data["mujoco"], n)
    policy = train_bc(x, y, args.steps, args.train_seed)
    t1 = time.perf_counter()
    timing["train"] += t1 - t0
    res = evaluate_policy(task, policy, f"bc-{task}-{dr}-{source}-{n}", dr, args.episodes)
    timing["evaluate"] += time.perf_counter() - t1
    out = []
    for cell in res["cells"]:
        lo, hi = cell["ci95"]
        out.append([task, used, dr, source, cell["backend"], cell["randomization"],
                    f"{cell['successes']}/{cell['n']}", f"{100 * cell['rate']:.0f} % [{100 * lo:.0f}, {100 * hi:.0f}]"])
    return out


def main() -> int:
    """Parse flags, run the grid, print (and with --write, store) the markdown section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="pick_place,push")
    ap.add_argument("--n", default="10,30,100", help="training episodes per policy")
    ap.add_argument("--dr", default="none,full", help="training randomizations")
    ap.add_argument("--sources", default="mujoco,both", help="mujoco: N MuJoCo demos; both: N/2 per engine")
    ap.add_argument("--episodes", type=int, default=30, help="evaluation episodes per engine and randomization")
    ap.add_argument("--steps", type=int, default=5000, help="BC gradient steps")
    ap.add_argument("--train-seed", type=int, default=0, help="torch seed of initialisation and minibatches")
    ap.add_argument("--write", type=Path, default=None, help="markdown file to write the section into")
    ap.add_argument("--key", default="data_value", help="name of the section in --write (one per configuration)")
    args = ap.parse_args()
    try:
        import torch  # noqa: F401
    except ImportError:
        print("bench_data_value needs torch: pip install -e '.[learn]'", file=sys.stderr)
        return 2
    start = time.perf_counter()
    rows, timing = run(args)
    total = time.perf_counter() - start
    headers = ["task", "N demos", "training DR", "source", "engine", "evaluated on", "successes", "rate [95 % CI]"]
    text = (f"## data value\n\nBC (MLP 2x256, {args.steps} steps) on N expert episodes, {args.episodes} evaluation "
            f"episodes per cell (`python benchmarks/bench_data_value.py --tasks {args.tasks} --n {args.n} --dr "
            f"{args.dr} --sources {args.sources} --episodes {args.episodes} --steps {args.steps} --train-seed "
            f"{args.train_seed}`).\n"
            f"{environment_line('mujoco', 'pybullet', 'torch')}. Took {total:.0f} s (recording "
            f"{timing['record']:.0f} s, training {timing['train']:.0f} s, evaluation {timing['evaluate']:.0f} s).\n\n"
            + markdown_table(headers, rows))
    print(text)
    if args.write is not None:
        write_markdown_section(args.write, args.key, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
