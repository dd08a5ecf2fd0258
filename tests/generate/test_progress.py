"""The progress view's counts (robosynth.generate.progress): rates, success so far, failures, retries, ETA and
the final summary, from executor results; the same for every executor (they all return these results)."""

from __future__ import annotations

from robosynth.generate.progress import RunStats, bytes_on_disk


def test_counts_rates_eta_and_summary(tmp_path):
    stats = RunStats()
    stats.start(to_run=4, already_done=2)
    assert stats.eta() is None and "success -" in stats.line() and "ETA -" in stats.line()
    stats.add({"index": 0, "success": True, "steps": 30, "bytes": 2_000_000})
    stats.retry()
    stats.add({"index": 1, "success": False, "steps": 10, "bytes": 0})
    stats.started -= 2.0  # two seconds have passed for these two episodes
    assert (stats.done, stats.succeeded, stats.failed, stats.retries, stats.steps) == (2, 1, 1, 1, 40)
    eta = stats.eta()
    assert eta is not None and 1.9 < eta < 2.5  # two more episodes at about a second each
    assert stats.status().startswith("episodes 2/4, ")
    line = stats.line()
    assert "success 50%" in line and "1 failed" in line and "1 retried" in line and "steps/s" in line
    stats.finish()
    (tmp_path / "episodes").mkdir()
    (tmp_path / "episodes" / "ep_000000.hdf5").write_bytes(b"x" * 1500)
    (tmp_path / "dataset.hdf5").write_bytes(b"y" * 500)
    assert bytes_on_disk(tmp_path) == 2000 and bytes_on_disk(tmp_path / "absent") == 0
    summary = stats.summary(bytes_on_disk(tmp_path))
    assert summary.startswith("2 episodes ran in ") and "episodes/s" in summary and "steps/s" in summary
    assert "MB/s written" in summary and "1 retried" in summary and "MB on disk" in summary


def test_the_cli_shows_the_view_for_an_in_process_run(tmp_path, run_cli):
    res = run_cli("generate", "pick_place", "--episodes", "2", "--cameras", "none", "--max-steps", "5",
                  "--keep-failed", "--out", tmp_path / "ds")
    assert res.rc == 0, res.stderr
    lines = [ln for ln in res.stderr_lines if ln.startswith("generate: episodes")]
    assert [ln.split(",")[0] for ln in lines] == ["generate: episodes 1/2", "generate: episodes 2/2"]
    assert all("steps/s" in ln and "failed" in ln and "retried" in ln and "ETA" in ln for ln in lines)
    summary = res.stdout.splitlines()[-1]
    assert summary.startswith("2 episodes ran in ") and "MB on disk" in summary
