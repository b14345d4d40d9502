"""The torch twin: move models between minigrad (NHWC) and PyTorch (NCHW), and say where
two implementations of the same model part ways.

    to_torch(model, input_shape)              minigrad Module -> torch.nn.Module
    from_torch(torch_model, input_shape)      torch.nn.Module -> minigrad Module
    state_dict_to_torch(sd, model, input_shape) / state_dict_from_torch(torch_sd, model, input_shape)
    compare(model, torch_model, x, ...)       per-layer differences and the first divergent layer

``input_shape`` is minigrad's, NHWC with the batch: ``(N, H, W, C)`` (or ``(N, F)``).

How a model is converted:

* Layers in ``CONVERTERS`` (one entry per layer class: how to build the other side's layer,
  how to convert each weight and buffer both ways) become the other framework's layer.
  ``Sequential`` (and ``ModuleList`` / ``ModuleDict`` where minigrad has them) become the
  other framework's container, with the same child names, so parameter names and order match.
* Any other module is a hand-written forward. It is converted by *tracing*: the model runs
  once on zeros of ``input_shape``; the calls to its children and the tensor ops between
  them (``+``, ``relu``, ``flatten``, ``mean``, ``cat``, ...) are recorded and replayed by
  the twin (a ``torch.fx.GraphModule`` in PyTorch, a :class:`Traced` module in minigrad).
  Control flow that depends on values is not seen by a trace; a module that uses its own
  parameters outside a child, or an op the twin cannot translate, gets an error naming its
  class and path.
* Layouts: 4-D tensors are images, NHWC here and NCHW there. Conv kernels
  ``(KH, KW, C_in/G, C_out) <-> (C_out, C_in/G, KH, KW)``, Linear ``(in, out) <-> (out, in)``.
  A Flatten of an ``(N, H, W, C)`` map orders features ``(h, w, c)`` here and ``(c, h, w)``
  there, so the Linear (or BatchNorm1d) that consumes them gets its rows permuted; the
  trace follows that order through elementwise layers to the layer that absorbs it.
"""
from __future__ import annotations

import operator
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import minigrad.functional as F
from minigrad import nn
from minigrad.autograd import Op, no_grad
from minigrad.creation import zeros
from minigrad.tensor import Tensor

IMAGE = "image"        # a 4-D map: NHWC in minigrad, NCHW in PyTorch
PLAIN = "plain"        # the same array on both sides
# a flattened image is the tuple (H, W, C): minigrad orders its features (h, w, c), PyTorch (c, h, w)


def torch_module():
    """``import torch``, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as error:
        raise ImportError("minigrad.interop needs PyTorch, which is not installed: "
                          "pip install torch") from error
    return torch


# ----- layouts ----------------------------------------------------------------------------
def flat_permutation(hwc: tuple) -> np.ndarray:
    """perm with minigrad feature i == PyTorch feature perm[i] after flattening an (H, W, C) map."""
    H, W, C = hwc
    return np.arange(C * H * W).reshape(C, H, W).transpose(1, 2, 0).ravel()


def array_from_torch(a: np.ndarray, layout) -> np.ndarray:
    """A PyTorch-side value (NCHW, or (c, h, w)-ordered features) in minigrad's layout."""
    if layout == IMAGE:
        return a.transpose(0, 2, 3, 1)
    if isinstance(layout, tuple):
        return a[..., flat_permutation(layout)]
    return a


def array_to_torch(a: np.ndarray, layout) -> np.ndarray:
    """A minigrad value in PyTorch's layout (the inverse of :func:`array_from_torch`)."""
    if layout == IMAGE:
        return a.transpose(0, 3, 1, 2)
    if isinstance(layout, tuple):
        return a[..., np.argsort(flat_permutation(layout))]
    return a


def default_layout(shape: tuple):
    return IMAGE if len(shape) == 4 else PLAIN


TORCH_DIM = {0: 0, 1: 2, 2: 3, 3: 1}        # NHWC dim -> NCHW dim
MINIGRAD_DIM = {v: k for k, v in TORCH_DIM.items()}


# ----- the converter table ----------------------------------------------------------------
def _same(a, layout):
    return a


def _conv_kernel_to_torch(w, layout):
    return w.transpose(3, 2, 0, 1)            # (KH, KW, C/G, O) -> (O, C/G, KH, KW)


def _conv_kernel_from_torch(w, layout):
    return w.transpose(2, 3, 1, 0)


def _linear_to_torch(w, layout):
    if isinstance(layout, tuple):
        w = w[np.argsort(flat_permutation(layout))]
    return w.T                                # (in, out) -> (out, in)


def _linear_from_torch(w, layout):
    w = w.T
    return w[flat_permutation(layout)] if isinstance(layout, tuple) else w


def _features_to_torch(v, layout):
    return v[np.argsort(flat_permutation(layout))] if isinstance(layout, tuple) else v


def _features_from_torch(v, layout):
    return v[flat_permutation(layout)] if isinstance(layout, tuple) else v


def _images_only(where: str, layout):
    if layout != IMAGE:
        raise ValueError(f"{where}: expects a 4-D image, got a {_describe(layout)} input")
    return IMAGE


def _keep(where: str, layout):
    return layout


def _linear_layout(where: str, layout):
    if layout == IMAGE:
        raise ValueError(f"{where}: a Linear applied to a 4-D map acts on channels in minigrad "
                         f"(NHWC) but on width in PyTorch (NCHW); flatten first")
    return PLAIN


def _flatten_layout(where: str, layout, start: int, end: int, shape: tuple):
    """Flattening dims start..end of a value of ``layout`` and ``shape``."""
    if layout == IMAGE:
        if (start, end % 4) != (1, 3):
            raise ValueError(f"{where}: only flatten(start_dim=1) of a 4-D map has a PyTorch "
                             f"equivalent, got start_dim={start}, end_dim={end}")
        hwc = tuple(shape[1:])
        return PLAIN if hwc[2] == 1 or hwc[0] * hwc[1] == 1 else hwc      # the same order when 1 x 1 or 1 channel
    return layout


