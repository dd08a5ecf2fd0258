"""The HTML page of ``robosynth report``: tables and <img> tags for the PNGs next to it (no scripts, no external
files). Plots are drawn in :mod:`robosynth.report_plots`; nothing here reads datasets or writes files.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

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


def _adaptive_html(a: Mapping[str, Any] | None) -> str:
    """Return the adaptive-randomization section (only for generate --adaptive datasets)."""
    if not a:
        return ""
    rows = [[name, fmt(v["first"]), fmt(v["last"]), v["episodes"]] for name, v in a["ranges"].items()]
    return ("<h2>Adaptive randomization</h2>" + _img(a["plot"], "adaptive ranges")
            + _table(["range", "first [lo, hi]", "last [lo, hi]", "episodes"], rows))


def render_html(r: Mapping[str, Any]) -> str:
    """Return the self-contained index.html of a report dict (images referenced by relative name)."""
    inputs = [[i["path"], i["env_name"], i["episodes"], ", ".join(f"{b} {n}" for b, n in i["backends"].items()),
               i["bytes_on_disk"]] for i in r["inputs"]]
    body = ["<h1>robosynth dataset report</h1>",
            f"<p>{r['episodes']} episodes, {r['total_steps']} steps; created {html.escape(r['created'])}; "
            'all numbers are in <a href="report.json">report.json</a>.</p>',
            _table(["input", "env", "episodes", "backends", "bytes"], inputs),
            _success_html(r), _coverage_html(r["coverage"]), _params_html(r["parameters"]),
            _images_html(r["image_stats"], r["sample_grid"]), _cross_html(r["cross_engine"]),
            _adaptive_html(r.get("adaptive"))]
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>robosynth report</title>'
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
