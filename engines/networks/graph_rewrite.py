"""ONNX graph rewrites that make the packaged networks cheaper to run, without changing their output.

The 26-style network spells each of its 18 instance norms as ten elementwise nodes (mean, subtract,
square, mean, +eps, sqrt, reciprocal, multiply, scale, shift): ten passes over large activations.
``fuse_instance_norms`` replaces each chain with one InstanceNormalization node, whose scale and
shift are still computed from the style weights inside the graph, so blends keep working.
"""
from __future__ import annotations

from pathlib import Path

import onnx
from onnx import helper, numpy_helper

from engines.cache_dir import cache_dir, file_digest


def _consumers(graph) -> dict[str, list]:
    users: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    return users


def _constant_value(graph, name: str):
    for node in graph.node:
        if node.op_type == "Constant" and node.output[0] == name:
            return numpy_helper.to_array(node.attribute[0].t)
    for init in graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    return None


def _only(users, name: str, op: str):
    nodes = users.get(name, [])
    return nodes[0] if len(nodes) == 1 and nodes[0].op_type == op else None


def _match_norm(graph, users, mean1):
    """The chain that starts at ReduceMean ``mean1`` as (nodes, x, eps, scale, shift, output), or None."""
    x = mean1.input[0]
    sub = next((n for n in users.get(mean1.output[0], []) if n.op_type == "Sub" and n.input[0] == x), None)
    if sub is None:
        return None
    square = next((n for n in users.get(sub.output[0], []) if n.op_type == "Pow"), None)
    scale_by = next((n for n in users.get(sub.output[0], []) if n.op_type == "Mul"), None)
    mean2 = square and _only(users, square.output[0], "ReduceMean")
    add_eps = mean2 and _only(users, mean2.output[0], "Add")
    root = add_eps and _only(users, add_eps.output[0], "Sqrt")
    inverse = root and _only(users, root.output[0], "Div")
    if not (scale_by and inverse and scale_by.input[1] == inverse.output[0]):
        return None
    gamma_mul = _only(users, scale_by.output[0], "Mul")
    beta_add = gamma_mul and _only(users, gamma_mul.output[0], "Add")
    if not beta_add:
        return None
    eps = _constant_value(graph, add_eps.input[1])
    one = _constant_value(graph, inverse.input[0])
    exponent = _constant_value(graph, square.input[1])
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
    users = _consumers(graph)
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


def fused_model(path: Path) -> Path:
    """The cached fused copy of the ONNX file at ``path`` (made once, keyed by the file's sha256);
    the file itself when nothing in it can be fused."""
    target = cache_dir("models") / f"{path.stem}-fused-{file_digest(path)[:16]}.onnx"
    if target.is_file():
        return target
    model, replaced = fuse_instance_norms(onnx.load(str(path)))
    if replaced == 0:
        return path
    tmp = target.with_suffix(".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(target)
    return target


__all__ = ["fuse_instance_norms", "fused_model"]
