"""A painted shot's training by time (issue #47): up to its steps within a budget of seconds, a
strip of the painting held back to judge it, stopping once that stops improving, and telling how
far it is and how long it has left. (How good the trained network is, is tests/edit/test_painted.py's
and bench/keyframe.py's subject.)"""
from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest
import torch

from engines.networks.keyframe_net import (
    LIVE,
    SHOT,
    KeyframeNet,
    load_keyframe_net,
    save_keyframe_net,
)
from engines.training import STEPS, Budget
from engines.training.keyframe_training import (
    MIN_GAIN,
    PATCH,
    PATIENCE,
    PEAK_LR,
    VERSION,
    WARM_UP,
    PaintedFrame,
    _Patches,
    _Stopper,
    held_back_width,
    one_cycle,
    train_keyframe_net,
    training_key,
)
from stream.media.testsrc import TestScene


def test_a_timed_training_stops_at_its_budget_and_says_how_far_it_is():
    frame = TestScene(192, 96).frame(0.0)
    heard = []
    started = time.perf_counter()
    net, loss, steps = train_keyframe_net([PaintedFrame(frame, 255 - frame)], [], Budget(seconds=4), heard.append)
    took = time.perf_counter() - started
    step_s = took / max(steps, 1)
    assert 1 <= steps < STEPS and len(heard) == steps
    assert took <= 4 + 2 * step_s + 1.5  # the step under way when the time ran out, and the set-up
    done = [h.done for h in heard]
    assert done == sorted(done) and done[-1] >= 0.9  # a share of the budget, rising to its end
    assert heard[-1].seconds_left <= step_s + 0.5 and [h.step for h in heard] == list(range(1, steps + 1))
    assert np.isfinite(loss) and next(net.parameters()).device.type == "cpu"


def test_steps_alone_train_exactly_that_many_on_the_whole_painting():
    frame = TestScene(192, 96).frame(0.0)
    heard = []
    _, _, steps = train_keyframe_net([PaintedFrame(frame, 255 - frame)], [], Budget(steps=3), heard.append)
    assert steps == 3 and [round(h.done, 3) for h in heard] == [0.333, 0.667, 1.0]
    assert Budget(steps=3).limits(fast=False) == (3, None)  # no seconds: nothing held back, nothing timed
    assert Budget().limits(fast=True) == (STEPS, 150) and Budget().limits(fast=False) == (STEPS, 540)
    assert Budget(steps=500, seconds=60).limits(fast=False) == (500, 60)


def test_a_live_feeds_generator_is_lighter_and_kept_under_a_name_of_its_own(tmp_path):
    # live --paint trains the lighter shape (it runs every frame at the feed's rate); a shot keeps the
    # full one, and its cached networks keep their names
    frame = TestScene(192, 96).frame(0.0)
    painted = [PaintedFrame(frame, 255 - frame)]
    net, _, _ = train_keyframe_net(painted, [], Budget(steps=2), shape=LIVE)
    save_keyframe_net(net, tmp_path / "live.pt")
    back = load_keyframe_net(tmp_path / "live.pt")
    assert (back.widths, back.blocks) == LIVE and len(back.middle) == LIVE.blocks
    assert [back.inp.out_channels, back.down1.out_channels, back.down2.out_channels] == list(LIVE.widths)
    live, shot = (sum(p.numel() for p in n.parameters()) for n in (back, KeyframeNet(*SHOT)))
    assert live * 5 < shot
    assert training_key(painted, [], Budget(steps=2), LIVE) != training_key(painted, [], Budget(steps=2))
    # a shot's name as it was before there were shapes: the networks already in caches still match
    before = hashlib.sha256(f"keyframe-net v{VERSION} {Budget(steps=2).key()} patch {PATCH}".encode())
    for image in (frame, 255 - frame):
        before.update(str(image.shape).encode())
        before.update(image.tobytes())
    assert training_key(painted, [], Budget(steps=2), SHOT) == before.hexdigest()[:32]


def test_the_held_back_strip_is_never_trained_on_and_always_judged_whole():
    h, w = 144, 320
    strip = held_back_width(w)
    assert strip % PATCH == 0 and strip >= PATCH
    assert held_back_width(2 * PATCH + 10) == 0  # too narrow to spare a strip: none held back
    columns = torch.arange(w, dtype=torch.float32).expand(1, h, w)  # each pixel says its column
    patches = _Patches([columns], np.random.default_rng(0), strip)
    taken = patches.take(400)
    assert taken.max().item() < w - strip and taken.min().item() == 0  # all of the rest is used
    judged = patches.strip()
    assert judged.min().item() == w - strip and judged.max().item() == w - 1
    assert len(judged) == (h // PATCH) * (strip // PATCH)
    assert torch.equal(judged, patches.strip())  # the same patches each time


def test_the_rate_rises_over_the_first_tenth_and_falls_to_almost_nothing_and_beta1_the_other_way():
    rates = [one_cycle(p / 100)[0] for p in range(101)]
    assert rates[0] == pytest.approx(PEAK_LR / 25) and one_cycle(WARM_UP)[0] == pytest.approx(PEAK_LR)
    assert rates[:11] == sorted(rates[:11]) and rates[10:] == sorted(rates[10:], reverse=True)
    assert rates[-1] < PEAK_LR * 1e-4 and one_cycle(1.5) == one_cycle(1.0)
    assert one_cycle(0.0)[1] == pytest.approx(0.95) and one_cycle(WARM_UP)[1] == pytest.approx(0.85)
    assert one_cycle(1.0)[1] == pytest.approx(0.95)


def test_by_steps_it_is_torchs_one_cycle_to_the_step():
    """A budget of steps alone keeps the schedule the painted shots trained with before (OneCycleLR)."""
    total = 20
    p = [torch.nn.Parameter(torch.zeros(1))]
    optimizer = torch.optim.Adam(p, PEAK_LR / 10)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, PEAK_LR, total_steps=total,
                                                   pct_start=min(0.5, max(0.1, 2.0 / total)))
    warm_up = (0.1 * total - 1) / (total - 1)
    for step in range(total):
        rate, beta1 = one_cycle(step / (total - 1), warm_up)
        assert rate == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-6)
        assert beta1 == pytest.approx(optimizer.param_groups[0]["betas"][0], rel=1e-6)
        optimizer.step()
        schedule.step()


def test_it_stops_after_patience_without_a_gain_and_keeps_the_best_network():
    net = torch.nn.Linear(1, 1)
    stopper = _Stopper()
    losses = [1.0, 0.8, 0.7, 0.695]  # 0.695 is within MIN_GAIN of 0.7: no gain
    assert 0.7 * (1 - MIN_GAIN) < 0.695
    for i, loss in enumerate(losses):
        with torch.no_grad():
            net.weight.fill_(i)
        assert not stopper.heard(loss, net)
    assert stopper.best == 0.7 and stopper.best_state["weight"].item() == 2  # the network at 0.7
    said = [stopper.heard(0.75, net) for _ in range(PATIENCE - 1)]
    assert said == [False] * (PATIENCE - 2) + [True]  # the first 0.695 counted as one without a gain
