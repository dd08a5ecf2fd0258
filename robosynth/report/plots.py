"""Plots of ``robosynth report`` (histograms, bars, top-down xy maps, lines), drawn with matplotlib's Agg canvas.

Each function builds its own :class:`~matplotlib.figure.Figure` on a ``FigureCanvasAgg`` (no pyplot, no global
state, no display) and returns the rendered figure as a BGR ``uint8`` image, which the caller writes with
OpenCV (no PNG metadata, so the same data gives the same bytes). Nothing here reads datasets or writes files.
The HTML page is :mod:`robosynth.report.html`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import cv2
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TABLEAU_COLORS, ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

SIZE = (640, 400)  # plot width, height in pixels
DPI = 100
TITLE_CHARS = 70
LABEL_CHARS = 18  # category labels under bars are shortened to this many characters
GRID_CELLS = 240  # horizontal cells of the path-density layer of the xy maps
_TAB10 = [str(c) for c in TABLEAU_COLORS.values()]  # tab10, as hex strings
# path density: one path light grey, many near black; empty cells transparent (white axes background)
_HEAT = ListedColormap(colormaps["bone_r"](np.linspace(0.3, 1.0, 256))).with_extremes(bad=(1.0, 1.0, 1.0, 0.0))


def series_colour(i: int) -> str:
    """Return the colour (hex) of the i-th series (matplotlib's tab10 palette)."""
    return _TAB10[i % len(_TAB10)]


def _short(text: str, n: int) -> str:
    """Return ``text`` cut to ``n`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _axes(title: str, xlabel: str = "", ylabel: str = "") -> tuple[Figure, Axes]:
    """Return a new figure (constrained layout; drawn on an Agg canvas by _render) and its styled axes."""
    fig = Figure(figsize=(SIZE[0] / DPI, SIZE[1] / DPI), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(_short(title, TITLE_CHARS), fontsize=11)
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=10)
    ax.tick_params(labelsize=9)
    ax.grid(True, axis="y", color="0.88", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.ticklabel_format(axis="both", style="sci", scilimits=(-4, 5), useOffset=False)
    return fig, ax


def _render(fig: Figure) -> np.ndarray:
    """Return the figure drawn on an Agg canvas as a BGR uint8 image."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return cv2.cvtColor(np.asarray(canvas.buffer_rgba()), cv2.COLOR_RGBA2BGR)


def _widen(lo: float, hi: float) -> tuple[float, float]:
    """Return a non-empty finite interval around [lo, hi]."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return 0.0, 1.0
    if hi - lo <= 1e-12 * max(1.0, abs(lo)):
        pad = 0.5 if lo == 0 else abs(lo) * 0.05
        return lo - pad, hi + pad
    return lo, hi


def histogram(edges: Sequence[float] | np.ndarray, counts: Mapping[str, Sequence[int]], title: str, xlabel: str,
              ylabel: str = "episodes") -> np.ndarray:
    """Return a histogram of precomputed bin edges and counts, stacked with one colour per series.

    A legend names the series when there are several; bins one unit wide centred on whole numbers (episode
    lengths) get whole-number x ticks.
    """
    e = np.asarray(edges, np.float64)
    fig, ax = _axes(title, xlabel, ylabel)
    below = np.zeros(len(e) - 1)
    for i, (label, series) in enumerate(counts.items()):
        c = np.asarray(series, np.float64)
        ax.bar(e[:-1], c, width=np.diff(e), bottom=below, align="edge", color=series_colour(i), label=label,
               edgecolor="white", linewidth=0.6)
        below = below + c
    ax.set_xlim(*_widen(e[0], e[-1]))
    ax.set_ylim(0.0, max(1.0, float(below.max(initial=0.0)) * 1.08))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(e) > 1 and np.allclose(np.diff(e), 1.0) and np.allclose(e % 1.0, 0.5):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    if len(counts) > 1:
        ax.legend(fontsize=8, framealpha=0.9)
    return _render(fig)


def bars(labels: Sequence[str], counts: Sequence[float], title: str, ylabel: str = "episodes") -> np.ndarray:
    """Return a bar chart of labelled counts or fractions (values on the bars, labels shortened under them)."""
    fig, ax = _axes(title, "", ylabel)
    x = np.arange(len(counts))
    drawn = ax.bar(x, np.asarray(counts, np.float64), width=0.76, color=series_colour(0))
    if 0 < len(counts) <= 16:
        ax.bar_label(drawn, fmt="%d" if ylabel == "episodes" else "%.3g", fontsize=8, padding=2)
    short = [_short(str(lab), LABEL_CHARS) for lab in labels]
    slanted = len(short) > 6 or max(map(len, short), default=0) > 10
    ax.set_xticks(x, short, rotation=30 if slanted else 0, ha="right" if slanted else "center")
    ax.set_xlim(-0.5, max(1, len(counts)) - 0.5)
    top = max(counts, default=0)
    ax.set_ylim(0.0, max(1.0, top * 1.08) if top > 1 else 1.0)
    if ylabel == "episodes":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _render(fig)


def _equal_aspect(xs: np.ndarray, ys: np.ndarray, ratio: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return x and y limits around the points with equal metres per unit (``ratio`` = width / height)."""
    if xs.size == 0:
        return (0.0, 1.0), (-0.5, 0.5)
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    half_x = max((xs.max() - xs.min()) / 2, (ys.max() - ys.min()) / 2 * ratio, 0.02) * 1.1
    return (cx - half_x, cx + half_x), (cy - half_x / ratio, cy + half_x / ratio)


def path_density(paths: Sequence[np.ndarray], xlim: tuple[float, float], ylim: tuple[float, float],
                 shape: tuple[int, int]) -> np.ndarray:
    """Return an (H, W) count of how many paths cross each cell of the grid over xlim x ylim (row 0 = top).

    Each (T, 2) xy path is rasterized once as a polyline (non-finite samples dropped), so an episode that
    revisits a cell still counts once there.
    """
    h, w = shape
    acc = np.zeros((h, w), np.float32)
    mask = np.zeros((h, w), np.uint8)
    scale = 16  # 4 fractional bits for sub-cell accuracy
    for p in paths:
        p = np.asarray(p, np.float64).reshape(-1, 2)
        p = p[np.isfinite(p).all(axis=1)]
        if not len(p):
            continue
        gx = (p[:, 0] - xlim[0]) / (xlim[1] - xlim[0]) * w - 0.5  # OpenCV puts cell centres at whole numbers
        gy = (ylim[1] - p[:, 1]) / (ylim[1] - ylim[0]) * h - 0.5
        pts = np.rint(np.stack([gx, gy], axis=1) * scale).astype(np.int32).reshape(-1, 1, 2)
        mask[:] = 0
        cv2.polylines(mask, [pts], False, 1, 1, cv2.LINE_8, 4)
        acc += mask
    return acc


def _heat(fig: Figure, ax: Axes, paths: Sequence[np.ndarray], xlim: tuple[float, float],
          ylim: tuple[float, float]) -> None:
    """Show the path density as a log-scale grey layer (no path: white) with a colour bar."""
    ratio = (xlim[1] - xlim[0]) / (ylim[1] - ylim[0])
    acc = path_density(paths, xlim, ylim, (max(1, round(GRID_CELLS / ratio)), GRID_CELLS))
    if acc.max() <= 0:
        return
    top = max(2.0, float(acc.max()))
    layer = ax.imshow(np.ma.masked_equal(acc, 0), cmap=_HEAT, norm=LogNorm(1.0, top), origin="upper",
                      extent=(*xlim, *ylim), interpolation="nearest", aspect="auto", zorder=1)
    bar = fig.colorbar(layer, ax=ax, shrink=0.85, pad=0.02)
    ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000) if t <= top]
    bar.set_ticks(ticks, labels=[str(t) for t in ticks])
    bar.minorticks_off()
    bar.ax.tick_params(labelsize=8)
    bar.set_label("episodes whose path crosses (log)", fontsize=9)


