"""CLI verb ``evaluate`` (registered in robosynth.cli): closed-loop evaluation, and ``--compare`` of success rates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from robosynth.cli.common import err_console, out_console
from sim.errors import InputError

if TYPE_CHECKING:
    from rich.table import Table


def evaluate_cmd(
    scene: Annotated[str | None, typer.Argument(metavar="SCENE", help="built-in scene name or a YAML path")] = None,
    policy: Annotated[str, typer.Option(
        "--policy", "-p", help="expert, random, module:factory (or file.py:factory), or robomimic:CHECKPOINT")
    ] = "expert",
    backend: Annotated[str, typer.Option("--backend", "-b", help="engines, comma-separated (or all)")] = "mujoco",
    episodes: Annotated[int, typer.Option("--episodes", "-n", help="episodes per engine and randomization")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="evaluation seed (its own stream: never a training episode)")
                    ] = 0,
    randomization: Annotated[str | None, typer.Option(
        "--randomization", help="presets, YAML files or heldout:REF, comma-separated (default: the scene's own)")
    ] = None,
    record: Annotated[Path | None, typer.Option(
        "--record", help="write the rollouts as datasets DIR/<engine>-<randomization>")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write every number as JSON here")] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="cap steps per episode (default: horizon)")
                         ] = None,
    compare: Annotated[tuple[Path, Path] | None, typer.Option(
        "--compare", metavar="A B", help="Pearson r and MMRV of B's per-policy success rates against A's "
        "(CSV or JSON files; no SCENE)")] = None,
) -> None:
    """Evaluate a policy closed-loop on each engine (success with 95 % CI, gap test), or --compare rates."""
    from robosynth.dataset import probe_writable

    if out is not None:
        where = next((p for p in out.absolute().parents if p.exists()), Path("."))
        if not where.is_dir():
            raise InputError(f"--out '{out}': '{where}' is not a directory")
        probe_writable(where, f"--out '{out}': its directory is not writable")
        if out.is_dir():
            raise InputError(f"--out '{out}' is a directory; give a file name such as results.json")
    if compare is not None:
        if scene is not None:
            raise InputError("--compare takes no SCENE (it compares two files of success rates)")
        _compare(compare, out)
        return
    if scene is None:
        raise InputError("missing SCENE (or use --compare A B)")
    from robosynth.evaluate import EvaluateRequest, parse_backends, parse_randomizations

    req = EvaluateRequest(scene=scene, policy=policy, backends=parse_backends(backend), episodes=episodes, seed=seed,
                          randomizations=parse_randomizations(randomization), record=record, max_steps=max_steps)
    results = _run_with_progress(req)
    console = out_console()
    if not console.is_terminal:
        console.width = 200  # piped output: never abbreviate a number
    console.print(results_table(results))
    for line in gap_lines(results):
        console.print(line, markup=False, soft_wrap=True)
    _write(out, results)


def _run_with_progress(req: Any) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from robosynth.evaluate import evaluate

    console = err_console()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[ok]}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        tasks: dict[Any, Any] = {}
        wins: dict[Any, int] = {}

        def on_start(cell: Any, total: int) -> None:
            tasks[cell] = progress.add_task(f"{cell.backend} / {cell.randomization}", total=total, ok="")
            wins[cell] = 0

        def on_episode(cell: Any, outcome: Any) -> None:
            wins[cell] += int(outcome.success)
            progress.update(tasks[cell], advance=1, ok=f"{wins[cell]} ok")

        return evaluate(req, on_start, on_episode)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def results_table(results: dict[str, Any]) -> Table:
    """Return the table of every cell (all numbers read from ``results``)."""
    from rich.table import Table

    table = Table(title=f"{results['scene']}: policy {results['policy']}, {results['episodes']} episodes per cell, "
                        f"seed {results['seed']} (evaluation seed {results['evaluation_seed']})")
    for col in ("engine", "randomization", "success", "rate %", "95% CI %", "mean len", "timeout", "physics",
                "policy err", "episodes/s"):
        table.add_column(col, justify="left" if col in ("engine", "randomization") else "right")
    for c in results["cells"]:
        lo, hi = c["ci95"]
        f = c["failures"]
        table.add_row(c["backend"], c["randomization"], f"{c['successes']}/{c['n']}", _pct(c["rate"]),
                      f"[{_pct(lo)}, {_pct(hi)}]", f"{c['mean_length']:.1f}", str(f["timeout"]), str(f["physics"]),
                      str(f["policy_error"]), f"{c['episodes_per_second']:.2f}")
    return table


def gap_lines(results: dict[str, Any]) -> list[str]:
    """Return one line per cross-engine gap (difference in points, z, two-sided p)."""
    return [f"gap {g['a']} - {g['b']} ({g['randomization']}): {100 * g['difference']:+.1f} points, "
            f"z = {g['z']:.2f}, p = {g['p_value']:.3g} (two-proportion z-test)" for g in results["gaps"]]


def _compare(files: tuple[Path, Path], out: Path | None) -> None:
    from robosynth.evaluate.compare import compare_files

    res = compare_files(*files)
    from rich.table import Table

    table = Table(title=f"success rates: {files[0]} (reference) vs {files[1]}")
    for col in ("policy", "reference", "other"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for name, a, b in zip(res["policies"], res["reference"], res["other"], strict=True):
        table.add_row(name, f"{a:.3f}", f"{b:.3f}")
    out_console().print(table)
    r = "undefined (a constant column)" if res["pearson_r"] is None else f"{res['pearson_r']:.3f}"
    out_console().print(f"{len(res['policies'])} policies: Pearson r = {r}, MMRV = {res['mmrv']:.3f}",
                        markup=False, soft_wrap=True)
    _write(out, res)


def _write(out: Path | None, data: dict[str, Any]) -> None:
    if out is None:
        return
    from robosynth.dataset import write_text_atomic

    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, json.dumps(data, indent=1, sort_keys=True, allow_nan=False))
    err_console().print(f"wrote {out}", markup=False)
