"""Per-camera sensor frames from a live world: RGB, metric z-depth, instance segmentation, K, T_world_cam.

``SceneRenderer`` is the one entry point the recorder, the preview and the Gymnasium env use. It reads the
world (never steps it) and returns one ``Frame`` per camera, with instance ids from ``sim.segmentation``
so that ids, names and classes mean the same on MuJoCo and PyBullet.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from renderers.camera import Intrinsics
from renderers.distortion import distort_image
from renderers.engine_cameras import T_world_cam_from_mujoco
from renderers.scene_cameras import camera_intrinsics, camera_T_parent
from scenes.spec import CameraSpec, SceneSpec
from sim.segmentation import id_map
from sim.transforms import pose_to_matrix

if TYPE_CHECKING:
    from renderers.gl_thread import GLThread
    from renderers.mujoco_passes import RawFrame
    from renderers.mujoco_render import MujocoRendererPool
    from sim.backend import Backend
    from sim.mujoco_backend import MujocoBackend
    from sim.pybullet_backend import PybulletBackend
    from sim.types import Vector

QUALITIES = ("fast", "default", "high")
# The fraction of the robot's visual mesh faces each preset draws (sim.mesh_lod; physics is the same in all).
VISUAL_DETAIL = {"fast": 0.1, "default": 0.25, "high": 1.0}


@dataclass(frozen=True, eq=False)
class Frame:
    """One camera's output at one instant."""

    camera: str
    rgb: np.ndarray | None  # (H, W, 3) uint8
    depth: np.ndarray | None  # (H, W) float32 metres, z along the optical axis
    segmentation: np.ndarray | None  # (H, W) int32 instance ids, 0 = background
    intrinsics: Intrinsics
    T_world_cam: np.ndarray  # (4, 4) float64, OpenCV axes

    @property
    def K(self) -> np.ndarray:
        """Return the 3x3 camera matrix."""
        return self.intrinsics.K


