"""Presentation for ``robosynth report``: plots drawn with numpy + OpenCV only (histograms, bars, top-down
xy maps, lines) and the HTML page. Plot functions return BGR ``uint8`` images; nothing here reads datasets
or writes files.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

SIZE = (480, 320)  # default plot width, height in pixels
MARGIN = (64, 16, 30, 44)  # left, right, top, bottom
FONT = cv2.FONT_HERSHEY_SIMPLEX
BLACK, GREY, LIGHT, WHITE = (0, 0, 0), (110, 110, 110), (225, 225, 225), (255, 255, 255)
PALETTE = [(180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148), (75, 86, 140)]


def series_colour(i: int) -> tuple[int, int, int]:
    """Return the BGR colour of the i-th series (tab10-like palette)."""
    return PALETTE[i % len(PALETTE)]


def nice_ticks(lo: float, hi: float, n: int = 5, integer: bool = False) -> list[float]:
    """Return about ``n`` round tick values covering [lo, hi] (whole numbers only when ``integer``)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = max((hi - lo) / max(1, n), 1.0 if integer else 0.0)
    mag = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * mag for m in steps if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _label(v: float) -> str:
    """Return a short tick label."""
    return "0" if v == 0 else f"{v:.3g}"


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.4, colour: tuple = BLACK,
          anchor: str = "left") -> None:
    """Draw ``text`` with its baseline at ``org``; anchor left, centre or right."""
    (w, _), _ = cv2.getTextSize(text, FONT, scale, 1)
    x = org[0] - (w // 2 if anchor == "centre" else w if anchor == "right" else 0)
    cv2.putText(img, text, (int(x), int(org[1])), FONT, scale, colour, 1, cv2.LINE_AA)


class Axes:
    """A white canvas with a framed plot area mapping data (x, y) to pixels, ticks and labels."""

    def __init__(self, xlim: tuple[float, float], ylim: tuple[float, float], title: str, xlabel: str = "",
                 ylabel: str = "", size: tuple[int, int] = SIZE, xticks: bool = True, yint: bool = False) -> None:
        self.w, self.h = size
        self.img = np.full((self.h, self.w, 3), 255, np.uint8)
        self.x0, self.x1 = MARGIN[0], self.w - MARGIN[1]
        self.y0, self.y1 = MARGIN[2], self.h - MARGIN[3]
        self.xlim = _widen(*xlim)
        self.ylim = _widen(*ylim)
        _text(self.img, title[:70], (self.w // 2, 18), 0.45, BLACK, "centre")
        _text(self.img, xlabel, ((self.x0 + self.x1) // 2, self.h - 6), 0.4, BLACK, "centre")
        if ylabel:
            self._ylabel(ylabel)
        for t in nice_ticks(*self.ylim, integer=yint):
            _, py = self.px(self.xlim[0], t)
            cv2.line(self.img, (self.x0, py), (self.x1, py), LIGHT, 1)
            _text(self.img, _label(t), (self.x0 - 4, py + 4), 0.35, GREY, "right")
        if xticks:
            for t in nice_ticks(*self.xlim):
                px, _ = self.px(t, self.ylim[0])
                cv2.line(self.img, (px, self.y1), (px, self.y1 + 4), GREY, 1)
                _text(self.img, _label(t), (px, self.y1 + 16), 0.35, GREY, "centre")
        cv2.rectangle(self.img, (self.x0, self.y0), (self.x1, self.y1), GREY, 1)

    def _ylabel(self, text: str) -> None:
        """Draw ``text`` rotated by 90 degrees along the left edge."""
        (w, h), base = cv2.getTextSize(text, FONT, 0.4, 1)
        strip = np.full((h + base + 4, w + 4, 3), 255, np.uint8)
        cv2.putText(strip, text, (2, h + 2), FONT, 0.4, BLACK, 1, cv2.LINE_AA)
        strip = cv2.rotate(strip, cv2.ROTATE_90_COUNTERCLOCKWISE)[: self.h]
        top = max(0, (self.y0 + self.y1) // 2 - strip.shape[0] // 2)
        self.img[top: top + strip.shape[0], 2: 2 + strip.shape[1]] = strip[: self.h - top]

    def px(self, x: float | np.ndarray, y: float | np.ndarray) -> tuple:
        """Return pixel coordinates (ints or int arrays) of data coordinates."""
        fx = (np.asarray(x, np.float64) - self.xlim[0]) / (self.xlim[1] - self.xlim[0])
        fy = (np.asarray(y, np.float64) - self.ylim[0]) / (self.ylim[1] - self.ylim[0])
        px = np.rint(self.x0 + fx * (self.x1 - self.x0)).astype(np.int64)
        py = np.rint(self.y1 - fy * (self.y1 - self.y0)).astype(np.int64)
        return (int(px), int(py)) if px.ndim == 0 else (px, py)

    def legend(self, labels: Sequence[str], colours: Sequence[tuple[int, int, int]]) -> None:
        """Draw a small legend in the top-right corner of the plot area."""
        for i, (lab, col) in enumerate(zip(labels, colours, strict=True)):
            y = self.y0 + 14 + 14 * i
            cv2.rectangle(self.img, (self.x1 - 110, y - 8), (self.x1 - 102, y), col, -1)
            _text(self.img, lab[:16], (self.x1 - 98, y), 0.35)


def _widen(lo: float, hi: float) -> tuple[float, float]:
    """Return a non-empty finite interval around [lo, hi]."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return 0.0, 1.0
    if hi - lo <= 1e-12 * max(1.0, abs(lo)):
        pad = 0.5 if lo == 0 else abs(lo) * 0.05
        return lo - pad, hi + pad
    return lo, hi


def histogram(edges: Sequence[float], counts: Mapping[str, Sequence[int]], title: str, xlabel: str,
              ylabel: str = "episodes") -> np.ndarray:
    """Return a (stacked, one colour per series) histogram of precomputed bin edges and counts."""
    e = np.asarray(edges, np.float64)
    stacked = np.cumsum([np.asarray(c, np.float64) for c in counts.values()], axis=0)
    top = float(stacked[-1].max(initial=0)) if len(stacked) else 0.0
    ax = Axes((e[0], e[-1]), (0.0, max(1.0, top * 1.08)), title, xlabel, ylabel, yint=True)
    below = np.zeros(len(e) - 1)
    for i, upper in enumerate(stacked):
        for b in range(len(e) - 1):
            if upper[b] > below[b]:
                (xa, ya), (xb, yb) = ax.px(e[b], upper[b]), ax.px(e[b + 1], below[b])
                cv2.rectangle(ax.img, (xa, ya), (max(xa, xb - 1), yb), series_colour(i), -1)
        below = upper
    if len(counts) > 1:
        ax.legend(list(counts), [series_colour(i) for i in range(len(counts))])
    return ax.img


def bars(labels: Sequence[str], counts: Sequence[float], title: str, ylabel: str = "episodes") -> np.ndarray:
    """Return a bar chart of labelled counts or fractions (labels shortened under the bars)."""
    n = max(1, len(counts))
    top = max(counts, default=0)
    ax = Axes((-0.5, n - 0.5), (0.0, max(1.0, top * 1.08) if top > 1 else 1.0), title, "", ylabel, xticks=False,
              yint=ylabel == "episodes")
    for i, (lab, c) in enumerate(zip(labels, counts, strict=True)):
        (xa, ya), (xb, yb) = ax.px(i - 0.38, c), ax.px(i + 0.38, 0)
        cv2.rectangle(ax.img, (xa, ya), (xb, yb), series_colour(0), -1)
        width = max(3, int((ax.x1 - ax.x0) / n / 7))
        _text(ax.img, lab[:width], ((xa + xb) // 2, ax.y1 + 16), 0.35, GREY, "centre")
    return ax.img


def _equal_aspect(xs: np.ndarray, ys: np.ndarray, ratio: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return x and y limits around the points with equal metres per pixel (``ratio`` = width / height)."""
    if xs.size == 0:
        return (0.0, 1.0), (-0.5, 0.5)
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    half_x = max((xs.max() - xs.min()) / 2, (ys.max() - ys.min()) / 2 * ratio, 0.02) * 1.1
    return (cx - half_x, cx + half_x), (cy - half_x / ratio, cy + half_x / ratio)


def xy_map(points: Mapping[str, np.ndarray], title: str, paths: Sequence[np.ndarray] = (),
           markers: Mapping[str, str] | None = None) -> np.ndarray:
    """Return a top-down map (world x right, world y up, equal scale): path density as a heat layer, then points.

    ``points`` maps a legend label to (N, 2) xy arrays, drawn as discs or, where ``markers`` says "x", crosses
    (later series smaller, so coinciding points stay visible); ``paths`` are (T, 2) xy polylines whose
    per-pixel count (how many paths cross a pixel) is shown on a log scale.
    """
    clouds = [np.asarray(p, np.float64).reshape(-1, 2) for p in (*points.values(), *paths)]
    allp = np.concatenate(clouds) if clouds else np.zeros((0, 2))
    allp = allp[np.isfinite(allp).all(axis=1)]
    ratio = (SIZE[0] - MARGIN[0] - MARGIN[1]) / (SIZE[1] - MARGIN[2] - MARGIN[3])
    xlim, ylim = _equal_aspect(allp[:, 0], allp[:, 1], ratio)
    ax = Axes(xlim, ylim, title, "world x (m)", "world y (m)")
    if len(paths):
        _heat(ax, paths)
    for i, (label, pts) in enumerate(points.items()):
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        px, py = ax.px(pts[:, 0], pts[:, 1])
        for x, y in zip(px.tolist(), py.tolist(), strict=True):
            if (markers or {}).get(label) == "x":
                cv2.drawMarker(ax.img, (x, y), series_colour(i), cv2.MARKER_TILTED_CROSS, max(4, 10 - 2 * i), 2)
            else:
                cv2.circle(ax.img, (x, y), max(2, 5 - i), series_colour(i), -1, cv2.LINE_AA)
    if points:
        ax.legend(list(points), [series_colour(i) for i in range(len(points))])
    return ax.img


def _heat(ax: Axes, paths: Sequence[np.ndarray]) -> None:
    """Paint how many paths cross each pixel of the plot area (log scale; white = none, dark = many)."""
    w, h = ax.x1 - ax.x0, ax.y1 - ax.y0
    acc = np.zeros((h, w), np.float32)
    mask = np.zeros((h, w), np.uint8)
    for p in paths:
        p = np.asarray(p, np.float64).reshape(-1, 2)
        p = p[np.isfinite(p).all(axis=1)]
        if not len(p):
            continue
        px, py = ax.px(p[:, 0], p[:, 1])
        pts = np.stack([px - ax.x0, py - ax.y0], axis=1).astype(np.int32).reshape(-1, 1, 2)
        mask[:] = 0
        cv2.polylines(mask, [pts], False, 1, 2)
        acc += mask
    if acc.max() <= 0:
        return
    level = np.log1p(acc) / np.log1p(acc.max())
    shade = cv2.applyColorMap((255 * (1 - 0.85 * level)).astype(np.uint8), cv2.COLORMAP_BONE)
    shade[acc == 0] = 255
    ax.img[ax.y0: ax.y1, ax.x0: ax.x1] = shade
    cv2.rectangle(ax.img, (ax.x0, ax.y0), (ax.x1, ax.y1), GREY, 1)


def lines(curves: Sequence[np.ndarray], title: str, xlabel: str, ylabel: str) -> np.ndarray:
    """Return a line plot of 1-D curves against their step index (one colour per curve)."""
    curves = [np.asarray(c, np.float64) for c in curves if len(c)]
    n = max((len(c) for c in curves), default=1)
    top = max((float(np.nanmax(c)) for c in curves), default=1.0)
    ax = Axes((0.0, max(1.0, n - 1.0)), (0.0, max(top * 1.08, 1e-6)), title, xlabel, ylabel)
    for i, c in enumerate(curves):
        px, py = ax.px(np.arange(len(c)), c)
        pts = np.stack([px, py], axis=1).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(ax.img, [pts], False, series_colour(i), 1, cv2.LINE_AA)
    return ax.img


# ------------------------------------------------------------------------------------------ HTML page

_CSS = ("body{font-family:sans-serif;margin:1.5em;max-width:1400px;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:2px 8px;"
        "text-align:right;font-size:13px}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
        "img{margin:4px;border:1px solid #ddd;vertical-align:top}.note{color:#555;font-size:13px}")


def fmt(v: Any, digits: int = 4) -> str:
    """Return a compact text form of a report value (numbers to ``digits`` significant digits)."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt(x, digits) for x in v) + "]"
    return str(v)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Return an escaped HTML table."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(fmt(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(name: str | None, alt: str) -> str:
    """Return an <img> tag for a PNG next to index.html (nothing when there is no plot)."""
    return f'<img src="{html.escape(name)}" alt="{html.escape(alt)}">' if name else ""


def _rate_row(label: str, r: Mapping[str, Any]) -> list[Any]:
    """Return a table row of a success block."""
    ci = r.get("ci95") or [None, None]
    return [label, r["episodes"], r["successes"], fmt(r["rate"]), ci[0], ci[1]]


def _success_html(r: Mapping[str, Any]) -> str:
    """Return the success and failure-reason section."""
    s = r["success"]
    rows = [_rate_row("all", s["overall"])] + [_rate_row(b, v) for b, v in s["by_backend"].items()]
    fails = [[reason, v["total"], ", ".join(f"{b} {n}" for b, n in v["by_backend"].items())]
             for reason, v in r["failure_reasons"].items()]
    ln = r["lengths"]
    return ("<h2>Success</h2>" + _table(["backend", "episodes", "successes", "rate", "95% CI low", "95% CI high"], rows)
            + '<p class="note">Wilson score interval.</p><h2>Episode lengths and failures</h2>'
            + _table(["steps", "min", "median", "mean", "max"], [["", ln["min"], ln["median"], ln["mean"], ln["max"]]])
            + _img(ln.get("plot"), "episode length histogram")
            + (_table(["failure reason", "episodes", "by backend"], fails) if fails else "<p>No failed episodes.</p>"))


def _coverage_html(c: Mapping[str, Any]) -> str:
    """Return the coverage section (object start positions and end-effector density)."""
    rows = []
    for what, key in (("object start", "object_initial"), ("end effector", "eef")):
        if c.get(key):
            rows += [[f"{what} {ax}", *(c[key][ax][k] for k in ("min", "mean", "std", "max"))] for ax in "xyz"]
    if not rows:
        return "<h2>Coverage</h2><p>No object or end-effector observations.</p>"
    plots_ = "".join(_img((c.get(k) or {}).get("plot"), k) for k in ("object_initial", "eef"))
    return ("<h2>Coverage</h2>" + _table(["position (m)", "min", "mean", "std", "max"], rows) + plots_
            + '<p class="note">Top-down maps: world x to the right, world y up, equal scale; object start = '
              "obs/object[0][:3].</p>")


def _params_html(p: Mapping[str, Any]) -> str:
    """Return the randomized-parameter section: histograms, then a table of every path."""
    rows = []
    for path, e in p["paths"].items():
        if e["kind"] == "numeric":
            rows.append([path, e["n"], e["min"], e["mean"], e["max"], e["std"], e["constant"], e.get("plot", "")])
        else:
            vals = ", ".join(f"{k} ({n})" for k, n in list(e["counts"].items())[:6])
            rows.append([path, e["n"], vals, "", "", "", e["constant"], e.get("plot", "")])
    imgs = "".join(_img(e.get("plot"), path) for path, e in p["paths"].items() if e.get("plot"))
    return (f"<h2>Randomized parameters</h2><p>{p['count']} leaf paths: {p['varying']} varying, {p['constant']} "
            f"constant; {p['plotted']} plotted (at most {p['max_plots']}, taken in turn from each group).</p>"
            + imgs + _table(["path", "n", "min / values", "mean", "max", "std", "constant", "plot"], rows))


def _images_html(stats: Mapping[str, Any], grid: Mapping[str, Any] | None) -> str:
    """Return the image-statistics and sample-grid section."""
    out = ["<h2>Image statistics</h2>"] if stats else ["<h2>Image statistics</h2><p>No camera images.</p>"]
    for cam, s in stats.items():
        rows = []
        for label, blk in [("all", s), *s.get("by_backend", {}).items()]:
            rgb, d = blk.get("rgb") or {}, blk.get("depth") or {}
            rows.append([label, blk["frames_sampled"], rgb.get("mean"), rgb.get("std"), d.get("min"), d.get("median"),
                         d.get("max"), d.get("zero_fraction"), d.get("far_fraction")])
        classes = ", ".join(f"{k} {v:.3f}" for k, v in (s.get("segmentation_class_fraction") or {}).items())
        out += [f"<h3>{html.escape(cam)} ({', '.join(s['resolutions'])})</h3>",
                _table(["backend", "frames", "RGB mean", "RGB std", "depth min", "depth median", "depth max",
                        "no-return fraction", "far-plane fraction"], rows),
                f"<p>pixel fraction per class: {html.escape(classes) or '-'}</p>", _img(s.get("plot"), cam)]
    if grid:
        out += ["<h2>Sample grid</h2>", f"<p>{html.escape(grid['columns'])}; rows: "
                f"{html.escape(', '.join(grid['episodes']))}</p>", _img(grid["plot"], "sample grid")]
    return "".join(out)


def _cross_html(c: Mapping[str, Any]) -> str:
    """Return the cross-engine section."""
    if c["status"] != "compared":
        return f"<h2>Cross-engine agreement</h2><p>{html.escape(c['status'])} ({', '.join(c['backends'])}).</p>"
    sa = c["success_agreement"]
    rows = [["pairs", c["pairs"]], ["success agreement", f"{sa['agree']}/{c['pairs']} = {fmt(sa['rate'])}, "
                                     f"95% CI {fmt(sa['ci95'])}"],
            ["identical randomization", fmt(c["params_identical_fraction"])],
            *[[f"{label} (mean / max)", f"{fmt(c[k]['mean'])} / {fmt(c[k]['max'])}"]
              for label, k in (("object start distance m", "object_initial_distance_m"),
                               ("eef mean distance m", "eef_mean_distance_m"),
                               ("eef max distance m", "eef_max_distance_m"))],
            ["unpaired episodes", ", ".join(f"{b} {n}" for b, n in c["unpaired"].items())]]
    pairs = [[f"{p['scene']} seed {p['seed']} ep {p['episode_index']}", " vs ".join(p["backends"]),
              p["steps"], p["success"], p["object_initial_distance_m"],
              (p["eef_distance_m"] or {}).get("mean"), (p["eef_distance_m"] or {}).get("max")]
             for p in c["pair_list"][:200]]
    return ("<h2>Cross-engine agreement</h2>" + _table(["", ""], rows) + _img(c.get("plot"), "eef distance")
            + _table(["episode", "backends", "steps", "success", "object start dist m", "eef mean m", "eef max m"],
                     pairs))


def render_html(r: Mapping[str, Any]) -> str:
    """Return the self-contained index.html of a report dict (images referenced by relative name)."""
    inputs = [[i["path"], i["env_name"], i["episodes"], ", ".join(f"{b} {n}" for b, n in i["backends"].items()),
               i["bytes_on_disk"]] for i in r["inputs"]]
    body = ["<h1>robosynth dataset report</h1>",
            f"<p>{r['episodes']} episodes, {r['total_steps']} steps; created {html.escape(r['created'])}; "
            'all numbers are in <a href="report.json">report.json</a>.</p>',
            _table(["input", "env", "episodes", "backends", "bytes"], inputs),
            _success_html(r), _coverage_html(r["coverage"]), _params_html(r["parameters"]),
            _images_html(r["image_stats"], r["sample_grid"]), _cross_html(r["cross_engine"])]
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>robosynth report</title>'
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
