"""``robosynth generate`` with its episodes on the local process pool, ONE worker that has every core this process
may use (a benchmark child of bench_generate_rate.py, not a test).

``--workers 1`` records in-process, so the command line never runs a pool of one. This runs the real command
(``robosynth.cli.app.main`` with the arguments given) with two internals replaced: the in-process executor by a
one-worker pool, set up as ``run_jobs`` sets up each worker of W on W x this many cores (render thread, two
stages, its share of the rasterizer threads), and the driver's prestarted GL thread (a pool's driver draws
nothing). The fork server starts first, as the command line starts it for ``--workers`` > 1. Its rate next to the
in-process command's is what a pool worker costs, with the cores a worker of a larger machine would have.

    python benchmarks/pool_worker_child.py generate pick_place --episodes 30 --out /tmp/ds ...
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from robosynth.generate.pool import start_worker_server

    start_worker_server("mujoco")
    from robosynth.cli.app import main
    from robosynth.generate import executors, jobs, run
    from robosynth.generate.directory import tmp_dirs
    from robosynth.generate.pool import EpisodePool

    def one_worker_pool(job: jobs.Job, out: str, indices: list[int]) -> Iterator[dict]:
        """Record ``indices`` on a pool of one worker with all of this process's cores."""
        cores = executors.usable_cores()
        job = job.with_render_thread(cores)
        pool = EpisodePool(jobs.EPISODE_STAGES if job.render_thread else jobs.run_episode, job, out, 1,
                           init=functools.partial(executors._pool_init, rasterizer_threads=cores),
                           tmp_dirs=tmp_dirs(Path(out)), on_give_up=lambda i, r: jobs.give_up_episode(out, i, r),
                           backend=job.request.backend)
        yield from pool.run(indices)

    executors.run_in_process = one_worker_pool
    run.prestart_gl_thread = lambda *a, **k: None
    sys.argv[0] = "robosynth"
    main()