class SceneRenderer:
    """Renders the scene cameras of one backend world.

    Besides the ``Backend`` protocol it uses the engine's own handles (MuJoCo model/data and texture hooks,
    PyBullet client and lights), narrowing to the concrete backend class after checking ``backend.name``.
    """

    def __init__(self, backend: Backend, spec: SceneSpec, quality: str = "default", pipelined: bool = False,
                 gl: GLThread | None = None):
        """``pipelined``: MuJoCo frames are drawn on a GL thread (``render_async``), ``gl`` when given (it outlives
        this renderer: :func:`start_gl_thread`), else one this renderer starts and closes."""
        if quality not in QUALITIES:
            from sim.errors import InputError

            raise InputError(f"unknown quality '{quality}' (choose from: {', '.join(QUALITIES)})")
        self.backend = backend
        self.spec = spec
        self.quality = quality
        self.cameras = {c.name: c for c in spec.cameras}
        self.intrinsics = {c.name: camera_intrinsics(c) for c in spec.cameras}
        self._T_parent = {c.name: camera_T_parent(c) for c in spec.cameras}
        self._written: set[str] = set()  # cameras set_camera wrote into the engine (compiled ones differ in bits)
        self._pool: MujocoRendererPool | None = None
        self._pb_lut: tuple[np.ndarray, np.ndarray] | None = None
        self._texture_version = 0  # backend.texture_version last uploaded to the pool's GL contexts
        # MuJoCo draws on a GL thread of their own, so that render_async overlaps the caller's next step.
        self._gl: GLThread | None = None
        self._owns_gl = False
        if pipelined and backend.name == "mujoco":
            self._owns_gl = gl is None
            self._gl = start_gl_thread() if gl is None else gl

    @property
    def segmentation_ids(self) -> dict[int, dict[str, str]]:
        """Return the id map ``{id: {name, class, body}}`` of this world."""
        return id_map(self.backend.instances())

    def T_world_cam(self, name: str) -> np.ndarray:
        """Return the current OpenCV pose of camera ``name`` (moves with its link if attached)."""
        cam = self.cameras[name]
        if cam.attach_to is None:
            return self._T_parent[name].copy()
        pos, quat = self.backend.body_pose(cam.attach_to)
        return pose_to_matrix(pos, quat) @ self._T_parent[name]

    @property
    def _mujoco(self) -> MujocoBackend:
        return cast("MujocoBackend", self.backend)  # only called when backend.name == "mujoco"

    @property
    def _pybullet(self) -> PybulletBackend:
        return cast("PybulletBackend", self.backend)  # only called when backend.name == "pybullet"

    def set_camera(self, name: str, pos: Vector | None = None, look_at: Vector | None = None,
                   fovy: float | None = None, K: Sequence[Sequence[float]] | np.ndarray | None = None) -> None:
        """Move / re-focus camera ``name`` in place (absolute values; None keeps the scene's value)."""
        cam = self.spec.camera(name)
        upd: dict[str, Any] = {}
        if pos is not None:
            upd["pos"] = tuple(float(v) for v in pos)
        if look_at is not None:
            upd["look_at"] = tuple(float(v) for v in look_at)
        if K is not None:
            upd["K"] = tuple(tuple(float(v) for v in row) for row in K)
        elif fovy is not None:
            upd["fovy"] = float(fovy)
        cam = cam.model_copy(update=upd)
        if cam == self.cameras[name] and name in self._written:
            return  # written as it is (each episode re-applies the cameras it does not randomize): nothing to do
        self.cameras[name] = cam
        self.intrinsics[name] = camera_intrinsics(cam)
        self._T_parent[name] = camera_T_parent(cam)
        if self.backend.name == "mujoco":
            self._write_mujoco_camera(name)
        self._written.add(name)

    def _write_mujoco_camera(self, name: str) -> None:
        from renderers.engine_cameras import mujoco_camera_intrinsics, mujoco_camera_pose

        b = self._mujoco
        m = b.model
        i = m.camera(name).id
        m.cam_pos[i], m.cam_quat[i] = mujoco_camera_pose(self._T_parent[name])
        ci = mujoco_camera_intrinsics(self.intrinsics[name])
        m.cam_fovy[i] = ci["fovy"]
        m.cam_sensorsize[i] = ci["sensor_size"]
        m.cam_intrinsic[i] = np.concatenate([ci["focal_length"], ci["principal_length"]])
        import mujoco

        mujoco.mj_kinematics(m, b.data)
        mujoco.mj_camlight(m, b.data)

    def render(self, names: list[str] | None = None, modalities: Sequence[str] | None = None) -> dict[str, Frame]:
        """Return a Frame for each named camera (default: all scene cameras).

        ``modalities`` (rgb, depth, segmentation) restricts what is computed to those of each camera's own
        modalities (default: all of them); a modality not computed is None in the Frame.
        """
        return self.render_async(names, modalities).result()

    def render_async(self, names: list[str] | None = None,
                     modalities: Sequence[str] | None = None) -> PendingFrames:
        """Start :meth:`render` of the world as it is now; the world may be stepped before ``.result()``.

        A pipelined MuJoCo renderer copies each camera's scene now and draws it on its GL thread; otherwise the
        frames are rendered before this returns. The next call waits for the previous draws.
        """
        out: dict[str, Frame | _MujocoDraw] = {}
        for name in names or list(self.cameras):
            cam = self.cameras[name]
            mods = tuple(m for m in cam.modalities if modalities is None or m in modalities)
            if self.backend.name == "mujoco":
                out[name] = self._begin_mujoco(cam, mods)
            else:
                out[name] = self._render_pybullet(cam, mods)
        return PendingFrames(out)

    # -- engines ------------------------------------------------------------------------------------
    def _begin_mujoco(self, cam: CameraSpec, modalities: tuple[str, ...]) -> _MujocoDraw:
        from renderers.mujoco_render import MujocoRendererPool

        b = self._mujoco
        if self._pool is None:
            self._pool = MujocoRendererPool(b.model, self.quality, gl=self._gl)
            self._geom_lut = b.instance_of_geom()
        self._sync_mujoco_textures(b, self._pool)
        intr = self.intrinsics[cam.name]
        mods = ["rgb" if m == "rgb" else "depth" if m == "depth" else "seg_geom" for m in modalities]
        raw = self._pool.get(cam.width, cam.height).begin(b.data, cam.name, mods, clip=(intr.near, intr.far))
        cam_id = b.model.camera(cam.name).id
        T = T_world_cam_from_mujoco(b.data.cam_xpos[cam_id], b.data.cam_xmat[cam_id])
        return _MujocoDraw(cam, intr, raw, T, self._geom_lut)

    # -- procedural textures (randomization writes model.tex_data in place) ---------------------------
    def _sync_mujoco_textures(self, b: MujocoBackend, pool: MujocoRendererPool) -> None:
        """Re-upload the backend's procedural textures to every live GL context when they changed."""
        version = b.texture_version
        if version == self._texture_version:
            return
        for r in pool.renderers:
            r.upload_textures(b.texture_ids())
        self._texture_version = version

    def _pybullet_lut(self) -> tuple[np.ndarray, np.ndarray]:
        if self._pb_lut is None:
            table = self._pybullet.instance_of()
            keys = np.array([(u << 16) + (link + 1) for (u, link) in table], dtype=np.int64)
            vals = np.array(list(table.values()), dtype=np.int32)
            order = np.argsort(keys)
            self._pb_lut = (keys[order], vals[order])
        return self._pb_lut

    def _render_pybullet(self, cam: CameraSpec, modalities: tuple[str, ...]) -> Frame:
        from renderers.pybullet_render import render_pybullet

        intr = self.intrinsics[cam.name]
        T = self.T_world_cam(cam.name)
        mods = ["rgb" if m == "rgb" else "depth" if m == "depth" else "seg" for m in modalities]
        b = self._pybullet
        light = next(iter(b.lights.values()), None)
        light_dir = None if light is None else [-v for v in light["dir"]]
        kw: dict[str, Any] = {}
        if light is not None:
            # TinyRenderer has one light: colour = normalised diffuse, coefficients = diffuse / ambient levels.
            diffuse = np.asarray(light["diffuse"], float)
            level = float(diffuse.max())
            kw = {"light_color": (diffuse / level).tolist() if level > 0 else [1.0, 1.0, 1.0],
                  "light_diffuse": level,
                  "light_ambient": float(np.mean(light["ambient"])) + float(np.mean(self.spec.ambient))}
        raw = render_pybullet(b.client, intr, T, mods, light_direction=light_dir, **kw)
        seg = None
        if "seg_body" in raw:
            keys, vals = self._pybullet_lut()
            code = (raw["seg_body"].astype(np.int64) << 16) + (raw["seg_link"].astype(np.int64) + 1)
            idx = np.clip(np.searchsorted(keys, code), 0, len(keys) - 1)
            hit = (keys[idx] == code) & (raw["seg_body"] >= 0)
            seg = np.where(hit, vals[idx], 0).astype(np.int32)
        return finish_frame(cam, intr, raw.get("rgb"), raw.get("depth"), seg, T)

    def close(self) -> None:
        """Free GL resources (after the draws still queued)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._gl is not None and self._owns_gl:
            self._gl.close()
        self._gl = None


_PRESTARTED: list[GLThread] = []  # at most one GL thread started ahead by prestart_gl_thread, not yet taken


def start_gl_thread(width: int = 64, height: int = 64) -> GLThread:
    """Return a GL thread for pipelined MuJoCo renderers, already creating a GL context for the first of them
    (``renderers.mujoco_context.add_spare_context``: the shader compile overlaps the caller building its world):
    the one :func:`prestart_gl_thread` started, if any, else a new one."""
    if _PRESTARTED:
        return _PRESTARTED.pop()
    from renderers.gl_thread import GLThread

    gl = GLThread()
    gl.submit(_add_spare_context, gl, width, height)
    return gl


def prestart_gl_thread(width: int = 64, height: int = 64) -> None:
    """Start the GL thread the next :func:`start_gl_thread` returns, now: a command that will draw MuJoCo frames
    calls this before loading its scene, so that MuJoCo's and the GL context's start-up run beside it."""
    if not _PRESTARTED:
        _PRESTARTED.append(start_gl_thread(width, height))


def close_prestarted_gl_thread() -> None:
    """Close the GL thread :func:`prestart_gl_thread` started if nothing took it (a run with no episode to record)."""
    while _PRESTARTED:
        _PRESTARTED.pop().close()


def _add_spare_context(gl: GLThread, width: int, height: int) -> None:
    from renderers.mujoco_context import add_spare_context  # imports mujoco: on the GL thread, not the caller's

    add_spare_context(gl, width, height)


def finish_frame(cam: CameraSpec, intr: Intrinsics, rgb: np.ndarray | None, depth: np.ndarray | None,
                 seg: np.ndarray | None, T: np.ndarray) -> Frame:
    """Return the Frame of ideal pinhole images, with the camera's lens distortion applied when it has one."""
    if intr.has_distortion:
        # The engines render an ideal pinhole image with the same K; pixels whose ray leaves it read
        # 0 (rgb black, depth 0 = no return, segmentation background).
        rgb = None if rgb is None else distort_image(rgb, intr, nearest=False, fill=0)
        depth = None if depth is None else distort_image(depth, intr, nearest=True, fill=0.0)
        seg = None if seg is None else distort_image(seg, intr, nearest=True, fill=0)
    return Frame(cam.name, rgb, depth, seg, intr, T)


