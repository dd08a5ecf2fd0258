"""``robosynth generate`` with its episodes on the local process pool, ONE worker that has every core this process
may use (a benchmark child of bench_generate_rate.py, not a test).

``--workers 1`` records in-process, so the command line never runs a pool of one. This runs the real command
(``robosynth.cli.app.main`` with the arguments given) with two internals replaced: the in-process executor by a
one-worker pool (``executors.run_local_pool``, which sets up each worker of W on W x this many cores the same way:
render thread, two stages, its share of the rasterizer threads), and the driver's prestarted GL thread (a pool's
driver draws nothing). The fork server starts first, as the command line starts it for ``--workers`` > 1. Its rate
next to the in-process command's is what a pool worker costs, with the cores a worker of a larger machine would
have.

    python benchmarks/pool_worker_child.py generate pick_place --episodes 30 --out /tmp/ds ...
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from robosynth.generate.pool import start_worker_server

    start_worker_server("mujoco")
    from robosynth.cli.app import main
    from robosynth.generate import executors, run

    executors.run_in_process = lambda job, out, indices: executors.run_local_pool(job, out, indices, 1)
    run.prestart_gl_thread = lambda *a, **k: None
    sys.argv[0] = "robosynth"
    main()
