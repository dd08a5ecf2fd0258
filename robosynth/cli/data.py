"""CLI verbs that make or read datasets: generate, inspect, verify (registered in robosynth.cli)."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from robosynth.cli.common import (
    EXIT_CHECK_FAILED,
    err_console,
    gc_paused_for_startup,
    may_be_terminal,
    out_console,
    print_plain,
)
from sim.errors import InputError


def generate_cmd(
    ctx: typer.Context,
    scene: Annotated[str, typer.Argument(metavar="SCENE", help="built-in scene name or a YAML path")],
    out: Annotated[Path, typer.Option("--out", "-o", help="dataset directory")] = Path("episodes"),
    backend: Annotated[str, typer.Option("--backend", "-b", help="mujoco or pybullet")] = "mujoco",
    episodes: Annotated[int, typer.Option("--episodes", "-n", help="dataset size N: episodes 0..N-1")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="dataset seed")] = 0,
    workers: Annotated[int, typer.Option("--workers", "-w", help="parallel worker processes")] = 1,
    executor: Annotated[str, typer.Option("--executor", help="local or ray")] = "local",
    resume: Annotated[bool, typer.Option("--resume", help="finish an interrupted dataset")] = False,
    cameras: Annotated[str | None, typer.Option(
        "--cameras", help="comma-separated scene cameras; 'none' for state only (default: all)")] = None,
    resolution: Annotated[str | None, typer.Option("--resolution", help="WIDTHxHEIGHT for every camera")] = None,
    quality: Annotated[str, typer.Option("--quality", help="render preset: fast, default, high")] = "default",
    randomization: Annotated[str | None, typer.Option(
        "--randomization", help="preset (none, visual, physical, full) or YAML file")] = None,
    depth_format: Annotated[str, typer.Option(
        "--depth-format", help="metric (metres) or normalized (robosuite-style [0, 1])")] = "metric",
    keep_failed: Annotated[bool, typer.Option("--keep-failed", help="also write failed episodes")] = False,
    compression: Annotated[str, typer.Option("--compression", help="gzip, lzf or none")] = "gzip",
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="cap steps per episode")] = None,
    indices: Annotated[str | None, typer.Option(
        "--indices", help="record only these episode indices of the N-episode dataset, e.g. 3,5-7 "
        "(each < --episodes); with the seed this regenerates recorded episodes exactly")] = None,
    pointcloud: Annotated[int | None, typer.Option(
        "--pointcloud", metavar="N", help="also record a fused world-frame cloud of N points per step from the "
        "recorded depth cameras (obs/pointcloud, pointcloud_rgb, pointcloud_seg)")] = None,
    valid_ratio: Annotated[float, typer.Option(
        "--valid-ratio", help="share of demos in mask/valid (0 <= r < 1); with >= 2 demos and r > 0, "
        "valid and train each get at least one")] = 0.1,
    adaptive: Annotated[bool, typer.Option(
        "--adaptive", help="adapt the randomization ranges to the expert's success (ADR; settings in the config's "
        "adaptive: section, docs/randomization.md)")] = False,
    focus_failures: Annotated[str | None, typer.Option(
        "--focus-failures", metavar="P", help="spend the episodes where policy P (as in evaluate --policy) fails: "
        "Thompson sampling of per-bin failure posteriors over the randomized ranges")] = None,
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", metavar="ADDR", help="run on an existing Ray cluster (HOST:PORT, ray://HOST:PORT or auto; "
        "default: $RAY_ADDRESS, else a local Ray); implies --executor ray; only this process writes --out")] = None,
    ray_cpus: Annotated[float, typer.Option(
        "--ray-cpus-per-episode", help="CPUs each Ray episode task asks for")] = 1.0,
    ray_gpus: Annotated[float, typer.Option(
        "--ray-gpus-per-episode", help="GPUs each Ray episode task asks for (e.g. 1 for a GPU renderer)")] = 0.0,
) -> None:
    """Record expert episodes of a scene into a crash-safe, resumable HDF5 dataset."""
    with gc_paused_for_startup() as startup_done:  # resumed (with start-up frozen) once the episodes start
        if workers > 1 and executor == "local" and ray_address is None:
            from robosynth.generate.pool import start_worker_server

            start_worker_server(backend)  # the workers' imports run while this process does its own
        from renderers.camera import parse_resolution
        from robosynth.generate import GenerateRequest, parse_indices, selected_indices
        from robosynth.generate.ray_exec import RayOptions
        from sim.backend import BACKENDS

        if backend not in BACKENDS:
            raise InputError(f"unknown backend '{backend}' (choose from: {', '.join(BACKENDS)})")
        if quality not in ("fast", "default", "high"):
            raise InputError(f"unknown --quality '{quality}' (choose from: fast, default, high)")
        if depth_format not in ("metric", "normalized"):
            raise InputError(f"unknown --depth-format '{depth_format}' (choose from: metric, normalized)")
        if compression not in ("gzip", "lzf", "none"):
            raise InputError(f"unknown --compression '{compression}' (choose from: gzip, lzf, none)")
        if max_steps is not None and max_steps < 1:
            raise InputError("--max-steps must be >= 1")
        if not 0.0 <= valid_ratio < 1.0:
            raise InputError(f"--valid-ratio must be >= 0 and < 1, got {valid_ratio:g}")
        cams = None
        if cameras is not None:
            cams = () if cameras.strip().lower() == "none" else \
                tuple(c.strip() for c in cameras.split(",") if c.strip())
        req = GenerateRequest(
            scene=scene, backend=backend, episodes=episodes, seed=seed, cameras=cams,
            resolution=None if resolution is None else parse_resolution(resolution), quality=quality,
            randomization=randomization, depth_format=depth_format, keep_failed=keep_failed,
            compression=None if compression == "none" else compression, max_steps=max_steps,
            indices=parse_indices(indices), train_ratio=1.0 - valid_ratio, pointcloud=pointcloud, adaptive=adaptive,
            focus_failures=focus_failures,
        )
        selected_indices(req)
        executor = _executor(ctx, executor, ray_address)
        ray = RayOptions(address=ray_address, cpus_per_episode=ray_cpus, gpus_per_episode=ray_gpus)
        summary = _run_with_progress(req, out, workers, executor, resume, _explicit_fields(ctx), ray,
                                     startup_done)
        rate = (summary.requested - summary.failed) / summary.requested if summary.requested else 0.0
        index = out / "dataset.hdf5"
        where = f"index {index}" if index.is_file() else "no episode written, so no index (keep failed episodes " \
            "with --keep-failed)"
        print_plain(f"{summary.requested} episodes in '{out}': {summary.written} written now, {summary.skipped} "
                    f"already done, {summary.failed} failed (success rate {rate:.0%}); {where}")
        print_plain(summary.stats.summary(summary.bytes_on_disk))


def _executor(ctx: typer.Context, executor: str, ray_address: str | None) -> str:
    """Return the executor: --ray-address implies ray; with an explicit --executor local it is bad input."""
    if ray_address is None:
        return executor
    source = ctx.get_parameter_source("executor")
    if executor != "ray" and source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
        raise InputError(f"--ray-address runs on Ray; it cannot be combined with --executor {executor}")
    return "ray"


_PARAM_FIELDS = {"valid_ratio": "train_ratio"}  # CLI parameter -> GenerateRequest field, where they differ


def _explicit_fields(ctx: typer.Context) -> set[str]:
    """Return the GenerateRequest fields whose flags the user gave (not left at their defaults)."""
    given = set()
    for name in ctx.params:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
            given.add(_PARAM_FIELDS.get(name, name))
    return given


def _run_with_progress(req, out: Path, workers: int, executor: str, resume: bool, explicit: set[str], ray,
                       startup_done: Callable[[], None]):
    """Run generate with the progress view (a live bar on a terminal, a line per tenth of the run otherwise);
    ``startup_done()`` is called when the episodes are about to start."""
    from robosynth.generate import generate
    from robosynth.generate.pool import MAX_ATTEMPTS
    from robosynth.generate.progress import RunStats

    stats = RunStats()
    with _progress_view() as (say, update, live), _sigterm_as_interrupt():

        def on_start(to_run: int, already_done: int) -> None:
            startup_done()
            update(total=to_run, info=f"{already_done} already done" if already_done else "")

        def on_episode(res: dict) -> None:
            update(advance=1, info=stats.line())
            step = max(1, stats.to_run // 10)
            if not live and (stats.done % step == 0 or stats.done == stats.to_run):
                say(f"generate: {stats.status()}")

        def on_retry(index: int, reason: str, attempt: int) -> None:
            say(f"warning: episode {index}: {reason}; running it again in a new worker "
                f"(attempt {attempt} of {MAX_ATTEMPTS})")

        if req.adaptive or req.focus_failures is not None:
            from robosynth.evaluate.focus import generate_focused
            from robosynth.generate.adaptive import check_adaptive, generate_adaptive
            from robosynth.generate.progress import bytes_on_disk

            check_adaptive(req, workers, executor, resume, "--adaptive" if req.adaptive else "--focus-failures")
            on_start(req.episodes, 0)
            stats.start(req.episodes, 0)

            def on_adaptive_episode(res: dict) -> None:  # one process: count here what the executors count
                stats.add(res)
                on_episode(res)

            run = generate_focused if req.focus_failures is not None else generate_adaptive
            summary = run(req, out, progress=on_adaptive_episode)
            stats.finish()
            summary.stats, summary.bytes_on_disk = stats, bytes_on_disk(out)
            return summary
        try:
            summary = generate(req, out, workers=workers, executor=executor, resume=resume, progress=on_episode,
                               on_start=on_start, on_retry=on_retry, explicit=explicit, ray=ray,
                               on_info=lambda line: say(f"generate: {line}"), stats=stats)
        except KeyboardInterrupt:
            say(f"generate: stopped after {stats.done} of {stats.to_run} episodes; the finished ones are kept, "
                f"finish with: robosynth generate ... --out {out} --resume")
            raise
    return summary


@contextlib.contextmanager
def _progress_view() -> Iterator[tuple[Callable[[str], None], Callable[..., None], bool]]:
    """Yield (say(line), update(**task fields), live): rich's live bar on a terminal; elsewhere plain lines on
    stderr, without importing rich (about 20 ms of every command's start-up)."""
    if not may_be_terminal(sys.stderr):
        yield (lambda line: print_plain(line, err=True)), (lambda **_: None), False
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = err_console()
    live = console.is_terminal
    with Progress(
        TextColumn("[bold]generate"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(), console=console, transient=False, disable=not live,
    ) as progress:
        task = progress.add_task("episodes", total=None, info="")
        yield ((lambda line: progress.console.print(line, markup=False, soft_wrap=True)),
               (lambda **fields: progress.update(task, **fields)), live)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while generating: executors stop their workers, finished episodes stay."""
    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def inspect_cmd(path: Annotated[Path, typer.Argument(help="dataset directory or .hdf5 file")]) -> None:
    """Summarise a dataset: episodes, steps, keys/shapes/dtypes, backend, seeds, success rate, size."""
    from rich.table import Table

    from robosynth.dataset import summarize

    s = summarize(path)
    console = out_console()
    head = Table(title=f"robosynth dataset {path}", show_header=False)
    for k in ("schema", "episodes", "total_steps", "success_rate", "bytes_on_disk"):
        v = s.get(k)
        head.add_row(k, f"{v:.1%}" if k == "success_rate" and v is not None else f"{v:,}" if isinstance(v, int)
                     else str(v))
    spe = s.get("steps_per_episode") or {}
    head.add_row("steps/episode", f"min {spe.get('min')}, mean {spe.get('mean', 0):.1f}, max {spe.get('max')}"
                 if spe else "-")
    head.add_row("backends", ", ".join(f"{k} ({v})" for k, v in (s.get("backends") or {}).items()))
    head.add_row("scenes", ", ".join(f"{k} ({v})" for k, v in (s.get("scenes") or {}).items()))
    seeds = sorted(set(s.get("seeds") or []))
    head.add_row("seeds", ", ".join(map(str, seeds[:10])) + (" ..." if len(seeds) > 10 else ""))
    console.print(head)
    keys = Table(title="keys", show_lines=False)
    keys.add_column("key")
    keys.add_column("shape")
    keys.add_column("dtype")
    for k, v in (s.get("keys") or {}).items():
        keys.add_row(k, "(" + ", ".join(map(str, v["shape"])) + ")", v["dtype"])
    console.print(keys)


def verify_cmd(path: Annotated[Path, typer.Argument(help="dataset directory or .hdf5 file")]) -> None:
    """Validate schema and contents; exit 1 listing every problem."""
    from robosynth.dataset import verify_path

    problems = verify_path(path)
    console = out_console()
    if problems:
        for p in problems:  # one problem per line, never wrapped, so the list can be grepped
            console.print(f"FAIL {p}", markup=False, soft_wrap=True)
        console.print(f"{len(problems)} problem(s) in {path}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_CHECK_FAILED)
    console.print(f"OK {path}: schema and contents valid", markup=False, soft_wrap=True)
