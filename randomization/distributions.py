"""Randomization distributions: typed, frozen, validated; sampled with an explicit Generator.

Every distribution works for scalars and fixed-length vectors. Parameters may be scalars or lists;
lists must agree in length. Shape rule for ``sample(rng, nominal)``:

- if ``nominal`` is a list of length n, the result is a list of length n (scalar parameters are
  broadcast, each component drawn independently; vector parameters must have length n);
- otherwise the result is a list when the parameters are vectors, else a float.

``scale`` is the only distribution that uses the nominal value: it multiplies it by a random factor,
drawn from ``uniform(low, high)`` (shorthand) or from any other distribution given as ``factor``.
A scalar factor is drawn once and multiplies every component of a vector nominal (brightness-like);
a vector factor (list low/high) scales each component independently.
Samples are plain Python floats / ints / strings / lists, ready for JSON.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from randomization.sampling import draw_outside, std_truncnorm

Param = Union[float, list[float]]  # noqa: UP007 (pydantic needs a runtime union)
Sample = Union[float, int, str, list[float]]  # noqa: UP007
Nominal = Union[float, Sequence[float], None]  # noqa: UP007


class _Dist(BaseModel):
    """Base: frozen, unknown fields rejected, finite numbers only."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    if TYPE_CHECKING:
        dist: str  # every distribution declares it as ``Literal[...]``: the discriminator of the union

    @property
    def dim(self) -> int | None:
        """Return the vector length fixed by the parameters, or None for scalar parameters."""
        return _common_dim(*self._params())

    def _params(self) -> list[Param | None]:
        return []

    def _out_dim(self, nominal: Nominal) -> int | None:
        if nominal is None or isinstance(nominal, (int, float)):
            return self.dim
        n = len(nominal)
        if self.dim is not None and self.dim != n:
            raise ValueError(f"{self.dist}: parameters have {self.dim} components but the value has {n}")
        return n

    def sample(self, rng: np.random.Generator, nominal: Nominal = None) -> Sample:
        """Return one sample (float, or list for vectors) drawn with ``rng``."""
        return _plain(self._draw(rng, self._out_dim(nominal), nominal))

    def sample_vector(self, rng: np.random.Generator, nominal: Sequence[float]) -> list[float]:
        """Return ``sample(rng, nominal)`` for a vector ``nominal``: always a list of ``len(nominal)`` values."""
        out = self.sample(rng, nominal)
        if not isinstance(out, list):  # pragma: no cover - a vector nominal always gives a list (or raises)
            raise TypeError(f"{self.dist}: expected a vector sample, got {out!r}")
        return out

    def sample_float(self, rng: np.random.Generator, nominal: float | None = None) -> float:
        """Return ``float(sample(rng, nominal))``: a scalar sample as a float (TypeError for a vector)."""
        out = self.sample(rng, nominal)
        if isinstance(out, list):
            raise TypeError(f"{self.dist}: expected a scalar sample, got {out!r}")
        return float(out)

    @abstractmethod
    def _draw(self, rng: np.random.Generator, n: int | None, nominal: Nominal) -> Any:
        """Return the raw draw (scalar or length-``n`` array); each distribution defines it."""

    @abstractmethod
    def support(self, nominal: Nominal = None) -> tuple[float, float] | None:
        """Return (min, max) over all components of every possible sample, or None if not numeric."""


def _common_dim(*params: Param | None) -> int | None:
    dims = {len(p) for p in params if isinstance(p, list)}
    if len(dims) > 1:
        raise ValueError(f"mismatched lengths {sorted(dims)} between vector parameters")
    if dims and 0 in dims:
        raise ValueError("vector parameters must not be empty")
    return dims.pop() if dims else None


def _check_low_high(low: Param, high: Param) -> None:
    _common_dim(low, high)
    lo, hi = np.broadcast_arrays(np.asarray(low, float), np.asarray(high, float))
    if np.any(lo > hi):
        raise ValueError(f"low > high (low={low}, high={high})")


def _arr(p: Param, n: int | None) -> np.ndarray:
    a = np.asarray(p, dtype=np.float64)
    return a if n is None else np.broadcast_to(a, (n,)).copy()


def _plain(x: Any) -> Sample:
    if isinstance(x, np.ndarray):
        return [float(v) for v in x.reshape(-1)] if x.ndim else float(x)
    if isinstance(x, np.generic):
        return x.item()
    return x


def _flat(p: Param | None) -> list[float]:
    return [] if p is None else (list(p) if isinstance(p, list) else [p])


class Uniform(_Dist):
    """Uniform on [low, high] (per component)."""

    dist: Literal["uniform"] = "uniform"
    low: Param
    high: Param

    def _params(self) -> list[Param | None]:
        return [self.low, self.high]

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        _check_low_high(self.low, self.high)
        return self

    def _draw(self, rng: np.random.Generator, n: int | None, nominal: Nominal) -> Any:
        lo, hi = _arr(self.low, n), _arr(self.high, n)
        return lo + (hi - lo) * rng.random(lo.shape)

    def support(self, nominal: Nominal = None) -> tuple[float, float] | None:
        """Return (min low, max high)."""
        return min(_flat(self.low)), max(_flat(self.high))


