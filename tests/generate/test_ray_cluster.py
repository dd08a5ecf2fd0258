"""``generate --ray-address`` on a real two-node Ray cluster started here: the driver (the real CLI) connects,
episodes run on both nodes, come back through the object store and only the driver writes ``--out``; the datasets
equal a local ``--workers 1`` run array by array; a killed worker or a SIGTERM on the driver costs nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_cluster import TwoNodeCluster, free_port, start_cluster
from test_generate_kill import assert_same, dump

from robosynth.dataset import episode_path, list_episode_files, tmp_files
from robosynth.generate import GenerateRequest, generate

pytest.importorskip("ray")

REPO_ROOT = Path(__file__).resolve().parents[2]
MUJOCO = GenerateRequest(scene="pick_place", backend="mujoco", episodes=4, seed=7, cameras=("agentview",),
                         resolution=(32, 32), max_steps=15, keep_failed=True)
PYBULLET = GenerateRequest(scene="pick_place", backend="pybullet", episodes=4, seed=8, cameras=(), max_steps=15,
                           keep_failed=True)
# Episodes long enough (~1 s on a node) that the node removed while one runs still holds it when it goes.
MUJOCO_LONG = GenerateRequest(scene="pick_place", backend="mujoco", episodes=4, seed=9, cameras=("agentview",),
                              resolution=(64, 64), max_steps=120, keep_failed=True)


def cli_args(req: GenerateRequest) -> list[str]:
    """Return the generate arguments of a request."""
    cams = ",".join(req.cameras) if req.cameras else "none"
    args = [req.scene, "--backend", req.backend, "--episodes", str(req.episodes), "--seed", str(req.seed),
            "--cameras", cams, "--max-steps", str(req.max_steps), "--keep-failed"]
    if req.resolution:
        args += ["--resolution", "x".join(map(str, req.resolution))]
    return args


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[TwoNodeCluster]:
    """One head node and one second node, each with 1 CPU and its own TMPDIR, for the whole module."""
    yield from start_cluster(tmp_path_factory.mktemp("ray"))


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> dict[str, Path]:
    """The local --workers 1 datasets the cluster runs must equal."""
    root = tmp_path_factory.mktemp("ref")
    for req in (MUJOCO, PYBULLET):
        assert generate(req, root / req.backend).written == req.episodes
    return {req.backend: root / req.backend for req in (MUJOCO, PYBULLET)}


def start_driver(cluster: TwoNodeCluster, req: GenerateRequest, out: Path, *extra: str) -> subprocess.Popen:
    """Start the real CLI as a driver connecting to the cluster by --ray-address (2 episodes in flight)."""
    env = {k: v for k, v in os.environ.items() if k not in ("ROBOSYNTH_DEBUG", "RAY_ADDRESS")}
    env.update(COLUMNS="200", NO_COLOR="1")
    return subprocess.Popen([sys.executable, "-m", "robosynth", "generate", *cli_args(req), "--out", str(out),
                             "--workers", "2", "--ray-address", cluster.address, *extra], cwd=REPO_ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def second_node_worker(cluster: TwoNodeCluster, proc: subprocess.Popen, timeout: float = 120) -> int:
    """Wait until the second node runs an episode task for the driver ``proc``; return that worker's pid."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no episode worker appeared on the second node"
        workers = cluster.episode_workers("second")
        if workers:
            return workers[0]
        time.sleep(0.02)


def watch(cluster: TwoNodeCluster, proc: subprocess.Popen, timeout: float = 240) -> dict[str, set[str]]:
    """Wait for the driver; return the TMPDIR seen in the environment of each node's episode workers."""
    seen: dict[str, set[str]] = {"head": set(), "second": set()}
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        assert time.monotonic() < deadline, "the driver did not finish in time"
        for name in seen:
            for pid in cluster.episode_workers(name):
                seen[name].add(cluster.worker_env(pid).get("TMPDIR", ""))
        time.sleep(0.05)
    return seen


def assert_equal_datasets(out: Path, ref: Path, n: int) -> None:
    """Every episode file and the index equal the reference's, array by array."""
    assert tmp_files(out) == [] and sorted(list_episode_files(out)) == list(range(n))
    for i in range(n):
        assert_same(dump(episode_path(out, i)), dump(episode_path(ref, i)))
    assert_same(dump(out / "dataset.hdf5"), dump(ref / "dataset.hdf5"))


