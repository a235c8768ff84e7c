"""A live feed that follows a painting (issue #39): ``live --paint FRAME.png=PAINTED.png`` runs in its
plain style while the painting's network trains beside it, then switches to it."""
from __future__ import annotations

import importlib.util
import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    control_stats,
    free_port,
    live,
    one_error_line,
    run_cli,
    stop_live,
    video_frames,
    wait_for,
)
from PIL import Image

from engines import open_engine
from engines.cache_dir import cache_dir
from stream.media.testsrc import TestScene

HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.mark.skipif(not HAS_TORCH, reason="training a painting's network needs torch")
def test_the_feed_runs_plain_until_the_painting_is_trained_then_follows_it(tmp_path):
    frame = TestScene(192, 108).frame(0.0)
    Image.fromarray(frame).save(tmp_path / "frame.png")
    painting = open_engine("cpu", "mosaic").stylize_one(frame)
    Image.fromarray(painting).save(tmp_path / "painted.png")
    out, port = tmp_path / "out.mkv", free_port(socket.SOCK_STREAM)
    job = live("--duration", "120", "--max-side", "192", "--style", "starry-night", "--control", f"127.0.0.1:{port}",
               "--paint", f"{tmp_path / 'frame.png'}={tmp_path / 'painted.png'}", "--keyframe-steps", "8",
               "--sink", out, "--json")
    # the job ends once the painting is followed and a second of frames has gone out in it
    ready = wait_for(lambda: (s := control_stats(port)) and s.get("painting", {}).get("state") == "ready" and s,
                     120, "the painting's network trained")
    wait_for(lambda: control_stats(port)["frames_out"] >= ready["frames_out"] + 25, 30, "frames in the painting's look")
    stdout, err = stop_live(job)
    assert job.returncode == 0, err
    summary = json.loads(stdout)
    assert summary["painting"]["state"] == "ready" and summary["painting"]["steps"] == 8
    assert summary["style"] == "painted painted.png"  # the look switched to the painting's network
    # ... the lighter generator a feed runs at its rate, kept in the cache under its own name
    from engines.networks.keyframe_net import LIVE, SHOT, load_keyframe_net
    from engines.training import Budget
    from engines.training.keyframe_training import PaintedFrame, training_key

    name = training_key([PaintedFrame(frame, painting)], [], Budget(steps=8), LIVE)
    trained = load_keyframe_net(cache_dir("keyframes") / f"{name}.pt")
    assert (trained.widths, trained.blocks) == LIVE != SHOT
    _, frames = video_frames(out)
    plain_colour = open_engine("cpu", "starry-night").stylize_one(frame).reshape(-1, 3).mean(0)
    painted_colour = painting.reshape(-1, 3).mean(0)
    colour = [f.reshape(-1, 3).mean(0) for f in (frames[3], frames[-1])]
    near = [(np.abs(c - plain_colour).sum(), np.abs(c - painted_colour).sum()) for c in colour]
    assert near[0][0] < near[0][1]  # the first frames: the plain style's colours
    assert near[1][1] < near[1][0]  # the last: the painting's


def _children(pid: int, says: str) -> list[int]:
    """The processes ``pid`` started whose command line has ``says`` in it: every process whose
    parent is ``pid``, read from /proc; one that ends while it is read is passed over."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat(int(entry.name))[1])  # field 4: the parent
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and says in command:
            found.append(int(entry.name))
    return found


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command's name (field 3, the state, first)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _nice(pid: int) -> int:
    return int(_stat(pid)[16])  # field 19: nice


def _policy(pid: int) -> int:
    return int(_stat(pid)[38])  # field 41: policy


@pytest.mark.skipif(not HAS_TORCH, reason="training a painting's network needs torch")
def test_the_painting_trains_in_a_process_below_the_feed_and_ends_with_it(tmp_path):
    # a process of its own, so the feed's threads never wait on the training's Python, at a lower
    # priority and in the idle class, so the cores go to the feed first; stopping the job ends it,
    # half trained
    frame = TestScene(192, 108).frame(0.0)
    Image.fromarray(frame).save(tmp_path / "frame.png")
    Image.fromarray(open_engine("cpu", "mosaic").stylize_one(frame)).save(tmp_path / "painted.png")
    port = free_port(socket.SOCK_STREAM)
    job = live("--duration", "120", "--max-side", "192", "--control", f"127.0.0.1:{port}",
               "--paint", f"{tmp_path / 'frame.png'}={tmp_path / 'painted.png'}", "--keyframe-seconds", "600", "--json")
    wait_for(lambda: (s := control_stats(port)) and s.get("painting", {}).get("steps", 0) >= 2, 60, "training steps")
    training = _children(job.pid, "spawn_main")  # multiprocessing's (beside it: its resource tracker)
    assert len(training) == 1 and _nice(training[0]) == _nice(job.pid) + 10
    assert _policy(training[0]) == os.SCHED_IDLE and _policy(job.pid) == os.SCHED_OTHER  # the feed's first
    stdout, err = stop_live(job)
    assert job.returncode == 0, err
    assert json.loads(stdout)["painting"]["state"] == "training"  # stopped before it was ready
    wait_for(lambda: not Path(f"/proc/{training[0]}").exists() or _stat(training[0])[0] == "Z", 5,
             "the training process gone with the job")


@pytest.mark.parametrize("paint, words", [("just-one.png", "--paint takes FRAME.png=PAINTED.png"),
                                          ("missing.png=also-missing.png", "--paint: picture not found")])
def test_a_bad_paint_option_is_one_clear_line(tmp_path, paint, words):
    code, _, err = run_cli("live", "--duration", "1", "--paint", str(tmp_path / paint) if "=" not in paint else
                           f"{tmp_path / 'missing.png'}={tmp_path / 'also-missing.png'}")
    assert code == 2 and words in one_error_line(err)