class LogUniform(_Dist):
    """Log-uniform on [low, high] with low > 0: log(x) is uniform."""

    dist: Literal["loguniform"] = "loguniform"
    low: Param
    high: Param

    def _params(self) -> list[Param | None]:
        return [self.low, self.high]

    @model_validator(mode="after")
    def _check(self) -> LogUniform:
        _check_low_high(self.low, self.high)
        if min(_flat(self.low)) <= 0:
            raise ValueError(f"low must be > 0 for loguniform (low={self.low})")
        return self

    def _draw(self, rng: np.random.Generator, n: int | None, nominal: Nominal) -> Any:
        lo, hi = np.log(_arr(self.low, n)), np.log(_arr(self.high, n))
        return np.exp(lo + (hi - lo) * rng.random(lo.shape))

    def support(self, nominal: Nominal = None) -> tuple[float, float] | None:
        """Return (min low, max high)."""
        return min(_flat(self.low)), max(_flat(self.high))


class Normal(_Dist):
    """Normal(mean, std), optionally truncated to [low, high] (exact truncated law, by rejection)."""

    dist: Literal["normal"] = "normal"
    mean: Param = 0.0
    std: Param
    low: Param | None = None
    high: Param | None = None

    def _params(self) -> list[Param | None]:
        return [self.mean, self.std, self.low, self.high]

    @model_validator(mode="after")
    def _check(self) -> Normal:
        _common_dim(self.mean, self.std, self.low, self.high)
        if np.any(np.asarray(self.std, float) < 0):
            raise ValueError(f"std must be >= 0 (std={self.std})")
        lo = -np.inf if self.low is None else np.asarray(self.low, float)
        hi = np.inf if self.high is None else np.asarray(self.high, float)
        lo_b, hi_b, mean_b, std_b = np.broadcast_arrays(lo, hi, np.asarray(self.mean, float),
                                                        np.asarray(self.std, float))
        if np.any(lo_b > hi_b):
            raise ValueError(f"low > high (low={self.low}, high={self.high})")
        degenerate = (std_b == 0) & ((mean_b < lo_b) | (mean_b > hi_b))
        if np.any(degenerate):
            raise ValueError("std is 0 and mean lies outside [low, high]")
        return self

    def _draw(self, rng: np.random.Generator, n: int | None, nominal: Nominal) -> Any:
        mean, std = _arr(self.mean, n), _arr(self.std, n)
        lo = _arr(-math.inf if self.low is None else self.low, n)
        hi = _arr(math.inf if self.high is None else self.high, n)
        if self.low is None and self.high is None:
            return mean + std * rng.standard_normal(mean.shape)
        out = np.empty(mean.shape)
        for i in np.ndindex(mean.shape):
            m, s = float(mean[i]), float(std[i])
            if s == 0.0:
                out[i] = m
            else:
                out[i] = m + s * std_truncnorm(rng, (float(lo[i]) - m) / s, (float(hi[i]) - m) / s)
        return out

    def support(self, nominal: Nominal = None) -> tuple[float, float] | None:
        """Return the truncation interval (infinite sides when untruncated)."""
        means, stds = _flat(self.mean), _flat(self.std)
        if all(s == 0 for s in stds):
            return min(means), max(means)
        lo = -math.inf if self.low is None else min(_flat(self.low))
        hi = math.inf if self.high is None else max(_flat(self.high))
        return lo, hi


ChoiceValue = Union[int, float, str, list[float]]  # noqa: UP007


class Choice(_Dist):
    """One of ``values`` with probabilities ``p`` (uniform when omitted)."""

    dist: Literal["choice"] = "choice"
    values: list[ChoiceValue] = Field(min_length=1)
    p: list[float] | None = None

    @property
    def dim(self) -> int | None:
        """Return the length of list values, or None for scalar values."""
        first = self.values[0]
        return len(first) if isinstance(first, list) else None

    @model_validator(mode="after")
    def _check(self) -> Choice:
        kinds = {type(v) for v in self.values}
        if list in kinds and len(kinds) > 1:
            raise ValueError("values: mix of lists and scalars")
        if str in kinds and len(kinds) > 1:
            raise ValueError("values: mix of strings and numbers")
        if list in kinds:
            _common_dim(*[v for v in self.values if isinstance(v, list)])  # all lists (checked above)
        if self.p is not None:
            if len(self.p) != len(self.values):
                raise ValueError(f"p has {len(self.p)} entries but values has {len(self.values)}")
            if any(q < 0 for q in self.p):
                raise ValueError("p must be >= 0")
            if abs(sum(self.p) - 1.0) > 1e-6:
                raise ValueError(f"p must sum to 1 (sums to {sum(self.p):.6g})")
        return self

    def _draw(self, rng: np.random.Generator, n: int | None, nominal: Nominal) -> Any:
        p = None if self.p is None else np.asarray(self.p, float) / sum(self.p)
        if self.dim is None and n is not None:
            if isinstance(self.values[0], str):
                raise ValueError("choice: string values cannot fill a vector")
            scalars = [v for v in self.values if isinstance(v, (int, float))]  # all of them: no lists, no strings
            idx = rng.choice(len(scalars), size=n, p=p)
            return [float(scalars[int(i)]) for i in idx]
        v = self.values[int(rng.choice(len(self.values), p=p))]
        return list(v) if isinstance(v, list) else v

    def support(self, nominal: Nominal = None) -> tuple[float, float] | None:
        """Return (min, max) of the numeric values, None for strings."""
        if isinstance(self.values[0], str):
            return None
        flat = [x for v in self.values if not isinstance(v, str) for x in _flat(v)]  # no strings (checked above)
        return float(min(flat)), float(max(flat))


