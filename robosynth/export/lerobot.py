"""Write a robosynth dataset as a LeRobotDataset v3.0 directory with pyarrow and PyAV (no torch, no lerobot).

Layout (LeRobot's defaults: 1000 files per chunk directory, data files ~100 MB, video files ~200 MB)::

    meta/info.json  meta/stats.json  meta/tasks.parquet  meta/robosynth.json
    meta/episodes/chunk-000/file-000.parquet     one row per episode: ranges, video timestamps, stats, provenance
    data/chunk-NNN/file-NNN.parquet              one row per frame, one row group per episode
    videos/observation.images.<cam>/chunk-NNN/file-NNN.mp4   episodes of one camera concatenated
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from robosynth.dataset import EpisodeRecord, atomic_path, write_text_atomic
from robosynth.export import lerobot_stats as st
from robosynth.export.common import ExportError, Progress
from robosynth.export.lerobot_features import (
    arrow_type,
    build_features,
    frame_columns,
    image_key,
    pointcloud_key,
    seg_key,
)
from robosynth.export.lerobot_video import VideoFile, encode_frames, even_size, open_video, pick_codec, quiet_encoders
from robosynth.export.source import Source

CODEBASE_VERSION = "v3.0"
ROBOT_TYPE = "panda"
CHUNKS_SIZE = 1000
DATA_FILE_MB = 100
VIDEO_FILE_MB = 200
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
PARQUET_COMPRESSION = "zstd"


@dataclass
class _Cursor:
    """Chunk and file index of the file being written; ``advance`` moves to the next file."""

    chunk: int = 0
    file: int = 0

    def advance(self) -> None:
        self.file += 1
        if self.file >= CHUNKS_SIZE:
            self.chunk, self.file = self.chunk + 1, 0


@dataclass
class _DataFiles:
    """The data parquet file being written, rolled over to a new file past DATA_FILE_MB."""

    root: Path
    schema: Any
    cursor: _Cursor = field(default_factory=_Cursor)
    writer: Any = None
    _ctx: Any = None
    _tmp: Path | None = None

    def write(self, table: Any) -> tuple[int, int]:
        """Append one episode's table as one row group; return the (chunk, file) it went to."""
        import pyarrow.parquet as pq

        if self.writer is None:
            path = self.root / DATA_PATH.format(chunk_index=self.cursor.chunk, file_index=self.cursor.file)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._ctx = atomic_path(path, keep_suffix=True)
            self._tmp = self._ctx.__enter__()
            self.writer = pq.ParquetWriter(str(self._tmp), self.schema, compression=PARQUET_COMPRESSION)
        where = (self.cursor.chunk, self.cursor.file)
        self.writer.write_table(table, row_group_size=max(1, table.num_rows))
        if self._tmp is not None and self._tmp.stat().st_size >= DATA_FILE_MB * 1024 * 1024:
            self.close()
            self.cursor.advance()
        return where

    def close(self) -> None:
        """Finish the open file (rename it into place)."""
        if self.writer is not None:
            self.writer.close()
            self._ctx.__exit__(None, None, None)
            self.writer, self._ctx, self._tmp = None, None, None


@dataclass
class _Videos:
    """One open mp4 per camera key, each rolled over to a new file past VIDEO_FILE_MB."""

    root: Path
    fps: int
    codec: Any
    open: dict[str, VideoFile] = field(default_factory=dict)
    cursors: dict[str, _Cursor] = field(default_factory=dict)

    def add(self, key: str, frames: np.ndarray) -> dict[str, Any]:
        """Encode one episode's frames of ``key``; return its ``videos/<key>/*`` episode columns."""
        cursor = self.cursors.setdefault(key, _Cursor())
        if key not in self.open:
            path = self.root / VIDEO_PATH.format(video_key=key, chunk_index=cursor.chunk, file_index=cursor.file)
            self.open[key] = open_video(path, self.codec, self.fps, frames.shape[2], frames.shape[1])
        video = self.open[key]
        start = video.frames
        encode_frames(video, frames)
        cols = {f"videos/{key}/chunk_index": cursor.chunk, f"videos/{key}/file_index": cursor.file,
                f"videos/{key}/from_timestamp": start / self.fps, f"videos/{key}/to_timestamp": video.frames / self.fps}
        if video.size() >= VIDEO_FILE_MB * 1024**2:
            self.open.pop(key).close()
            cursor.advance()
        return cols

    def close(self) -> None:
        """Finish every open video."""
        for video in self.open.values():
            video.close()
        self.open.clear()

    def abort(self) -> None:
        """Drop every open video (after an error)."""
        for video in self.open.values():
            video.abort()
        self.open.clear()


