"""Deprecated alias of :mod:`robosynth.gym.record` (kept for one release): import from ``robosynth.gym``."""

import warnings

from robosynth.gym.record import RecordEpisodes

warnings.warn("robosynth.gym_record is deprecated; import from robosynth.gym", DeprecationWarning, stacklevel=2)

__all__ = ["RecordEpisodes"]