def xy_map(points: Mapping[str, np.ndarray], title: str, paths: Sequence[np.ndarray] = (),
           markers: Mapping[str, str] | None = None) -> np.ndarray:
    """Return a top-down map (world x right, world y up, equal scale): path density as a heat layer, then points.

    ``points`` maps a legend label to (N, 2) xy arrays, drawn as discs or, where ``markers`` says "x", crosses
    (later series smaller, so coinciding points stay visible); ``paths`` are (T, 2) xy polylines whose
    per-cell count (how many paths cross a cell) is shown on a log scale.
    """
    clouds = [np.asarray(p, np.float64).reshape(-1, 2) for p in (*points.values(), *paths)]
    allp = np.concatenate(clouds) if clouds else np.zeros((0, 2))
    allp = allp[np.isfinite(allp).all(axis=1)]
    fig, ax = _axes(title, "world x (m)", "world y (m)")
    ax.grid(True, axis="both", color="0.9", linewidth=0.8)
    xlim, ylim = _equal_aspect(allp[:, 0], allp[:, 1], 1.45 if len(paths) else 1.6)
    if len(paths):
        _heat(fig, ax, paths, xlim, ylim)
    for i, (label, pts) in enumerate(points.items()):
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        if (markers or {}).get(label) == "x":
            ax.scatter(pts[:, 0], pts[:, 1], s=max(20, 90 - 25 * i), marker="x", linewidths=2.0,
                       color=series_colour(i), label=label, zorder=3 + i)
        else:
            ax.scatter(pts[:, 0], pts[:, 1], s=max(12, 70 - 18 * i), marker="o", color=series_colour(i),
                       edgecolors="white", linewidths=0.6, label=label, zorder=3 + i)
    ax.margins(0.0)
    ax.update_datalim([(xlim[0], ylim[0]), (xlim[1], ylim[1])])
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")  # one axis range grows to fill the plot area
    if points:
        ax.legend(fontsize=8, framealpha=0.9, loc="best")
    return _render(fig)


