"""Output-path checks shared by the verbs that write files (generate, preview, report)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sim.errors import InputError


def probe_writable(directory: Path, message: str, error: type[InputError] = InputError) -> None:
    """Raise ``error(message + reason)`` unless a file can really be created in ``directory``.

    A real probe, because os.access says yes to root even on read-only file systems.
    """
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".robosynth-probe-"):
            pass
    except OSError as exc:
        raise error(f"{message} ({exc.strerror})") from None
