"""The converter table: for each layer class, how to build the other framework's layer and
how to convert each weight and buffer both ways; and which containers are rebuilt child by child."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from minigrad import nn
from minigrad.interop.layouts import flat_permutation, flatten_layout, images_only, keep_layout, \
    linear_layout, torch_module


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
    layout: Callable = keep_layout
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
    "Conv2d": Converter("Conv2d", _conv_to_torch, _conv_from_torch, _WEIGHTS, images_only),
    "Linear": Converter("Linear", lambda m, tnn: tnn.Linear(m.in_features, m.out_features, m.bias is not None),
                        lambda t: nn.Linear(t.in_features, t.out_features, t.bias is not None),
                        dict(weight=(_linear_to_torch, _linear_from_torch), bias=(_same, _same)),
                        linear_layout),
    "MaxPool2d": Converter("MaxPool2d", lambda m, tnn: tnn.MaxPool2d(m.kernel_size, m.stride, m.padding),
                           _pool_from_torch("MaxPool2d"), layout=images_only),
    "AvgPool2d": Converter("AvgPool2d", lambda m, tnn: tnn.AvgPool2d(m.kernel_size, m.stride, m.padding),
                           _pool_from_torch("AvgPool2d"), layout=images_only),
    "AdaptiveAvgPool2d": Converter("AdaptiveAvgPool2d", lambda m, tnn: tnn.AdaptiveAvgPool2d(m.output_size),
                                   lambda t: nn.AdaptiveAvgPool2d(t.output_size), layout=images_only),
    "BatchNorm2d": _batchnorm("BatchNorm2d", images_only),
    "BatchNorm1d": _batchnorm("BatchNorm1d", keep_layout),
    "ReLU": _simple("ReLU"),
    "Sigmoid": _simple("Sigmoid"),
    "Tanh": _simple("Tanh"),
    "Identity": _simple("Identity"),
    "LeakyReLU": _simple("LeakyReLU", "negative_slope"),
    "Dropout": _simple("Dropout", "p"),
    "Flatten": Converter("Flatten", lambda m, tnn: tnn.Flatten(m.start_dim, m.end_dim),
                         lambda t: nn.Flatten(t.start_dim, t.end_dim), layout=flatten_layout),
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


def is_container(module: Any, namespace: Any) -> bool:
    return any(type(module) is getattr(namespace, name, None) for name in CONTAINERS)


def submodule(module: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        module = module._modules[part]
    return module


def label(path: str, module: Any) -> str:
    return f"{path or '(root)'}: {type(module).__name__}"
