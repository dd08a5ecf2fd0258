"""robosynth: robosynth package."""