def _describe(layout) -> str:
    return {IMAGE: "4-D image", PLAIN: "plain"}.get(layout, f"flattened {layout} (H, W, C) map")


@dataclass(frozen=True)
class Converter:
    """How one layer class crosses over.

    torch_name: the torch.nn class; to_torch(layer, torch.nn) and from_torch(torch_layer)
    build the other side's layer (weights are copied afterwards); arrays maps each parameter
    or buffer name to (to_torch(array, input_layout), from_torch(array, input_layout));
    layout(where, input_layout) gives the output layout or raises; torch_only lists torch
    buffers minigrad does not keep, with the value to give them.
    """
    torch_name: str
    to_torch: Callable
    from_torch: Callable
    arrays: dict = field(default_factory=dict)
    layout: Callable = _keep
    torch_only: dict = field(default_factory=dict)


def _conv_to_torch(m, tnn):
    return tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                      groups=getattr(m, "groups", 1), bias=m.bias is not None)


def _conv_from_torch(t):
    if t.padding_mode != "zeros":
        raise ValueError(f"Conv2d: padding_mode={t.padding_mode!r} has no minigrad equivalent")
    groups = {"groups": t.groups} if t.groups != 1 else {}
    try:
        return nn.Conv2d(t.in_channels, t.out_channels, t.kernel_size, t.stride, t.padding, t.dilation,
                         bias=t.bias is not None, **groups)
    except TypeError as error:
        raise ValueError(f"Conv2d: groups={t.groups} is not supported by this minigrad's "
                         f"nn.Conv2d") from error


def _pool_from_torch(kind):
    def build(t):
        if kind == "MaxPool2d" and (t.dilation not in (1, (1, 1)) or t.ceil_mode or t.return_indices):
            raise ValueError("MaxPool2d: dilation, ceil_mode and return_indices have no minigrad equivalent")
        if kind == "AvgPool2d" and (t.ceil_mode or not t.count_include_pad or t.divisor_override):
            raise ValueError("AvgPool2d: only ceil_mode=False, count_include_pad=True and no "
                             "divisor_override match minigrad's avg_pool2d")
        return getattr(nn, kind)(t.kernel_size, t.stride, t.padding)
    return build


def _batchnorm(kind: str, layout: Callable) -> Converter:
    def to_torch(m, tnn):
        return getattr(tnn, kind)(m.num_features, eps=m.eps, momentum=m.momentum)

    def from_torch(t):
        if not (t.affine and t.track_running_stats) or t.momentum is None:
            raise ValueError(f"{kind}: only affine=True, track_running_stats=True and a numeric "
                             f"momentum match minigrad's {kind}")
        return getattr(nn, kind)(t.num_features, eps=t.eps, momentum=t.momentum)
    vectors = (_features_to_torch, _features_from_torch)
    return Converter(kind, to_torch, from_torch,
                     dict(weight=vectors, bias=vectors, running_mean=vectors, running_var=vectors),
                     layout, torch_only={"num_batches_tracked": 0})


def _simple(name: str, *attributes: str) -> Converter:
    """A layer with no weights whose constructor takes ``attributes`` on both sides."""
    return Converter(name, lambda m, tnn: getattr(tnn, name)(*(getattr(m, a) for a in attributes)),
                     lambda t: getattr(nn, name)(*(getattr(t, a) for a in attributes)))


_WEIGHTS = dict(weight=(_conv_kernel_to_torch, _conv_kernel_from_torch), bias=(_same, _same))

CONVERTERS: dict[str, Converter] = {
    "Conv2d": Converter("Conv2d", _conv_to_torch, _conv_from_torch, _WEIGHTS, _images_only),
    "Linear": Converter("Linear", lambda m, tnn: tnn.Linear(m.in_features, m.out_features, m.bias is not None),
                        lambda t: nn.Linear(t.in_features, t.out_features, t.bias is not None),
                        dict(weight=(_linear_to_torch, _linear_from_torch), bias=(_same, _same)),
                        _linear_layout),
    "MaxPool2d": Converter("MaxPool2d", lambda m, tnn: tnn.MaxPool2d(m.kernel_size, m.stride, m.padding),
                           _pool_from_torch("MaxPool2d"), layout=_images_only),
    "AvgPool2d": Converter("AvgPool2d", lambda m, tnn: tnn.AvgPool2d(m.kernel_size, m.stride, m.padding),
                           _pool_from_torch("AvgPool2d"), layout=_images_only),
    "AdaptiveAvgPool2d": Converter("AdaptiveAvgPool2d", lambda m, tnn: tnn.AdaptiveAvgPool2d(m.output_size),
                                   lambda t: nn.AdaptiveAvgPool2d(t.output_size), layout=_images_only),
    "BatchNorm2d": _batchnorm("BatchNorm2d", _images_only),
    "BatchNorm1d": _batchnorm("BatchNorm1d", _keep),
    "ReLU": _simple("ReLU"),
    "Sigmoid": _simple("Sigmoid"),
    "Tanh": _simple("Tanh"),
    "Identity": _simple("Identity"),
    "LeakyReLU": _simple("LeakyReLU", "negative_slope"),
    "Dropout": _simple("Dropout", "p"),
    "Flatten": Converter("Flatten", lambda m, tnn: tnn.Flatten(m.start_dim, m.end_dim),
                         lambda t: nn.Flatten(t.start_dim, t.end_dim), layout=_flatten_layout),
}
CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")    # rebuilt child by child, same names


