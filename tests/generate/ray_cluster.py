"""A real two-node Ray cluster on this machine for tests (``ray.cluster_utils.Cluster``): a head node and a second
node, each with one CPU and its own TMPDIR, on ports the OS picks; a node's processes are found through its raylet.

Not a test module: imported by the Ray cluster tests, which share one cluster per module (Ray starts slowly).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from test_generate_kill import alive
from test_worker_death import cmdline, descendants

EPISODE_TASK = "ray::robosynth_episode"


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class TwoNodeCluster:
    """The cluster, its nodes by name ('head', 'second') and each node's TMPDIR."""

    cluster: Any  # ray.cluster_utils.Cluster
    nodes: dict[str, Any]
    tmpdirs: dict[str, Path]

    @property
    def address(self) -> str:
        """Return the address a driver passes to --ray-address."""
        return str(self.cluster.address)

    def raylet_pid(self, name: str) -> int:
        """Return the pid of a node's raylet (its workers are the raylet's descendants)."""
        return int(self.nodes[name].all_processes["raylet"][0].process.pid)

    def episode_workers(self, name: str) -> list[int]:
        """Return the live processes of a node that are running a robosynth episode task right now."""
        return [p for p in descendants(self.raylet_pid(name)) if EPISODE_TASK in cmdline(p) and alive(p)]

    def worker_env(self, pid: int) -> dict[str, str]:
        """Return a worker process's environment (Linux /proc)."""
        try:
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            return {}
        return dict(item.decode(errors="replace").split("=", 1) for item in raw.split(b"\0") if b"=" in item)


def start_cluster(root: Path) -> Iterator[TwoNodeCluster]:
    """Start the cluster under ``root``, yield it, and shut every process of it down (also on failure)."""
    from ray.cluster_utils import Cluster

    tmpdirs = {name: root / f"{name}_tmp" for name in ("head", "second")}
    for d in tmpdirs.values():
        d.mkdir(parents=True)
    cluster = Cluster(initialize_head=False, shutdown_at_exit=True)
    try:
        nodes = {"head": cluster.add_node(num_cpus=1, include_dashboard=False,
                                          env_vars={"TMPDIR": str(tmpdirs["head"])})}
        nodes["second"] = cluster.add_node(num_cpus=1, env_vars={"TMPDIR": str(tmpdirs["second"])})
        cluster.wait_for_nodes()
        yield TwoNodeCluster(cluster, nodes, tmpdirs)
    finally:
        cluster.shutdown()
