"""A live source starts at the live edge (issue #27): what queued while the job opened, or while it
fell behind, is decoded but skipped, not stylized late; a short burst from the network passes."""
from __future__ import annotations

import threading
import time

import pytest
from conftest import free_port
from support.loopback import publish

from stream.live.live_edge import CATCH_UP_S, LiveEdge
from stream.live.sources import UrlSource

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

FRAME = 0.04  # 25 frames/s


def test_a_queue_at_the_start_is_skipped_until_a_frame_has_to_be_waited_for():
    edge = LiveEdge()
    # 50 frames queued (2 s), read at 5 ms a frame: nothing waited for; then the live frames
    queued = [edge.behind(i * FRAME, 10.0 + i * 0.005, 0.0001, FRAME) for i in range(50)]
    assert all(queued) and edge.skipped == 50
    live = [edge.behind(i * FRAME, 10.25 + (i - 50) * FRAME, 0.03, FRAME) for i in range(50, 60)]
    assert not any(live) and edge.skipped == 50


def test_two_frames_close_together_pass_and_a_stall_later_is_skipped_back_to_the_edge():
    edge = LiveEdge()
    assert not edge.behind(0.0, 100.0, 0.03, FRAME)  # waited for: the edge, 100 s after its timestamp
    assert not edge.behind(FRAME, 100.041, 0.03, FRAME)
    assert not edge.behind(2 * FRAME, 100.042, 0.0, FRAME)  # a burst of two: one frame behind, shown
    # the job stalls 1 s; 25 frames queued meanwhile come at once, then it is at the edge again
    late = [edge.behind(k * FRAME, 101.1 + (k - 3) * 0.003, 0.0, FRAME) for k in range(3, 30)]
    assert late[0] and sum(late) >= 20
    assert not late[-1]  # caught up: within 0.1 s of the edge, shown
    assert edge.skipped == sum(late)


def test_a_source_that_cannot_be_caught_up_still_shows_a_frame_now_and_then():
    edge = LiveEdge()
    shown = [not edge.behind(i * FRAME, i * 0.05, 0.0, FRAME) for i in range(100)]  # 5 s, never waited for
    assert 4 <= sum(shown) <= 5 / CATCH_UP_S + 1


@pytest.mark.alone  # it measures time
def test_a_udp_backlog_is_skipped_and_reading_starts_at_the_live_edge():
    port, sent_at = free_port(), {}
    publisher = threading.Thread(target=publish, args=(port, 4.0), kwargs={"fps": 25, "sent_at": sent_at})
    publisher.start()
    source = UrlSource(f"udp://127.0.0.1:{port}", None)  # probes the stream: the publisher is sending
    time.sleep(1.5)  # nobody reads: the stream queues, as while a live job loads its engine
    first, frames = None, []
    try:
        for item in source:
            if not hasattr(item, "image"):
                continue
            if first is None:
                first = time.monotonic()
            frames.append((item.pts, time.monotonic()))
            if len(frames) >= 20:
                break
    finally:
        source.stop.set()
        publisher.join()
        source.container and source.container.close()
    assert source.behind >= 25  # about 1.5 s of queued frames were decoded and skipped
    newest_sent = max(at for at in sent_at.values() if at <= first)
    pts, shown_at = frames[0]
    assert shown_at - sent_at[pts] < 0.25  # the first frame handed on had just been sent ...
    assert sent_at[pts] >= newest_sent - 0.15  # ... and was among the newest when reading began
    assert [p for p, _ in frames] == sorted(p for p, _ in frames)
