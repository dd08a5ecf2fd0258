"""The ``robosynth`` command line: ``app`` (typer), ``invoke(argv) -> exit code`` and the ``main`` entry point."""

from robosynth.cli.app import app, invoke, main

__all__ = ["app", "invoke", "main"]
