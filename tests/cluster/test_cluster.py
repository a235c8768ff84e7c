"""Films across machines (issue #17): a render spread over a real two-node Ray cluster on loopback
(``ray start --head`` and a second ``ray start``), chunked at cuts, joined without seams."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import H, W, one_error_line, packets, run_cli, video_frames, wait_for
from support.temporal_metrics import ssim_quarter

from stream.media.testsrc import write_test_clip

ray = pytest.importorskip("ray", reason="the cluster tests need Ray: pip install -e '.[test]'")
from support.ray_cluster import (  # noqa: E402
    CLUSTER_ENV,
    LoopbackRayCluster,
    listening_beyond_loopback,
)


@pytest.fixture(scope="module")
def cluster():
    with LoopbackRayCluster(cpus_per_node=1) as running:
        yield running


def stylecast(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stream.cli", *map(str, args)], env={**os.environ, **CLUSTER_ENV},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, dict | None, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, json.loads(out) if proc.returncode == 0 and out.strip() else None, err


def chunk_files(output: Path) -> list[Path]:
    folder = output.parent / f".{output.name}.stylecast-chunks"
    return sorted(folder.glob("chunk-*.mov")) if folder.is_dir() else []


def test_every_ray_process_listens_on_loopback_only(cluster):
    assert cluster.reachable()
    assert listening_beyond_loopback() == []


def test_a_cluster_render_is_the_single_render_without_seams(cluster, tmp_path):
    clip = tmp_path / "cut.mp4"
    write_test_clip(clip, seconds=4.0, width=W, height=H, cuts=(2.0,))
    code, summary, err = finish(stylecast("render", clip, "-o", tmp_path / "farm.mp4", "--cluster", cluster.address,
                                          "--chunk-seconds", "1", "--json"))
    assert code == 0, err
    assert summary["chunks"] == 4 and summary["workers"] == 2 and summary["retries"] == 0 and summary["frames"] == 100
    assert summary["shots"] == 2
    assert run_cli("render", clip, "-o", tmp_path / "one.mp4")[0] == 0
    farm_times, farm = video_frames(tmp_path / "farm.mp4")
    one_times, one = video_frames(tmp_path / "one.mp4")
    assert farm_times == one_times  # every frame keeps its source time
    seams = [ssim_quarter(a, b) for a, b in zip(farm, one)]
    assert min(seams) >= 0.97, (min(seams), int(np.argmin(seams)))  # chunks 2 and 4 start mid-shot, warmed up
    assert [p for _, p in packets(tmp_path / "farm.mp4", "audio")] == [p for _, p in packets(clip, "audio")]
    assert not chunk_files(tmp_path / "farm.mp4") and sorted(p.name for p in tmp_path.iterdir()) == \
        ["cut.mp4", "farm.mp4", "one.mp4"]  # the chunks are gone once joined


@pytest.mark.quick
def test_chunks_rendered_here_without_ray_are_the_single_render(tmp_path):
    clip = tmp_path / "cut.mp4"
    write_test_clip(clip, seconds=4.0, width=W, height=H, cuts=(2.0,))
    code, out, err = run_cli("render", clip, "-o", tmp_path / "here.mp4", "--cluster", "here", "--chunk-seconds", "1",
                             "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["chunks"] == 4 and summary["workers"] == 1 and summary["frames"] == 100
    assert run_cli("render", clip, "-o", tmp_path / "one.mp4")[0] == 0
    here_times, here = video_frames(tmp_path / "here.mp4")
    one_times, one = video_frames(tmp_path / "one.mp4")
    assert here_times == one_times and min(ssim_quarter(a, b) for a, b in zip(here, one)) >= 0.97
    assert not chunk_files(tmp_path / "here.mp4")


def test_the_studio_sends_its_renders_to_ray_when_given_a_cluster(cluster, tmp_path, monkeypatch):
    from support.server_process import ServerProcess

    for key, value in CLUSTER_ENV.items():
        monkeypatch.setenv(key, value)
    write_test_clip(tmp_path / "cut.mp4", seconds=4.0, width=W, height=H, cuts=(2.0,))
    with ServerProcess(str(tmp_path), "--cluster", cluster.address, "--chunk-seconds", "1", command="studio") as studio:
        status, project = studio.request("POST", "/api/projects", json.dumps({"media": "cut.mp4"}).encode())
        assert status == 201
        wait_for(lambda: studio.request("GET", f"/api/projects/{project['id']}")[1]["state"] == "ready", 30, "shots")
        studio.request("POST", f"/api/projects/{project['id']}/render", json.dumps({"output": "farm.mp4"}).encode())
        job = wait_for(lambda: (j := studio.request("GET", "/api/jobs")[1]["jobs"][0])["state"] in ("done", "failed")
                       and j, 120, "the studio's render on Ray")
        assert job["state"] == "done", job
    assert "rendering 4 chunks on 2 workers" in studio.stderr  # Ray's two nodes, not this process
    assert len(video_frames(tmp_path / "farm.mp4")[1]) == 100


def test_a_killed_render_resumes_from_its_finished_chunks(cluster, tmp_path):
    clip = tmp_path / "long.mp4"
    write_test_clip(clip, seconds=8.0, width=W, height=H)
    out = tmp_path / "film.mp4"
    args = ("render", clip, "-o", out, "--cluster", cluster.address, "--chunk-seconds", "1", "--json")
    first = stylecast(*args)
    wait_for(lambda: len(chunk_files(out)) >= 2 or first.poll() is not None, 120, "two chunks rendered")
    first.send_signal(signal.SIGKILL)
    first.wait()
    kept = len(chunk_files(out))
    assert 2 <= kept < 8 and not out.exists()
    code, summary, err = finish(stylecast(*args))
    assert code == 0, err
    reused = re.search(r"(\d+) of 8 chunks were already rendered", err)
    assert reused and int(reused.group(1)) >= kept, err  # (a worker of the killed render may finish one more)
    assert summary["frames"] == 200 and summary["chunks"] == 8
    times, _ = video_frames(out)
    assert times == [i / 25 for i in range(200)]


def _chunk_workers() -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"ray::ChunkRenderer" in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_a_worker_that_dies_is_replaced_and_its_chunk_rendered_again(cluster, tmp_path):
    clip = tmp_path / "long.mp4"
    write_test_clip(clip, seconds=8.0, width=W, height=H)
    out = tmp_path / "film.mp4"
    render = stylecast("render", clip, "-o", out, "--cluster", cluster.address, "--chunk-seconds", "1", "--json")
    wait_for(lambda: chunk_files(out) and _chunk_workers() or render.poll() is not None, 120, "a worker at work")
    victims = _chunk_workers()
    assert victims, "the render ended before a worker could be stopped"
    os.kill(victims[0], signal.SIGKILL)
    code, summary, err = finish(render)
    assert code == 0, err
    assert summary["retries"] >= 1 and summary["frames"] == 200
    times, _ = video_frames(out)
    assert times == [i / 25 for i in range(200)]


@pytest.mark.parametrize("args,message", [
    (("--cluster", "nowhere"), "--cluster takes auto, HOST:PORT (a Ray head), local:N or here"),
    (("--cluster", "local:0"), "--cluster local:N takes 1 to 256 workers"),
    (("--cluster", "127.0.0.1:1"), "cannot reach the Ray cluster at 127.0.0.1:1"),
    (("--cluster", "local:1", "--chunk-seconds", "0.1"), "--chunk-seconds must be between 1 and 3600"),
    (("--cluster", "local:1", "--from", "1"), "--cluster renders the whole input"),
])
def test_cluster_errors_are_one_line(make_clip, tmp_path, args, message):
    started = time.monotonic()
    code, _, err = run_cli("render", make_clip(), "-o", tmp_path / "x.mp4", *args)
    assert code == 2 and message in one_error_line(err) and not (tmp_path / "x.mp4").exists()
    assert time.monotonic() - started < 10


def test_a_render_without_cluster_never_imports_ray(make_clip, tmp_path):
    clip = make_clip(seconds=0.2)
    probe = ("import sys; from stream.cli import main; code = main(['render', sys.argv[1], '-o', sys.argv[2]]); "
             "print(code, 'ray' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe, str(clip), str(tmp_path / "o.mp4")], capture_output=True, text=True)
    assert done.stdout.split()[-2:] == ["0", "False"], done.stderr
