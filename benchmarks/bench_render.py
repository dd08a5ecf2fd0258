"""Render throughput: SceneRenderer frames/s next to the bare engine render call, measured in the same run.

For both engines, one pick_place camera (the agentview pose) at 128x128, 256x256 and 640x480, for RGB,
RGB-D and RGB-D+seg. "bare" is the engine call alone with the same model, camera and matrices: MuJoCo
``mujoco.Renderer.update_scene`` + one ``render`` per modality; PyBullet one ``getCameraImage`` with
TinyRenderer (it always rasterises depth; segmentation only when asked). "ours" is
``SceneRenderer.render`` returning a Frame (z-depth in metres, instance ids, K, T_world_cam). The target is
ours/bare >= 0.8. Also: MuJoCo quality presets (fast / default / high) for RGB at 128 and 256.

    python benchmarks/bench_render.py --quick            # < 60 s
    python benchmarks/bench_render.py --out docs/bench.md
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment_line, interleaved, markdown_table, write_markdown_section  # noqa: E402

RESOLUTIONS = ((128, 128), (256, 256), (640, 480))
MODES = {"RGB": ("rgb",), "RGB-D": ("rgb", "depth"), "RGB-D+seg": ("rgb", "depth", "segmentation")}
TARGET = 0.8


def bench_spec(width: int, height: int):
    """Return pick_place with one camera per mode, all at the agentview pose and width x height."""
    from scenes.loader import load_scene

    base = load_scene("pick_place")
    agent = base.camera("agentview")
    cams = tuple(agent.model_copy(update={"name": mode.replace("-", "_").replace("+", "_"), "width": width,
                                          "height": height, "modalities": mods}) for mode, mods in MODES.items())
    return base.model_copy(update={"cameras": cams})


def bare_mujoco(backend, cam: str, width: int, height: int, mods: tuple[str, ...]) -> tuple[Callable, Callable]:
    """Return (render, close) for a raw mujoco.Renderer update_scene + render per modality."""
    import mujoco

    from renderers.mujoco_render import ensure_gl_backend

    ensure_gl_backend()
    model, data = backend.model, backend.data
    r = mujoco.Renderer(model, height=height, width=width)
    cam_id = model.camera(cam).id
    opt = mujoco.MjvOption()
    opt.sitegroup[:] = 0

    def render() -> None:
        r.update_scene(data, camera=cam_id, scene_option=opt)
        r.render()
        if "depth" in mods:
            r.enable_depth_rendering()
            r.render()
            r.disable_depth_rendering()
        if "segmentation" in mods:
            r.enable_segmentation_rendering()
            r.render()
            r.disable_segmentation_rendering()

    return render, r.close


def bare_pybullet(backend, renderer, cam: str, mods: tuple[str, ...]) -> tuple[Callable, Callable]:
    """Return (render, close) for one raw getCameraImage with the same matrices, light and flags."""
    import pybullet

    from renderers.engine_cameras import pybullet_projection_matrix, pybullet_view_matrix

    intr = renderer.intrinsics[cam]
    view = pybullet_view_matrix(renderer.T_world_cam(cam))
    proj = pybullet_projection_matrix(intr)
    light = next(iter(getattr(backend, "lights", {}).values()), None)
    kw = {} if light is None else {"lightDirection": [-v for v in light["dir"]]}
    flags = pybullet.ER_SEGMENTATION_MASK_OBJECT_AND_LINKINDEX if "segmentation" in mods else \
        pybullet.ER_NO_SEGMENTATION_MASK

    def render() -> None:
        backend.client.getCameraImage(intr.width, intr.height, viewMatrix=view, projectionMatrix=proj,
                                      renderer=pybullet.ER_TINY_RENDERER, flags=flags, shadow=0, **kw)

    return render, lambda: None


def bench_engine(engine: str, min_time: float, rounds: int) -> list[list[object]]:
    """Return table rows (engine, resolution, mode, ours fps, bare fps, ratio) for one engine."""
    import numpy as np

    from renderers.sensors import SceneRenderer
    from scenes.runtime import Simulation

    rows = []
    for width, height in RESOLUTIONS:
        spec = bench_spec(width, height)
        sim = Simulation(spec, engine)
        sim.reset(np.random.default_rng(0))
        renderer = SceneRenderer(sim.backend, spec, "default")
        for mode, mods in MODES.items():
            cam = spec.cameras[list(MODES).index(mode)].name
            renderer.render([cam])  # creates the engine renderer with the preset applied
            if engine == "mujoco":
                bare, close = bare_mujoco(sim.backend, cam, width, height, mods)
            else:
                bare, close = bare_pybullet(sim.backend, renderer, cam, mods)
            t = interleaved({"ours": lambda c=cam, r=renderer: r.render([c]), "bare": bare}, min_time, rounds)
            close()
            rows.append([engine, f"{width}x{height}", mode, 1 / t["ours"], 1 / t["bare"], t["bare"] / t["ours"]])
            print(_row_text(rows[-1]), flush=True)
        renderer.close()
        sim.close()
    return rows


def bench_quality(min_time: float, rounds: int) -> list[list[object]]:
    """Return rows (resolution, preset, RGB fps, relative to fast) for the MuJoCo quality presets."""
    import numpy as np

    from renderers.sensors import QUALITIES, SceneRenderer
    from scenes.runtime import Simulation

    rows = []
    for width, height in RESOLUTIONS[:2]:
        spec = bench_spec(width, height)
        sim = Simulation(spec, "mujoco")
        sim.reset(np.random.default_rng(0))
        renderers = {q: SceneRenderer(sim.backend, spec, q) for q in QUALITIES}
        for r in renderers.values():
            r.render(["RGB"])  # each builds its own GL context with its preset's shadow map and MSAA
        t = interleaved({q: lambda r=r: r.render(["RGB"]) for q, r in renderers.items()}, min_time, rounds)
        for q, r in renderers.items():
            r.close()
            rows.append([f"{width}x{height}", q, 1 / t[q], t["fast"] / t[q]])
            print(f"  mujoco quality {width}x{height} {q:8s} RGB {1 / t[q]:7.1f} fps", flush=True)
        sim.close()
    return rows


def _row_text(r: list[object]) -> str:
    flag = "" if r[5] >= TARGET else "  < target"
    return f"  {r[0]:8s} {r[1]:8s} {r[2]:10s} ours {r[3]:7.1f} fps  bare {r[4]:7.1f} fps  ratio {r[5]:.2f}{flag}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables and optionally write them as a markdown section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short timing blocks (whole run < 60 s)")
    ap.add_argument("--out", type=Path, help="markdown file to write the result section into")
    ap.add_argument("--engines", default="mujoco,pybullet", help="comma-separated engines")
    args = ap.parse_args(argv)
    min_time, rounds = (0.3, 3) if args.quick else (2.0, 5)
    start = time.perf_counter()
    env = environment_line("mujoco", "pybullet", "numpy")
    print(env)
    rows = []
    for engine in args.engines.split(","):
        rows += bench_engine(engine.strip(), min_time, rounds)
    quality = bench_quality(min_time, rounds) if "mujoco" in args.engines else []
    main_table = markdown_table(["engine", "resolution", "modalities", "SceneRenderer fps", "bare fps",
                                 "ratio"], rows)
    quality_table = markdown_table(["resolution", "quality", "RGB fps", "vs fast"], quality)
    print("\n" + main_table + "\n\nMuJoCo quality presets (SceneRenderer, RGB):\n" + quality_table)
    low = [r for r in rows if r[5] < TARGET]
    print(f"\n{len(rows) - len(low)}/{len(rows)} configurations at ratio >= {TARGET} "
          f"({time.perf_counter() - start:.0f} s)")
    if args.out:
        mode = "quick" if args.quick else "full"
        text = (f"### Render throughput ({mode} run)\n\n{env}\n\n{main_table}\n\n"
                f"MuJoCo quality presets (SceneRenderer, RGB only):\n\n{quality_table}\n")
        write_markdown_section(args.out, "render", text)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
