"""The CLI ends its process with os._exit after the atexit handlers, and the ordinary way when that could lose
something (another thread running, an HDF5 file open)."""

from __future__ import annotations

EXIT = "from robosynth.cli.process_exit import exit_process, can_exit_fast\n"


def test_exit_code_atexit_handlers_and_buffered_output_survive(run_python):
    code = EXIT + ("import atexit, sys\n"
                   "atexit.register(lambda: print('atexit ran'))\n"
                   "sys.stdout.write('buffered, no newline')\n"
                   "exit_process(3)\n")
    res = run_python(code)
    assert res.rc == 3, res.stderr
    assert res.stdout == "buffered, no newlineatexit ran\n"


def test_falls_back_to_sys_exit_with_a_thread_or_an_open_hdf5_file(run_python, tmp_path):
    code = EXIT + ("import threading, time, h5py, sys\n"
                   "print(can_exit_fast())\n"
                   f"f = h5py.File({str(tmp_path / 'x.h5')!r}, 'w')\n"
                   "print(can_exit_fast())\n"
                   "f.close()\n"
                   "t = threading.Thread(target=time.sleep, args=(0.5,)); t.start()\n"
                   "print(can_exit_fast())\n"
                   "t.join(); print(can_exit_fast())\n"
                   "d = threading.Thread(target=time.sleep, args=(30,), daemon=True); d.start()\n"
                   "print(can_exit_fast())\n"
                   "exit_process(0)\n")
    res = run_python(code)
    assert res.rc == 0, res.stderr
    assert res.stdout.split() == ["True", "False", "False", "True", "True"]  # a daemon thread is not waited for


def test_robosynth_command_exit_code_is_kept(run_cli):
    assert run_cli("--help").rc == 0
    bad = run_cli("generate", "pick_place", "--backend", "nope")
    assert bad.rc == 2 and "unknown backend" in bad.stderr