class Outside(_Dist):
    """Held-out values: uniform on the envelope [low, high] minus the training range [inner_low, inner_high], per
    component (``log``: uniform in log space; ``integer``: whole numbers only). See docs/randomization.md."""

    dist: Literal["outside"] = "outside"
    low: Param
    high: Param
    inner_low: Param
    inner_high: Param
    log: bool = False
    integer: bool = False

    def _params(self) -> list[Param | None]:
        return [self.low, self.high, self.inner_low, self.inner_high]

    def _bounds(self, n: int | None) -> list[tuple[float, float, float, float]]:
        arrays = [_arr(p, n if n is not None else self.dim) for p in self._params() if p is not None]
        return [tuple(float(a[i]) for a in arrays) for i in np.ndindex(arrays[0].shape)]  # type: ignore[misc]

    @model_validator(mode="after")
    def _check(self) -> Outside:
        _common_dim(*self._params())
        for lo, hi, ilo, ihi in self._bounds(None):
            if not lo <= ilo <= ihi <= hi:
                raise ValueError(f"needs low <= inner_low <= inner_high <= high, got {lo}, {ilo}, {ihi}, {hi}")
            if self.log and lo <= 0:
                raise ValueError(f"low must be > 0 with log: true (low={lo})")
            draw_outside(None, lo, hi, ilo, ihi, self.log, self.integer)  # raises when nothing lies outside
        return self

    def _draw(self, rng: np.random.Generator, n: int | None, nominal: Nominal) -> Any:
        vals = [draw_outside(rng, *b, self.log, self.integer) for b in self._bounds(n)]
        return np.asarray(vals, float).reshape(()) if n is None and self.dim is None else np.asarray(vals, float)

    def support(self, nominal: Nominal = None) -> tuple[float, float] | None:
        """Return (min low, max high): the envelope."""
        return min(_flat(self.low)), max(_flat(self.high))


Factor = Annotated[Union[Uniform, LogUniform, Normal, Choice, Outside], Field(discriminator="dist")]  # noqa: UP007


class Scale(_Dist):
    """Nominal value times a random factor: ``uniform(low, high)``, or any ``factor`` distribution."""

    dist: Literal["scale"] = "scale"
    low: Param | None = None
    high: Param | None = None
    factor: Factor | None = None

    @model_validator(mode="after")
    def _check(self) -> Scale:
        given = (self.low is not None, self.high is not None)
        if self.factor is not None and any(given):
            raise ValueError("give either low/high or factor, not both")
        if self.factor is None and not all(given):
            raise ValueError("scale needs low and high (or a factor distribution)")
        if self.factor is None:
            _check_low_high(self.low, self.high)  # type: ignore[arg-type]
        elif isinstance(self.factor, Choice) and isinstance(self.factor.values[0], str):
            raise ValueError("factor: string values cannot scale a number")
        return self

    def _factor(self) -> _Dist:
        return self.factor if self.factor is not None else Uniform(low=self.low, high=self.high)

    @property
    def dim(self) -> int | None:
        """Return the vector length of the factor distribution, or None."""
        return self._factor().dim

    def _draw(self, rng: np.random.Generator, n: int | None, nominal: Nominal) -> Any:
        if nominal is None:
            raise ValueError("scale: needs a nominal value to multiply")
        factor = self._factor()
        # A scalar factor is ONE draw for the whole nominal vector (e.g. a light's intensity);
        # a vector factor scales each component independently.
        f = np.asarray(factor._draw(rng, factor.dim, None), dtype=np.float64)
        return np.asarray(nominal, dtype=np.float64) * f

    def support(self, nominal: Nominal = None) -> tuple[float, float] | None:
        """Return the range of nominal x factor (None without a nominal)."""
        fs = self._factor().support()
        if nominal is None or fs is None:
            return None
        prods = [x * f for x in _flat(list(nominal) if isinstance(nominal, Sequence) else nominal)
                 for f in fs]
        return min(prods), max(prods)


Distribution = Annotated[Union[Uniform, LogUniform, Normal, Choice, Scale, Outside], Field(discriminator="dist")]  # noqa: UP007
DIST_NAMES = ("uniform", "loguniform", "normal", "choice", "scale", "outside")
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Distribution)


def parse_distribution(data: Any) -> _Dist:
    """Return the distribution described by a dict such as ``{"dist": "uniform", "low": 0, "high": 1}``."""
    return _ADAPTER.validate_python(data)