def converter_for(module: Any) -> Converter | None:
    """The table entry for a minigrad layer (exact class), or None."""
    entry = CONVERTERS.get(type(module).__name__)
    return entry if entry is not None and type(module) is getattr(nn, type(module).__name__, None) else None


def torch_converter_for(torch_layer: Any) -> tuple[str, Converter] | None:
    torch = torch_module()
    for name, entry in CONVERTERS.items():
        if type(torch_layer) is getattr(torch.nn, entry.torch_name, None) and hasattr(nn, name):
            return name, entry
    return None


def _is_container(module: Any, namespace: Any) -> bool:
    return any(type(module) is getattr(namespace, name, None) for name in CONTAINERS)


def _submodule(module: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        module = module._modules[part]
    return module


def _label(path: str, module: Any) -> str:
    return f"{path or '(root)'}: {type(module).__name__}"


# ----- tensor ops between layers (hand-written forwards) ----------------------------------
UNARY = ("neg", "relu", "sigmoid", "tanh", "exp", "leaky_relu", "clone")
BINARY = ("add", "sub", "mul", "div")
REDUCTIONS = ("mean", "sum", "amax")


def _dims(dim) -> tuple | None:
    if dim is None or dim == ():
        return None
    return tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)


def op_layout(where: str, name: str, attrs: dict, layouts: list, shapes: list):
    """Output layout of op ``name`` (minigrad's NHWC dims in ``attrs``) or a ValueError."""
    if name in UNARY:
        return layouts[0]
    if name in BINARY:
        kinds = list(dict.fromkeys(lay for lay, shape in zip(layouts, shapes) if shape not in (None, ())))
        if len(kinds) > 1:
            raise ValueError(f"{where}: {name} of a {' and a '.join(map(_describe, kinds))} tensor "
                             f"broadcasts differently in NHWC and NCHW")
        return kinds[0] if kinds else PLAIN
    if name == "flatten":
        return _flatten_layout(where, layouts[0], attrs["start_dim"], attrs["end_dim"], shapes[0])
    if name == "reshape":
        if layouts[0] != PLAIN and (len(attrs["shape"]) != 2 or attrs["shape"][0] not in (shapes[0][0], -1)):
            raise ValueError(f"{where}: reshape of a {_describe(layouts[0])} to {attrs['shape']} "
                             f"orders elements differently in NHWC and NCHW; use flatten(1)")
        return _flatten_layout(where, layouts[0], 1, -1, shapes[0])
    if name in REDUCTIONS:
        dims, layout = _dims(attrs.get("dim")), layouts[0]
        if dims is None:
            return PLAIN
        dims = {d % len(shapes[0]) for d in dims}
        if layout == IMAGE:
            if attrs.get("keepdim"):
                return IMAGE
            kept = [d for d in range(4) if d not in dims]
            if kept != [d for d in (0, 3, 1, 2) if d in kept]:
                raise ValueError(f"{where}: {name} over dims {sorted(dims)} of an NHWC map leaves "
                                 f"dims in a different order than in NCHW")
            return PLAIN
        return PLAIN if isinstance(layout, tuple) and dims != {0} else layout
    if name == "pad":
        if isinstance(layouts[0], tuple):
            raise ValueError(f"{where}: pad of {_describe(layouts[0])} features has no PyTorch equivalent")
        return layouts[0]
    if name == "cat":
        if len(set(layouts)) > 1 or isinstance(layouts[0], tuple):
            raise ValueError(f"{where}: cat of {[_describe(lay) for lay in layouts]} tensors has no "
                             f"layout-preserving PyTorch equivalent")
        return layouts[0]
    raise ValueError(f"{where}: the op {name!r} cannot be translated; supported between layers: "
                     f"{', '.join(UNARY + BINARY + REDUCTIONS + ('flatten', 'reshape', 'pad', 'cat'))}")


def _dims_to(mapping: dict, attrs: dict, ndim: int) -> dict:
    """attrs with ``dim`` translated by ``mapping`` (for 4-D inputs)."""
    dims = _dims(attrs.get("dim"))
    if ndim != 4 or dims is None:
        return attrs
    mapped = tuple(mapping[d % 4] for d in dims)
    return {**attrs, "dim": mapped if isinstance(attrs["dim"], (tuple, list)) else mapped[0]}


def _pad_spec(attrs: dict, ndim: int, source_dim: dict) -> dict:
    """A pad spec (pairs for the last dim first) for the same padding in the other layout;
    source_dim maps each target dim of a 4-D tensor to the source dim it holds."""
    if ndim != 4:
        return attrs
    spec = list(attrs["pad"]) + [0] * (8 - len(attrs["pad"]))
    pairs = {3 - i: spec[2 * i:2 * i + 2] for i in range(4)}          # source dim -> (before, after)
    return {**attrs, "pad": tuple(p for t in (3, 2, 1, 0) for p in pairs[source_dim[t]])}


def _cat(tensors: list, dim: int = 0) -> Tensor:
    """torch.cat from minigrad's ops: each piece zero-padded to the full length along ``dim``,
    then summed (exact: every element is added to zeros only)."""
    ndim = tensors[0].ndim
    dim %= ndim
    sizes = [t.shape[dim] for t in tensors]
    total, start, out = sum(sizes), 0, None
    for t, size in zip(tensors, sizes):
        pad = [0] * (2 * (ndim - dim))
        pad[-2:] = [start, total - start - size]
        piece = F.pad(t, pad)
        out = piece if out is None else out + piece
        start += size
    return out


MINIGRAD_FUNCTIONS: dict[str, Callable] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "neg": operator.neg, "relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh,
    "exp": lambda x: x.exp(), "clone": lambda x: x.clone(),
    "leaky_relu": lambda x, negative_slope=0.01: F.leaky_relu(x, negative_slope),
    "flatten": lambda x, start_dim=0, end_dim=-1: x.flatten(start_dim, end_dim),
    "mean": lambda x, dim=None, keepdim=False: x.mean(dim, keepdim),
    "sum": lambda x, dim=None, keepdim=False: x.sum(dim, keepdim),
    "amax": lambda x, dim=None, keepdim=False: x.amax(dim, keepdim),
    "cat": _cat, "pad": lambda x, pad, value=0.0: F.pad(x, pad, value=value),
}


