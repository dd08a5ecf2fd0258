"""The ``adaptive:`` section of a randomization config: the settings of ``generate --adaptive`` (ADR), with their
defaults (docs/randomization.md, "Adaptive randomization"; the state machine is ``randomization.adaptive``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AdaptiveSettings(BaseModel):
    """The ``adaptive:`` section of a randomization config (defaults documented in docs/randomization.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    boundary_fraction: float = Field(0.5, ge=0.0, le=1.0, description="share of episodes that pin one bound")
    queue: int = Field(10, ge=1, le=1000, description="boundary episodes per bound before it moves")
    low: float = Field(0.4, ge=0.0, le=1.0, description="success rate at or below which a bound moves inward")
    high: float = Field(0.8, ge=0.0, le=1.0, description="success rate at or above which a bound moves outward")
    step: float = Field(0.25, gt=0.0, le=10.0, description="bound move per update, x the initial width")
    envelope: float = Field(3.0, ge=1.0, le=100.0, description="widest range: the initial one widened this much")
    batch: int = Field(8, ge=1, le=10_000, description="episodes drawn from the same ranges between updates")
    bins: int = Field(4, ge=2, le=100, description="bins per range for generate --focus-failures")

    @model_validator(mode="after")
    def _check(self) -> AdaptiveSettings:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self
