"""Sensor models applied to rendered frames: depth noise, edge dropout, RGB exposure / blur / noise.

Depth is metric z-depth (float, metres); 0 means "no return" and always stays 0. RGB is uint8 (H, W, 3).
All randomness comes from the Generator passed in (the episode's ``sensor_noise`` stream).

- Kinect (axial, Nguyen et al. 2012): sigma_z = 0.0012 + 0.0019 (z - 0.4)^2 m.
- RealSense / stereo: RMS error = z^2 s / (f B), s subpixel disparity error (px), f focal length (px),
  B baseline (m); defaults s = 0.08, B = 0.05.
- Edge dropout: pixels on depth discontinuities (Sobel response above a threshold, or next to a hole) lose
  their return with probability p.
- RGB, in this order: exposure gain, Gaussian blur (optics), additive Gaussian noise (0-255 units),
  then one rounding to uint8.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

DEPTH_MODELS = ("none", "kinect", "realsense")
MIN_VALID_DEPTH = 1e-6


def kinect_sigma(z: np.ndarray | float) -> np.ndarray:
    """Return the Kinect axial noise std (m) at depth ``z`` (m)."""
    return 0.0012 + 0.0019 * (np.asarray(z, dtype=np.float64) - 0.4) ** 2


def realsense_rms(z: np.ndarray | float, focal_px: float, subpixel: float = 0.08,
                  baseline: float = 0.05) -> np.ndarray:
    """Return the stereo depth RMS error (m) at depth ``z``: z^2 * subpixel / (focal_px * baseline)."""
    return np.asarray(z, dtype=np.float64) ** 2 * subpixel / (focal_px * baseline)


def _valid(depth: np.ndarray) -> np.ndarray:
    return np.isfinite(depth) & (depth > 0)


def add_depth_noise(depth: np.ndarray, rng: np.random.Generator, model: str, *, scale: float = 1.0,
                    focal_px: float | None = None, subpixel: float = 0.08, baseline: float = 0.05) -> np.ndarray:
    """Return ``depth`` plus zero-mean Gaussian noise of the model's std (times ``scale``); holes stay 0."""
    if model == "none" or scale == 0:
        return depth
    if model not in DEPTH_MODELS:
        raise ValueError(f"unknown depth model {model!r} (one of {', '.join(DEPTH_MODELS)})")
    if model == "realsense" and (not focal_px or focal_px <= 0):
        raise ValueError("realsense depth noise needs focal_px > 0")
    valid = _valid(depth)
    noise = rng.standard_normal(depth.shape)  # drawn for every pixel: consumption depends on shape only
    z = depth[valid].astype(np.float64)
    f = float(focal_px or 0.0)  # > 0 for realsense (checked above)
    sigma = kinect_sigma(z) if model == "kinect" else realsense_rms(z, f, subpixel, baseline)
    out = depth.copy()
    out[valid] = np.maximum(z + scale * sigma * noise[valid], MIN_VALID_DEPTH)
    return out


