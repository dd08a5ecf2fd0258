"""Named seed streams: every random number comes from ``(dataset seed, episode index, purpose)``.

``SeedSequence(dataset_seed, spawn_key=(episode_index,))`` is exactly the episode_index-th child that
``SeedSequence(dataset_seed).spawn`` would hand out, but it is computed directly, so an episode's streams
do not depend on which episodes ran before it, on the number of workers or on the executor.
A purpose adds one more spawn-key word: a fixed integer for the well-known purposes below and
``zlib.crc32`` of the name for any other (stable across processes and Python versions, unlike ``hash``).
No global RNG is read or seeded anywhere.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

# Fixed, never-renumbered ids. Append new names at the end; never reuse or reorder.
PURPOSES: dict[str, int] = {
    "placement": 1,
    "visual": 2,
    "physics": 3,
    "camera": 4,
    "robot": 5,
    "action": 6,
    "sensor": 7,
    "task": 8,
    "expert": 9,
    "distractors": 10,
    "action_noise": 11,  # per-step action noise drawn while the episode runs
    "sensor_noise": 12,  # per-frame sensor noise drawn while the episode runs
    "policy": 13,
}
_PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_.\-]{0,63}$")
_CRC_OFFSET = 1 << 32  # keeps crc-derived ids disjoint from the fixed table and from spawn() indices


def _check_index(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def purpose_id(purpose: str) -> int:
    """Return the stable integer spawn-key word of a purpose name."""
    if purpose in PURPOSES:
        return PURPOSES[purpose]
    if not isinstance(purpose, str) or not _PURPOSE_RE.match(purpose):
        raise ValueError(f"invalid seed-stream purpose {purpose!r} (lower-case name expected)")
    return _CRC_OFFSET + zlib.crc32(purpose.encode("utf-8"))


def episode_seed_sequence(dataset_seed: int, episode_index: int) -> np.random.SeedSequence:
    """Return the SeedSequence of one episode, a function of (dataset_seed, episode_index) only."""
    seed = _check_index("dataset seed", dataset_seed)
    idx = _check_index("episode index", episode_index)
    return np.random.SeedSequence(seed, spawn_key=(idx,))


def stream_seed_sequence(dataset_seed: int, episode_index: int, purpose: str) -> np.random.SeedSequence:
    """Return the SeedSequence of one named stream of one episode."""
    seed = _check_index("dataset seed", dataset_seed)  # = episode_seed_sequence(...).entropy and its spawn key,
    idx = _check_index("episode index", episode_index)  # without building that sequence's entropy pool
    return np.random.SeedSequence(seed, spawn_key=(idx, purpose_id(purpose)))


def stream(dataset_seed: int, episode_index: int, purpose: str) -> np.random.Generator:
    """Return a fresh Generator (PCG64) for ``purpose`` in episode ``episode_index`` of the dataset."""
    return np.random.Generator(np.random.PCG64(stream_seed_sequence(dataset_seed, episode_index, purpose)))


def episode_seed(dataset_seed: int, episode_index: int) -> int:
    """Return a 63-bit integer seed for engines or tools that need a plain int for this episode."""
    state = episode_seed_sequence(dataset_seed, episode_index).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)