def lines(curves: Sequence[np.ndarray], title: str, xlabel: str, ylabel: str) -> np.ndarray:
    """Return a line plot of 1-D curves against their step index (one colour per curve)."""
    curves = [np.asarray(c, np.float64) for c in curves if len(c)]
    fig, ax = _axes(title, xlabel, ylabel)
    for i, c in enumerate(curves):
        ax.plot(np.arange(len(c)), c, color=series_colour(i), linewidth=1.2, alpha=0.9 if len(curves) < 10 else 0.6)
    n = max((len(c) for c in curves), default=1)
    finite = [float(np.max(c[np.isfinite(c)])) for c in curves if np.isfinite(c).any()]
    ax.set_xlim(0.0, max(1.0, n - 1.0))
    ax.set_ylim(0.0, max(max(finite, default=1.0) * 1.08, 1e-6))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    return _render(fig)


def range_bands(ranges: Mapping[str, Sequence[tuple[int, float, float]]], title: str) -> np.ndarray:
    """Return one panel per range: its [lo, hi] band against the episode index (adaptive randomization)."""
    names = list(ranges)
    fig = Figure(figsize=(SIZE[0] / 100, max(1, len(names)) * 1.6 + 0.6), dpi=100)
    for i, name in enumerate(names):
        ax = fig.add_subplot(len(names), 1, i + 1)
        pts = np.asarray(ranges[name], np.float64)
        ax.fill_between(pts[:, 0], pts[:, 1], pts[:, 2], step="post", color=series_colour(i), alpha=0.5)
        ax.set_ylabel(_short(name.rsplit(".", 1)[-1], 14), fontsize=8)
        ax.set_title(_short(name, 70), fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.supxlabel("episode", fontsize=8)
    fig.tight_layout()
    return _render(fig)
