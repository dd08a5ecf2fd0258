"""MP4 video of one camera for a LeRobot v3.0 export, with PyAV: episodes concatenated per file.

Encoder: LeRobot's default (``libsvtav1``, ``yuv420p``, GOP 2, CRF 30, preset 12, ``fast-decode=0``) when this
PyAV build can encode AV1 with SVT-AV1; else ``libx264`` (``yuv420p``, GOP 2, CRF 23, preset ``medium``); else
``mpeg4``. Frame ``i`` of a file has presentation time ``i / fps``, so an episode occupies
``[from_timestamp, to_timestamp)`` = ``[first / fps, (last + 1) / fps)`` of its file.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from robosynth.dataset.files import atomic_path


@dataclass(frozen=True)
class Codec:
    """An encoder and the options it is run with (recorded as ``video.*`` in the feature's info)."""

    encoder: str
    pix_fmt: str
    options: dict[str, str]
    info: dict[str, Any]


_CANDIDATES = (
    Codec("libsvtav1", "yuv420p", {"g": "2", "crf": "30", "preset": "12", "svtav1-params": "fast-decode=0"},
          {"video.g": 2, "video.crf": 30, "video.preset": 12, "video.fast_decode": 0}),
    Codec("libx264", "yuv420p", {"g": "2", "crf": "23", "preset": "medium"},
          {"video.g": 2, "video.crf": 23, "video.preset": "medium"}),
    Codec("mpeg4", "yuv420p", {"g": "2", "qscale": "2"}, {"video.g": 2}),
)


def pick_codec() -> Codec:
    """Return LeRobot's default encoder if this PyAV can encode with it, else the best available fallback."""
    import av

    available = set(av.codecs_available)
    for codec in _CANDIDATES:
        if codec.encoder in available:
            with contextlib.suppress(Exception):
                av.Codec(codec.encoder, "w")
                return codec
    raise RuntimeError("PyAV has no usable video encoder (libsvtav1, libx264 or mpeg4)")


def quiet_encoders() -> None:
    """Keep SVT-AV1's per-stream banner off stderr (its log level is read from SVT_LOG)."""
    os.environ.setdefault("SVT_LOG", "1")


@dataclass
class VideoFile:
    """One open mp4 being written: its container, stream, frame count and the atomic-write context."""

    path: Path
    tmp: Path
    container: Any
    stream: Any
    frames: int = 0
    _ctx: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def size(self) -> int:
        """Return the bytes written so far."""
        try:
            return self.tmp.stat().st_size
        except OSError:
            return 0

    def close(self) -> None:
        """Flush the encoder, close the container and rename the file into place."""
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        self._ctx.close()

    def abort(self) -> None:
        """Close without renaming (the temporary file is removed)."""
        with contextlib.suppress(Exception):
            self.container.close()
        with contextlib.suppress(BaseException):
            self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)


def open_video(path: Path, codec: Codec, fps: int, width: int, height: int) -> VideoFile:
    """Open ``path`` (through atomic_path) for ``width`` x ``height`` RGB frames at ``fps``."""
    from fractions import Fraction

    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    stack = contextlib.ExitStack()
    tmp = stack.enter_context(atomic_path(path, keep_suffix=True))
    try:
        container = av.open(str(tmp), mode="w", format="mp4")
        stream: Any = container.add_stream(codec.encoder, rate=fps, options=dict(codec.options))
        stream.width, stream.height, stream.pix_fmt = width, height, codec.pix_fmt
        stream.time_base = Fraction(1, fps)
    except BaseException:
        stack.__exit__(RuntimeError, RuntimeError("open failed"), None)
        raise
    return VideoFile(path, tmp, container, stream, _ctx=stack)


def encode_frames(video: VideoFile, frames: np.ndarray) -> None:
    """Append (T, H, W, 3) uint8 RGB frames to an open video, numbering their timestamps on from its end."""
    import av

    for frame in frames:
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        vf.pts = video.frames
        video.frames += 1
        for packet in video.stream.encode(vf):
            video.container.mux(packet)


def even_size(width: int, height: int) -> bool:
    """Return whether a frame size suits yuv420p (even width and height)."""
    return width % 2 == 0 and height % 2 == 0
