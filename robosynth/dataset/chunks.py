"""Gzip image chunks outside HDF5: shuffled with numpy, deflated without the GIL, handed to HDF5 whole.

HDF5 compresses chunks while h5py holds the GIL, so a writer thread would block the recording thread for the
whole compression. Here each chunk (one frame) is shuffled with numpy, deflated by a function that releases the
GIL, and handed to HDF5 with ``write_direct_chunk``. The chunks are ordinary zlib streams under HDF5's shuffle +
deflate filters, so any HDF5 reader (plain h5py, C, MATLAB, Julia) decodes them with its built-in gzip filter.

Two deflaters:

* ISA-L (the ``isal`` package, level 1), when installed, for levels up to 3: 3-5x faster than zlib on these
  frames (128x128 RGB-D: 2.8 ms an episode instead of 13.7), depth chunks as small as zlib's level 3 and RGB
  chunks about 20 % larger. Its streams differ from what HDF5's own filter would write (the arrays are the same):
  :func:`fast_gzip_roundtrips` checks once per process that HDF5 decodes them back exactly.
* zlib's ``compress2`` at the requested level (window 15, memory level 8, default strategy), which is exactly
  what HDF5's deflate filter writes, so the file is the same byte for byte as ``create_dataset(data=a)``'s.
  :func:`direct_gzip_matches_hdf5` checks that once per process against the HDF5 library in use (another zlib
  build could deflate differently); when it does not hold, the writer uses HDF5's filters.

A dataset written either way is deterministic for a given deflater version (docs/hdf5_format.md).
"""

from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Callable
from typing import Any

import h5py
import numpy as np


def shuffled(frame: np.ndarray, shuffle: bool = True) -> np.ndarray:
    """Return the bytes HDF5's filters deflate for ``frame`` as a C-contiguous uint8 array: the frame's own bytes
    (a view), or with ``shuffle`` and elements wider than a byte HDF5's byte shuffle (a copy: byte 0 of every
    element, then byte 1, ...)."""
    raw = np.ascontiguousarray(frame).reshape(-1).view(np.uint8)
    if not shuffle or frame.dtype.itemsize == 1:
        return raw
    return np.ascontiguousarray(raw.reshape(-1, frame.dtype.itemsize).T).reshape(-1)


def deflate_frames(a: np.ndarray, level: int, shuffle: bool,
                   deflate: Callable[[Any, int], bytes] = zlib.compress) -> list[bytes]:
    """Return the filtered bytes of each chunk ``a[t]`` (chunks of shape ``(1, *a.shape[1:])``), deflated by
    ``deflate(data, level)`` (default zlib's, what HDF5's filter writes; ``data`` is a contiguous uint8 array)."""
    a = np.ascontiguousarray(a)
    return [deflate(shuffled(frame, shuffle), level) for frame in a]


FAST_LEVEL = 1
"""ISA-L's level for requested gzip levels up to 3 (its level 1 compresses these frames about as well as zlib's 3)."""


@functools.cache
def fast_deflate() -> Callable[[Any, int], bytes] | None:
    """Return ISA-L's zlib-format ``compress`` when the ``isal`` package is installed, else None."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    return isal_zlib.compress


def chunk_deflater(level: int, shuffle: bool) -> tuple[Callable[[Any, int], bytes], int] | None:
    """Return (deflate, its level) for gzip image chunks at ``level``: ISA-L when installed (levels <= 3) and
    HDF5 decodes its chunks, else zlib when it writes HDF5's own bytes, else None (HDF5's filters)."""
    fast = fast_deflate()
    if fast is not None and level <= 3 and fast_gzip_roundtrips(shuffle):
        return fast, FAST_LEVEL
    return (zlib.compress, level) if direct_gzip_matches_hdf5(level, shuffle) else None


def is_direct_gzip(a: np.ndarray, filters: dict[str, Any]) -> bool:
    """Return True if ``a`` is written as precompressed per-frame chunks under ``filters`` (gzip images)."""
    return (a.ndim == 4 and a.size > 0 and filters.get("compression") == "gzip"
            and a.dtype.byteorder in ("=", "|")
            and chunk_deflater(int(filters["compression_opts"]), bool(filters.get("shuffle"))) is not None)


def write_direct_gzip(g: h5py.Group, rel: str, a: np.ndarray, filters: dict[str, Any],
                      chunks: list[bytes] | None = None) -> h5py.Dataset:
    """Create dataset ``rel`` of ``g`` with ``filters`` and one chunk per frame, writing precompressed
    ``chunks`` (default: :func:`deflate_frames` of ``a`` by :func:`chunk_deflater`'s choice). HDF5 reads back
    ``a``; with zlib the file also equals ``create_dataset(data=a)``'s byte for byte."""
    if chunks is None:
        shuffle = bool(filters.get("shuffle"))
        deflater = chunk_deflater(int(filters["compression_opts"]), shuffle)
        if deflater is None:
            raise ValueError("write_direct_gzip: no deflater writes chunks HDF5 reads back (see is_direct_gzip)")
        chunks = deflate_frames(a, deflater[1], shuffle, deflater[0])
    d = g.create_dataset(rel, shape=a.shape, dtype=a.dtype, chunks=(1, *a.shape[1:]), track_times=False, **filters)
    zeros = (0,) * (a.ndim - 1)
    for t, chunk in enumerate(chunks):
        d.id.write_direct_chunk((t, *zeros), chunk)
    return d


@functools.cache
def direct_gzip_matches_hdf5(level: int, shuffle: bool) -> bool:
    """Return True if :func:`deflate_frames` gives exactly the chunks HDF5's filters write (checked once)."""
    probes = _probes()
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


def _probes() -> list[np.ndarray]:
    """Return small frames of each image kind (uint8 RGB, float32 depth, int32 ids) for the self-checks."""
    rng = np.random.default_rng(0)
    return [rng.integers(0, 40, (3, 16, 16, 3), dtype=np.uint8), (rng.random((3, 16, 16, 1)) * 2.0).astype(np.float32),
            np.zeros((2, 8, 8, 1), np.int32)]


@functools.cache
def fast_gzip_roundtrips(shuffle: bool) -> bool:
    """Return True if HDF5's gzip (+ shuffle) filter decodes ISA-L's chunks back to the frames (checked once)."""
    fast = fast_deflate()
    if fast is None:
        return False
    filters = {"compression": "gzip", "compression_opts": 3, "shuffle": shuffle}
    with h5py.File(io.BytesIO(), "w") as f:
        for i, a in enumerate(_probes()):
            d = f.create_dataset(str(i), shape=a.shape, dtype=a.dtype, chunks=(1, *a.shape[1:]), **filters)
            for t, chunk in enumerate(deflate_frames(a, FAST_LEVEL, shuffle, fast)):
                d.id.write_direct_chunk((t, 0, 0, 0), chunk)
            if not np.array_equal(d[()], a):
                return False
    return True
