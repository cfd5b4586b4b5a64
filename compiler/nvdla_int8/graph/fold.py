"""Fold per-channel affine nodes (BatchNormalization, Mul/Add by a constant) and activations into
the convolution that produces their input, in float64, before quantization.

Each fold is exact algebra: conv(x)*a + b = conv'(x) with W'[k] = a[k] W[k], b' = a b + shift.
An affine or activation node is accepted only directly behind a convolution whose output nobody
else reads, and an affine only before the activation; anything else is refused with the node's
name, because running it anywhere else would need hardware we do not program.
"""
from __future__ import annotations



from ..errors import InputError
from .ir import ConvLayer, Graph, HostOp
from ..importers.onnx import ActNode, Affine


def fold(graph: Graph, raw_ops: list, where: str = "") -> Graph:
    readers: dict[str, int] = {}
    for o in raw_ops:
        readers[o.input] = readers.get(o.input, 0) + 1
    by_output: dict[str, ConvLayer] = {}
    out_ops: list = []
    for o in raw_ops:
        if isinstance(o, (ConvLayer, HostOp)):
            if isinstance(o, ConvLayer):
                by_output[o.output] = o
            out_ops.append(o)
            continue
        conv = by_output.get(o.input)
        if conv is None:
            raise InputError(f"node {o.name!r} ({o.op}): only supported directly after a Conv/Gemm/MatMul; "
                             f"its input {o.input!r} comes from elsewhere", where=where or None)
        if readers.get(o.input, 0) > 1:
            raise InputError(f"node {o.name!r} ({o.op}): cannot be folded because tensor {o.input!r} also feeds "
                             "other nodes", where=where or None)
        if isinstance(o, Affine):
            if conv.act is not None:
                raise InputError(f"node {o.name!r} ({o.op}): a per-channel {o.op} after the activation "
                                 f"{conv.act.source!r} cannot be folded into {conv.name!r}", where=where or None)
            conv.weight = conv.weight * o.scale[:, None, None, None]
            conv.bias = conv.bias * o.scale + o.shift
        elif isinstance(o, ActNode):
            if conv.act is not None:
                raise InputError(f"node {o.name!r} ({o.op}): a second activation after {conv.act.source!r} is not "
                                 "supported", where=where or None)
            conv.act = o.act
        conv.fused.append(o.name)
        del by_output[conv.output]
        conv.output = o.output
        by_output[conv.output] = conv
    graph.ops = out_ops
    _check_chain(graph, where)
    return graph


def _check_chain(graph: Graph, where: str) -> None:
    known = {graph.input}
    for o in graph.ops:
        if o.input not in known:
            raise InputError(f"node {o.name!r} ({getattr(o, 'op', '?')}): input {o.input!r} is not produced by any "
                             "supported node", where=where or None)
        known.add(o.output)
    if graph.output not in known:
        raise InputError(f"graph output {graph.output!r} is not produced by any supported node", where=where or None)


def load_graph(path) -> Graph:
    """Import and fold: the compiler's front end."""
    from ..importers.onnx import import_onnx

    graph, raw = import_onnx(path)
    return fold(graph, raw, str(path))


