"""Image chunks deflated outside HDF5 (GIL released): with zlib they are exactly the bytes HDF5's shuffle + gzip
filters write, so an episode file is byte-identical either way; with ISA-L (faster, other bytes) HDF5 decodes them
to the same arrays."""

from __future__ import annotations

import io
import zlib

import h5py
import numpy as np
import pytest

import robosynth.dataset.chunks as chunks
import robosynth.dataset.writer as writer
from robosynth.dataset import DatasetInfo, write_episode_file
from robosynth.dataset.chunks import deflate_frames, direct_gzip_matches_hdf5, is_direct_gzip, shuffled
from robosynth.generate import GenerateRequest, dataset_info
from robosynth.generate.jobs import make_job, record_episode

FRAMES = {
    "rgb": lambda rng: rng.integers(0, 255, (4, 24, 20, 3), dtype=np.uint8),
    "depth": lambda rng: np.where(rng.random((4, 24, 20, 1)) < 0.2, 0.0, rng.random((4, 24, 20, 1)) * 3).astype(
        np.float32),
    "segmentation": lambda rng: rng.integers(0, 9, (4, 24, 20, 1), dtype=np.int32),
}


@pytest.mark.parametrize("kind", sorted(FRAMES))
@pytest.mark.parametrize("level", [1, 3, 9])
def test_deflated_frames_equal_the_chunks_hdf5_writes(kind, level):
    a = FRAMES[kind](np.random.default_rng(level))
    with h5py.File(io.BytesIO(), "w") as f:
        d = f.create_dataset("x", data=a, chunks=(1, *a.shape[1:]), compression="gzip", compression_opts=level,
                             shuffle=True)
        theirs = [bytes(d.id.read_direct_chunk((t, 0, 0, 0))[1]) for t in range(a.shape[0])]
    assert deflate_frames(a, level, shuffle=True) == theirs
    assert direct_gzip_matches_hdf5(level, True)


def test_shuffle_groups_bytes_by_position_in_the_element():
    words = np.array([[0x04030201], [0x08070605]], dtype="<u4")
    assert shuffled(words).tobytes() == bytes([1, 5, 2, 6, 3, 7, 4, 8])
    assert shuffled(words, shuffle=False).tobytes() == words.tobytes()
    rgb = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert shuffled(rgb).tobytes() == rgb.tobytes() and np.shares_memory(shuffled(rgb), rgb)  # bytes: no copy
    assert zlib.decompress(deflate_frames(np.zeros((1, 2, 2, 1), np.float32), 3, True)[0]) == bytes(16)


def test_only_gzip_image_arrays_take_the_direct_path():
    gz = writer.compression_filters("gzip")
    assert is_direct_gzip(np.zeros((3, 4, 4, 3), np.uint8), gz)
    assert not is_direct_gzip(np.zeros((3, 7), np.float32), gz)  # low-dim: HDF5's own chunking and filter
    assert not is_direct_gzip(np.zeros((0, 4, 4, 3), np.uint8), gz)
    assert not is_direct_gzip(np.zeros((3, 4, 4, 3), np.uint8), writer.compression_filters("lzf"))


@pytest.fixture(scope="module")
def recorded() -> tuple[DatasetInfo, object]:
    """One real MuJoCo episode with an RGB-D-seg camera (short, failed, kept)."""
    req = GenerateRequest(scene="pick_place", backend="mujoco", episodes=1, seed=2, cameras=("agentview",),
                          resolution=(32, 32), max_steps=6, keep_failed=True)
    res = record_episode(make_job(req), 0)
    assert res.record is not None
    return dataset_info(req), res.record


CREATED = "2026-01-01T00:00:00+00:00"


def _datasets(path) -> dict[str, np.ndarray]:
    with h5py.File(path) as f:
        found: dict[str, np.ndarray] = {}
        f.visititems(lambda name, obj: found.update({name: obj[()]}) if isinstance(obj, h5py.Dataset) else None)
        return found


def test_zlib_episode_file_is_byte_identical_to_hdf5_filter_output(tmp_path, monkeypatch, recorded):
    info, record = recorded
    monkeypatch.setattr(chunks, "fast_deflate", lambda: None)  # zlib: HDF5's own bytes
    direct = write_episode_file(tmp_path / "direct.hdf5", info, record, created=CREATED)
    monkeypatch.setattr(writer, "is_direct_gzip", lambda a, filters: False)
    filtered = write_episode_file(tmp_path / "filtered.hdf5", info, record, created=CREATED)
    assert direct.read_bytes() == filtered.read_bytes()
    with h5py.File(direct) as f:
        d = f["data/demo_0/obs/agentview_image"]
        assert d.compression == "gzip" and d.shuffle and d.chunks == (1, 32, 32, 3)


def test_isal_chunks_decode_to_the_same_arrays_and_repeat_byte_for_byte(tmp_path, monkeypatch, recorded):
    pytest.importorskip("isal")
    info, record = recorded
    assert chunks.chunk_deflater(3, True) == (chunks.fast_deflate(), chunks.FAST_LEVEL)
    fast = write_episode_file(tmp_path / "fast.hdf5", info, record, created=CREATED)
    again = write_episode_file(tmp_path / "again.hdf5", info, record, created=CREATED)
    assert fast.read_bytes() == again.read_bytes()  # deterministic for one ISA-L version
    monkeypatch.setattr(writer, "is_direct_gzip", lambda a, filters: False)
    filtered = write_episode_file(tmp_path / "filtered.hdf5", info, record, created=CREATED)
    assert fast.read_bytes() != filtered.read_bytes()  # other deflate streams ...
    mine, theirs = _datasets(fast), _datasets(filtered)
    assert mine.keys() == theirs.keys()
    for name in mine:  # ... that plain h5py decodes to the same arrays
        np.testing.assert_array_equal(mine[name], theirs[name], err_msg=name)
    with h5py.File(fast) as f:
        d = f["data/demo_0/obs/agentview_depth"]
        assert d.compression == "gzip" and d.shuffle and d.chunks == (1, 32, 32, 1)


def test_without_a_deflater_that_hdf5_reads_back_the_filters_write_the_chunks(monkeypatch):
    monkeypatch.setattr(chunks, "fast_deflate", lambda: None)
    monkeypatch.setattr(chunks, "direct_gzip_matches_hdf5", lambda level, shuffle: False)
    assert chunks.chunk_deflater(3, True) is None
    assert not is_direct_gzip(np.zeros((3, 4, 4, 3), np.uint8), writer.compression_filters("gzip"))
