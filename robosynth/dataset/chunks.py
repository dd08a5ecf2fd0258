"""Gzip image chunks outside HDF5, byte-identical to HDF5's own shuffle + deflate filters.

HDF5 compresses chunks while h5py holds the GIL, so a writer thread would block the recording thread for the
whole compression. Here each chunk (one frame) is shuffled with numpy and deflated with :func:`zlib.compress`,
which releases the GIL, and handed to HDF5 with ``write_direct_chunk``. HDF5's deflate filter is zlib's
``compress2`` at the same level (window 15, memory level 8, default strategy), i.e. exactly
``zlib.compress(data, level)``, so the file is the same byte for byte. :func:`direct_gzip_matches_hdf5` checks
that once per process against the HDF5 library in use (another zlib build could deflate differently), and the
writer uses HDF5's filters whenever it does not hold.
"""

from __future__ import annotations

import functools
import io
import zlib
from typing import Any

import h5py
import numpy as np


def shuffle_bytes(raw: bytes, itemsize: int) -> bytes:
    """Return HDF5's byte shuffle of ``raw``: byte 0 of every element, then byte 1, ... (whole elements only)."""
    if itemsize == 1:
        return raw
    return np.frombuffer(raw, np.uint8).reshape(-1, itemsize).T.tobytes()


def deflate_frames(a: np.ndarray, level: int, shuffle: bool) -> list[bytes]:
    """Return the filtered bytes of each chunk ``a[t]`` (chunks of shape ``(1, *a.shape[1:])``)."""
    a = np.ascontiguousarray(a)
    size = a.dtype.itemsize
    return [zlib.compress(shuffle_bytes(frame.tobytes(), size) if shuffle else frame.tobytes(), level)
            for frame in a]


def is_direct_gzip(a: np.ndarray, filters: dict[str, Any]) -> bool:
    """Return True if ``a`` is written as precompressed per-frame chunks under ``filters`` (gzip images)."""
    return (a.ndim == 4 and a.size > 0 and filters.get("compression") == "gzip"
            and a.dtype.byteorder in ("=", "|") and direct_gzip_matches_hdf5(int(filters["compression_opts"]),
                                                                             bool(filters.get("shuffle"))))


def write_direct_gzip(g: h5py.Group, rel: str, a: np.ndarray, filters: dict[str, Any],
                      chunks: list[bytes] | None = None) -> h5py.Dataset:
    """Create dataset ``rel`` of ``g`` with ``filters`` and one chunk per frame, writing precompressed
    ``chunks`` (default: :func:`deflate_frames` of ``a``); the file equals ``create_dataset(data=a)``'s."""
    if chunks is None:
        chunks = deflate_frames(a, int(filters["compression_opts"]), bool(filters.get("shuffle")))
    d = g.create_dataset(rel, shape=a.shape, dtype=a.dtype, chunks=(1, *a.shape[1:]), track_times=False, **filters)
    zeros = (0,) * (a.ndim - 1)
    for t, chunk in enumerate(chunks):
        d.id.write_direct_chunk((t, *zeros), chunk)
    return d


@functools.cache
def direct_gzip_matches_hdf5(level: int, shuffle: bool) -> bool:
    """Return True if :func:`deflate_frames` gives exactly the chunks HDF5's filters write (checked once)."""
    rng = np.random.default_rng(0)
    probes: list[np.ndarray] = [rng.integers(0, 40, (3, 16, 16, 3), dtype=np.uint8),
              (rng.random((3, 16, 16, 1)) * 2.0).astype(np.float32), np.zeros((2, 8, 8, 1), np.int32)]
    filters = {"compression": "gzip", "compression_opts": level, "shuffle": shuffle}
    with h5py.File(io.BytesIO(), "w") as f:
        for i, a in enumerate(probes):
            d = f.create_dataset(str(i), data=a, chunks=(1, *a.shape[1:]), **filters)
            mine = deflate_frames(a, level, shuffle)
            for t in range(a.shape[0]):
                mask, theirs = d.id.read_direct_chunk((t, 0, 0, 0))
                if mask != 0 or bytes(theirs) != mine[t]:
                    return False
    return True