def depth_edges(depth: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Return a bool mask of depth-discontinuity pixels (normalised Sobel step >= threshold metres)."""
    import cv2  # imported on first use (~15 ms of start-up): most scenes add no edge dropout or blur

    d = np.where(np.isfinite(depth), depth, 0.0).astype(np.float32)
    # Sobel / 4: a step of height h gives |response| = h on both pixels beside it.
    gx = cv2.Sobel(d, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE) / 4.0
    gy = cv2.Sobel(d, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE) / 4.0
    return (np.maximum(np.abs(gx), np.abs(gy)) >= threshold) & _valid(depth)


def edge_dropout(depth: np.ndarray, rng: np.random.Generator, p: float, threshold: float = 0.02) -> np.ndarray:
    """Return ``depth`` with each edge pixel set to 0 (no return) with probability ``p``."""
    if p <= 0:
        return depth
    drop = depth_edges(depth, threshold) & (rng.random(depth.shape) < p)
    out = depth.copy()
    out[drop] = 0
    return out


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def exposure(rgb: np.ndarray, gain: float) -> np.ndarray:
    """Return ``rgb`` (uint8) multiplied by ``gain``, clipped."""
    return _to_uint8(rgb.astype(np.float32) * gain)


def gaussian_blur(rgb: np.ndarray, sigma: float) -> np.ndarray:
    """Return ``rgb`` blurred with a Gaussian of std ``sigma`` pixels (unchanged for sigma <= 0)."""
    if sigma <= 0:
        return rgb
    import cv2

    return cv2.GaussianBlur(rgb, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)


def rgb_noise(rgb: np.ndarray, rng: np.random.Generator, std: float) -> np.ndarray:
    """Return ``rgb`` (uint8) plus Gaussian noise of ``std`` (0-255 units), clipped and rounded."""
    if std <= 0:
        return rgb
    return _to_uint8(rgb.astype(np.float32) + std * rng.standard_normal(rgb.shape).astype(np.float32))


@dataclass(frozen=True)
class SensorModel:
    """A camera's sensor model, built from the sampled params; ``apply`` maps clean frames to noisy ones."""

    depth_model: str = "none"
    depth_noise_scale: float = 1.0
    subpixel: float = 0.08
    baseline: float = 0.05
    focal_px: float | None = None
    edge_dropout: float = 0.0
    edge_threshold: float = 0.02
    rgb_noise_std: float = 0.0
    blur_sigma: float = 0.0
    exposure_gain: float = 1.0

    def __post_init__(self) -> None:
        if self.depth_model not in DEPTH_MODELS:
            raise ValueError(f"depth_model: unknown {self.depth_model!r} (one of {', '.join(DEPTH_MODELS)})")
        if not 0.0 <= self.edge_dropout <= 1.0:
            raise ValueError(f"edge_dropout: must be in [0, 1], got {self.edge_dropout}")
        for name in ("depth_noise_scale", "subpixel", "rgb_noise_std", "blur_sigma"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        for name in ("baseline", "exposure_gain", "edge_threshold"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)}")
        if self.depth_model == "realsense" and (self.focal_px is None or self.focal_px <= 0):
            raise ValueError("focal_px: the realsense model needs the camera's focal length in pixels")

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> SensorModel:
        """Return the model for one camera's sampled sensor params (None or {} = identity)."""
        if not params:
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"sensor params: unknown keys {sorted(unknown)}")
        return cls(**dict(params))

    @property
    def is_identity(self) -> bool:
        """Return True when ``apply`` changes nothing."""
        depth_off = (self.depth_model == "none" or self.depth_noise_scale == 0) and self.edge_dropout == 0
        return depth_off and self.rgb_noise_std == 0 and self.blur_sigma == 0 and self.exposure_gain == 1

    def apply_depth(self, depth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return noisy depth ((H, W) or (H, W, 1)); draws noise first, then dropout."""
        shape = depth.shape
        d = depth.reshape(shape[:2]) if depth.ndim == 3 else depth
        d = add_depth_noise(d, rng, self.depth_model, scale=self.depth_noise_scale, focal_px=self.focal_px,
                            subpixel=self.subpixel, baseline=self.baseline)
        d = edge_dropout(d, rng, self.edge_dropout, self.edge_threshold)
        return d.reshape(shape)

    def apply_rgb(self, rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return the uint8 image after exposure gain, blur and additive noise (one final rounding)."""
        if self.exposure_gain == 1 and self.blur_sigma <= 0 and self.rgb_noise_std <= 0:
            return rgb
        img: np.ndarray = rgb.astype(np.float32)
        if self.exposure_gain != 1:
            img = img * np.float32(self.exposure_gain)
        if self.blur_sigma > 0:
            import cv2

            img = cv2.GaussianBlur(img, (0, 0), sigmaX=self.blur_sigma, sigmaY=self.blur_sigma,
                                   borderType=cv2.BORDER_REFLECT_101)
        if self.rgb_noise_std > 0:
            img = img + np.float32(self.rgb_noise_std) * rng.standard_normal(img.shape).astype(np.float32)
        return _to_uint8(img)

    def apply(self, rgb: np.ndarray | None, depth: np.ndarray | None,
              rng: np.random.Generator) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Return (rgb, depth) with the model applied; the identity model returns its inputs unchanged."""
        if self.is_identity:
            return rgb, depth
        out_depth = None if depth is None else self.apply_depth(depth, rng)
        out_rgb = None if rgb is None else self.apply_rgb(rgb, rng)
        return out_rgb, out_depth