def _torch_functions(torch) -> dict[str, Callable]:
    def reduction(fn):
        return lambda x, dim=None, keepdim=False: fn(x) if dim is None else fn(x, dim=dim, keepdim=keepdim)
    return {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
            "neg": operator.neg, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "exp": torch.exp, "clone": torch.clone, "leaky_relu": torch.nn.functional.leaky_relu,
            "flatten": torch.flatten, "mean": reduction(torch.mean), "sum": reduction(torch.sum),
            "amax": reduction(torch.amax), "cat": torch.cat, "reshape": torch.reshape,
            "pad": lambda x, pad, value=0.0: torch.nn.functional.pad(x, pad, value=value)}


# ----- tracing a minigrad model -----------------------------------------------------------
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
            where = f"{_label(frame.path, frame.module)} ({cls.name})"
            shapes = [t.shape if isinstance(t, Tensor) else None for t in inputs]
            layouts[id(out)] = op_layout(where, cls.name, attrs, [layout_of(t) for t in inputs], shapes)
            frame.events.append(("op", cls.name, inputs, attrs, out))
            alive.append(out)
        return out

    def wrap(module):
        forward, path = module.forward, paths[id(module)]

        def recorded(*args, **kwargs):
            if kwargs:
                raise ValueError(f"interop: {_label(path, module)} is called with keyword arguments "
                                 f"{sorted(kwargs)}; the trace handles positional tensors only")
            caller = frames[-1]
            entry = converter_for(module)
            frame = _Frame(path, module, entry is not None or _is_container(module, nn), args)
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
                where = _label(path, module)
                lay_in = layout_of(args[0])
                lay_out = (_flatten_layout(where, lay_in, module.start_dim, module.end_dim, args[0].shape)
                           if entry.layout is _flatten_layout else entry.layout(where, lay_in))
                layouts[id(out)] = lay_out
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


def _example_input(model: nn.Module, input_shape: tuple) -> Tensor:
    dtype = next((p.dtype for p in model.parameters() if p.dtype.kind == "f"), None)
    return zeros(*input_shape, dtype=dtype)


def _live_events(frame: _Frame) -> list:
    """The events the frame's output depends on, in execution order."""
    needed, live = {id(frame.output)}, []
    for event in reversed(frame.events):
        if id(event[-1]) in needed:
            live.append(event)
            needed.update(id(a) for a in _flat_args(event[2]))
    return live[::-1]


def _flat_args(args) -> list:
    out = []
    for a in args:
        out.extend(_flat_args(a) if isinstance(a, (list, tuple)) else [a])
    return out


# ----- minigrad -> PyTorch -----------------------------------------------------------------
def to_torch(model: nn.Module, input_shape: tuple):
    """The PyTorch twin of ``model`` (NCHW), with every weight and buffer converted.

    input_shape: minigrad's input shape with the batch, e.g. (N, H, W, C). Table layers become
    torch.nn layers, containers the torch container, hand-written forwards a traced
    torch.fx.GraphModule; the twin's state_dict has the same names in the same order (plus
    BatchNorm's num_batches_tracked) and its dtype and train/eval mode are the model's.
    """
    torch = torch_module()
    record = trace(model, _example_input(model, input_shape))
    twin = _build_torch(torch, model, "", record)
    dtype = next((p.dtype for p in model.parameters() if p.dtype.kind == "f"), None)
    if dtype is not None:
        twin.to(getattr(torch, np.dtype(dtype).name))
    twin.load_state_dict(_state_to_torch(torch, model.state_dict(), model, record))
    return twin.train(model.training)


def _build_torch(torch, module: nn.Module, path: str, record: Trace):
    entry = converter_for(module)
    if entry is not None:
        return entry.to_torch(module, torch.nn)
    children = OrderedDict((name, _build_torch(torch, child, f"{path}.{name}" if path else name, record))
                           for name, child in module._modules.items())
    if _is_container(module, nn):
        kind = type(module).__name__
        return getattr(torch.nn, kind)(list(children.values()) if kind == "ModuleList" else children)
    if module._parameters or module._buffers:
        names = ", ".join(list(module._parameters) + list(module._buffers))
        raise ValueError(f"to_torch: {_label(path, module)} holds its own parameters or buffers "
                         f"({names}); only layers from the converter table may (supported: "
                         f"{', '.join(CONVERTERS)})")
    if path not in record.frames:
        raise ValueError(f"to_torch: {_label(path, module)} is not a supported layer and was not "
                         f"called when tracing the model; supported: {', '.join(CONVERTERS)}")
    graph = _fx_graph(torch, record.frames[path])
    root = torch.nn.Module()
    for name, child in children.items():
        root.add_module(name, child)
    twin = torch.fx.GraphModule(root, graph, class_name=getattr(module, "traced_from", type(module).__name__))
    twin._modules.clear()
    twin._modules.update(children)            # every child, in minigrad's order
    return twin


def _fx_graph(torch, frame: _Frame):
    """The torch.fx graph replaying a hand-written forward's recorded calls and ops."""
    functions = _torch_functions(torch)
    graph, env = torch.fx.Graph(), {}
    where = _label(frame.path, frame.module)
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
        else:
            _, name, inputs, attrs, out = event
            ndim = inputs[0].ndim if isinstance(inputs[0], Tensor) else 0
            if name == "reshape" and ndim == 4:                  # op_layout allowed only (N, -1)
                name, attrs = "flatten", {"start_dim": 1}
            attrs = _pad_spec(attrs, ndim, MINIGRAD_DIM) if name == "pad" else _dims_to(TORCH_DIM, attrs, ndim)
            node = graph.call_function(functions[name], tuple(resolve(a) for a in inputs), attrs)
        env[id(event[-1])] = node
    graph.output(resolve(frame.output))
    return graph