@dataclass(frozen=True, eq=False)
class _MujocoDraw:
    """A MuJoCo camera's frame being drawn: its raw images' future and what turns them into a Frame."""

    cam: CameraSpec
    intr: Intrinsics
    raw: Future[RawFrame]
    T: np.ndarray
    geom_lut: np.ndarray  # geom id -> instance id; index -1 (background) hits the trailing 0

    def done(self) -> bool:
        """Return True when the draw has finished."""
        return self.raw.done()

    def frame(self) -> Frame:
        from renderers.mujoco_passes import decode

        raw = decode(self.raw.result())
        seg = self.geom_lut[raw["seg_geom"]] if "seg_geom" in raw else None
        return finish_frame(self.cam, self.intr, raw.get("rgb"), raw.get("depth"), seg, self.T)


class PendingFrames:
    """The frames one :meth:`SceneRenderer.render_async` started; ``result()`` waits for them."""

    def __init__(self, frames: dict[str, Frame | _MujocoDraw]) -> None:
        self._frames = frames

    def done(self) -> bool:
        """Return True when every frame is drawn (``result`` will not wait)."""
        return all(isinstance(f, Frame) or f.done() for f in self._frames.values())

    def wait(self) -> None:
        """Block until every frame is drawn, without decoding any (:meth:`result` raises a draw's error)."""
        wait([f.raw for f in self._frames.values() if not isinstance(f, Frame)])

    def result(self) -> dict[str, Frame]:
        """Return one Frame per camera, in the order the cameras were asked for (raises a draw's error)."""
        return {name: f if isinstance(f, Frame) else f.frame() for name, f in self._frames.items()}
