"""``robosynth report``: a dataset quality report. ``collect`` reads datasets and writes the report, ``stats``
computes its statistics, ``plots`` draws the figures (matplotlib, Agg canvas) and ``html`` writes the page.

Inside this package: ``html`` and ``plots`` -> ``stats`` -> ``collect``.
"""

from robosynth.report.collect import ReportError, build_report, write_report
from robosynth.report.stats import flatten_params, wilson_interval

__all__ = ["ReportError", "build_report", "flatten_params", "wilson_interval", "write_report"]
