"""robosynth: sim package."""
