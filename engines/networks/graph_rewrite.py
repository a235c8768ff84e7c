"""ONNX graph rewrites that make the packaged networks cheaper to run.

The 26-style network spells each of its 18 instance norms as ten elementwise nodes (mean, subtract,
square, mean, +eps, sqrt, reciprocal, multiply, scale, shift): ten passes over large activations.
``fuse_instance_norms`` replaces each chain with one InstanceNormalization node, whose scale and
shift are still computed from the style weights inside the graph, so blends keep working. Its
output is the same.

Its first convolution (9x9, 3 channels to 32 at full size) is 40% of its multiply-adds, and its
kernel is nearly separable: ``separable_conv`` replaces it with a 9x1 convolution into FIRST_RANK
channels and a 1x9 one out to 32, from the kernel's SVD (Jaderberg et al.'s scheme 2): 315·16 =
5,040 multiply-adds a pixel for 7,776. Its last (9x9, 4 channels to 3 at full size) does only 324,
but ONNX Runtime runs a convolution into 3 channels outside its blocked layout (an im2col of 324
values a pixel): 17% of a frame's time. As a 9x1 into LAST_RANK channels and a 1x9 to 3 it runs
blocked, about 2.5x faster. The kernels are shared by every style (a style lives in the norms), so
one rewrite serves them all, blends too; no training. Measured (bench/first_conv.py,
docs/benchmarks/cpu.md): the first about 1.08x faster a frame in ONNX Runtime on one thread (how
the CPU engine runs a frame), the last a further 1.1x; SSIM/4 against the full kernels' output above
SEPARABLE_KEEPS for every built-in style, on sharp frames and on soft ones (a low rank keeps edges
and loses what a blurred frame's high-pass channels hold, which the instance norms scale up).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engines.cache_dir import cache_dir, file_digest
from engines.optional import helper, numpy_helper, onnx

from .onnx_graph import constant_value, consumers, only_user, plain_conv
from .subpixel import subpixel_upsamplings


def _match_norm(graph, users, mean1):
    """The chain that starts at ReduceMean ``mean1`` as (nodes, x, eps, scale, shift, output), or None."""
    x = mean1.input[0]
    sub = next((n for n in users.get(mean1.output[0], []) if n.op_type == "Sub" and n.input[0] == x), None)
    if sub is None:
        return None
    square = next((n for n in users.get(sub.output[0], []) if n.op_type == "Pow"), None)
    scale_by = next((n for n in users.get(sub.output[0], []) if n.op_type == "Mul"), None)
    mean2 = square and only_user(users, square.output[0], "ReduceMean")
    add_eps = mean2 and only_user(users, mean2.output[0], "Add")
    root = add_eps and only_user(users, add_eps.output[0], "Sqrt")
    inverse = root and only_user(users, root.output[0], "Div")
    if not (scale_by and inverse and scale_by.input[1] == inverse.output[0]):
        return None
    gamma_mul = only_user(users, scale_by.output[0], "Mul")
    beta_add = gamma_mul and only_user(users, gamma_mul.output[0], "Add")
    if not beta_add:
        return None
    eps = constant_value(graph, add_eps.input[1])
    one = constant_value(graph, inverse.input[0])
    exponent = constant_value(graph, square.input[1])
    if eps is None or one is None or exponent is None or float(one) != 1.0 or float(exponent) != 2.0:
        return None
    producers = {o: n for n in graph.node for o in n.output}
    gamma_reshape, beta_reshape = producers.get(gamma_mul.input[1]), producers.get(beta_add.input[1])
    if not (gamma_reshape and beta_reshape and gamma_reshape.op_type == beta_reshape.op_type == "Reshape"):
        return None
    chain = [mean1, sub, square, mean2, add_eps, root, inverse, scale_by, gamma_mul, beta_add]
    return chain, x, float(eps), gamma_reshape.input[0], beta_reshape.input[0], beta_add.output[0]


def fuse_instance_norms(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """A copy of ``model`` with every spelled-out instance norm fused; returns (model, how many)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    users = consumers(graph)
    replaced, drop = 0, set()
    for node in list(graph.node):
        if node.op_type != "ReduceMean" or id(node) in drop:
            continue
        match = _match_norm(graph, users, node)
        if match is None:
            continue
        chain, x, eps, scale, shift, output = match
        fused = helper.make_node("InstanceNormalization", [x, scale, shift], [output], epsilon=eps,
                                 name=f"fused_instance_norm_{replaced}")
        position = list(graph.node).index(chain[-1])
        graph.node.insert(position, fused)
        drop.update(id(n) for n in chain)
        replaced += 1
    keep = [n for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(keep)
    onnx.checker.check_model(model)
    return model, replaced


FIRST_RANK = 16          # the separable first convolution's rank: 10 kept footage (0.9988 at worst) but not
                         # smooth colour fields (0.62: calibration.smooth_frames), 14 kept them at 0.972,
                         # 16 at 0.995 (docs/benchmarks/cpu.md)
LAST_RANK = 16           # the last one's (4 channels to 3): its kernel is further from separable
                         # (1.3% of its energy left out at 12, 0.3% at 16) and 16 costs no more than 12
FIRST, LAST = (32, 3, 9, 9), (3, 4, 9, 9)
SEPARABLE = {FIRST: FIRST_RANK, LAST: LAST_RANK}  # the 9x9 kernels made separable, by shape
WHOLE_IN_BF16 = (FIRST,)  # kept whole for a runtime that runs the graph in bf16 (OpenVINO's): the
                          # pair's channels between, rounded to bf16, lost the look (SSIM/4 0.889 on real
                          # footage at 1280x720); torch's bf16 runs the pair's 9x9 sum, so nothing between
SEPARABLE_KEEPS = 0.99   # the floor of SSIM/4 against the full kernels, any style, any frame (measured:
                         # 0.9987 on held-out footage, 0.995 on smooth colour fields, 0.999 on the test scene)


def separable_conv(model: onnx.ModelProto, shape: tuple[int, int, int, int], rank: int) -> tuple[onnx.ModelProto, bool]:
    """A copy of ``model`` with its k x k convolution whose kernel is ``shape`` ([out, in, k, k])
    as a rank-``rank`` k x 1 then 1 x k pair; returns (model, whether one was found)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    conv = next((n for n in graph.node if n.op_type == "Conv" and n.input[1] in weights
                 and tuple(weights[n.input[1]].dims) == tuple(shape)), None)
    if conv is None or not plain_conv(conv):
        return model, False
    kernel = numpy_helper.to_array(weights[conv.input[1]])  # [out, in, k, k]
    k = kernel.shape[-1]
    vertical, horizontal = separable_factors(kernel, rank)
    names = (f"{conv.input[1]}.vertical", f"{conv.input[1]}.horizontal")
    graph.initializer.extend(numpy_helper.from_array(w.astype(np.float32), name) for w, name in zip((vertical, horizontal), names))
    between = f"{conv.output[0]}.rank{rank}"
    pair = [helper.make_node("Conv", [conv.input[0], names[0]], [between], kernel_shape=[k, 1], name=f"{names[0]}_conv"),
            helper.make_node("Conv", [between, names[1], *conv.input[2:]], list(conv.output), kernel_shape=[1, k],
                             name=f"{names[1]}_conv")]
    at = list(graph.node).index(conv)
    graph.node.remove(conv)
    for node in reversed(pair):
        graph.node.insert(at, node)
    if not any(conv.input[1] in n.input for n in graph.node):  # the full kernel, now read by nothing
        graph.initializer.remove(weights[conv.input[1]])
    onnx.checker.check_model(model)
    return model, True


def separable_convs(model: onnx.ModelProto, ranks: dict | None = None) -> tuple[onnx.ModelProto, int]:
    """A copy of ``model`` with each kernel of ``ranks`` ({shape: rank}; SEPARABLE by default) made
    separable at its rank; returns (model, how many were found)."""
    found = 0
    for shape, rank in (SEPARABLE if ranks is None else ranks).items():
        model, one = separable_conv(model, shape, rank)
        found += one
    return model, found


def separable_factors(kernel: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """A k x k kernel [out, in, k, k] as ``rank`` vertical filters [rank, in, k, 1] and horizontal
    ones [out, rank, 1, k] (float32): the best rank-``rank`` fit of the kernel arranged as a matrix
    of (in, row) by (out, column), from its SVD."""
    w = np.asarray(kernel, np.float64)
    out, cin, k, _ = w.shape
    u, s, vt = np.linalg.svd(w.transpose(1, 2, 0, 3).reshape(cin * k, out * k), full_matrices=False)
    root = np.sqrt(s[:rank])
    vertical = (u[:, :rank] * root).T.reshape(rank, cin, k, 1)
    horizontal = (root[:, None] * vt[:rank]).reshape(rank, out, k).transpose(1, 0, 2)[:, :, None, :]
    return vertical.astype(np.float32), horizontal.astype(np.float32)


def low_rank_kernel(kernel: np.ndarray) -> np.ndarray:
    """The k x k kernel that the separable pair of ``separable_factors`` amounts to, at the rank
    SEPARABLE gives its shape (the torch engines run those layers with it, so every engine paints
    the same pictures); any other kernel as it is."""
    rank = SEPARABLE.get(tuple(kernel.shape))
    if rank is None:
        return np.asarray(kernel, np.float32)
    vertical, horizontal = separable_factors(kernel, rank)
    return np.einsum("rik,orl->oikl", vertical[..., 0], horizontal[:, :, 0, :]).astype(np.float32)


def fused_model(path: Path, bf16: bool = False) -> Path:
    """The cached rewritten copy of the ONNX file at ``path`` (made once, keyed by the file's
    sha256): instance norms fused, the first and last convolutions separable (the first kept whole
    for a runtime that runs it in ``bf16``: WHOLE_IN_BF16), the upsamplings done at the smaller size
    (engines/networks/subpixel.py); the file itself when none applies."""
    ranks = {shape: rank for shape, rank in SEPARABLE.items() if not (bf16 and shape in WHOLE_IN_BF16)}
    named = "-".join(str(ranks.get(shape, 0)) for shape in SEPARABLE)
    target = cache_dir("models") / f"{path.stem}-fused-sep{named}-sub-{file_digest(path)[:16]}.onnx"
    if target.is_file():
        return target
    model, replaced = fuse_instance_norms(onnx.load(str(path)))
    model, separable = separable_convs(model, ranks)
    model, upsamplings = subpixel_upsamplings(model)
    if replaced == 0 and not separable and not upsamplings:
        return path
    tmp = target.with_suffix(".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(target)
    return target


__all__ = ["fuse_instance_norms", "fused_model", "low_rank_kernel", "separable_conv", "separable_convs",
           "separable_factors"]
