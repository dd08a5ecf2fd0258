"""CLI verb ``report`` (registered in robosynth.cli): a thin shell over :mod:`robosynth.report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robosynth.cli.common import err_console, out_console


def report_cmd(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH", help="dataset directories, their dataset.hdf5 or episode files; several PATHs (e.g. "
        "one dataset per backend) or a directory of dataset directories make one report")],
    out: Annotated[Path, typer.Option("--out", "-o", help="report directory: index.html, *.png, report.json")],
) -> None:
    """Dataset quality report: success with 95 % CI, lengths, coverage, parameters, images, cross-engine."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from robosynth.report import write_report

    console = err_console()
    with Progress(TextColumn("[bold]report"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("episodes", total=None)
        report = write_report(paths, out, lambda done, total: progress.update(task, completed=done, total=total))
    s = report["success"]["overall"]
    lo, hi = s["ci95"]
    cross = report["cross_engine"]
    cross_text = (f"cross-engine {cross['pairs']} pairs, success agreement {cross['success_agreement']['rate']:.0%}"
                  if cross["status"] == "compared" else cross["status"])
    backends = ", ".join(f"{b} {n}" for b, n in report["backends"].items())
    out_console().print(
        f"wrote {out / 'index.html'}: {report['episodes']} episodes ({backends}), success {s['rate']:.1%} "
        f"(95% CI {lo:.1%}-{hi:.1%}), {report['parameters']['varying']} varying parameters, {cross_text}",
        markup=False, soft_wrap=True)
