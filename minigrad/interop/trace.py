"""Tracing hand-written forwards. A minigrad model runs once while Op.apply and every
module's forward are wrapped, recording layer calls, the ops between them and the layout of
each value (:func:`trace`, replayed in PyTorch by :func:`fx_graph`); a PyTorch forward is
traced with torch.fx and replayed in minigrad by a :class:`Traced` module."""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad import nn
from minigrad.autograd import Op, no_grad
from minigrad.creation import zeros
from minigrad.interop.convert import converter_for, is_container, label, submodule
from minigrad.interop.functions import BINARY, MINIGRAD_FUNCTIONS, TORCH_SIGNATURES, bind_torch_args, dims_to, \
    op_layout, pad_spec, torch_functions, torch_names
from minigrad.interop.layouts import MINIGRAD_DIM, TORCH_DIM, default_layout, flatten_layout
from minigrad.tensor import Tensor


@dataclass
class Call:
    """One call of a layer from the table: inputs, output and their layouts."""
    path: str
    module: Any
    inputs: tuple
    output: Any
    input_layout: Any
    output_layout: Any


@dataclass
class _Frame:
    path: str
    module: Any
    opaque: bool                       # a table layer or a container: ops inside are not recorded
    args: tuple = ()
    output: Any = None
    events: list = field(default_factory=list)    # ("module", relative path, args, out) / ("op", name, args, attrs, out)


@dataclass
class Trace:
    """What one run of a minigrad model did: layer calls in order, the programs of the
    hand-written forwards, the layout of every value, and the output."""
    calls: list
    frames: dict
    layouts: dict
    output: Any
    keep_alive: list

    def layout_of(self, tensor: Any):
        return _layout_of(self.layouts, tensor)

    def input_layouts(self) -> dict:
        """path -> input layout of the first call of each table layer."""
        seen = {}
        for call in self.calls:
            seen.setdefault(call.path, call.input_layout)
        return seen


def _layout_of(layouts: dict, value: Any):
    """The recorded layout of a value, else the one its shape implies (4-D: an image)."""
    return layouts.get(id(value), default_layout(np.shape(getattr(value, "data", value))))


def trace(model: nn.Module, x: Tensor, *, conversion: bool = True) -> Trace:
    """Run ``model(x)`` recording every module call and the ops of hand-written forwards.

    conversion=True runs in eval mode without grad (no running-stat updates, no dropout
    randomness) and restores the mode afterwards; False runs the model as it is (compare).
    """
    paths = {id(m): p for p, m in model.named_modules()}
    frames = [_Frame("", None, False)]
    done, calls, layouts, alive = {}, [], {}, []
    original_apply = Op.__dict__["apply"]

    def layout_of(value):
        return _layout_of(layouts, value)

    def recording_apply(cls, *inputs, **attrs):
        out = original_apply.__func__(cls, *inputs, **attrs)
        frame = frames[-1]
        if not frame.opaque:
            where = f"{label(frame.path, frame.module)} ({cls.name})"
            shapes = [t.shape if isinstance(t, Tensor) else None for t in inputs]
            layouts[id(out)] = op_layout(where, cls.name, attrs, [layout_of(t) for t in inputs], shapes)
            frame.events.append(("op", cls.name, inputs, attrs, out))
            alive.append(out)
        return out

    def wrap(module):
        forward, path = module.forward, paths[id(module)]

        def recorded(*args, **kwargs):
            if kwargs:
                raise ValueError(f"interop: {label(path, module)} is called with keyword arguments "
                                 f"{sorted(kwargs)}; the trace handles positional tensors only")
            caller = frames[-1]
            entry = converter_for(module)
            if entry is not None and not (args and isinstance(args[0], Tensor)):
                raise ValueError(f"{label(path, module)} is given {type(args[0]).__name__ if args else 'no input'}, "
                                 f"not a tensor (a pool with return_indices=True returns (output, indices): "
                                 f"unpack the pair in a hand-written forward, it cannot feed the next layer "
                                 f"of a chain)")
            frame = _Frame(path, module, entry is not None or is_container(module, nn), args)
            frames.append(frame)
            try:
                out = forward(*args)
            finally:
                frames.pop()
            frame.output = out
            relative = path[len(caller.path) + 1:] if caller.path else path
            caller.events.append(("module", relative, args, out))
            alive.extend([out, *args])
            if entry is not None:
                lay_in, lay_out = _layer_layouts(label(path, module), module, entry, args, out, layout_of)
                for value in (out, *(out if isinstance(out, tuple) else ())):
                    layouts[id(value)] = lay_out
                calls.append(Call(path, module, args, out, lay_in, lay_out))
            elif not frame.opaque:
                done.setdefault(path, frame)
            return out
        return recorded

    modules = list(model.modules())
    training = {id(m): m.training for m in modules}
    try:
        Op.apply = classmethod(recording_apply)
        for module in modules:
            object.__setattr__(module, "forward", wrap(module))
        if conversion:
            model.eval()
            with no_grad():
                output = model(x)
        else:
            output = model(x)
    finally:
        Op.apply = original_apply
        for module in modules:
            module.__dict__.pop("forward", None)
            object.__setattr__(module, "training", training[id(module)])
    return Trace(calls, done, layouts, output, alive + [x])