def state_dict_to_torch(state_dict: dict, model: nn.Module, input_shape: tuple) -> OrderedDict:
    """minigrad arrays (``model.state_dict()`` names) -> a PyTorch state_dict (torch tensors)
    for ``to_torch(model, input_shape)`` or any torch model with the same names."""
    torch = torch_module()
    return _state_to_torch(torch, state_dict, model, trace(model, _example_input(model, input_shape)))


def _layers(model: nn.Module, record: Trace, verb: str):
    """(path, layer, converter, input layout) of every parameterised module, or an error."""
    layouts = record.input_layouts()
    for path, module in model.named_modules():
        if not (module._parameters or module._buffers):
            continue
        entry = converter_for(module)
        if entry is None:
            raise ValueError(f"{verb}: {_label(path, module)} holds parameters but is not a "
                             f"supported layer; supported: {', '.join(CONVERTERS)}")
        yield path, module, entry, layouts.get(path, PLAIN)


def _state_to_torch(torch, state_dict: dict, model: nn.Module, record: Trace) -> OrderedDict:
    out = OrderedDict()
    for path, module, entry, layout in _layers(model, record, "state_dict_to_torch"):
        prefix = f"{path}." if path else ""
        for name in list(module._parameters) + list(module._buffers):
            if getattr(module, name) is None:
                continue
            value = np.asarray(getattr(state_dict[prefix + name], "data", state_dict[prefix + name]))
            out[prefix + name] = torch.from_numpy(np.ascontiguousarray(entry.arrays[name][0](value, layout)))
        for name, value in entry.torch_only.items():
            out[prefix + name] = torch.tensor(value)
    return out


def state_dict_from_torch(torch_state_dict: dict, model: nn.Module, input_shape: tuple) -> OrderedDict:
    """A PyTorch state_dict (tensors or arrays, PyTorch's layouts) -> NumPy arrays in minigrad's
    layouts for ``model.load_state_dict``; torch-only buffers (num_batches_tracked) are dropped.
    A key the model has but the checkpoint lacks raises, naming it."""
    record = trace(model, _example_input(model, input_shape))
    out = OrderedDict()
    for path, module, entry, layout in _layers(model, record, "state_dict_from_torch"):
        prefix = f"{path}." if path else ""
        for name in list(module._parameters) + list(module._buffers):
            if getattr(module, name) is None:
                continue
            if prefix + name not in torch_state_dict:
                raise KeyError(f"state_dict_from_torch: the PyTorch state_dict has no {prefix + name!r} "
                               f"for {_label(path, module)}")
            value = torch_state_dict[prefix + name]
            value = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
            out[prefix + name] = np.ascontiguousarray(entry.arrays[name][1](value, layout))
    return out


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
            fn = _submodule(self, target) if kind == "module" else MINIGRAD_FUNCTIONS[target]
            values.append(fn(*resolve(step_args), **kwargs))
        return resolve(self.output)

    def __repr__(self) -> str:
        return f"Traced[{self.traced_from}]" + super().__repr__()[len("Traced"):]


TORCH_SIGNATURES = {name: () for name in UNARY + BINARY}
TORCH_SIGNATURES.update(leaky_relu=(("negative_slope", 0.01),), pad=(("pad", None), ("value", 0.0)), flatten=(("start_dim", 0), ("end_dim", -1)),
                        cat=(("dim", 0),), **{r: (("dim", None), ("keepdim", False)) for r in REDUCTIONS})


def _torch_names(torch) -> dict:
    """fx targets (functions, or method names) -> minigrad op names."""
    tf = torch.nn.functional
    names = {operator.add: "add", torch.add: "add", operator.sub: "sub", torch.sub: "sub",
             operator.mul: "mul", torch.mul: "mul", operator.truediv: "div", torch.div: "div",
             operator.neg: "neg", torch.neg: "neg", torch.relu: "relu", tf.relu: "relu",
             torch.sigmoid: "sigmoid", tf.sigmoid: "sigmoid", torch.tanh: "tanh", tf.tanh: "tanh",
             torch.exp: "exp", tf.leaky_relu: "leaky_relu", torch.flatten: "flatten", torch.mean: "mean",
             torch.sum: "sum", torch.amax: "amax", torch.cat: "cat", torch.clone: "clone", tf.pad: "pad"}
    names.update({n: n for n in TORCH_SIGNATURES})
    names.update({"truediv": "div", "relu_": "relu", "sigmoid_": "sigmoid", "tanh_": "tanh",
                  "add_": "add", "mul_": "mul", "sub_": "sub", "div_": "div"})
    return names


def from_torch(torch_model, input_shape: tuple) -> nn.Module:
    """The minigrad twin (NHWC) of a torch.nn.Module, weights and buffers converted.

    input_shape: minigrad's input shape with the batch, (N, H, W, C); the torch model sees
    (N, C, H, W). Hand-written forwards are traced with torch.fx (each submodule a leaf).
    """
    torch = torch_module()
    modes = [(m, m.training) for m in torch_model.modules()]
    try:
        torch_model.eval()                      # tracing must not update running statistics
        with torch.no_grad():
            examples = _torch_inputs(torch, torch_model, input_shape)
            model = _build_minigrad(torch, torch_model, "", examples)
    finally:
        for module, mode in modes:
            module.training = mode
    dtype = next((p.dtype for p in torch_model.parameters() if p.is_floating_point()), None)
    if dtype is not None:
        model.to(np.dtype(str(dtype).replace("torch.", "")))
    model.load_state_dict(state_dict_from_torch(torch_model.state_dict(), model, input_shape))
    return model.train(torch_model.training)