def export_lerobot(src: Source, stage: Path, images: str = "video", progress: Progress | None = None) -> dict[str, Any]:
    """Write ``src`` as a LeRobot v3.0 dataset into the (empty) directory ``stage``; return meta/info.json."""
    import pyarrow as pa

    codec = _video_codec(src) if images == "video" else None
    features = build_features(src, images, _codec_info(codec) if codec else None)
    schema = pa.schema([(k, arrow_type(ft)) for k, ft in features.items() if ft["dtype"] != "video"])
    data = _DataFiles(stage, schema)
    videos = _Videos(stage, src.fps, codec) if codec else None
    rows: list[dict[str, Any]] = []
    episode_stats: list[dict[str, st.Stats]] = []
    seg_ids: dict[int, dict[str, Any]] = {}
    total = 0
    try:
        for i, ep in enumerate(src.episodes()):
            table = pa.table(frame_columns(src, ep, features, i, total), schema=schema)
            stats = _episode_stats(src, ep, table, features)
            rows.append(_episode_row(src, ep, i, total, data.write(table), videos, stats))
            episode_stats.append(stats)
            seg_ids.update(ep.segmentation_ids)
            total += ep.num_steps
            if progress:
                progress(ep.num_steps)
        data.close()
        if videos is not None:
            videos.close()
    except BaseException:
        if videos is not None:
            videos.abort()
        raise
    for cam in src.cameras:
        if seg_key(cam.name) in features:
            features[seg_key(cam.name)]["info"]["segmentation_ids"] = {str(k): seg_ids[k] for k in sorted(seg_ids)}
    return _write_meta(src, stage, features, rows, episode_stats, total, codec)


def _video_codec(src: Source) -> Any:
    """Return the encoder for the RGB cameras (None without any); raise ExportError for odd frame sizes."""
    if not any("image" in c.modalities for c in src.cameras):
        return None
    odd = [c.name for c in src.cameras if "image" in c.modalities and not even_size(c.width, c.height)]
    if odd:
        raise ExportError(f"video needs even frame sizes; camera(s) {', '.join(odd)} are odd "
                          "(export with --images png)")
    quiet_encoders()
    return pick_codec()


