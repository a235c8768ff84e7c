"""Reading an ONNX graph: which nodes read a value, what a constant holds, a node's attributes.
Shared by the rewrites of the packaged networks (graph_rewrite.py, subpixel.py)."""
from __future__ import annotations

from engines.optional import helper, numpy_helper


def consumers(graph) -> dict[str, list]:
    """Each value's name -> the nodes that read it."""
    users: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    return users


def constant_value(graph, name: str):
    """The array a Constant node or an initializer called ``name`` holds, or None."""
    for node in graph.node:
        if node.op_type == "Constant" and node.output[0] == name:
            return numpy_helper.to_array(node.attribute[0].t)
    for init in graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    return None


def only_user(users, name: str, op: str):
    """The one node that reads ``name``, where there is one and it is an ``op``; else None."""
    nodes = users.get(name, [])
    return nodes[0] if len(nodes) == 1 and nodes[0].op_type == op else None


def attributes(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def plain_conv(node) -> bool:
    """A convolution of one group, stride and dilation 1, without pads of its own (the packaged
    network pads with a Pad node before each)."""
    attrs = attributes(node)
    return (attrs.get("group", 1) == 1 and set(attrs.get("strides", [1])) == {1}
            and set(attrs.get("dilations", [1])) == {1} and set(attrs.get("pads", [0])) == {0})


__all__ = ["attributes", "constant_value", "consumers", "only_user", "plain_conv"]