def _torch_inputs(torch, torch_model, input_shape: tuple) -> dict:
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


def _build_minigrad(torch, module, path: str, examples: dict) -> nn.Module:
    found = torch_converter_for(module)
    if found is not None:
        try:
            return found[1].from_torch(module)
        except ValueError as error:
            raise ValueError(f"from_torch: {path or '(root)'}: {error}") from error
    children = OrderedDict((name, _build_minigrad(torch, child, f"{path}.{name}" if path else name, examples))
                           for name, child in module._modules.items())
    if _is_container(module, torch.nn) and hasattr(nn, type(module).__name__):
        kind = type(module).__name__
        if kind == "Sequential":
            return nn.Sequential(*children.values())
        return getattr(nn, kind)(list(children.values()) if kind == "ModuleList" else children)
    where = f"from_torch: {_label(path, module)}"
    if list(module.parameters(recurse=False)) or list(module.buffers(recurse=False)):
        raise ValueError(f"{where} holds its own parameters or buffers and is not a supported "
                         f"layer; supported: {', '.join(e.torch_name for e in CONVERTERS.values())}")
    if id(module) not in examples:
        raise ValueError(f"{where} is not a supported layer and was not called when tracing; "
                         f"supported: {', '.join(e.torch_name for e in CONVERTERS.values())}")
    return _traced_from_fx(torch, module, children, examples[id(module)], where)


def _traced_from_fx(torch, module, children: dict, example: tuple, where: str) -> Traced:
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
    names, index, steps, inputs = _torch_names(torch), {}, [], 0

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
        elif node.op in ("call_function", "call_method") and names.get(node.target) in TORCH_SIGNATURES:
            name = names[node.target]
            first = node.args[0]
            kwargs = _bind_torch_args(where, name, node.args[1:] if name not in BINARY else (), dict(node.kwargs))
            tensors = ref(node.args if name in BINARY else (first,))
            probe = first[0] if name == "cat" else first
            shape = shape_of(probe)
            ndim = len(shape) if shape else 0
            kwargs = _pad_spec(kwargs, ndim, TORCH_DIM) if name == "pad" else _dims_to(MINIGRAD_DIM, kwargs, ndim)
            steps.append(("function", name, tensors, kwargs))
        else:
            target = getattr(node.target, "__name__", node.target)
            raise ValueError(f"{where}: its forward calls {node.op} {target!r}, which has no "
                             f"minigrad translation; supported: {', '.join(TORCH_SIGNATURES)}")
        index[node] = inputs + len(steps) - 1
    return Traced(type(module).__name__, children, steps, inputs, output)


def _bind_torch_args(where: str, name: str, args: tuple, kwargs: dict) -> dict:
    """Positional and keyword arguments of a torch call as minigrad's keyword arguments."""
    kwargs.pop("inplace", None)
    if name == "pad" and kwargs.pop("mode", "constant") != "constant":
        raise ValueError(f"{where}: pad with a mode other than 'constant' has no minigrad equivalent")
    signature = TORCH_SIGNATURES[name]
    if len(args) > len(signature) or set(kwargs) - {p for p, _ in signature}:
        raise ValueError(f"{where}: {name} is called with arguments {args} {kwargs} that minigrad's "
                         f"{name} does not take")
    bound = {p: default for p, default in signature}
    bound.update(zip((p for p, _ in signature), args))
    bound.update(kwargs)
    return bound


# ----- compare: where two implementations part ways ----------------------------------------
TOLERANCES = {np.dtype(np.float64): (1e-8, 1e-6), np.dtype(np.float32): (1e-5, 1e-3)}    # (atol, rtol)
LOSSES = ("sum", "mse", "bce", "ce")
BCE_CLAMP = float(np.exp(-100))         # below this, BCE's log terms are clamped at -100


@dataclass(frozen=True)
class Difference:
    """max |a - b| and max |a - b| / max |b| of one quantity, and whether it is within tolerance."""
    abs: float
    rel: float
    ok: bool

    @classmethod
    def of(cls, mine: np.ndarray | None, reference: np.ndarray | None, atol: float, rtol: float) -> Difference:
        if mine is None and reference is None:
            return cls(0.0, 0.0, True)
        if mine is None or reference is None:
            present = mine if reference is None else reference
            mine, reference = (np.zeros_like(present), present) if mine is None else (present, np.zeros_like(present))
        if np.shape(mine) != np.shape(reference):
            return cls(float("inf"), float("inf"), False)
        gap = np.abs(np.asarray(mine, np.float64) - reference)
        scale = float(np.abs(reference).max(initial=0.0))
        rel = float(gap.max(initial=0.0)) / scale if scale else float(gap.max(initial=0.0))
        ok = bool(np.all(gap <= atol + rtol * np.abs(reference)))
        return cls(float(gap.max(initial=0.0)), rel, ok)

    def __str__(self) -> str:
        return f"{self.abs:.1e}/{self.rel:.1e}" + ("" if self.ok else " !")


@dataclass
class LayerDifference:
    """One layer call: its output, the gradient flowing into it from the loss (w.r.t. its
    output), its parameters' gradients and the gradient it passes on (w.r.t. its input)."""
    name: str
    output: Difference
    grad_output: Difference
    param_grads: dict
    grad_input: Difference
    weights_match: bool

    def first_failure(self, backward: bool) -> str | None:
        if not backward:
            return None if self.output.ok else "output"
        if not self.grad_output.ok:
            return "gradient w.r.t. its output"
        bad = [name for name, d in self.param_grads.items() if not d.ok]
        if bad:
            return f"gradient of {bad[0]}"
        return None if self.grad_input.ok else "gradient w.r.t. its input"