def example_input(model: nn.Module, input_shape: tuple) -> Tensor:
    dtype = next((p.dtype for p in model.parameters() if p.dtype.kind == "f"), None)
    return zeros(*input_shape, dtype=dtype)


def _layer_layouts(where: str, module: Any, entry: Any, args: tuple, out: Any, layout_of) -> tuple:
    """(input layout, output layout) of one call of a converted layer, or a ValueError."""
    lay_in = layout_of(args[0])
    if entry.elementwise and np.shape(getattr(out, "data", out)) != args[0].shape:
        raise ValueError(f"{where}: converted by the generic rule for parameter-free layers, which keeps "
                         f"layouts and so holds only for elementwise layers, but it maps {args[0].shape} "
                         f"to {np.shape(getattr(out, 'data', out))}; it needs an entry in CONVERTERS")
    if entry.layout is flatten_layout:
        return lay_in, flatten_layout(where, lay_in, module.start_dim, module.end_dim, args[0].shape)
    return lay_in, entry.layout(where, lay_in)


def _live_events(frame: _Frame) -> list:
    """The events the frame's output depends on, in execution order."""
    needed, live = {id(v) for v in _flat_args([frame.output])}, []
    for event in reversed(frame.events):
        if any(id(v) in needed for v in _flat_args([event[-1]])):
            live.append(event)
            needed.update(id(a) for a in _flat_args(event[2]))
    return live[::-1]


def _flat_args(args) -> list:
    out = []
    for a in args:
        out.extend(_flat_args(a) if isinstance(a, (list, tuple)) else [a])
    return out


def fx_graph(torch, frame: _Frame):
    """The torch.fx graph replaying a hand-written forward's recorded calls and ops."""
    functions = torch_functions(torch)
    graph, env = torch.fx.Graph(), {}
    where = label(frame.path, frame.module)
    for i, arg in enumerate(frame.args):
        env[id(arg)] = graph.placeholder(f"input_{i}" if i else "x")

    def resolve(value):
        if isinstance(value, (list, tuple)):
            return type(value)(resolve(v) for v in value)
        if isinstance(value, Tensor):
            if id(value) in env:
                return env[id(value)]
            if value.ndim == 0:
                return value.item()
            owned = {id(p): n for n, p in frame.module.named_parameters()}
            what = f"its parameter {owned[id(value)]!r} directly" if id(value) in owned else \
                "a tensor made inside forward (not an input, a child's output or an op result)"
            raise ValueError(f"to_torch: {where} uses {what}; move it into a layer")
        if isinstance(value, np.ndarray):
            raise ValueError(f"to_torch: {where} uses a NumPy array {value.shape} as a constant")
        return value

    for event in _live_events(frame):
        if event[0] == "module":
            node = graph.call_module(event[1], tuple(resolve(a) for a in event[2]))
            for i, value in enumerate(event[-1] if isinstance(event[-1], tuple) else ()):
                env[id(value)] = graph.call_function(operator.getitem, (node, i))      # (output, indices)
        else:
            _, name, inputs, attrs, out = event
            ndim = inputs[0].ndim if isinstance(inputs[0], Tensor) else 0
            if name == "reshape" and ndim == 4:                  # op_layout allowed only (N, -1)
                name, attrs = "flatten", {"start_dim": 1}
            attrs = pad_spec(attrs, ndim, MINIGRAD_DIM) if name == "pad" else dims_to(TORCH_DIM, attrs, ndim)
            node = graph.call_function(functions[name], tuple(resolve(a) for a in inputs), attrs)
        env[id(event[-1])] = node
    graph.output(resolve(frame.output))
    return graph


# ----- PyTorch -> minigrad -----------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """A value computed earlier in a :class:`Traced` program (index into its values)."""
    index: int


