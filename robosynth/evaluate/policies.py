"""What ``--policy P`` names, and the adapter every rollout drives (docs/evaluate.md, "Policies").

``P`` is ``expert`` (the task's scripted expert: exactly the code path ``generate`` records), ``random`` (uniform
actions in [-1, 1], from the episode's ``policy`` seed stream), ``module:factory`` (a Python import path, or
``path/to/file.py:factory``; the factory is called with no arguments and returns an object with ``reset()`` and
``act(obs) -> action``), or ``robomimic:PATH`` (a robomimic checkpoint, loaded with robomimic's own
``policy_from_checkpoint``). Policies see the low-dim observation dict (robomimic key names, float32), the same as
the Gymnasium env's ``obs_mode="state"``. An optional ``seed_episode(rng)`` method receives the episode's
``policy`` stream before ``reset()``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robosynth.generate.recording import Policy, PolicyFailure
from sim.errors import InputError

KINDS = ("expert", "random", "module:factory", "robomimic:PATH")


class PolicyError(InputError):
    """A ``--policy`` that cannot be loaded (exit 2)."""


@dataclass(frozen=True)
class PolicyRef:
    """A parsed ``--policy``: ``kind`` is expert, random, module or robomimic; ``target`` the module or path."""

    kind: str
    target: str = ""
    label: str = ""  # as the user wrote it


def parse_policy(text: str) -> PolicyRef:
    """Return the PolicyRef of a ``--policy`` value (PolicyError for anything else)."""
    value = text.strip()
    if value in ("expert", "random"):
        return PolicyRef(value, "", value)
    if value.startswith("robomimic:"):
        path = value.removeprefix("robomimic:")
        if not path:
            raise PolicyError("--policy robomimic:PATH needs a checkpoint path after 'robomimic:'")
        return PolicyRef("robomimic", path, value)
    module, sep, attr = value.rpartition(":")
    if not sep or not module or not attr.isidentifier():
        raise PolicyError(f"unknown --policy '{text}' (one of: {', '.join(KINDS)})")
    return PolicyRef("module", value, value)


class RandomPolicy:
    """Uniform actions in [-1, 1]^A from the episode's ``policy`` seed stream."""

    def __init__(self, action_dim: int):
        self.action_dim = action_dim
        self.rng = np.random.default_rng(0)

    def seed_episode(self, rng: np.random.Generator) -> None:
        """Draw this episode's actions from ``rng``."""
        self.rng = rng

    def reset(self) -> None:
        """Nothing to forget."""

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return a uniform random action."""
        return self.rng.uniform(-1.0, 1.0, self.action_dim).astype(np.float32)


class RobomimicPolicy:
    """A robomimic ``RolloutPolicy`` behind reset/act (``start_episode`` and ``__call__(ob=...)``)."""

    def __init__(self, rollout_policy: Any):
        self.policy = rollout_policy

    def reset(self) -> None:
        """Start robomimic's episode (clears its observation history and RNN state)."""
        self.policy.start_episode()

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return robomimic's action for the observation dict."""
        return np.asarray(self.policy(ob=obs), np.float32)


