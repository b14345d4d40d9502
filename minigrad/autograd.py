"""The backward engine: graph nodes, the backward pass and the grad modes.

The engine knows ops (``minigrad.ops.base``) and NumPy, never the Tensor class. It meets
the layer above through three small contracts:

- ``record(op, inputs, output, saved, attrs)`` makes the :class:`Node` of one op
  application. ``inputs`` and ``output`` are tensor-like: ``.data``, ``.requires_grad``,
  ``.grad_fn`` and ``._version_counter``.
- A node's edge to an input is the producing Node, None (no gradient flows there) or a
  *leaf*: any object with ``_accumulate_grad(g, owned)``. Backward calls it once with the sum
  of the gradients that reached the leaf; ``owned`` is True when the engine made that array
  (it summed two gradients) so no one else holds it and the leaf may keep it, not copy it.
- ``record_hooks`` and ``gradient_hooks``: functions the upper layers add (nn notes module
  scopes, viz shapes and gradient norms) in ``node.notes``; the engine never reads them.

Grad mode and anomaly mode are per thread, as in PyTorch.
"""
from __future__ import annotations

import functools
import threading
import weakref
from typing import Any, Callable

import numpy as np

from minigrad.ops.base import OPS, Op, register  # noqa: F401  (re-exported: the public names)

# hook(node, inputs, output) after a node is recorded; hook(node, g) when backward reaches
# a node with its summed gradient g
record_hooks: list[Callable[[Any, list, Any], None]] = []
gradient_hooks: list[Callable[[Any, np.ndarray], None]] = []


class _ThreadModes(threading.local):
    """The switches of the calling thread (class attributes are every thread's defaults)."""

    grad_enabled = True
    anomaly = False


_modes = _ThreadModes()


class _Released:
    """Stands in for the saved arrays of a node after backward released them."""


RELEASED = _Released()


class Node:
    """One recorded op application: the op, edges to its inputs, what forward saved, attrs.

    ``edges[i]`` is the producing Node of input i, the input itself when it is a leaf that
    requires grad, or None when no gradient flows there. ``attrs`` are the hyper-parameters
    the op was called with (for inspection; ``vjp`` reads only ``saved``). ``notes`` is for
    the layers above (``scope``, ``input_meta``, ``grad_norm``, ...), never read here.
    """

    __slots__ = ("op", "edges", "saved", "attrs", "saved_versions", "retained", "notes",
                 "__weakref__")

    def __init__(self, op: type[Op], inputs: list, output: Any, saved: Any, attrs: dict) -> None:
        self.op = op
        self.edges = [None if not t.requires_grad else (t.grad_fn or t) for t in inputs]
        self.saved = saved
        self.attrs = attrs
        self.saved_versions = _versions_of_saved(saved_arrays(saved), inputs + [output])
        self.retained = None
        self.notes: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self.op.name

    def __repr__(self) -> str:
        return f"<Node {self.name}>"


def record(op: type[Op], inputs: list, output: Any, saved: Any, attrs: dict) -> Node:
    """The node of ``output = op(*inputs, **attrs)``; ``record_hooks`` see it first."""
    node = Node(op, inputs, output, saved, attrs)
    for hook in record_hooks:
        hook(node, inputs, output)
    return node


def saved_arrays(saved: Any) -> list[np.ndarray]:
    """The arrays among what a forward saved (``saved`` itself, or the items of a tuple)."""
    items = saved if isinstance(saved, (tuple, list)) else (saved,)
    return [a for a in items if isinstance(a, np.ndarray)]


def _versions_of_saved(arrays: list[np.ndarray], tensors: list) -> list:
    """(counter, version) of every tensor whose memory one of the saved ``arrays`` may alias."""
    return [(t._version_counter, t._version_counter.value) for t in tensors
            if any(np.may_share_memory(a, t.data) for a in arrays)]


# ----- grad modes -------------------------------------------------------------------------
def is_grad_enabled() -> bool:
    """Whether ops run in this thread record a graph."""
    return _modes.grad_enabled


def should_record(y: np.ndarray, inputs: list) -> bool:
    """Whether an op output ``y`` gets a node: grad mode on, y floating, an input requiring grad."""
    return _modes.grad_enabled and y.dtype.kind == "f" and any(t.requires_grad for t in inputs)


class Mode:
    """A per-thread switch used as a context manager or decorator (``@mg.no_grad()``).

    Subclasses name the switch: ``state`` (a ``threading.local``), ``key`` and ``value``.
    """

    state: threading.local = _modes
    key = ""
    value = False

    def __enter__(self) -> None:
        self._previous = getattr(self.state, self.key)
        setattr(self.state, self.key, self.value)

    def __exit__(self, *exc_info: Any) -> None:
        setattr(self.state, self.key, self._previous)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(Mode):
    """Nothing computed inside (in this thread) records a graph."""
    key, value = "grad_enabled", False


