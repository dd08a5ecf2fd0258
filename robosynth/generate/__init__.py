"""Recording datasets: the request (``request``), the output directory (``directory``), one episode as a job
(``jobs``, ``recording``), the executors (``executors``, ``pool``, ``ray_exec``), the progress view's counts
(``progress``), the ``generate`` entry point (``run``), ``robosynth merge`` (``merge``) and ``generate --adaptive``
(``adaptive``, imported from its module).

Inside this package each module imports only those listed before it: ``request`` -> ``directory`` ->
``recording`` -> ``jobs`` -> ``pool`` -> ``ray_exec`` -> ``executors`` -> ``progress`` -> ``run`` -> ``merge``,
``adaptive``.

The names below are imported on first use (PEP 562), so importing one light module of the package (``request``,
``pool``) does not load the engines, renderers and HDF5 stack the others need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from robosynth.generate.buffer import EpisodeBuffer
    from robosynth.generate.directory import (
        FAILED_DIR,
        REQUEST_FILE,
        check_output_dir,
        failed_marker,
        output_dir_kind,
    )
    from robosynth.generate.executors import run_jobs
    from robosynth.generate.jobs import Job, close_runners, make_job, run_episode
    from robosynth.generate.pool import MAX_ATTEMPTS, EpisodePool
    from robosynth.generate.recording import EpisodeResult, EpisodeRunner, RecordingOptions
    from robosynth.generate.request import (
        GenerateRequest,
        dataset_info,
        parse_indices,
        reconcile_request,
        selected_indices,
    )
    from robosynth.generate.run import GenerateSummary, generate

_MODULE_OF = {
    "FAILED_DIR": "directory", "REQUEST_FILE": "directory", "check_output_dir": "directory",
    "failed_marker": "directory", "output_dir_kind": "directory", "run_jobs": "executors", "Job": "jobs",
    "close_runners": "jobs", "make_job": "jobs", "run_episode": "jobs", "MAX_ATTEMPTS": "pool",
    "EpisodePool": "pool", "EpisodeBuffer": "buffer", "EpisodeResult": "recording", "EpisodeRunner": "recording",
    "RecordingOptions": "recording", "GenerateRequest": "request", "dataset_info": "request",
    "parse_indices": "request", "reconcile_request": "request", "selected_indices": "request",
    "GenerateSummary": "run", "generate": "run",
}

__all__ = [
    "FAILED_DIR", "MAX_ATTEMPTS", "REQUEST_FILE", "EpisodeBuffer", "EpisodePool", "EpisodeResult", "EpisodeRunner",
    "GenerateRequest", "GenerateSummary", "Job", "RecordingOptions", "check_output_dir", "close_runners",
    "dataset_info", "failed_marker", "generate", "make_job", "output_dir_kind", "parse_indices",
    "reconcile_request", "run_episode", "run_jobs", "selected_indices",
]


__getattr__, __dir__ = lazy_exports(__name__, _MODULE_OF, globals())