@dataclass
class CompareReport:
    """compare()'s result; ``first_divergent`` is the LayerDifference that first breaks the
    tolerance in the order the computation ran (None when all agree), ``first_quantity`` says
    which of its quantities, ``hints`` name known mistakes that match."""
    layers: list
    loss: tuple
    atol: float
    rtol: float
    first_divergent: LayerDifference | None = None
    first_quantity: str | None = None
    hints: list = field(default_factory=list)

    def __str__(self) -> str:
        width = max([len(r.name) for r in self.layers] + [5])
        head = f"   {'layer':<{width}}  {'output':<18}{'grad output':<18}{'param grads':<18}{'grad input':<18}"
        lines = [f"compare: loss minigrad {self.loss[0]:.10g}, PyTorch {self.loss[1]:.10g}; "
                 f"max abs/rel difference per quantity, ! = beyond atol={self.atol:g} rtol={self.rtol:g}",
                 head]
        for row in self.layers:
            worst = max(row.param_grads.values(), key=lambda d: (not d.ok, d.abs), default=None)
            mark = ">> " if row is self.first_divergent else "   "
            lines.append(f"{mark}{row.name:<{width}}  {str(row.output):<18}{str(row.grad_output):<18}"
                         f"{str(worst) if worst else '-':<18}{str(row.grad_input):<18}")
        if self.first_divergent is None:
            lines.append("no divergence: every output and gradient agrees within tolerance")
        else:
            lines.append(f"first divergent: {self.first_divergent.name} ({self.first_quantity})")
        lines.extend(f"hint: {hint}" for hint in self.hints)
        return "\n".join(line.rstrip() for line in lines)


def compare(model: nn.Module, torch_model=None, x: Any = None, target: Any = None, loss: str = "sum",
            atol: float | None = None, rtol: float | None = None) -> CompareReport:
    """Run ``model`` and its PyTorch twin on the same batch, backpropagate the same loss, and
    compare every layer's output, gradients and parameter gradients.

    x: minigrad's input (N, H, W, C) (array or Tensor), given to PyTorch as NCHW; target: for
    'mse' and 'bce' in the output's minigrad layout, for 'ce' integer classes (N,); loss:
    'sum' (of the output), 'mse', 'bce' or 'ce'. torch_model=None compares with
    ``to_torch(model, x.shape)``. Layers are matched by path (e.g. ``features.3``), so a
    twin made by to_torch/from_torch or any torch model with the same names works. Both
    models run in their current mode: call eval() on both for dropout. atol/rtol default to
    1e-8/1e-6 in float64 and 1e-5/1e-3 in float32.
    """
    torch = torch_module()
    if loss not in LOSSES:
        raise ValueError(f"compare: loss must be one of {LOSSES}, got {loss!r}")
    if x is None:
        raise ValueError("compare: x (the NHWC input batch) is required")
    x = np.asarray(getattr(x, "data", x))
    default_atol, default_rtol = TOLERANCES.get(x.dtype, TOLERANCES[np.dtype(np.float32)])
    atol, rtol = (default_atol if atol is None else atol), (default_rtol if rtol is None else rtol)
    if torch_model is None:
        torch_model = to_torch(model, x.shape)
    xm = Tensor(x, requires_grad=True)
    record = trace(model, xm, conversion=False)
    for call in record.calls:
        for t in (call.output, *call.inputs[:1]):
            if isinstance(t, Tensor) and t.requires_grad and not t.is_leaf:
                t.retain_grad()
    mine_loss = _minigrad_loss(loss, record.output, target)
    mine_loss.backward()
    torch_calls, torch_loss = _run_torch(torch, torch_model, x, target, loss, record)
    rows = []
    modules = dict(torch_model.named_modules())
    counts = {}
    for call in record.calls:
        k = counts[call.path] = counts.get(call.path, 0) + 1
        if len(torch_calls.get(call.path, ())) < k:
            raise ValueError(f"compare: the PyTorch model has no call of a layer at {call.path!r} "
                             f"({type(call.module).__name__}) to match minigrad's")
        rows.append(_layer_difference(call, k, torch_calls[call.path][k - 1], modules[call.path], atol, rtol))
    report = CompareReport(rows, (float(mine_loss.item()), float(torch_loss)), atol, rtol)
    for backward, order in ((False, rows), (True, rows[::-1])):
        found = next(((row, row.first_failure(backward)) for row in order if row.first_failure(backward)), None)
        if found:
            report.first_divergent, report.first_quantity = found
            break
    if report.first_divergent is not None:
        position = rows.index(report.first_divergent)
        call = record.calls[position]
        report.hints = _hints(report, call, modules[call.path], record.output.data, loss, x, torch_model)
    return report


def _minigrad_loss(loss: str, output: Tensor, target: Any) -> Tensor:
    if loss == "sum":
        return output.sum()
    if target is None:
        raise ValueError(f"compare: loss={loss!r} needs a target")
    target = np.asarray(getattr(target, "data", target))
    if loss == "ce":
        return F.cross_entropy(output, Tensor(target))
    target = Tensor(target.astype(output.dtype))
    return F.mse_loss(output, target, reduction="sum") if loss == "mse" else \
        F.binary_cross_entropy(output, target, reduction="sum")