def _episode_row(src: Source, ep: EpisodeRecord, i: int, first: int, where: tuple[int, int], videos: _Videos | None,
                 stats: dict[str, st.Stats]) -> dict[str, Any]:
    """Return episode ``i``'s row of ``meta/episodes`` (encoding its videos on the way)."""
    row: dict[str, Any] = {"episode_index": i, "tasks": [src.task], "length": ep.num_steps,
                           "data/chunk_index": where[0], "data/file_index": where[1], "dataset_from_index": first,
                           "dataset_to_index": first + ep.num_steps}
    if videos is not None:
        for cam in src.cameras:
            if "image" in cam.modalities:
                row.update(videos.add(image_key(cam.name), ep.obs[f"{cam.name}_image"]))
    row.update({"meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0})
    row.update(st.flatten(stats))
    row.update(_provenance(ep))
    return row


def _codec_info(codec: Any) -> dict[str, Any]:
    import av

    return {"video.codec": av.Codec(codec.encoder, "w").canonical_name, "video.pix_fmt": codec.pix_fmt,
            **codec.info}


def _episode_stats(src: Source, ep: EpisodeRecord, table: Any, features: dict[str, dict[str, Any]]) -> dict:
    """Return LeRobot's statistics of every feature of one episode (segmentation ids excluded: labels; point clouds
    excluded: their points are unordered, so per-point statistics mean nothing)."""
    out: dict[str, st.Stats] = {}
    seg = {seg_key(c.name) for c in src.cameras} | {pointcloud_key(k) for k in src.pointclouds}
    for key, ft in features.items():
        if key in seg:
            continue
        if ft["dtype"] in ("video", "image"):
            cam = key.removeprefix("observation.images.").removesuffix("_depth")
            if ft.get("info", {}).get("is_depth_map"):
                out[key] = st.image_stats(ep.obs[f"{cam}_depth"], 1.0)
            else:
                out[key] = st.image_stats(ep.obs[f"{cam}_image"], 255.0)
            continue
        column = table.column(key).combine_chunks()
        out[key] = st.vector_stats(_column_numpy(column, ft))
    return out


def _column_numpy(column: Any, ft: dict[str, Any]) -> np.ndarray:
    """Return a numeric parquet column as a (T, *shape) numpy array."""
    import pyarrow as pa

    if ft["shape"] == [1]:
        return column.to_numpy(zero_copy_only=False)
    flat = column
    while pa.types.is_list(flat.type) or pa.types.is_fixed_size_list(flat.type):
        flat = flat.flatten()
    return flat.to_numpy(zero_copy_only=False).reshape(len(column), *ft["shape"])


def _provenance(ep: EpisodeRecord) -> dict[str, Any]:
    """Return the robosynth episode columns: source index, seed, backend, success, randomization and the expert's
    phase names (JSON)."""
    return {"robosynth/episode_index": ep.index, "robosynth/seed": ep.seed, "robosynth/backend": ep.backend,
            "robosynth/engine_version": ep.engine_version, "robosynth/success": bool(ep.success),
            "robosynth/failure_reason": ep.failure_reason,
            "robosynth/randomization": json.dumps(ep.ep_meta.get("randomization"), sort_keys=True),
            "robosynth/expert_phases": json.dumps(ep.ep_meta.get("expert_phases", []))}


def _write_meta(src: Source, stage: Path, features: dict[str, dict[str, Any]], rows: list[dict[str, Any]],
                episode_stats: list[dict[str, st.Stats]], total: int, codec: Any) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (stage / "meta" / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
    with atomic_path(stage / EPISODES_PATH, keep_suffix=True) as tmp:
        pq.write_table(pa.Table.from_pylist(rows), str(tmp), compression=PARQUET_COMPRESSION)
    _write_tasks(stage, src.task)
    stats = {key: st.aggregate(s[key] for s in episode_stats) for key in episode_stats[0]} if episode_stats else {}
    write_text_atomic(stage / "meta" / "stats.json", json.dumps(st.to_json(stats), indent=2))
    info = {
        "codebase_version": CODEBASE_VERSION, "robot_type": ROBOT_TYPE, "total_episodes": len(rows),
        "total_frames": total, "total_tasks": 1, "chunks_size": CHUNKS_SIZE, "data_files_size_in_mb": DATA_FILE_MB,
        "video_files_size_in_mb": VIDEO_FILE_MB, "fps": src.fps, "splits": {"train": f"0:{len(rows)}"},
        "data_path": DATA_PATH, "video_path": VIDEO_PATH if codec else None, "features": features,
    }
    write_text_atomic(stage / "meta" / "info.json", json.dumps(info, indent=4))
    provenance = {"source": str(src.path.resolve()), "env_name": src.env_name, "scene": src.scene,
                  "video_encoder": codec.encoder if codec else None, "episode_columns": "robosynth/*"}
    write_text_atomic(stage / "meta" / "robosynth.json", json.dumps(provenance, indent=2))
    return info


def _write_tasks(stage: Path, task: str) -> None:
    """Write ``meta/tasks.parquet``: column ``task_index``, indexed by the task string as pandas reads it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pandas_meta = {"index_columns": ["task"], "column_indexes": [], "columns": [
        {"name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64",
         "metadata": None},
        {"name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object", "metadata": None}],
        "creator": {"library": "pyarrow", "version": pa.__version__}, "pandas_version": "2.2.0"}
    table = pa.table({"task_index": pa.array([0], pa.int64()), "task": pa.array([task], pa.string())})
    table = table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})
    with atomic_path(stage / "meta" / "tasks.parquet", keep_suffix=True) as tmp:
        pq.write_table(table, str(tmp))