class enable_grad(Mode):
    """Re-enable recording inside a ``no_grad`` block."""
    key, value = "grad_enabled", True


class detect_anomaly(Mode):
    """Check every op's forward output and backward gradients for NaN/Inf; raise naming the op."""
    key, value = "anomaly", True


def check_forward(op: type[Op], y: np.ndarray) -> None:
    """Under ``detect_anomaly``: raise naming ``op`` when its forward returned NaN or Inf."""
    if _modes.anomaly:
        _check_finite(y, f"detect_anomaly: the forward of {op.name!r} returned NaN or Inf "
                         f"(output shape {y.shape})")


def _check_finite(a: np.ndarray, message: str) -> None:
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise RuntimeError(message)


# ----- backward ---------------------------------------------------------------------------
def run_backward(root: Node, gradient: np.ndarray, retain_graph: bool) -> None:
    """Propagate ``gradient`` (shaped like the output of ``root``) to the leaves.

    Kahn's algorithm over nodes and leaves alike: a target runs once all its consumers have
    sent their gradients, so gradients meeting there are summed first and every ``vjp`` runs
    once. No recursion, any depth.
    """
    consumers = _count_consumers(root)
    pending: dict[Any, tuple[np.ndarray | None, bool]] = {root: (gradient, False)}
    ready: list = [root]
    while ready:
        target = ready.pop()
        g, owned = pending.pop(target)
        if not isinstance(target, Node):              # a leaf: it adds g into its .grad
            if g is not None:
                target._accumulate_grad(g, owned)
            continue
        grads = _backward_through(target, g, retain_graph)
        for edge, gi in zip(target.edges, grads):
            if edge is not None:
                _add_pending(pending, edge, gi)
                consumers[edge] -= 1
                if consumers[edge] == 0:
                    ready.append(edge)


def _count_consumers(root: Node) -> dict:
    """For every node and leaf reachable from ``root``: how many edges point at it."""
    consumers: dict = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        for edge in node.edges:
            if edge is None:
                continue
            if edge not in consumers:
                consumers[edge] = 0
                if isinstance(edge, Node):
                    stack.append(edge)
            consumers[edge] += 1
    return consumers


def _backward_through(node: Node, g: np.ndarray | None, retain_graph: bool) -> tuple:
    """The gradients ``node`` sends to its inputs (all None when none reached it)."""
    if g is None:
        return (None,) * len(node.edges)
    for hook in gradient_hooks:
        hook(node, g)
    _store_retained_grad(node, g)
    grads = _call_vjp(node, g)
    if _modes.anomaly:
        _check_backward(node, grads)
    if not retain_graph:
        _release(node)
    return grads


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


def _check_saved_versions(node: Node) -> None:
    for counter, version in node.saved_versions:
        if counter.value != version:
            raise RuntimeError(
                f"{node.name}: a tensor saved for backward was modified by an in-place "
                f"operation (version {version} when saved, version {counter.value} now). "
                f"Modify a clone instead, or do the in-place change before {node.name}.")


def _check_backward(node: Node, grads: tuple) -> None:
    for i, gi in enumerate(grads):
        if gi is not None:
            _check_finite(np.asarray(gi), f"detect_anomaly: the backward of {node.name!r} "
                                          f"returned NaN or Inf in the gradient of input {i}")


def _release(node: Node) -> None:
    """Free what forward saved (the op's ``release`` hook first): backward is done with it."""
    if node.saved is not None:
        node.op.release(node.saved)
        node.saved = RELEASED


def _add_pending(pending: dict, target: Any, gi: Any) -> None:
    """Add ``gi`` into the gradient waiting at ``target``.

    The first gradient waits as the vjp returned it (not owned: the vjp may hold it too).
    When a second one meets it, the engine makes the sum: a fresh array only the engine holds
    (owned), to which later gradients are added in place.
    """
    previous, owned = pending.get(target, (None, False))
    if gi is None:
        pending[target] = (previous, owned)
        return
    gi = np.asarray(gi)
    if previous is None:
        pending[target] = (gi, False)
    elif owned and gi.shape == previous.shape and gi.dtype == previous.dtype:
        previous += gi
    else:
        pending[target] = (np.asarray(previous + gi), True)   # 0-d sums come back as scalars


def _store_retained_grad(node: Node, g: np.ndarray) -> None:
    tensor = node.retained() if node.retained is not None else None
    if tensor is not None:
        tensor._accumulate_grad(g, owned=False)          # g goes on to the vjp as well


def retain(node: Node, tensor: Any) -> None:
    """Make backward store the gradient reaching ``node`` in ``tensor`` (``retain_grad``)."""
    node.retained = weakref.ref(tensor)