def _run_torch(torch, torch_model, x: np.ndarray, target: Any, loss: str, record: Trace):
    """Forward and backward of the torch model with hooks: path -> [(inputs, output)] per call."""
    calls, handles = {}, []
    paths = {call.path for call in record.calls}

    def pre_hook(path):
        def hook(module, args):
            calls.setdefault(path, []).append([args, None])
            for a in args[:1]:
                if a.requires_grad and a.grad_fn is not None:
                    a.retain_grad()
            return tuple(a.clone() if torch.is_tensor(a) else a for a in args)  # in-place layers keep ours intact
        return hook

    def hook(path):
        def after(module, args, output):
            if output.requires_grad and output.grad_fn is not None:
                output.retain_grad()
            calls[path][-1][1] = output
        return after

    for path, module in torch_model.named_modules():
        if path in paths:
            handles += [module.register_forward_pre_hook(pre_hook(path)), module.register_forward_hook(hook(path))]
    xt = torch.from_numpy(array_to_torch(x, default_layout(x.shape)).copy()).requires_grad_(True)
    try:
        out = torch_model(xt)
    finally:
        for handle in handles:
            handle.remove()
    out_layout = record.layout_of(record.output)
    out = _torch_to_minigrad_layout(torch, out, out_layout)
    tf = torch.nn.functional
    if loss == "sum":
        value = out.sum()
    else:
        t = torch.from_numpy(np.asarray(getattr(target, "data", target)))
        value = (tf.cross_entropy(out, t.long(), reduction="mean") if loss == "ce" else
                 tf.mse_loss(out, t.to(out.dtype), reduction="sum") if loss == "mse" else
                 tf.binary_cross_entropy(out, t.to(out.dtype), reduction="sum"))
    value.backward()
    return calls, value.item()


def _torch_to_minigrad_layout(torch, value, layout):
    if layout == IMAGE:
        return value.permute(0, 2, 3, 1)
    if isinstance(layout, tuple):
        return value[..., torch.from_numpy(flat_permutation(layout))]
    return value


def _numpy(t) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().numpy()


def _layer_difference(call: Call, k: int, torch_call, torch_layer, atol: float, rtol: float) -> LayerDifference:
    (torch_args, torch_out), entry = torch_call, converter_for(call.module)
    name = f"{call.path or '(root)'}: {type(call.module).__name__}" + (f" (call {k})" if k > 1 else "")
    grad = lambda t: None if t is None or t.grad is None else np.asarray(t.grad.data)  # noqa: E731
    output = Difference.of(call.output.data, array_from_torch(_numpy(torch_out), call.output_layout), atol, rtol)
    grad_output = Difference.of(grad(call.output), _from_torch_grad(torch_out, call.output_layout), atol, rtol)
    grad_input = Difference.of(grad(call.inputs[0]), _from_torch_grad(torch_args[0], call.input_layout), atol, rtol)
    params, weights_match = {}, True
    for pname, p in call.module._parameters.items():
        if p is None:
            continue
        tp = getattr(torch_layer, pname)
        convert = entry.arrays[pname][1]
        tgrad = None if tp.grad is None else convert(_numpy(tp.grad), call.input_layout)
        params[pname] = Difference.of(grad(p), tgrad, atol, rtol)
        weights_match &= Difference.of(p.data, convert(_numpy(tp), call.input_layout), atol, rtol).ok
    return LayerDifference(name, output, grad_output, params, grad_input, weights_match)


def _from_torch_grad(t, layout) -> np.ndarray | None:
    if t is None or t.grad is None:
        return None
    return array_from_torch(_numpy(t.grad), layout)


def _hints(report: CompareReport, call: Call, torch_layer, prediction: np.ndarray, loss: str,
           x: np.ndarray, torch_model) -> list:
    """Known mistakes that match the first divergent layer."""
    hints = []
    torch_dtype = next((p.dtype for p in torch_model.parameters()), None)
    mine_dtype = next((p.dtype for p in call.module.parameters()), x.dtype)
    if torch_dtype is not None and str(torch_dtype).replace("torch.", "") != np.dtype(mine_dtype).name:
        hints.append(f"float32 vs float64: minigrad computes in {np.dtype(mine_dtype).name}, PyTorch in "
                     f"{str(torch_dtype).replace('torch.', '')}; differences near that precision are rounding")
    weight = call.module._parameters.get("weight")
    if weight is not None and not report.first_divergent.weights_match:
        raw = _numpy(torch_layer.weight)
        converted = converter_for(call.module).arrays["weight"][1](raw, call.input_layout)
        name = type(call.module).__name__
        if raw.size == weight.data.size and np.allclose(raw.reshape(weight.shape), weight.data):
            hints.append(f"layout not converted: {call.path}.weight holds PyTorch's {raw.shape} layout as is; "
                         f"convert with interop.state_dict_from_torch / state_dict_to_torch")
        elif name == "Conv2d" and np.allclose(converted.transpose(1, 0, 2, 3), weight.data):
            hints.append(f"transposed kernel: {call.path}.weight equals PyTorch's kernel with KH and KW "
                         f"swapped; (C_out, C_in, KH, KW) -> (KH, KW, C_in, C_out) is transpose(2, 3, 1, 0)")
        elif name == "Linear" and isinstance(call.input_layout, tuple) and np.allclose(raw.T, weight.data):
            hints.append(f"flatten order: {call.path} follows a Flatten of an (H, W, C) = {call.input_layout} "
                         f"map; PyTorch flattens (c, h, w), minigrad (h, w, c), so its rows need the "
                         f"permutation interop.state_dict_from_torch applies")
        else:
            hints.append(f"the weights differ: {call.path} does not hold the same parameters in both models")
    if type(call.module).__name__ == "MaxPool2d" and report.first_quantity != "output":
        window_input = call.inputs[0].data
        if np.unique(window_input).size < window_input.size:
            hints.append("max-pool ties: the input holds equal values; with ties minigrad and PyTorch send "
                         "the gradient to the first maximum of each window, another rule sends it elsewhere")
    if loss == "bce":
        if np.any(prediction <= BCE_CLAMP) or np.any(prediction >= 1.0):
            hints.append("BCE clamp: some probabilities are exactly 0 or 1, where BCE clamps its log terms "
                         "at -100; a model or loss that clamps or rounds differently there diverges, so "
                         "compare on inputs that do not saturate the sigmoid")
    return hints
