"""Tensor ops between layers in hand-written forwards: the layout each one gives, and the
minigrad and PyTorch function that replays it (dims renumbered NHWC <-> NCHW)."""
from __future__ import annotations

import operator
from typing import Callable

import minigrad.functional as F
from minigrad.interop.layouts import IMAGE, PLAIN, describe, flatten_layout
from minigrad.tensor import Tensor


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
            raise ValueError(f"{where}: {name} of a {' and a '.join(map(describe, kinds))} tensor "
                             f"broadcasts differently in NHWC and NCHW")
        return kinds[0] if kinds else PLAIN
    if name == "flatten":
        return flatten_layout(where, layouts[0], attrs["start_dim"], attrs["end_dim"], shapes[0])
    if name == "reshape":
        if layouts[0] != PLAIN and (len(attrs["shape"]) != 2 or attrs["shape"][0] not in (shapes[0][0], -1)):
            raise ValueError(f"{where}: reshape of a {describe(layouts[0])} to {attrs['shape']} "
                             f"orders elements differently in NHWC and NCHW; use flatten(1)")
        return flatten_layout(where, layouts[0], 1, -1, shapes[0])
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
            raise ValueError(f"{where}: pad of {describe(layouts[0])} features has no PyTorch equivalent")
        return layouts[0]
    if name == "cat":
        if len(set(layouts)) > 1 or isinstance(layouts[0], tuple):
            raise ValueError(f"{where}: cat of {[describe(lay) for lay in layouts]} tensors has no "
                             f"layout-preserving PyTorch equivalent")
        return layouts[0]
    raise ValueError(f"{where}: the op {name!r} cannot be translated; supported between layers: "
                     f"{', '.join(UNARY + BINARY + REDUCTIONS + ('flatten', 'reshape', 'pad', 'cat'))}")


def dims_to(mapping: dict, attrs: dict, ndim: int) -> dict:
    """attrs with ``dim`` translated by ``mapping`` (for 4-D inputs)."""
    dims = _dims(attrs.get("dim"))
    if ndim != 4 or dims is None:
        return attrs
    mapped = tuple(mapping[d % 4] for d in dims)
    return {**attrs, "dim": mapped if isinstance(attrs["dim"], (tuple, list)) else mapped[0]}


def pad_spec(attrs: dict, ndim: int, source_dim: dict) -> dict:
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
    "pick": operator.getitem,            # one value of a layer that returns several (output, indices)
}


def torch_functions(torch) -> dict[str, Callable]:
    def reduction(fn):
        return lambda x, dim=None, keepdim=False: fn(x) if dim is None else fn(x, dim=dim, keepdim=keepdim)
    return {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
            "neg": operator.neg, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "exp": torch.exp, "clone": torch.clone, "leaky_relu": torch.nn.functional.leaky_relu,
            "flatten": torch.flatten, "mean": reduction(torch.mean), "sum": reduction(torch.sum),
            "amax": reduction(torch.amax), "cat": torch.cat, "reshape": torch.reshape,
            "pad": lambda x, pad, value=0.0: torch.nn.functional.pad(x, pad, value=value)}


TORCH_SIGNATURES = {name: () for name in UNARY + BINARY}
TORCH_SIGNATURES.update(leaky_relu=(("negative_slope", 0.01),), pad=(("pad", None), ("value", 0.0)), flatten=(("start_dim", 0), ("end_dim", -1)),
                        cat=(("dim", 0),), **{r: (("dim", None), ("keepdim", False)) for r in REDUCTIONS})


def torch_names(torch) -> dict:
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


def bind_torch_args(where: str, name: str, args: tuple, kwargs: dict) -> dict:
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
