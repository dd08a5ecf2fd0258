"""robosynth: randomization package."""
