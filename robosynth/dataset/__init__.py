"""robosynth datasets, schema "1": episode records, crash-safe writer, reader, directory layout, index, verify.

Layers inside this package (each imports only those above it): ``files`` (atomic writes) and ``records``
(what an episode is) -> ``layout`` (where files live) -> ``writer`` / ``reader`` -> ``index`` (directories,
resume, train/valid split, ``dataset.hdf5``) -> ``verify`` (checks and summaries). See docs/hdf5_format.md.

``verify``'s names are imported on first use (PEP 562): recording a dataset never needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robosynth.dataset.files import atomic_path, probe_writable, write_bytes_atomic, write_text_atomic
from robosynth.dataset.index import (
    build_index,
    completed_episode_indices,
    dataset_dir_kind,
    demo_signature,
    is_robosynth_dataset,
    split_demos,
)
from robosynth.dataset.layout import EPISODES_DIRNAME, INDEX_FILENAME, episode_path, list_episode_files, tmp_files
from robosynth.dataset.reader import (
    demo_group,
    demo_names,
    demo_number,
    iter_episodes,
    open_dataset_file,
    read_dataset_info,
    read_demo,
    read_episode,
)
from robosynth.dataset.records import (
    COMPRESSIONS,
    DEPTH_UNITS,
    SCHEMA_VERSION,
    CameraRecord,
    DatasetError,
    DatasetInfo,
    EpisodeRecord,
    RecordError,
    canonical_record,
    episode_checksum,
    image_key_parts,
    record_datasets,
)
from robosynth.dataset.writer import atomic_h5_file, compression_filters, write_demo, write_episode, write_episode_file
from sim.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from robosynth.dataset.verify import summarize, verify_file, verify_path

_LAZY_MODULE_OF = {"summarize": "verify", "verify_file": "verify", "verify_path": "verify"}

__all__ = [
    "COMPRESSIONS", "DEPTH_UNITS", "EPISODES_DIRNAME", "INDEX_FILENAME", "SCHEMA_VERSION", "CameraRecord",
    "DatasetError", "DatasetInfo", "EpisodeRecord", "RecordError", "atomic_h5_file", "atomic_path", "build_index",
    "canonical_record", "completed_episode_indices", "compression_filters", "dataset_dir_kind", "demo_group",
    "demo_names", "demo_number", "demo_signature", "episode_checksum", "episode_path", "image_key_parts",
    "is_robosynth_dataset", "iter_episodes", "list_episode_files", "open_dataset_file", "probe_writable",
    "read_dataset_info", "read_demo", "read_episode", "record_datasets", "split_demos", "summarize", "tmp_files",
    "verify_file", "verify_path", "write_bytes_atomic", "write_demo", "write_episode", "write_episode_file",
    "write_text_atomic",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY_MODULE_OF, globals())
