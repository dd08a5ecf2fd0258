"""``robosynth generate --focus-failures P``: record expert episodes where policy P fails (docs/randomization.md,
"Failure-focused generation"; the Thompson sampler is ``randomization.focus``).

For each episode i: draw the bins of every range from the failure posteriors (``focus`` seed stream of (seed, i)),
sample the episode's parameters from them, roll out P on that episode (state only, not written), update the
posteriors with its outcome, then record the expert on exactly the same episode. ``ep_meta["focus"]`` holds the
config the episode was drawn from (so it regenerates exactly), the chosen bins and P's outcome; ``OUT/focus.json``
the final posteriors. It runs in one local process, sequentially (each episode's bins depend on all earlier
outcomes): deterministic for its request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from randomization.adaptive_settings import AdaptiveSettings
from randomization.config import RandomizationConfig
from randomization.focus import FocusState
from randomization.params import sample_episode_params
from randomization.seeding import stream
from robosynth.dataset import build_index, list_episode_files, write_text_atomic
from robosynth.evaluate.policies import GuardedPolicy, RandomPolicy, load_policy, parse_policy
from robosynth.generate import GenerateRequest, GenerateSummary, check_output_dir, dataset_info, make_job
from robosynth.generate.adaptive import count_result, write_result
from robosynth.generate.directory import load_or_store_request
from robosynth.generate.jobs import recording_options
from robosynth.generate.recording import EpisodeRunner, Policy, RecordingOptions
from scenes.spec import SceneSpec
from sim.errors import InputError

FOCUS_FILE = "focus.json"


def _policy(text: str, spec: SceneSpec) -> tuple[str, Policy | None]:
    from sim.control import Controller

    ref = parse_policy(text)
    action_dim = Controller(spec.robot).action_dim
    loaded = load_policy(ref, action_dim)
    guarded = loaded if loaded is None or isinstance(loaded, RandomPolicy) else GuardedPolicy(loaded, action_dim)
    return ref.label, guarded


def generate_focused(req: GenerateRequest, out: Path, progress: Callable[[dict], None] | None = None
                     ) -> GenerateSummary:
    """Record ``req`` (with ``focus_failures`` naming the policy) into ``out``; return the summary."""
    if req.episodes < 1:
        raise InputError("--episodes must be >= 1")
    if req.focus_failures is None or req.adaptive:
        raise InputError("--focus-failures P needs a policy and cannot be combined with --adaptive")
    check_output_dir(out, resume=False)
    job = make_job(req)
    spec = SceneSpec.model_validate_json(job.spec_json)
    cfg = RandomizationConfig.model_validate_json(job.randomization_json or "{}")
    state = FocusState(cfg.to_dict(), (cfg.adaptive or AdaptiveSettings()).bins)
    if not state.ranges:
        raise InputError("--focus-failures needs a randomization with scalar uniform or scale ranges to focus on "
                         "(e.g. --randomization physical)")
    label, policy = _policy(req.focus_failures, spec)
    load_or_store_request(out, req, resume=False)
    folder = Path(job.scene_dir) if job.scene_dir else None
    expert = EpisodeRunner(spec, recording_options(job), folder)
    probe = EpisodeRunner(spec, RecordingOptions(backend=req.backend, max_steps=req.max_steps), folder)
    summary = GenerateSummary(out=out, requested=req.episodes)
    try:
        for i in range(req.episodes):
            res = _one(expert, probe, state, policy, label, spec, req.seed, i)
            count_result(summary, res, write_result(out, req, res))
            if progress is not None:
                progress({"index": i, "success": res.success, "failure_reason": res.failure_reason,
                          "steps": res.steps})
    finally:
        expert.close()
        probe.close()
    report = {"policy": label, "bins": state.bins, "posterior": state.posterior()}
    write_text_atomic(out / FOCUS_FILE, json.dumps(report, indent=1, sort_keys=True))
    if list_episode_files(out):
        build_index(out, dataset_info(req), train_ratio=req.train_ratio)
    return summary


def _one(expert: EpisodeRunner, probe: EpisodeRunner, state: FocusState, policy: Policy | None, label: str,
         spec: SceneSpec, seed: int, index: int) -> Any:
    """Probe the policy on episode ``index`` drawn from the posteriors, update them, record the expert."""
    data, bins = state.episode_config(stream(seed, index, "focus"))
    params = sample_episode_params(RandomizationConfig.model_validate(data), spec, seed, index)
    hook = getattr(policy, "seed_episode", None)
    if callable(hook):
        hook(stream(seed, index, "policy"))
    tried = probe.run(seed, index, params, policy=policy)
    state.update(bins, tried.success)
    res = expert.run(seed, index, params)
    if res.record is not None:
        res.record.ep_meta["focus"] = {"config": data, "bins": bins, "policy": label,
                                       "policy_success": tried.success, "policy_failure_reason": tried.failure_reason}
    return res
