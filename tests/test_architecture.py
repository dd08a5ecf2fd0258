"""The architecture of docs/architecture.md holds: the import-linter contracts in pyproject.toml pass, and no
two modules import each other in a circle, counting imports inside functions (type-checking-only imports
excepted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sim", "scenes", "randomization", "renderers", "robosynth")


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_anywhere():
    g = grimp.build_graph(*PACKAGES, include_external_packages=False, exclude_type_checking_imports=True)
    graph = {m: set(g.find_modules_directly_imported_by(m)) for m in g.modules}
    assert len(graph) > 60  # the whole library was read
    assert strongly_connected(graph) == []


def test_strongly_connected_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_import_contracts_pass():
    res = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                          "lint_imports_command()"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout and "5 kept" in res.stdout


def test_deprecated_import_paths_still_work_for_one_release(run_python):
    code = (
        "import warnings\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "for name in ('robosynth.schema', 'robosynth.gym_env', 'robosynth.gym_record'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "    except DeprecationWarning as w:\n"
        "        print(name, 'warns:', w)\n"
        "warnings.simplefilter('ignore', DeprecationWarning)\n"
        "from robosynth.schema import read_episode, write_episode_file, EpisodeRecord\n"
        "from robosynth.gym_record import RecordEpisodes\n"
        "from robosynth.gym_env import RobosynthEnv, ENV_SCENES\n"
        "import robosynth.gym, robosynth.dataset\n"
        "assert RecordEpisodes is robosynth.gym.RecordEpisodes and read_episode is robosynth.dataset.read_episode\n"
        "print(sorted(ENV_SCENES))\n"
    )
    res = run_python(code)
    assert res.rc == 0, res.stderr
    for name, new in (("schema", "robosynth.dataset"), ("gym_env", "robosynth.gym"), ("gym_record", "robosynth.gym")):
        assert f"robosynth.{name} warns: robosynth.{name} is deprecated; import from {new}" in res.stdout
    assert "robosynth/PickPlace-v0" in res.stdout


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *cmd], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)


def test_library_type_checks_clean():
    res = _run("mypy")  # files and settings: [tool.mypy] in pyproject.toml
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Success: no issues found" in res.stdout


def test_ruff_and_dead_code_clean():
    res = _run("ruff", "check", ".")
    assert res.returncode == 0, res.stdout + res.stderr
    res = _run("vulture", "sim", "scenes", "randomization", "renderers", "robosynth", "tests", "benchmarks", "examples",
               "--min-confidence", "80")
    assert res.returncode == 0, res.stdout + res.stderr
