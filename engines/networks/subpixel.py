"""The style network's upsamplings done at the smaller size: the same numbers, less work at the larger.

The 26-style network grows its picture twice: a nearest-neighbour 2x upsampling, a reflect pad by
one, a 3x3 convolution. Each output pixel of that convolution at (2i+a, 2j+b) sees only the input
pixels around (i, j): rows i-1 and i for a = 0, rows i and i+1 for a = 1 (columns the same). So the
three nodes are one 3x3 convolution at the smaller size into four times the channels, one group per
phase (a, b), each a 2x2 sum of the kernel's taps placed in a 3x3, followed by DepthToSpace. The
reflect pad of the upsampled picture repeats its edge pixel, which is the smaller picture's edge
pixel: an ``edge`` pad there. Exact to float rounding (tests/engines/test_graph_rewrite.py).

Why: ONNX Runtime ran the last upsampling's convolution (8 channels to 4, at the full size) and its
pad at the full size, its 4 output channels outside its blocked layout; at half size into 16 it
runs blocked, and the full-size picture is written once, by DepthToSpace. Measured 1.06x a frame at
640x360 on one thread (docs/benchmarks/cpu.md).
"""
from __future__ import annotations

import numpy as np

from engines.optional import helper, numpy_helper, onnx

from .onnx_graph import attributes, constant_value, consumers, only_user, plain_conv

# for each phase a (0, 1) of the output, where each of the kernel's 3 taps (-1, 0, +1) lands on the
# smaller picture's 3x3 window (-1, 0, +1 -> index 0, 1, 2)
_TAPS = {0: (0, 1, 1), 1: (1, 1, 2)}


def phase_kernels(kernel: np.ndarray) -> np.ndarray:
    """A 3x3 kernel [out, in, 3, 3] that follows a nearest 2x upsampling -> the kernel [4*out, in, 3, 3]
    at the smaller size, output channels in DepthToSpace's DCR order (phase row, phase column, out)."""
    out, cin = kernel.shape[:2]
    phases = np.zeros((2, 2, out, cin, 3, 3), np.float64)
    for a in (0, 1):
        for b in (0, 1):
            for dy in range(3):
                for dx in range(3):
                    phases[a, b, :, :, _TAPS[a][dy], _TAPS[b][dx]] += kernel[:, :, dy, dx]
    return phases.reshape(4 * out, cin, 3, 3).astype(np.float32)


def _is_nearest_2x(graph, resize) -> bool:
    attrs = attributes(resize)
    scales = constant_value(graph, resize.input[2]) if len(resize.input) > 2 and resize.input[2] else None
    return (attrs.get("mode") == b"nearest" and attrs.get("coordinate_transformation_mode") == b"asymmetric"
            and attrs.get("nearest_mode") == b"floor" and scales is not None
            and np.array_equal(np.asarray(scales, np.float32), [1, 1, 2, 2]))


def subpixel_upsamplings(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """A copy of ``model`` with each nearest 2x upsampling -> reflect pad -> 3x3 convolution done
    at the smaller size; returns (model, how many)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    users = consumers(graph)
    weights = {i.name: i for i in graph.initializer}
    done = 0
    for resize in [n for n in graph.node if n.op_type == "Resize"]:
        pad = only_user(users, resize.output[0], "Pad")
        conv = pad and only_user(users, pad.output[0], "Conv")
        if not conv or conv.input[1] not in weights or not _is_nearest_2x(graph, resize) \
                or attributes(pad).get("mode") != b"reflect" or not plain_conv(conv):
            continue
        kernel = numpy_helper.to_array(weights[conv.input[1]])
        if kernel.shape[2:] != (3, 3):
            continue
        name = f"{conv.input[1]}.phases"
        graph.initializer.append(numpy_helper.from_array(phase_kernels(kernel), name))
        edge, small = f"{resize.input[0]}.edge", f"{conv.output[0]}.phases"
        nodes = [helper.make_node("Pad", [resize.input[0], *pad.input[1:]], [edge], mode="edge", name=f"{name}_pad"),
                 helper.make_node("Conv", [edge, name, *conv.input[2:]], [small], kernel_shape=[3, 3], name=f"{name}_conv"),
                 helper.make_node("DepthToSpace", [small], list(conv.output), blocksize=2, mode="DCR",
                                  name=f"{name}_to_space")]
        graph.node.remove(resize)
        graph.node.remove(pad)
        at = list(graph.node).index(conv)  # in the convolution's place: the pad's amounts are computed after the upsampling
        graph.node.remove(conv)
        for node in reversed(nodes):
            graph.node.insert(at, node)
        if not any(conv.input[1] in n.input for n in graph.node):
            graph.initializer.remove(weights[conv.input[1]])
        done += 1
    onnx.checker.check_model(model)
    return model, done


__all__ = ["phase_kernels", "subpixel_upsamplings"]
