"""The autograd core: ops as a registry, graph nodes, the backward engine and grad modes.

An op is a class with a NumPy ``forward`` and, right under it, its ``vjp``. ``Op.apply``
runs ``forward`` on the Tensors' arrays and, when grad mode is on and an input requires
grad, records a :class:`Node`. ``run_backward`` walks the nodes in an iterative topological
order and calls each ``vjp`` once, with the sum of the gradients that reached it.
"""
from __future__ import annotations

import functools
import sys
import weakref
from typing import Any, Callable

import numpy as np

from minigrad.ops.base import OPS, Op, register  # noqa: F401  (re-exported: the public names)

_state = {"grad_enabled": True, "anomaly": False, "grad_norms": False}
_scopes: list[tuple[Any, str]] = []       # (module, dotted name) of the modules being called


class _Released:
    """Stands in for the saved arrays of a node after backward released them."""


RELEASED = _Released()


class Node:
    """One recorded op application: the op, edges to its inputs, saved arrays and attrs.

    ``edges[i]`` is the producing Node of input i, the input itself when it is a leaf that
    requires grad, or None when no gradient flows there.

    For drawing (``minigrad.viz``) it also keeps a little metadata: the inputs'
    (shape, dtype), the bytes ``saved`` holds, the module being called when it was
    recorded (``scope``, e.g. ``("features.0", "Conv2d")``) and, after a backward run inside
    ``record_grad_norms()``, the norm of the gradient that reached it (``grad_norm``).
    """

    __slots__ = ("op", "edges", "saved", "attrs", "saved_versions", "retained", "input_meta",
                 "saved_nbytes", "scope", "grad_norm", "__weakref__")

    def __init__(self, op: type[Op], inputs: list, output, saved: Any, attrs: dict) -> None:
        self.op = op
        self.edges = [None if not t.requires_grad else (t.grad_fn or t) for t in inputs]
        self.saved = saved
        self.attrs = attrs
        arrays = _saved_arrays(saved)
        self.saved_versions = _versions_of_saved(arrays, inputs + [output])
        self.retained = None
        self.input_meta = tuple((t.shape, t.dtype) for t in inputs)
        self.saved_nbytes = sum({id(a): a.nbytes for a in arrays}.values())
        self.scope = (_scopes[-1][1], type(_scopes[-1][0]).__name__) if _scopes else None
        self.grad_norm = None

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def next_functions(self) -> tuple:
        return tuple(self.edges)

    def __repr__(self) -> str:
        return f"<Node {self.name}>"


def _saved_arrays(saved: Any) -> list[np.ndarray]:
    items = saved if isinstance(saved, (tuple, list)) else (saved,)
    return [a for a in items if isinstance(a, np.ndarray)]


def _versions_of_saved(arrays: list[np.ndarray], tensors: list) -> list:
    """(counter, version) of every tensor whose memory one of the saved ``arrays`` may alias."""
    return [(t._version_counter, t._version_counter.value) for t in tensors
            if any(np.may_share_memory(a, t.data) for a in arrays)]


def check_forward(op: type[Op], y: np.ndarray) -> None:
    """Under ``detect_anomaly``: raise naming ``op`` when its forward returned NaN or Inf."""
    if _state["anomaly"]:
        _check_finite(y, f"detect_anomaly: the forward of {op.name!r} returned NaN or Inf "
                         f"(output shape {y.shape})")


def _check_finite(a: np.ndarray, message: str) -> None:
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise RuntimeError(message)


def _check_saved_versions(node: Node) -> None:
    for counter, version in node.saved_versions:
        if counter.value != version:
            raise RuntimeError(
                f"{node.name}: a tensor saved for backward was modified by an in-place "
                f"operation (version {version} when saved, version {counter.value} now). "
                f"Modify a clone instead, or do the in-place change before {node.name}.")


def _call_vjp(node: Node, g: np.ndarray) -> tuple:
    if node.saved is RELEASED:
        raise RuntimeError(
            f"backward: trying to backward through the graph a second time (through "
            f"{node.name!r}, whose saved arrays were freed by the first backward). "
            f"Pass retain_graph=True to the first backward() to keep them.")
    _check_saved_versions(node)
    grads = node.op.vjp(g, node.saved, tuple(e is not None for e in node.edges))
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(node.edges):
        raise RuntimeError(f"{node.name}: vjp returned {len(grads)} gradients for "
                           f"{len(node.edges)} inputs")
    return grads


def _count_consumers(root: Node) -> dict[Node, int]:
    """For every node reachable from ``root``: how many edges in the graph point at it."""
    consumers: dict[Node, int] = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        for edge in node.edges:
            if isinstance(edge, Node):
                if edge not in consumers:
                    consumers[edge] = 0
                    stack.append(edge)
                consumers[edge] += 1
    return consumers


def _references_to_item(items: tuple, k: int) -> int:
    return sys.getrefcount(items[k])


