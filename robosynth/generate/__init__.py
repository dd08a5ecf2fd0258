"""Recording datasets: the request (``request``), the output directory (``directory``), one episode as a job
(``jobs``, ``recording``), the executors (``executors``, ``pool``, ``ray_exec``), the progress view's counts
(``progress``), the ``generate`` entry point (``run``), ``robosynth merge`` (``merge``) and ``generate --adaptive``
(``adaptive``, imported from its module).

Inside this package each module imports only those listed before it: ``request`` -> ``directory`` ->
``recording`` -> ``jobs`` -> ``pool`` -> ``ray_exec`` -> ``executors`` -> ``progress`` -> ``run`` -> ``merge``,
``adaptive``.
"""

from robosynth.generate.directory import FAILED_DIR, REQUEST_FILE, check_output_dir, failed_marker, output_dir_kind
from robosynth.generate.executors import run_jobs
from robosynth.generate.jobs import Job, close_runners, make_job, run_episode
from robosynth.generate.pool import MAX_ATTEMPTS, EpisodePool
from robosynth.generate.recording import EpisodeBuffer, EpisodeResult, EpisodeRunner, RecordingOptions
from robosynth.generate.request import (
    GenerateRequest,
    dataset_info,
    parse_indices,
    reconcile_request,
    selected_indices,
)
from robosynth.generate.run import GenerateSummary, generate

__all__ = [
    "FAILED_DIR", "MAX_ATTEMPTS", "REQUEST_FILE", "EpisodeBuffer", "EpisodePool", "EpisodeResult", "EpisodeRunner",
    "GenerateRequest", "GenerateSummary", "Job", "RecordingOptions", "check_output_dir", "close_runners",
    "dataset_info", "failed_marker", "generate", "make_job", "output_dir_kind", "parse_indices",
    "reconcile_request", "run_episode", "run_jobs", "selected_indices",
]
