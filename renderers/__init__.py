"""robosynth: renderers package."""