@pytest.mark.parametrize("req", [MUJOCO, PYBULLET], ids=["mujoco-camera", "pybullet-state"])
def test_cluster_dataset_equals_local_run_and_only_the_driver_writes(cluster, references, tmp_path, run_cli, req):
    out = tmp_path / "driver_only" / "ds"
    proc = start_driver(cluster, req, out)
    seen = watch(cluster, proc)
    stdout, stderr = (s.decode() for s in proc.communicate())
    assert proc.returncode == 0, stderr
    assert f"connected to the Ray cluster at {cluster.address}: 2 node(s), 2 CPUs" in stderr
    assert f"{req.episodes} written now" in stdout and "episodes/s" in stdout and "MB on disk" in stdout
    assert f"generate: episodes {req.episodes}/{req.episodes}, " in stderr and "0 retried, ETA 0:00" in stderr
    # episodes ran on both nodes, each worker with its own node's TMPDIR (its scratch space, not --out)
    assert seen["head"] == {str(cluster.tmpdirs["head"])}, seen
    assert seen["second"] == {str(cluster.tmpdirs["second"])}, seen
    for d in cluster.tmpdirs.values():  # the workers' temporary episode files are gone
        assert not list(d.glob("robosynth-episode-*")), list(d.iterdir())
    assert_equal_datasets(out, references[req.backend], req.episodes)
    check = run_cli("verify", out)
    assert check.rc == 0, check.stdout


def test_a_killed_cluster_worker_reruns_its_episode(cluster, references, tmp_path, run_cli):
    out = tmp_path / "ds"
    proc = start_driver(cluster, MUJOCO, out)
    try:
        os.kill(second_node_worker(cluster, proc), signal.SIGKILL)
        stdout, stderr = (s.decode() for s in proc.communicate(timeout=240))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "Ray worker or node died" in stderr and "(attempt 2 of 3)" in stderr
    assert "1 retried" in stdout
    assert_equal_datasets(out, references["mujoco"], MUJOCO.episodes)
    assert run_cli("verify", out).rc == 0


def test_sigterm_on_the_driver_stops_its_cluster_work_and_resume_finishes(cluster, references, tmp_path, run_cli):
    out = tmp_path / "ds"
    proc = start_driver(cluster, MUJOCO, out)
    deadline = time.monotonic() + 120
    while not list_episode_files(out):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no episode was written"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, stderr = (s.decode() for s in proc.communicate(timeout=60))
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr.splitlines()[-1]
    deadline = time.monotonic() + 20  # the cluster ends the workers of a disconnected driver
    while any(cluster.episode_workers(n) for n in ("head", "second")):
        assert time.monotonic() < deadline, "episode tasks kept running after the driver was stopped"
        time.sleep(0.1)
    assert list_episode_files(out) and not (out / "dataset.hdf5").exists()  # stopped before the end
    res = run_cli("generate", *cli_args(MUJOCO), "--out", out, "--resume", "--ray-address", cluster.address,
                  "--workers", "2", env={"RAY_ADDRESS": None})
    assert res.rc == 0, res.stderr
    assert "already done" in res.stdout
    assert_equal_datasets(out, references["mujoco"], MUJOCO.episodes)
    assert run_cli("verify", out).rc == 0


def test_ray_address_from_the_environment_and_bad_addresses(cluster, tmp_path, run_cli):
    out = tmp_path / "env"
    res = run_cli("generate", *cli_args(PYBULLET), "--episodes", "1", "--out", out, "--executor", "ray",
                  env={"RAY_ADDRESS": cluster.address})
    assert res.rc == 0, res.stderr
    assert f"connected to the Ray cluster at {cluster.address}" in res.stderr
    bad_runs = [(("--ray-address", f"127.0.0.1:{free_port()}"), "cannot reach a Ray cluster"),
                (("--ray-address", "no-port-here"), "is not HOST:PORT"),
                (("--ray-address", cluster.address, "--ray-gpus-per-episode", "1"), "the Ray cluster has 0 GPUs")]
    for flags, message in bad_runs:
        res = run_cli("generate", *cli_args(PYBULLET), "--out", tmp_path / "bad", *flags, env={"RAY_ADDRESS": None})
        assert res.rc == 2, res.stderr
        assert message in res.stderr and res.stderr_lines[-1].startswith("robosynth: error:"), res.stderr
        assert len(res.stderr_lines) == 1 or "GPUs" in message, res.stderr  # a wrong address: one line only
        assert not (tmp_path / "bad").exists()  # refused before anything was written
    res = run_cli("generate", *cli_args(PYBULLET), "--out", tmp_path / "bad", "--ray-address", cluster.address,
                  "--executor", "local")
    assert res.rc == 2 and "--executor local" in res.stderr


def test_a_node_that_dies_mid_run_costs_only_a_retry(cluster, tmp_path, run_cli):
    """Last in the module: it removes the second node for good."""
    reference = tmp_path / "reference"
    assert generate(MUJOCO_LONG, reference).written == MUJOCO_LONG.episodes
    out = tmp_path / "ds"
    proc = start_driver(cluster, MUJOCO_LONG, out)
    try:
        second_node_worker(cluster, proc)
        cluster.cluster.remove_node(cluster.nodes.pop("second"), allow_graceful=False)
        stdout, stderr = (s.decode() for s in proc.communicate(timeout=240))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "Ray worker or node died" in stderr and "(attempt 2 of 3)" in stderr
    assert f"{MUJOCO_LONG.episodes} written now" in stdout
    assert_equal_datasets(out, reference, MUJOCO_LONG.episodes)
    assert run_cli("verify", out).rc == 0