def _private_arrays(grads: tuple) -> list[bool]:
    """Which gradients a vjp made fresh for this backward alone: whole, writeable arrays that
    nothing but ``grads`` refers to (not the incoming gradient, not saved, not sent twice).

    A leaf may keep such an array as its ``.grad`` instead of copying it, as PyTorch's
    AccumulateGrad does when the gradient's use count is 1. The count is compared with that
    of an object only a tuple holds, measured the same way and at the same moment, so the
    interpreter's own temporary references cancel out.
    """
    only_in_a_tuple = _references_to_item((object(),), 0)
    return [_references_to_item(grads, k) == only_in_a_tuple and _whole_writeable(grads[k])
            for k in range(len(grads))]       # counted first: naming grads[k] adds a reference


def _whole_writeable(a: Any) -> bool:
    return (isinstance(a, np.ndarray) and a.base is None and a.flags.writeable
            and a.flags.c_contiguous)


def _accumulate_leaf(leaf, g: np.ndarray, private: bool = False) -> None:
    """Add ``g`` to ``leaf.grad``; a ``private`` array (see ``_private_arrays``) is kept, not copied."""
    from minigrad.tensor import Tensor

    if g.shape != leaf.shape:
        raise RuntimeError(f"backward: gradient of shape {g.shape} for a leaf of shape "
                           f"{leaf.shape}")
    if leaf.grad is None:
        data = g if private and g.dtype == leaf.dtype else np.array(g, dtype=leaf.dtype)
        leaf.grad = Tensor._from_op(data, requires_grad=False)
    else:
        leaf.grad.data += g
        leaf.grad._version_counter.bump()


def run_backward(root, gradient: np.ndarray, retain_graph: bool) -> None:
    """Propagate ``gradient`` (shaped like ``root``) from ``root`` to the leaves.

    Kahn's algorithm: a node runs once all its consumers have sent their gradients, so
    gradients meeting at a shared node are summed first. No recursion, any depth.
    """
    if root.grad_fn is None:
        _accumulate_leaf(root, gradient)
        return
    consumers = _count_consumers(root.grad_fn)
    pending: dict[Node, np.ndarray | None] = {root.grad_fn: gradient}
    ready = [root.grad_fn]
    while ready:
        node = ready.pop()
        g = pending.pop(node)
        grads = (None,) * len(node.edges)
        if g is not None:
            if _state["grad_norms"]:
                node.grad_norm = float(np.linalg.norm(g))
            _store_retained_grad(node, g)
            grads = _call_vjp(node, g)
            if _state["anomaly"]:
                for i, gi in enumerate(grads):
                    if gi is not None:
                        _check_finite(np.asarray(gi), f"detect_anomaly: the backward of "
                                      f"{node.name!r} returned NaN or Inf in the gradient "
                                      f"of input {i}")
            if not retain_graph and node.saved is not None:
                node.op.release(node.saved)
                node.saved = RELEASED
        private = _private_arrays(grads)
        for edge, gi, gi_private in zip(node.edges, grads, private):
            if edge is None:
                continue
            if gi is not None:
                gi = np.asarray(gi)
            if not isinstance(edge, Node):
                if gi is not None:
                    _accumulate_leaf(edge, gi.astype(edge.dtype, copy=False), gi_private)
                continue
            if gi is not None:
                previous = pending.get(edge)
                pending[edge] = gi if previous is None else previous + gi
            else:
                pending.setdefault(edge, None)
            consumers[edge] -= 1
            if consumers[edge] == 0:
                ready.append(edge)


def _store_retained_grad(node: Node, g: np.ndarray) -> None:
    tensor = node.retained() if node.retained is not None else None
    if tensor is not None:
        _accumulate_leaf(tensor, np.asarray(g, dtype=tensor.dtype))


def retain(node: Node, tensor) -> None:
    """Make backward store the gradient reaching ``node`` in ``tensor.grad``."""
    node.retained = weakref.ref(tensor)


class _Mode:
    """A context manager that also decorates functions (``@mg.no_grad()``)."""

    key = ""
    value = False

    def __enter__(self) -> None:
        self._previous = _state[self.key]
        _state[self.key] = self.value

    def __exit__(self, *exc_info: Any) -> None:
        _state[self.key] = self._previous

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_Mode):
    """Nothing computed inside records a graph."""
    key, value = "grad_enabled", False


class enable_grad(_Mode):
    """Re-enable recording inside a ``no_grad`` block."""
    key, value = "grad_enabled", True


class detect_anomaly(_Mode):
    """Check every op's forward output and backward gradients for NaN/Inf; raise naming the op."""
    key, value = "anomaly", True


class record_grad_norms(_Mode):
    """Backward inside stores each node's incoming gradient norm (``node.grad_norm``) for
    ``minigrad.viz``; off by default, since it costs a pass over every gradient."""
    key, value = "grad_norms", True


class module_scope:
    """Context for ``Module.__call__``: ops recorded inside get ``node.scope`` = (the module's
    dotted name in the outermost module called, its class name), e.g. ``("features.0",
    "Conv2d")``; the outermost module's name is ``""``."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def __enter__(self) -> None:
        name = ""
        if _scopes:
            parent, parent_name = _scopes[-1]
            child = next((k for k, m in parent._modules.items() if m is self.module),
                         type(self.module).__name__)
            name = f"{parent_name}.{child}" if parent_name else child
        _scopes.append((self.module, name))

    def __exit__(self, *exc_info: Any) -> None:
        _scopes.pop()


def is_grad_enabled() -> bool:
    return _state["grad_enabled"]
