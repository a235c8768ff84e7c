"""An NDI sender and receiver in their own processes, for the NDI tests and benchmark: what a camera
or OBS and a set monitor would be on either side of ``stylecast live --source ndi:// --sink ndi://``.

    python -m support.ndi_peer send NAME SECONDS [--pause-at S --pause-for S] [--width W --height H --fps F]
    python -m support.ndi_peer receive SOURCE SECONDS OUT.json

The sender prints its name and port first (discovery needs multicast, which a test machine may
not have), then plays the moving test scene with a tone, frame i carrying timecode i/fps (100 ns units)
(its clock running on while it pauses) and printing, per frame, when it left (CLOCK_MONOTONIC, shared by the processes of one machine).
The receiver connects to SOURCE (a name found by discovery, or HOST:PORT), and writes each frame's
timecode, arrival time and mean colour, the sound's samples and rate, and one picture, as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

TICKS = 10_000_000  # NDI timecodes: 100 ns


def send(name: str, seconds: float, width: int, height: int, fps: float, pause_at: float | None,
         pause_for: float) -> None:
    import NDIlib as ndi

    from stream.links.ndi import listening_ports, new_port
    from stream.media.testsrc import TestScene

    assert ndi.initialize()
    create = ndi.SendCreate()
    create.ndi_name, create.clock_video = name, False
    before = listening_ports()
    sender = ndi.send_create(create)
    print(json.dumps({"name": ndi.send_get_source_name(sender).ndi_name, "port": new_port(before)}),
          flush=True)
    scene, rgbx = TestScene(width, height, seed=5), np.full((height, width, 4), 255, np.uint8)
    begin, i, paused = time.monotonic(), 0, 0.0
    while i / fps < seconds:
        t = i / fps
        if pause_at is not None and paused == 0 and t >= pause_at:  # the camera goes away, then comes back
            time.sleep(pause_for)
            paused = pause_for
        time.sleep(max(0.0, begin + paused + t - time.monotonic()))
        rgbx[:, :, :3] = scene.frame(t)
        video = ndi.VideoFrameV2()
        video.FourCC, video.frame_rate_N, video.frame_rate_D = ndi.FOURCC_VIDEO_TYPE_RGBX, round(fps * 1000), 1000
        video.data, video.timecode = rgbx, round((t + paused) * TICKS)  # a camera's clock runs on while it is away
        sent = time.monotonic()
        ndi.send_send_video_v2(sender, video)
        samples = round(48000 / fps)
        tone = np.sin(2 * np.pi * 440 * (np.arange(samples) + i * samples) / 48000).astype(np.float32)
        audio = ndi.AudioFrameV2()
        audio.sample_rate, audio.data, audio.timecode = 48000, np.stack([tone, tone]) * 0.5, video.timecode
        ndi.send_send_audio_v2(sender, audio)
        print(json.dumps({"timecode": video.timecode, "sent": sent}), flush=True)
        i += 1
    ndi.send_destroy(sender)


def receive(source: str, seconds: float, out: str) -> None:
    import NDIlib as ndi

    assert ndi.initialize()
    wanted = ndi.Source()
    if ":" in source and source.rsplit(":", 1)[1].isdigit():
        wanted.ndi_name, wanted.url_address = source, source
    else:
        create = ndi.FindCreate()
        create.show_local_sources = True
        finder, deadline = ndi.find_create_v2(create), time.monotonic() + 10
        found = []
        while not found and time.monotonic() < deadline:
            ndi.find_wait_for_sources(finder, 200)
            found = [s.ndi_name for s in ndi.find_get_current_sources(finder) if s.ndi_name.endswith(f"({source})")]
        if not found:
            sys.exit(f"no NDI source {source!r} found")
        wanted.ndi_name = found[0]
    create = ndi.RecvCreateV3()
    create.color_format = ndi.RECV_COLOR_FORMAT_RGBX_RGBA
    receiver = ndi.recv_create_v3(create)
    ndi.recv_connect(receiver, wanted)
    frames, samples, rate, picture, level = [], 0, None, None, 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        kind, video, audio, _ = ndi.recv_capture_v2(receiver, 100)
        if kind == ndi.FRAME_TYPE_VIDEO:
            at = time.monotonic()
            rgb = video.data[:, :video.xres, :3]
            frames.append({"timecode": video.timecode, "at": at, "mean": float(rgb.mean()),
                           "size": [video.xres, video.yres]})
            if len(frames) == 30:
                picture = rgb.astype(int).tolist()
            ndi.recv_free_video_v2(receiver, video)
        elif kind == ndi.FRAME_TYPE_AUDIO:
            samples += audio.no_samples
            rate = audio.sample_rate
            level = max(level, float(np.abs(audio.data).max()))
            ndi.recv_free_audio_v2(receiver, audio)
    ndi.recv_destroy(receiver)
    with open(out, "w") as f:
        json.dump({"frames": frames, "samples": samples, "rate": rate, "level": level, "picture": picture}, f)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="role", required=True)
    s = sub.add_parser("send")
    s.add_argument("name")
    s.add_argument("seconds", type=float)
    s.add_argument("--width", type=int, default=320)
    s.add_argument("--height", type=int, default=180)
    s.add_argument("--fps", type=float, default=25.0)
    s.add_argument("--pause-at", type=float)
    s.add_argument("--pause-for", type=float, default=0.0)
    r = sub.add_parser("receive")
    r.add_argument("source")
    r.add_argument("seconds", type=float)
    r.add_argument("out")
    a = parser.parse_args()
    if a.role == "send":
        send(a.name, a.seconds, a.width, a.height, a.fps, a.pause_at, a.pause_for)
    else:
        receive(a.source, a.seconds, a.out)


if __name__ == "__main__":
    main()