class Traced(nn.Module):
    """A minigrad module whose forward replays the steps traced from a PyTorch forward.

    steps: ("module", child path, args, {}) or ("function", name in MINIGRAD_FUNCTIONS, args,
    kwargs); args hold Ref(i) for earlier values (0..inputs-1 are the forward's inputs).
    """

    def __init__(self, traced_from: str, children: dict, steps: list, inputs: int, output: Any) -> None:
        super().__init__()
        for name, child in children.items():
            setattr(self, name, child)
        self.traced_from, self.steps, self.inputs, self.output = traced_from, steps, inputs, output

    def forward(self, *args):
        if len(args) != self.inputs:
            raise TypeError(f"{self.traced_from} (traced): expected {self.inputs} inputs, got {len(args)}")
        values = list(args)

        def resolve(value):
            if isinstance(value, Ref):
                return values[value.index]
            return type(value)(resolve(v) for v in value) if isinstance(value, (list, tuple)) else value
        for kind, target, step_args, kwargs in self.steps:
            fn = submodule(self, target) if kind == "module" else MINIGRAD_FUNCTIONS[target]
            values.append(fn(*resolve(step_args), **kwargs))
        return resolve(self.output)

    def __repr__(self) -> str:
        return f"Traced[{self.traced_from}]" + super().__repr__()[len("Traced"):]


def torch_inputs(torch, torch_model, input_shape: tuple) -> dict:
    """id(module) -> the positional inputs of its first call, running on zeros."""
    seen, handles = {}, []

    def remember(module, args):
        seen.setdefault(id(module), args)
    for module in torch_model.modules():
        handles.append(module.register_forward_pre_hook(remember))
    first = next((p for p in torch_model.parameters() if p.is_floating_point()), None)
    dtype, device = (torch.float32, "cpu") if first is None else (first.dtype, first.device)
    shape = tuple(input_shape)
    try:
        torch_model(torch.zeros(shape[:1] + shape[-1:] + shape[1:-1] if len(shape) == 4 else shape,
                                dtype=dtype, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return seen


def traced_from_fx(torch, module, children: dict, example: tuple, where: str) -> Traced:
    from torch.fx.passes.shape_prop import ShapeProp

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m, qualname):      # every submodule is a step of the program
            return True
    try:
        graph = Tracer().trace(module)
    except Exception as error:  # fx raises many kinds (TraceError, TypeError, ...)
        raise ValueError(f"{where}: torch.fx cannot trace its forward ({error})") from error
    gm = torch.fx.GraphModule(module, graph)
    ShapeProp(gm).propagate(*example)
    names, index, steps, inputs = torch_names(torch), {}, [], 0

    def shape_of(node):
        meta = node.meta.get("tensor_meta") if isinstance(node, torch.fx.Node) else None
        return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None

    def ref(arg):
        if isinstance(arg, (list, tuple)):
            return type(arg)(ref(a) for a in arg)
        return Ref(index[arg]) if isinstance(arg, torch.fx.Node) else arg

    for node in graph.nodes:
        if node.op == "placeholder":
            index[node], inputs = inputs, inputs + 1
            continue
        if node.op == "output":
            output = ref(node.args[0])
            continue
        if node.op == "call_module":
            steps.append(("module", node.target, ref(node.args), {}))
        elif node.target is operator.getitem and isinstance(node.args[0], torch.fx.Node) and \
                isinstance(node.args[0].meta.get("tensor_meta"), (tuple, list)):
            steps.append(("function", "pick", (ref(node.args[0]), node.args[1]), {}))  # (output, indices)[i]
        elif node.op in ("call_function", "call_method") and names.get(node.target) in TORCH_SIGNATURES:
            name = names[node.target]
            first = node.args[0]
            kwargs = bind_torch_args(where, name, node.args[1:] if name not in BINARY else (), dict(node.kwargs))
            tensors = ref(node.args if name in BINARY else (first,))
            probe = first[0] if name == "cat" else first
            shape = shape_of(probe)
            ndim = len(shape) if shape else 0
            kwargs = pad_spec(kwargs, ndim, TORCH_DIM) if name == "pad" else dims_to(MINIGRAD_DIM, kwargs, ndim)
            steps.append(("function", name, tensors, kwargs))
        else:
            target = getattr(node.target, "__name__", node.target)
            raise ValueError(f"{where}: its forward calls {node.op} {target!r}, which has no "
                             f"minigrad translation; supported: {', '.join(TORCH_SIGNATURES)}")
        index[node] = inputs + len(steps) - 1
    return Traced(type(module).__name__, children, steps, inputs, output)
