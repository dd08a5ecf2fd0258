"""robosynth: scenes package."""