def _import_module(module: str) -> Any:
    """Import ``module`` (a dotted name, or a path to a .py file); PolicyError with one line otherwise."""
    if module.endswith(".py"):
        path = Path(module)
        if not path.is_file():
            raise PolicyError(f"--policy: no Python file '{module}'")
        spec = importlib.util.spec_from_file_location(f"robosynth_policy_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise PolicyError(f"--policy: cannot import '{module}'")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        return mod
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            raise PolicyError(f"--policy: no Python module '{module}' (looked in . and on sys.path)") from None
        raise PolicyError(f"--policy: importing '{module}' failed: {exc}") from None


def load_module_policy(target: str) -> Any:
    """Return the object ``module:factory()`` builds; PolicyError unless it has ``reset()`` and ``act(obs)``."""
    module, _, attr = target.rpartition(":")
    try:
        mod = _import_module(module)
    except InputError:
        raise
    except Exception as exc:  # a user's module that fails to import: one line, not a traceback
        raise PolicyError(f"--policy: importing '{module}' failed: {type(exc).__name__}: {exc}") from None
    factory = getattr(mod, attr, None)
    if not callable(factory):
        raise PolicyError(f"--policy: module '{module}' has no callable '{attr}'")
    try:
        policy = factory()
    except Exception as exc:
        raise PolicyError(f"--policy: {target}() failed: {type(exc).__name__}: {exc}") from None
    missing = [m for m in ("reset", "act") if not callable(getattr(policy, m, None))]
    if missing:
        raise PolicyError(f"--policy: {target}() returned a {type(policy).__name__!r} object without "
                          f"{' and '.join(f'{m}()' for m in missing)} (a policy needs reset() and act(obs))")
    return policy


def load_robomimic_policy(path: str) -> RobomimicPolicy:
    """Return a robomimic checkpoint's policy (PolicyError when robomimic is missing or the file is not one)."""
    try:
        from robomimic.utils import file_utils, torch_utils
    except ImportError:
        raise PolicyError("--policy robomimic:PATH needs robomimic, which is not installed "
                          "(pip install robomimic)") from None
    if not Path(path).is_file():
        raise PolicyError(f"--policy: robomimic checkpoint '{path}' does not exist")
    try:
        device = torch_utils.get_torch_device(try_to_use_cuda=True)
        rollout_policy, _ = file_utils.policy_from_checkpoint(ckpt_path=path, device=device, verbose=False)
    except Exception as exc:
        raise PolicyError(f"--policy: '{path}' is not a loadable robomimic checkpoint: "
                          f"{type(exc).__name__}: {exc}") from None
    return RobomimicPolicy(rollout_policy)


def load_policy(ref: PolicyRef, action_dim: int) -> Policy | None:
    """Return the policy ``ref`` names (None for ``expert``: each world's own task expert)."""
    if ref.kind == "expert":
        return None
    if ref.kind == "random":
        return RandomPolicy(action_dim)
    if ref.kind == "robomimic":
        return load_robomimic_policy(ref.target)
    return load_module_policy(ref.target)


class GuardedPolicy:
    """Wraps a user's policy: its exceptions and malformed actions end the episode as failed (``PolicyFailure``)
    with the reason ``policy error: ...``; actions are clipped to [-1, 1] (the env's action space)."""

    def __init__(self, policy: Any, action_dim: int):
        self.policy = policy
        self.action_dim = action_dim
        self._reset_error: PolicyFailure | None = None

    def seed_episode(self, rng: np.random.Generator) -> None:
        """Pass the episode's ``policy`` stream on to a policy that takes one (an error fails the episode)."""
        self._reset_error = None
        hook = getattr(self.policy, "seed_episode", None)
        if callable(hook):
            self._call_before_episode(hook, rng)

    def _guard(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            raise PolicyFailure(f"policy error: {type(exc).__name__}: {exc}") from exc

    def _call_before_episode(self, fn: Any, *args: Any) -> None:
        """Call ``fn``; an exception fails the episode at its first act (the rollout itself must not crash)."""
        try:
            self._guard(fn, *args)
        except PolicyFailure as exc:
            self._reset_error = self._reset_error or exc

    def reset(self) -> None:
        """Reset the wrapped policy (its exceptions become a PolicyFailure at the first act)."""
        self._call_before_episode(self.policy.reset)

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Return the wrapped policy's action, checked (shape (A,), finite) and clipped to [-1, 1]."""
        if self._reset_error is not None:
            error, self._reset_error = self._reset_error, None
            raise error
        raw = self._guard(self.policy.act, {k: np.array(v, copy=True) for k, v in obs.items()})
        try:
            action = np.asarray(raw, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise PolicyFailure(f"policy error: act returned {type(raw).__name__}, not an action ({exc})") from None
        if action.shape != (self.action_dim,):
            raise PolicyFailure(f"policy error: act returned {action.size} values, the action has {self.action_dim}")
        if not np.isfinite(action).all():
            raise PolicyFailure("policy error: act returned a non-finite action")
        return np.clip(action, -1.0, 1.0).astype(np.float32)
