"""Typed exceptions shared by the engine-side packages. Only the CLI turns them into exit codes."""


class RobosynthError(Exception):
    """Base class of every error robosynth raises on purpose."""


class InputError(RobosynthError, ValueError):
    """Bad user input (scene file, flag, path); the CLI maps it to exit code 2."""


class SceneError(InputError):
    """A scene file or spec is invalid; the message names the field path."""


class AssetError(InputError):
    """An asset is missing or its path escapes the allowed roots."""


class BackendError(InputError):
    """Unknown backend or a backend that cannot compile the scene."""


class PhysicsError(RobosynthError):
    """The simulation blew up (NaN/inf state or an engine warning)."""
