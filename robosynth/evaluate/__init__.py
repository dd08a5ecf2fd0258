"""``robosynth evaluate``: closed-loop evaluation of a policy on each engine and randomization, with Wilson
intervals, the cross-engine gap and the sim-to-real metrics of SIMPLER (docs/evaluate.md).

Inside this package each module imports only those listed before it: ``stats``, ``policies`` -> ``rollout`` ->
``results``, ``compare`` -> ``run``, ``focus`` (``generate --focus-failures``).
"""

from robosynth.evaluate.run import EvaluateRequest, evaluate, parse_backends, parse_randomizations

__all__ = ["EvaluateRequest", "evaluate", "parse_backends", "parse_randomizations"]
