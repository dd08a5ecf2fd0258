"""Write a robosynth dataset as a Minari dataset with Minari's own API (no live environment needed).

The dataset id is ``robosynth/<scene>/<name>-v0`` (``name`` from the source directory), stored under the export
directory, which is what ``MINARI_DATASETS_PATH`` must point at to load it. Storage: Minari's ``parquet`` data
format (Minari's default HDF5 store is uncompressed; its parquet files, snappy-compressed, are then rewritten
with zstd and byte-stream-split floats, which only changes the encoding), images as raw arrays
(``jpeg_encoding=False``: lossless, not Minari's default JPEG). Observations are a Dict space of every robosynth
observation key with T+1 entries (the last one is the observation after the last action); ``terminations`` is
True on the last step of a successful episode, ``truncations`` on the last step of every other episode.
Per-episode seed, backend, randomization, cameras (``K``, ``T_world_cam``) and segmentation ids are the episode
``options``. Minari writes its files itself; they lie in the export's staging directory, which is renamed to
``--out`` only when complete (robosynth's own rewrite of them goes through ``atomic_path``).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from robosynth.dataset import EpisodeRecord, atomic_path, image_key_parts
from robosynth.export.common import ExportError, Progress, safe_name
from robosynth.export.source import Source

DATA_FORMAT = "parquet"
ZSTD_LEVEL = 9  # measured on 128x128 RGB-D-seg episodes: 3.9 MB (Minari's snappy) -> 1.0 MB, about the gzip HDF5
ENV_VAR = "MINARI_DATASETS_PATH"


def dataset_id(src: Source) -> str:
    """Return the Minari id ``robosynth/<scene>/<name>-v0`` of an export of ``src``."""
    return f"robosynth/{safe_name(src.scene)}/{safe_name(src.name)}-v0"


def observation_space(src: Source, first: EpisodeRecord) -> Any:
    """Return the Dict observation space: every obs key of the source with its per-step shape and dtype."""
    from gymnasium import spaces

    items: dict[str, Any] = {}
    for key in sorted(first.obs):
        a = first.obs[key]
        if a.dtype.kind == "f":
            low, high = (0.0 if key.endswith("_depth") else -np.inf), np.inf
        else:
            info = np.iinfo(a.dtype)
            low, high = (0 if image_key_parts(key) else info.min), info.max  # images: uint8 0..255, ids >= 0
        items[key] = spaces.Box(low, high, a.shape[1:], dtype=a.dtype)
    return spaces.Dict(items)


def action_space(src: Source) -> Any:
    """Return the action space (robosynth actions are normalized to [-1, 1])."""
    from gymnasium import spaces

    return spaces.Box(-1.0, 1.0, (src.action_dim,), dtype=np.float32)


def episode_buffer(ep: EpisodeRecord, number: int) -> Any:
    """Return one episode as a Minari EpisodeBuffer with T+1 observations."""
    from minari.data_collector import EpisodeBuffer

    obs = {}
    for key, a in ep.obs.items():
        last = ep.next_obs_lowdim[key][-1:] if key in ep.next_obs_lowdim else ep.final_images.get(key)
        if last is None:
            raise ExportError(f"episode {ep.index}: no observation after the last step for {key} (needed for "
                              "Minari's T+1 observations)")
        obs[key] = np.concatenate([a, last], axis=0)
    T = ep.num_steps
    ended = np.zeros(T, dtype=bool)
    ended[-1] = True
    return EpisodeBuffer(
        id=number, seed=int(ep.seed), options=_options(ep), observations=obs,
        actions=ep.actions.astype(np.float32), rewards=ep.rewards.astype(np.float64).tolist(),
        terminations=(ended & bool(ep.success)).tolist(), truncations=(ended & (not ep.success)).tolist())


def _options(ep: EpisodeRecord) -> dict[str, Any]:
    """Return the episode's robosynth metadata as Minari episode options (JSON-ready)."""
    cams = {c: {"K": r.K.tolist(), "T_world_cam": r.T_world_cam.tolist(), "width": r.width, "height": r.height,
                "distortion": r.distortion.tolist(), "near": r.near, "far": r.far, "depth_units": r.depth_units}
            for c, r in ep.cameras.items()}
    return {"robosynth_episode_index": int(ep.index), "backend": ep.backend, "engine_version": ep.engine_version,
            "success": bool(ep.success), "failure_reason": ep.failure_reason,
            "randomization": json.dumps(ep.ep_meta.get("randomization"), sort_keys=True),
            "cameras": json.dumps(cams), "segmentation_ids": json.dumps({str(k): v for k, v in
                                                                         ep.segmentation_ids.items()})}


def _lossless_images(create: Any) -> dict[str, Any]:
    """Return the keyword that turns off Minari's JPEG images (minari >= 0.5.4; 0.5.3 stores raw arrays anyway)."""
    return {"jpeg_encoding": False} if "jpeg_encoding" in inspect.signature(create).parameters else {}


@contextlib.contextmanager
def datasets_path(root: Path) -> Iterator[None]:
    """Point MINARI_DATASETS_PATH at ``root`` for the duration (Minari resolves dataset ids against it)."""
    old = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = old


def export_minari(src: Source, stage: Path, progress: Progress | None = None) -> str:
    """Write ``src`` as a Minari dataset under the (empty) directory ``stage``; return its dataset id."""
    import minari

    ds_id = dataset_id(src)
    episodes = src.episodes()
    first = next(episodes)
    with datasets_path(stage), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"minari\.")  # author, permalink, env spec
        dataset = minari.create_dataset_from_buffers(
            dataset_id=ds_id, buffer=[episode_buffer(first, 0)], observation_space=observation_space(src, first),
            action_space=action_space(src), algorithm_name="robosynth scripted expert",
            description=f"{src.task} (robosynth scene '{src.scene}', {src.env_name}, exported from {src.name})",
            data_format=DATA_FORMAT, **_lossless_images(minari.create_dataset_from_buffers))
        if progress:
            progress(first.num_steps)
        for number, ep in enumerate(episodes, start=1):
            dataset.update_dataset_from_buffer([episode_buffer(ep, number)])
            if progress:
                progress(ep.num_steps)
        recompress_parquet(stage / ds_id / "data")
        dataset.storage.update_metadata({"dataset_size": dataset.storage.get_size()})
    return ds_id


def recompress_parquet(data_dir: Path) -> None:
    """Rewrite every parquet file under ``data_dir`` with zstd, floats byte-stream-split (the parquet analogue of
    HDF5's shuffle filter) and no dictionaries; the same table, a third of the bytes."""
    import pyarrow.parquet as pq

    for part in sorted(data_dir.rglob("*.parquet")):
        parquet = pq.ParquetFile(part)
        schema = parquet.schema
        floats = [schema.column(i).path for i in range(len(schema))
                  if schema.column(i).physical_type in ("FLOAT", "DOUBLE")]
        table = parquet.read()
        with atomic_path(part, keep_suffix=True) as tmp:
            pq.write_table(table, str(tmp), compression="zstd", compression_level=ZSTD_LEVEL, use_dictionary=False,
                           use_byte_stream_split=floats or False)
