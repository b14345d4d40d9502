"""The converter table: for each layer class, how to build the other framework's layer and
how to convert each weight and buffer both ways; and which containers are rebuilt child by child."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from minigrad import nn
from minigrad.interop.layouts import PLAIN, describe, flat_permutation, flatten_layout, images_only, \
    keep_layout, linear_layout, torch_module


def _same(a, layout):
    return a


def _conv_kernel_to_torch(w, layout):
    return w.transpose(3, 2, 0, 1)            # (KH, KW, C/G, O) -> (O, C/G, KH, KW); transposed conv:
                                              # (KH, KW, O/G, C) -> (C, O/G, KH, KW)


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


@dataclass(frozen=True)
class Converter:
    """How one layer class crosses over.

    torch_name: the torch.nn class; to_torch(layer, torch.nn) and from_torch(torch_layer)
    build the other side's layer (weights are copied afterwards); arrays maps each parameter
    or buffer name to (to_torch(array, input_layout), from_torch(array, input_layout));
    layout(where, input_layout) gives the output layout or raises; torch_only lists torch
    buffers minigrad does not keep, with the value to give them; elementwise layers must give
    an output shaped like their input (the generic rule's promise, checked by the trace).
    """
    torch_name: str
    to_torch: Callable
    from_torch: Callable
    arrays: dict = field(default_factory=dict)
    layout: Callable = keep_layout
    torch_only: dict = field(default_factory=dict)
    elementwise: bool = False


def _conv_to_torch(m, tnn):
    return tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                      groups=m.groups, bias=m.bias is not None)


def _conv_from_torch(t):
    if t.padding_mode != "zeros":
        raise ValueError(f"Conv2d: padding_mode={t.padding_mode!r} has no minigrad equivalent")
    return nn.Conv2d(t.in_channels, t.out_channels, t.kernel_size, t.stride, t.padding, t.dilation,
                     groups=t.groups, bias=t.bias is not None)


def _conv_transpose_to_torch(m, tnn):
    return tnn.ConvTranspose2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                               m.output_padding, m.groups, m.bias is not None, m.dilation)


def _conv_transpose_from_torch(t):
    if t.padding_mode != "zeros":
        raise ValueError(f"ConvTranspose2d: padding_mode={t.padding_mode!r} has no minigrad equivalent")
    return nn.ConvTranspose2d(t.in_channels, t.out_channels, t.kernel_size, t.stride, t.padding,
                              t.output_padding, t.groups, t.bias is not None, t.dilation)


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


def _arguments(cls) -> list:
    """The named parameters of ``cls``'s constructor (no self, no *args / **kwargs)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self" and p.kind in kinds]


def _build_like(layer: Any, target: type, side: str) -> Any:
    """``target(**attributes)``: the attributes of ``layer`` that ``target``'s constructor takes, by
    name (PyTorch's names: kernel_size, ceil_mode, negative_slope, approximate, ...).

    A constructor argument of ``layer``'s own class that ``target`` does not take raises when the
    layer holds a value other than its default, so no option is dropped silently; so does a
    required argument the layer does not hold. ``inplace`` changes no value and is never copied:
    the twin's layers return new tensors, as minigrad's do (an in-place twin would break
    PyTorch's backward where a saved output is overwritten).
    """
    name, kwargs = type(layer).__name__, {}
    for p in _arguments(target):
        if p.name == "inplace":
            continue
        if hasattr(layer, p.name):
            kwargs[p.name] = getattr(layer, p.name)
        elif p.default is inspect.Parameter.empty:
            raise ValueError(f"{name}: {side}'s {name} needs {p.name!r}, which the layer does not hold")
    for p in _arguments(type(layer)):
        value = getattr(layer, p.name, p.default)
        if p.name not in kwargs and p.name != "inplace" and p.default is not inspect.Parameter.empty \
                and value != p.default:
            raise ValueError(f"{name}: {p.name}={value!r} has no equivalent in {side}'s {name}")
    return target(**kwargs)


def _by_name(name: str, layout: Callable = keep_layout, elementwise: bool = False) -> Converter:
    """A layer without weights built on either side from the attributes the constructor takes."""
    return Converter(name, lambda m, tnn: _build_like(m, getattr(tnn, name), "PyTorch"),
                     lambda t: _build_like(t, getattr(nn, name), "minigrad"), layout=layout, elementwise=elementwise)


def _plain_only(where: str, layout):
    if layout != PLAIN:
        raise ValueError(f"{where}: its dim arguments count dims differently in NHWC and NCHW; "
                         f"a {describe(layout)} input has no layout-preserving PyTorch equivalent")
    return PLAIN


_WEIGHTS = dict(weight=(_conv_kernel_to_torch, _conv_kernel_from_torch), bias=(_same, _same))

CONVERTERS: dict[str, Converter] = {
    "Conv2d": Converter("Conv2d", _conv_to_torch, _conv_from_torch, _WEIGHTS, images_only),
    "ConvTranspose2d": Converter("ConvTranspose2d", _conv_transpose_to_torch, _conv_transpose_from_torch,
                                 _WEIGHTS, images_only),
    "Linear": Converter("Linear", lambda m, tnn: tnn.Linear(m.in_features, m.out_features, m.bias is not None),
                        lambda t: nn.Linear(t.in_features, t.out_features, t.bias is not None),
                        dict(weight=(_linear_to_torch, _linear_from_torch), bias=(_same, _same)),
                        linear_layout),
    "BatchNorm2d": _batchnorm("BatchNorm2d", images_only),
    "BatchNorm1d": _batchnorm("BatchNorm1d", keep_layout),
    "Flatten": Converter("Flatten", lambda m, tnn: tnn.Flatten(m.start_dim, m.end_dim),
                         lambda t: nn.Flatten(t.start_dim, t.end_dim), layout=flatten_layout),
    **{name: _by_name(name, images_only) for name in (
        "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "MaxUnpool2d")},
}
SUPPORTED = f"{', '.join(CONVERTERS)}, parameter-free layers named as in torch.nn, and containers"


def _torch_class(name: str) -> Any:
    return getattr(torch_module().nn, name, None)


def _holds_state(module: Any) -> bool:
    return bool(module._parameters or module._buffers)


def converter_for(module: Any) -> Converter | None:
    """The converter of a minigrad layer (its exact class from minigrad.nn), or None: the table's
    entry, else the generic rule for a layer without parameters, buffers or children whose class
    name exists in torch.nn (its constructor's arguments copied by name, elementwise)."""
    name = type(module).__name__
    if type(module) is not getattr(nn, name, None):
        return None
    if name in CONVERTERS:
        return CONVERTERS[name]
    torch_class = _torch_class(name)
    if torch_class is None or _holds_state(module) or module._modules:
        return None
    return _generic(torch_class)


def torch_converter_for(torch_layer: Any) -> tuple[str, Converter] | None:
    """(minigrad class name, converter) of a torch.nn layer of an exact torch.nn class, or None."""
    name = type(torch_layer).__name__
    if type(torch_layer) is not _torch_class(name) or not hasattr(nn, name):
        return None
    if name in CONVERTERS:
        return name, CONVERTERS[name]
    if _holds_state(torch_layer) or torch_layer._modules:
        return None
    return name, _generic(type(torch_layer))


def _generic(torch_class: type) -> Converter:
    takes_dims = any("dim" in p.name for p in _arguments(torch_class))
    return _by_name(torch_class.__name__, _plain_only if takes_dims else keep_layout, elementwise=True)


def is_container(module: Any, namespace: Any) -> bool:
    """A module of ``namespace`` (minigrad.nn or torch.nn) made only of children, whose class both
    frameworks have and can make empty (Sequential, ModuleList, ModuleDict, ...): it is rebuilt
    child by child with the same names."""
    name = type(module).__name__
    if type(module) is not getattr(namespace, name, None) or _holds_state(module) or not module._modules:
        return False
    return all(cls is not None and all(p.default is not inspect.Parameter.empty for p in _arguments(cls))
               for cls in (getattr(nn, name, None), _torch_class(name)))


def build_container(cls: type, children: dict) -> Any:
    """An empty ``cls()`` (a container class of either framework) given ``children`` by name."""
    container = cls()
    for name, child in children.items():
        setattr(container, name, child)
    return container


def submodule(module: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        module = module._modules[part]
    return module


def label(path: str, module: Any) -> str:
    return f"{path or '(root)'}: {type(module).__name__}"
