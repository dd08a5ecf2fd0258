"""Deprecated alias of :mod:`robosynth.dataset` (kept for one release): import from ``robosynth.dataset``."""

import warnings

from robosynth.dataset import *  # noqa: F403
from robosynth.dataset.records import *  # noqa: F403

warnings.warn("robosynth.schema is deprecated; import from robosynth.dataset", DeprecationWarning, stacklevel=2)
