"""Fold per-channel affine nodes (BatchNormalization, Mul/Add by a constant), activations and
residual additions into the hardware op that produces their input, in float64, before
quantization.

Each fold is exact algebra: conv(x)*a + b = conv'(x) with W'[k] = a[k] W[k], b' = a b + shift.
An affine node is accepted only directly behind a convolution whose output nobody else reads, and
before its activation. The addition of two activations becomes the residual of the convolution
producing one of them when that convolution's output feeds nothing else and has no activation
yet; the fused layer then runs where the addition was (both operands exist by then). Any other
addition is a stand-alone `EltwiseAdd`. An activation after either is applied to the sum.
"""
from __future__ import annotations

from ..errors import InputError
from ..importers.onnx import ActNode, AddNode, Affine
from .ir import ConvLayer, EltwiseAdd, Graph, HostOp


def fold(graph: Graph, raw_ops: list, where: str = "") -> Graph:
    readers: dict[str, int] = {}
    for o in raw_ops:
        for t in (o.inputs if isinstance(o, (AddNode, HostOp, EltwiseAdd)) else [o.input]):
            readers[t] = readers.get(t, 0) + 1
    for t in graph.outputs:
        readers[t] = readers.get(t, 0) + 1
    open_ops: dict[str, ConvLayer | EltwiseAdd] = {}  # output tensor -> hardware op that may still grow
    out_ops: list = []

    def refuse(o, msg: str) -> InputError:
        return InputError(f"node {o.name!r} ({o.op}): {msg}", where=where or None)

    def extend(hw, o) -> None:
        hw.fused.append(o.name)
        del open_ops[hw.output]
        hw.output = o.output
        open_ops[hw.output] = hw

    for o in raw_ops:
        if isinstance(o, ConvLayer):
            open_ops[o.output] = o
            out_ops.append(o)
        elif isinstance(o, HostOp):
            out_ops.append(o)
        elif isinstance(o, AddNode):
            conv = next((open_ops.get(t) for t in o.inputs
                         if isinstance(open_ops.get(t), ConvLayer) and readers.get(t, 0) == 1
                         and open_ops[t].act is None and open_ops[t].residual is None), None)
            if conv is None:
                add = EltwiseAdd(o.name, list(o.inputs), o.output, graph_shape(out_ops, graph, o.inputs[0]))
                open_ops[add.output] = add
                out_ops.append(add)
                continue
            conv.residual = next(t for t in o.inputs if t != conv.output) if o.inputs[0] != o.inputs[1] else None
            if conv.residual is None:
                raise refuse(o, "adds a tensor to itself; export it as a multiplication by 2")
            out_ops.remove(conv)  # runs where the addition is: the other operand exists by then
            out_ops.append(conv)
            extend(conv, o)
        else:
            hw = open_ops.get(o.input)
            if hw is None:
                raise refuse(o, f"only supported directly after a Conv/Gemm/MatMul (or an addition, for an "
                                f"activation); its input {o.input!r} comes from elsewhere")
            if readers.get(o.input, 0) > 1:
                raise refuse(o, f"cannot be folded because tensor {o.input!r} also feeds other nodes")
            if isinstance(o, Affine):
                if not isinstance(hw, ConvLayer) or hw.residual is not None:
                    raise refuse(o, f"a per-channel {o.op} after an addition cannot be folded")
                if hw.act is not None:
                    raise refuse(o, f"a per-channel {o.op} after the activation {hw.act.source!r} cannot be folded "
                                    f"into {hw.name!r}")
                hw.weight = hw.weight * o.scale[:, None, None, None]
                hw.bias = hw.bias * o.scale + o.shift
            elif isinstance(o, ActNode):
                if hw.act is not None:
                    raise refuse(o, f"a second activation after {hw.act.source!r} is not supported")
                hw.act = o.act
            extend(hw, o)
    graph.ops = out_ops
    _check_schedule(graph, where)
    return graph


def graph_shape(ops: list, graph: Graph, tensor: str) -> tuple[int, int, int]:
    if tensor == graph.input:
        return graph.input_shape
    p = next(o for o in reversed(ops) if o.output == tensor)
    return p.shape if isinstance(p, EltwiseAdd) else p.out_shape


def _check_schedule(graph: Graph, where: str) -> None:
    known = {graph.input}
    for o in graph.ops:
        missing = [t for t in o.inputs if t not in known]
        if missing:
            raise InputError(f"node {o.name!r} ({getattr(o, 'op', '?')}): input {missing[0]!r} is not produced by any "
                             "supported node", where=where or None)
        known.add(o.output)
    for t in graph.outputs:
        if t not in known:
            raise InputError(f"graph output {t!r} is not produced by any supported node", where=where or None)


def load_graph(path) -> Graph:
    """Import and fold: the compiler's front end."""
    from ..importers.onnx import import_onnx

    graph, raw = import_onnx(path)
    return fold(graph, raw, str(path))
