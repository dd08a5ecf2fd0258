PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install bytecode demo test lint bench bench-rl bench-peers clean

install:
	@# EGL + Mesa llvmpipe for headless MuJoCo rendering; installed only when missing.
	@if ! ldconfig -p 2>/dev/null | grep -q libEGL.so.1; then \
		(command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq libegl1 libgl1 libgles2 libegl-mesa0 libgl1-mesa-dri >/dev/null) || echo "warning: could not install EGL libraries"; \
	fi
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,ray,export,meshes]"
	$(MAKE) --no-print-directory bytecode

# Compile the project's modules to __pycache__ as pip does for a wheel install (an editable install does not): with
# PYTHONDONTWRITEBYTECODE set, as on these machines, every command would otherwise compile ~90 modules from source
# (75-100 ms of each command's start-up; docs/performance.md). Up-to-date files are skipped.
bytecode:
	$(BIN)/python -m compileall -q robosynth sim scenes randomization renderers >/dev/null

demo:
	$(BIN)/robosynth generate pick_place --backend mujoco --episodes 10 --out episodes/ --seed 0 --cameras agentview --resolution 128x128 --resume
	$(BIN)/robosynth preview episodes/ --out episodes/preview.png
	$(BIN)/robosynth generate pick_place --backend pybullet --episodes 5 --out episodes-pybullet/ --seed 0 --cameras none --resume
	$(BIN)/robosynth inspect episodes/

test:
	$(BIN)/python -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; exit $$rc

lint:
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/vulture sim scenes randomization renderers robosynth tests benchmarks examples --min-confidence 80

bench: bytecode
	$(BIN)/python benchmarks/run_all.py --write BENCHMARKS.md

# SB3 SAC on Reach (MuJoCo, PyBullet) and Push (MuJoCo), 30k steps each: ~20-40 min on 2 cores. Needs the `learn`
# extra (pip install -e ".[learn]"); rewrites only the `rl` section of BENCHMARKS.md. `make bench` keeps that section.
bench-rl: bytecode
	$(BIN)/python benchmarks/bench_rl.py --write BENCHMARKS.md

# robosynth next to robosuite, panda-gym and gymnasium-robotics Fetch, interleaved rounds (~6 min on 2 cores). The
# peers get their own venv (.bench-peers-venv, from PyPI on first use); rewrites only the `peers` section.
bench-peers: bytecode
	$(BIN)/python benchmarks/peers/run.py --write BENCHMARKS.md

clean:
	rm -rf episodes episodes-pybullet build *.egg-info
