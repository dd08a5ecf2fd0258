"""PyBullet physics clients: a DIRECT client with each function bound once, and a silenced start-up banner."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
from collections.abc import Iterator
from typing import Any


def _flush_c_stdout() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence PyBullet's C-level banner (printed on import/connect) so CLI output stays clean."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        _flush_c_stdout()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


class BoundClient:
    """pybullet's functions bound to one physics client, each bound once on first use.

    ``pybullet_utils.BulletClient`` builds a new ``functools.partial`` on every attribute access (about 40 a
    control step here); caching the bound function in the instance makes later calls plain attribute reads.
    """

    def __init__(self, pybullet: Any) -> None:
        self._pb = pybullet
        self._pid = os.getpid()
        self._client = pybullet.connect(pybullet.DIRECT)

    def __del__(self, _getpid: Any = os.getpid) -> None:
        """Disconnect a client nobody closed (only in the process that made it, as BulletClient does).

        ``_getpid`` is bound at definition: at interpreter exit module globals may already be gone."""
        try:
            if self.__dict__.get("_client", -1) >= 0 and self.__dict__.get("_pid") == _getpid():
                self.disconnect()
        except Exception:  # noqa: BLE001 - a finaliser must never raise
            pass

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._pb, name)
        if inspect.isbuiltin(attr):
            attr = functools.partial(attr, physicsClientId=self._client)
            if name != "disconnect":
                self.__dict__[name] = attr
        return attr

    def disconnect(self) -> None:
        """Close the physics client (idempotent)."""
        if self._client >= 0:
            self._pb.disconnect(physicsClientId=self._client)
            self._client = -1


def new_client() -> tuple[Any, Any]:
    """Return (the pybullet module, a new DIRECT client bound to it), with PyBullet's banner silenced."""
    with _quiet_stdout():
        import pybullet

        return pybullet, BoundClient(pybullet)
