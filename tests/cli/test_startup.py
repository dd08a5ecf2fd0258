"""Start-up of the command line: what its modules import, and the garbage collector paused while a verb sets up."""

from __future__ import annotations

import json
import textwrap


def test_cli_and_generate_modules_leave_opencv_and_package_metadata_unimported(run_python) -> None:
    """OpenCV (~15 ms) is imported only by a lens distortion, blur or edge dropout that runs; importlib.metadata
    (~10 ms) only by ``--version``."""
    code = textwrap.dedent(
        """
        import json, sys
        import robosynth.cli.app
        cli_only = sorted(m for m in ("cv2", "importlib.metadata") if m in sys.modules)
        import robosynth.generate.run, robosynth.generate.jobs, renderers.sensors, renderers.distortion
        import randomization.apply, renderers.noise
        print(json.dumps({"cli": cli_only, "generate": "cv2" in sys.modules}))
        """
    )
    res = run_python(code)
    assert res.rc == 0, res.stderr
    assert json.loads(res.stdout) == {"cli": [], "generate": False}


def test_cli_modules_import_no_numpy_so_main_sets_openblas_threads_first(run_python) -> None:
    """``main`` sets ``OPENBLAS_NUM_THREADS`` (a default) before numpy's OpenBLAS loads and starts its threads."""
    code = textwrap.dedent(
        """
        import json, os, sys
        import robosynth.cli
        import robosynth.cli.process_exit as pe
        before = {"numpy": "numpy" in sys.modules, "env": os.environ.get("OPENBLAS_NUM_THREADS")}
        pe.exit_process = lambda code: print(json.dumps({**before, "code": code,
                                                         "env_after": os.environ.get("OPENBLAS_NUM_THREADS")}))
        sys.argv = ["robosynth", "--help"]
        robosynth.cli.main()
        """
    )
    res = run_python(code, env={"OPENBLAS_NUM_THREADS": None})
    assert res.rc == 0, res.stderr
    assert json.loads(res.stdout.splitlines()[-1]) == {"numpy": False, "env": None, "code": 0, "env_after": "1"}
    res = run_python(code, env={"OPENBLAS_NUM_THREADS": "4"})  # the user's setting is kept
    assert json.loads(res.stdout.splitlines()[-1])["env_after"] == "4"


def test_gc_paused_for_startup_freezes_once_set_up_and_always_resumes(run_python) -> None:
    code = textwrap.dedent(
        """
        import gc, json
        from robosynth.cli.common import gc_paused_for_startup

        seen = {}
        with gc_paused_for_startup() as startup_done:
            seen["paused"] = not gc.isenabled()
            startup_done()
            seen["resumed_when_done"] = gc.isenabled()
            seen["frozen"] = gc.get_freeze_count() > 0
            startup_done()  # a second call changes nothing
        seen["enabled_after"] = gc.isenabled()
        try:
            with gc_paused_for_startup():
                raise KeyError("bad input before the episodes start")
        except KeyError:
            pass
        seen["enabled_after_an_error"] = gc.isenabled()
        gc.disable()
        with gc_paused_for_startup() as startup_done:
            startup_done()
        seen["left_disabled_if_it_was"] = not gc.isenabled()
        print(json.dumps(seen))
        """
    )
    res = run_python(code)
    assert res.rc == 0, res.stderr
    seen = json.loads(res.stdout)
    assert seen == {k: True for k in seen} and len(seen) == 6, seen
